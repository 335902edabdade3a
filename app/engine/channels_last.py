"""The layers again, for activations stored channels last: (N, H, W, C).

The chapter's (N, C, H, W) order makes im2col a gather of single pixels from C separate planes.
Channels last, every filter tap of a window is a contiguous run of C numbers, so im2col is
FH*FW block copies, the convolution of the whole batch is one GEMM whose result already is
(N, OH, OW, FN), col2im is FH*FW block additions, and pooling compares runs of C numbers.
Same functions as app.engine.layers; the training pass and batch inference use these, the
explorer's figures (which read every map in the book's layout) use those.

Weights keep the book's layout, W (FN, C, FH, FW); each call reorders them to (FH, FW, C, FN),
a few thousand numbers.
"""

from __future__ import annotations

import numpy as np

from .im2col import im2col_by_image
from .shapes import conv_output_shape


def _pad(x: np.ndarray, pad: int) -> np.ndarray:
    if pad == 0:
        return x
    return np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def _tap(xp: np.ndarray, i: int, j: int, stride: int, oh: int, ow: int) -> np.ndarray:
    """The input pixels filter tap (i, j) reads for every output pixel: (N, OH, OW, C)."""
    return xp[:, i : i + stride * (oh - 1) + 1 : stride, j : j + stride * (ow - 1) + 1 : stride]


def im2col(x: np.ndarray, fh: int, fw: int, stride: int, pad: int) -> np.ndarray:
    """x (N, H, W, C) -> col (N*OH*OW, FH*FW*C): row = output pixel, column = (tap, channel)."""
    n, h, w, c = x.shape
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    xp = _pad(x, pad)
    col = np.empty((n, oh, ow, fh, fw, c), x.dtype)
    for i in range(fh):
        for j in range(fw):
            col[:, :, :, i, j] = _tap(xp, i, j, stride, oh, ow)
    return col.reshape(n * oh * ow, fh * fw * c)


def col2im(dcol: np.ndarray, x_shape, fh: int, fw: int, stride: int, pad: int) -> np.ndarray:
    """The adjoint of im2col: every (tap, channel) column added back where it was read."""
    n, h, w, c = x_shape
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    taps = dcol.reshape(n, oh, ow, fh, fw, c)
    dxp = np.zeros((n, h + 2 * pad, w + 2 * pad, c), dcol.dtype)
    for i in range(fh):
        for j in range(fw):
            _tap(dxp, i, j, stride, oh, ow)[...] += taps[:, :, :, i, j]
    return dxp[:, pad : pad + h, pad : pad + w] if pad else dxp


def _filter_matrix(W: np.ndarray) -> np.ndarray:
    """W (FN, C, FH, FW) -> (FH*FW*C, FN), rows in im2col's column order."""
    fn = W.shape[0]
    return np.ascontiguousarray(W.transpose(2, 3, 1, 0)).reshape(-1, fn)


def conv_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0):
    """x (N, H, W, C) -> out (N, OH, OW, FN) = im2col(x) @ W + b.

    With one input channel (a digit) there are no runs of C to copy: im2col is then taken
    per image with the window's columns as rows (long contiguous runs of the picture), and
    each image's GEMM reads it transposed, which BLAS does without a copy."""
    n, h, w, c = x.shape
    fn, wc, fh, fw = W.shape
    if wc != c:
        raise ValueError(f"input has {c} channels but the filters have {wc}")
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    if c == 1:
        col = im2col_by_image(x.reshape(n, 1, h, w), fh, fw, stride, pad)  # (N, K, OH*OW)
        out = np.matmul(col.transpose(0, 2, 1), _filter_matrix(W))
    else:
        col = im2col(x, fh, fw, stride, pad)  # (N*OH*OW, K)
        out = col @ _filter_matrix(W)
    out += b
    return out.reshape(n, oh, ow, fn), (x.shape, W, col, stride, pad)


def conv_backward(dout: np.ndarray, cache, need_dx: bool = True):
    """dout (N, OH, OW, FN) -> (dx or None, dW (FN, C, FH, FW), db)."""
    x_shape, W, col, stride, pad = cache
    fn, c, fh, fw = W.shape
    d = np.ascontiguousarray(dout, W.dtype).reshape(-1, fn)
    db = np.ones(len(d), d.dtype) @ d  # a GEMV: faster than a strided sum
    by_image = col.ndim == 3  # the one-channel layout: (N, K, OH*OW)
    dW = np.matmul(col, d.reshape(len(col), -1, fn)).sum(axis=0) if by_image else col.T @ d
    dW = np.ascontiguousarray(dW.reshape(fh, fw, c, fn).transpose(3, 2, 0, 1))
    dx = col2im(d @ _filter_matrix(W).T, x_shape, fh, fw, stride, pad) if need_dx else None
    return dx, dW, db


def pool_forward(x: np.ndarray, k: int, mode: str = "max", track: bool = True):
    """K x K pooling with stride K of x (N, H, W, C) -> (N, H // K, W // K, C). Rows and columns
    past the last whole window are not read (the floor convention). Max remembers which tap
    won each window, the first in row-major order on a tie (argmax's rule)."""
    n, h, w, c = x.shape
    ph, pw = h // k, w // k
    windows = x[:, : ph * k, : pw * k].reshape(n, ph, k, pw, k, c)
    if mode == "avg":
        out = windows.sum(axis=(2, 4), dtype=x.dtype)
        out *= x.dtype.type(1 / (k * k))
        return out, (x.shape, k, mode, None)
    out = windows[:, :, 0, :, 0].copy()
    arg = np.zeros(out.shape, np.uint8) if track else None
    for tap in range(1, k * k):
        block = windows[:, :, tap // k, :, tap % k]
        if track:  # taps come in increasing order, so "the latest strictly greater" is a max
            np.maximum(arg, np.greater(block, out).view(np.uint8) * np.uint8(tap), out=arg)
        np.maximum(out, block, out=out)
    return out, (x.shape, k, mode, arg)


def pool_backward(dout: np.ndarray, cache) -> np.ndarray:
    """Max: each window's gradient to its winner. Average: a K*K-th to every tap."""
    x_shape, k, mode, arg = cache
    n, h, w, c = x_shape
    ph, pw = dout.shape[1:3]
    whole = (ph * k, pw * k) == (h, w)  # else the rows and columns no window read get 0
    dx = np.empty(x_shape, dout.dtype) if whole else np.zeros(x_shape, dout.dtype)
    windows = dx[:, : ph * k, : pw * k].reshape(n, ph, k, pw, k, c)  # splits axes: a view
    if mode == "avg":
        windows[...] = (dout * dout.dtype.type(1 / (k * k)))[:, :, None, :, None]
        return dx
    for tap in range(k * k):
        np.multiply(dout, arg == tap, out=windows[:, :, tap // k, :, tap % k])
    return dx
