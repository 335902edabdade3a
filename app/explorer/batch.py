"""A batch of digits through one im2col and one GEMM (Fig. 7-13): N blocks of OH*OW rows in
one col matrix, one product with the filter matrix, the (N, FN, OH, OW) result split back."""

from __future__ import annotations

import numpy as np

from app.engine.im2col import im2col
from app.engine.layers import conv_forward
from app.imaging.render import render_gray

from .backward import NoConvLayerError
from .models import LoadedModel
from .results import Batch, BatchItem
from .views import render_split, rounded, split_range

MAX_BATCH = 6  # a JSON body holds at most 200 arrays and 5000 values: 6 digits of 28x28


def digit_batch(model: LoadedModel, digits: np.ndarray, filter_index: int = 0) -> Batch:
    """digits (N, 28, 28), 1 = ink, through the first conv layer as one batch."""
    if model.net.arch.layers[0].kind != "conv":
        raise NoConvLayerError(f"model {model.id!r} does not start with a conv layer")
    layer = model.net.arch.layers[0]
    W, b = model.net.weights_of(0)
    fn, c, fh, fw = W.shape
    x = digits[:, None].astype(np.float32)  # (N, 1, 28, 28)
    n = len(x)
    col = im2col(x, fh, fw, layer.stride, layer.pad)  # (N*OH*OW, C*FH*FW)
    out = col @ W.reshape(fn, -1).T + b  # one GEMM: (N*OH*OW, FN)
    engine = conv_forward(x, W, b, layer.stride, layer.pad)[0]  # (N, FN, OH, OW)
    oh, ow = engine.shape[2:]
    maps = out.reshape(n, oh, ow, fn).transpose(0, 3, 1, 2)  # the book's reshape and transpose
    alone = np.stack(
        [conv_forward(x[i : i + 1], W, b, layer.stride, layer.pad)[0][0] for i in range(n)]
    )
    f = min(max(filter_index, 0), fn - 1)
    items = []
    for i in range(n):
        low, high = split_range(maps[i, f])
        items.append(
            BatchItem(
                index=i,
                rows=[i * oh * ow, (i + 1) * oh * ow],
                input_png=render_gray(digits[i], 0.0, 1.0, ink_white=True),
                map_png=render_split(maps[i, f], low, high),
                map=rounded(maps[i, f], 5),
                first_row=rounded(col[i * oh * ow], 4),
            )
        )
    return Batch(
        model=model.id,
        layer=model.net.arch.names()[0],
        n=n,
        filter=f,
        col_shape=list(col.shape),
        col_W_shape=[c * fh * fw, fn],
        product_shape=list(out.shape),
        output_shape=[n, fn, oh, ow],
        macs=int(col.shape[0] * col.shape[1] * fn),
        equals_engine=bool(np.allclose(maps, engine, atol=1e-5)),
        equals_one_by_one=bool(np.allclose(maps, alone, atol=1e-5)),
        items=items,
    )
