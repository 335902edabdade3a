"""The chapter's im2col in full on the user's digit (Fig. 7-17 ... 7-20), and the sliding window
it replaces (Fig. 7-3 ... 7-7): the padded input, the col matrix (one row per window), the filter
matrix beside it (one column per filter), and the product, which is the convolution."""

from __future__ import annotations

import numpy as np

from app.engine.im2col import im2col, pad_images
from app.engine.layers import conv_forward

from .backward import NoConvLayerError
from .models import LoadedModel
from .results import Im2colView
from .views import rounded


def digit_im2col(
    model: LoadedModel,
    digit: np.ndarray,
    filter_index: int = 0,
    stride: int | None = None,
    pad: int | None = None,
) -> Im2colView:
    """The first conv layer's im2col for this digit, with the layer's stride and pad unless
    others are given (the sliding-window view lets the reader change them)."""
    if model.net.arch.layers[0].kind != "conv":
        raise NoConvLayerError(f"model {model.id!r} does not start with a conv layer")
    index = 0
    W, b = model.net.weights_of(index)
    layer = model.net.arch.layers[index]
    stride = layer.stride if stride is None else stride
    pad = layer.pad if pad is None else pad
    fn, c, fh, fw = W.shape
    x = digit[None, None].astype(np.float32)
    col = im2col(x, fh, fw, stride, pad)  # (OH*OW, C*FH*FW): row t = window t, row-major
    col_W = W.reshape(fn, -1).T  # (C*FH*FW, FN): column f = filter f
    out = col @ col_W + b
    engine = conv_forward(x, W, b, stride, pad)[0][0]  # (FN, OH, OW)
    oh, ow = engine.shape[1:]
    f = min(max(filter_index, 0), fn - 1)
    return Im2colView(
        model=model.id,
        layer=model.net.arch.names()[index],
        filter=f,
        filters=fn,
        size=[fh, fw],
        stride=stride,
        pad=pad,
        output_shape=[oh, ow],
        padded=rounded(pad_images(x, pad)[0, 0], 4),
        col=rounded(col, 4),
        col_W=rounded(col_W, 5),
        bias=rounded(b, 5),
        output=rounded(out[:, f].reshape(oh, ow), 5),
        equals_engine=bool(np.allclose(out.T.reshape(fn, oh, ow), engine, atol=1e-5)),
    )
