"""im2col and its adjoint col2im, as in the chapter but without loops over output pixels.

Layout (the book's): col has one row per output pixel, ordered (n, oh, ow), and one column per
filter tap, ordered (c, fh, fw). So `col @ W.reshape(FN, -1).T` is the convolution.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .shapes import conv_output_shape


def pad_images(x: np.ndarray, pad: int, value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of (N, C, H, W) by `pad` on every side."""
    if pad == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=value)


def window_view(xp: np.ndarray, fh: int, fw: int, stride: int, dilation: int = 1) -> np.ndarray:
    """Read-only view (N, C, OH, OW, FH, FW) of every filter window of an already padded x.
    With dilation D the taps of a window are D pixels apart.

    A strided view rather than sliding_window_view: same result at a fraction of the call
    overhead, which matters for the batch-1 forward pass the server runs per request.
    """
    n, c, h, w = xp.shape
    oh, ow = conv_output_shape(h, w, fh, fw, 0, stride, dilation)
    sn, sc, sh, sw = xp.strides
    shape = (n, c, oh, ow, fh, fw)
    strides = (sn, sc, sh * stride, sw * stride, sh * dilation, sw * dilation)
    if not xp.flags.c_contiguous:
        return as_strided(xp, shape=shape, strides=strides, writeable=False)
    view = np.ndarray(shape, xp.dtype, buffer=xp, strides=strides)  # 3x cheaper than as_strided
    view.flags.writeable = False
    return view


def im2col(x: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """x: (N, C, H, W) -> col: (N*OH*OW, C*FH*FW), one copy of the strided window view."""
    n, c = x.shape[:2]
    win = window_view(pad_images(x, pad), fh, fw, stride)
    oh, ow = win.shape[2:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * fh * fw)


def im2col_by_image(
    x: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0, dilation: int = 1
) -> np.ndarray:
    """x: (N, C, H, W) -> (N, C*FH*FW, OH*OW): im2col's numbers, one transposed block per image.

    im2col(x) == im2col_by_image(x).transpose(0, 2, 1).reshape(N*OH*OW, C*FH*FW). This order
    is what the engine computes with: W.reshape(FN, -1) @ it gives each image's maps already
    in (FN, OH, OW) order, and the copy reads whole rows of the input.
    """
    n, c = x.shape[:2]
    win = window_view(pad_images(x, pad), fh, fw, stride, dilation)
    oh, ow = win.shape[2:4]
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * fh * fw, oh * ow)


def col2im(
    col: np.ndarray,
    input_shape: tuple[int, int, int, int],
    fh: int,
    fw: int,
    stride: int = 1,
    pad: int = 0,
) -> np.ndarray:
    """The adjoint of im2col: scatter-add every row back onto the window it came from.

    Overlapping windows add up, which is what the backward pass needs.
    """
    n, c, h, w = input_shape
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    taps = col.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)  # (N, C, FH, FW, OH, OW)
    return _scatter_taps(taps, input_shape, stride, pad)


def col2im_by_image(
    col: np.ndarray,
    input_shape: tuple[int, int, int, int],
    fh: int,
    fw: int,
    stride: int = 1,
    pad: int = 0,
    dilation: int = 1,
) -> np.ndarray:
    """The adjoint of im2col_by_image: (N, C*FH*FW, OH*OW) -> (N, C, H, W)."""
    n, c, h, w = input_shape
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride, dilation)
    taps = col.reshape(n, c, fh, fw, oh, ow)
    return _scatter_taps(taps, input_shape, stride, pad, dilation)


def _scatter_taps(taps: np.ndarray, input_shape, stride: int, pad: int, dilation: int = 1):
    """taps (N, C, FH, FW, OH, OW) added onto the padded image; the loop runs over the FH*FW
    filter taps (25 for 5x5), never over output pixels."""
    n, c, h, w = input_shape
    _, _, fh, fw, oh, ow = taps.shape
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=taps.dtype)
    for i in range(fh):
        for j in range(fw):
            rows = slice(i * dilation, i * dilation + stride * oh, stride)
            cols = slice(j * dilation, j * dilation + stride * ow, stride)
            img[:, :, rows, cols] += taps[:, :, i, j]
    return img[:, :, pad : pad + h, pad : pad + w] if pad else img
