"""Convolution followed by K x K max pooling with stride K, fused for training.

A conv layer's output pixels can be computed in any order: each is one row of im2col times the
filters. Ordered by their place in the pooling window -- all top-left taps, then all top-right
taps, ... -- the maps come out as K*K contiguous blocks of (OH/K, OW/K) pixels, and max pooling
becomes K*K - 1 element-wise maxima of whole blocks instead of strided passes over the map.
Pixels that no pooling window reads (the last row or column of an odd-sized map) are never
computed: nothing downstream sees them and their gradient is zero.

The maxima, the first-winner rule on ties (row-major, as argmax) and every number of the pooled
output are those of conv_forward followed by max_pool_forward; the weight gradients add the
same products in another order, so they agree to rounding. Where a pass needs the conv maps
themselves (the explorer's figures), the unfused layers are used.
"""

from __future__ import annotations

import numpy as np

from .im2col import col2im_by_image, pad_images, window_view
from .shapes import conv_output_shape


def im2col_by_pool_window(x: np.ndarray, fh: int, fw: int, stride: int, pad: int, k: int):
    """x (N, C, H, W) -> col (N, C*FH*FW, K*K*PH*PW) with the output pixels in pooling-window
    order: column (a*K + b)*PH*PW + i*PW + j is conv pixel (i*K + a, j*K + b). Also (PH, PW)."""
    n, c = x.shape[:2]
    win = window_view(pad_images(x, pad), fh, fw, stride)  # (N, C, OH, OW, FH, FW)
    ph, pw = win.shape[2] // k, win.shape[3] // k
    win = win[:, :, : ph * k, : pw * k].reshape(n, c, ph, k, pw, k, fh, fw)
    col = win.transpose(0, 1, 6, 7, 3, 5, 2, 4).reshape(n, c * fh * fw, k * k * ph * pw)
    return col, (ph, pw)


def conv_max_pool_forward(x, W, b, stride: int, pad: int, k: int, track: bool = True):
    """max_pool(conv(x, W, b), K, stride K) -> (out (N, FN, PH, PW), cache for backward).

    The bias is added after the maximum: the same per-map constant on every pixel of a window
    never changes which pixel wins, and it is added to a quarter of the values."""
    n = len(x)
    fn, c, fh, fw = W.shape
    if x.shape[1] != c:
        raise ValueError(f"input has {x.shape[1]} channels but the filters have {c}")
    col, (ph, pw) = im2col_by_pool_window(x, fh, fw, stride, pad, k)
    blocks = np.matmul(W.reshape(fn, -1), col).reshape(n, fn, k * k, ph * pw)
    out = blocks[:, :, 0].copy()
    arg = np.zeros(out.shape, np.uint8) if track else None
    for tap in range(1, k * k):
        block = blocks[:, :, tap]
        if track:
            # taps come in increasing order, so "the latest strictly greater tap" is a max;
            # on a tie the earlier tap keeps the window (argmax's rule)
            np.maximum(arg, np.greater(block, out).view(np.uint8) * np.uint8(tap), out=arg)
        np.maximum(out, block, out=out)
    out += b[:, None]
    return out.reshape(n, fn, ph, pw), (x.shape, W, col, stride, pad, k, arg)


def conv_max_pool_backward(dout: np.ndarray, cache, need_dx: bool = True):
    """dout (N, FN, PH, PW) -> (dx or None, dW, db): each window's gradient goes to its
    winning pixel, then through the convolution as conv_backward sends it."""
    x_shape, W, col, stride, pad, k, arg = cache
    n, fn = dout.shape[:2]
    d = np.ascontiguousarray(dout, W.dtype).reshape(n, fn, -1)
    db = (d @ np.ones(d.shape[-1], W.dtype)).sum(axis=0)  # a GEMV: faster than a strided sum
    dmaps = np.empty((n, fn, k * k, d.shape[-1]), W.dtype)
    for tap in range(k * k):
        np.multiply(d, arg == tap, out=dmaps[:, :, tap])
    dmaps = dmaps.reshape(n, fn, -1)
    dW = np.matmul(dmaps, col.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)
    dx = None
    if need_dx:
        dcol = np.matmul(W.reshape(fn, -1).T, dmaps)
        dx = _input_gradient(dcol, x_shape, W.shape, stride, pad, k)
    return dx, dW, db


def _input_gradient(dcol, x_shape, w_shape, stride: int, pad: int, k: int) -> np.ndarray:
    """dcol in pooling-window order -> the conv's ordinary (OH, OW) order -> col2im."""
    n, _, h, w = x_shape
    _, c, fh, fw = w_shape
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    ph, pw = oh // k, ow // k
    rows = c * fh * fw
    full = np.zeros((n, rows, oh, ow), dcol.dtype)  # pixels no window read get no gradient
    taps = dcol.reshape(n, rows, k, k, ph, pw).transpose(0, 1, 4, 2, 5, 3)
    full[:, :, : ph * k, : pw * k] = taps.reshape(n, rows, ph * k, pw * k)
    return col2im_by_image(full.reshape(n, rows, oh * ow), x_shape, fh, fw, stride, pad)
