"""3-D convolution (Fig. 7-8 ... 7-12): C input channels, FN filters of C slices each. One
output pixel is C channel windows times C kernel slices, a partial sum per channel, their total
and the filter's bias; FN filters give FN maps; the bias (FN,) broadcasts as (FN, 1, 1)."""

from __future__ import annotations

import numpy as np

from app.engine.im2col import pad_images
from app.engine.layers import conv_forward

from .convolve import ComputeBudgetError
from .kernels import Kernel
from .results import ChannelTerm, Conv3dPixel
from .variants import response_map
from .views import rounded


def conv3d_pixel(
    image: np.ndarray,
    kernels: list[Kernel],
    stride: int,
    pad: int,
    row: int,
    col: int,
    filter_index: int,
    max_macs: int,
) -> Conv3dPixel:
    """image (C, H, W) through FN kernels of shape (C, FH, FW); the sum behind out[f, row, col]."""
    if len({k.weights.shape for k in kernels}) > 1:
        raise ValueError("3-D convolution needs kernels of one shape")
    W = np.stack([k.weights for k in kernels])  # (FN, C, FH, FW)
    b = np.array([k.bias for k in kernels], np.float32)  # (FN,)
    fn, c, fh, fw = W.shape
    x = image.astype(np.float32)[None]
    out = conv_forward(x, W, b, stride, pad)[0][0]  # (FN, OH, OW); b added as b[:, None, None]
    oh, ow = out.shape[1:]
    macs = fn * oh * ow * c * fh * fw
    if macs > max_macs:
        raise ComputeBudgetError(
            f"this convolution needs {macs:,} multiply-adds; the limit is {max_macs:,}"
        )
    row, col = min(max(row, 0), oh - 1), min(max(col, 0), ow - 1)
    f = min(max(filter_index, 0), fn - 1)
    xp = pad_images(x, pad)[0]
    window = xp[
        :, row * stride : row * stride + fh, col * stride : col * stride + fw
    ]  # (C, FH, FW)
    terms = []
    for ch in range(c):
        prod = window[ch].astype(np.float64) * W[f, ch]
        terms.append(
            ChannelTerm(
                channel=ch,
                window=rounded(window[ch], 5),
                kernel=rounded(W[f, ch], 5),
                products=rounded(prod, 6),
                partial=round(float(prod.sum()), 6),
            )
        )
    total = float(sum(t.partial for t in terms))
    return Conv3dPixel(
        input_shape=list(image.shape),
        kernel_shape=[fn, c, fh, fw],
        bias=rounded(b, 6),
        bias_shape=[fn, 1, 1],
        output_shape=[fn, oh, ow],
        stride=stride,
        pad=pad,
        pixel=[row, col],
        filter=f,
        names=[k.name for k in kernels],
        channels=terms,
        total=round(total, 6),
        value=round(total + float(b[f]), 6),
        engine_value=round(float(out[f, row, col]), 6),
        macs=macs,
        maps=[response_map(k.name, m, True, False) for k, m in zip(kernels, out, strict=True)],
    )
