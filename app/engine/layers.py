"""Layers as pure functions: forward(x, ...) -> (out, cache), backward(dout, cache) -> grads.

Nothing is stored on shared objects, so one set of weights can serve concurrent requests.
Shapes follow the chapter: x (N, C, H, W), W (FN, C, FH, FW), b (FN,).
"""

from __future__ import annotations

import numpy as np

from .im2col import col2im, col2im_by_image, im2col_by_image, pad_images, window_view
from .shapes import conv_output_shape

# ---------------------------------------------------------------- convolution


def conv_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0):
    """x (N, C, H, W), W (FN, C, FH, FW), b (FN,) -> out (N, FN, OH, OW).

    The chapter's product col @ W.T, computed image by image as W (FN, C*FH*FW) @ col_n
    (C*FH*FW, OH*OW): the same numbers, born in (N, FN, OH, OW) order, so no transpose follows.
    """
    n, c, h, w = x.shape
    fn, wc, fh, fw = W.shape
    if wc != c:
        raise ValueError(f"input has {c} channels but the filters have {wc}")
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    col = im2col_by_image(x, fh, fw, stride, pad)
    out = np.matmul(W.reshape(fn, -1), col)
    out += b[:, None]
    return out.reshape(n, fn, oh, ow), (x.shape, W, col, stride, pad)


def conv_backward(dout: np.ndarray, cache, need_dx: bool = True):
    """dout (N, FN, OH, OW) -> (dx or None, dW, db). The first layer of a net needs no dx."""
    x_shape, W, col, stride, pad = cache
    n, fn, oh, ow = dout.shape
    _, _, fh, fw = W.shape
    dout3 = np.ascontiguousarray(dout, dtype=W.dtype).reshape(n, fn, oh * ow)
    db = (dout3 @ np.ones(oh * ow, dout3.dtype)).sum(axis=0)  # a GEMV: 3x a strided sum
    dW = np.matmul(dout3, col.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)
    dx = None
    if need_dx:
        dcol = np.matmul(W.reshape(fn, -1).T, dout3)
        dx = col2im_by_image(dcol, x_shape, fh, fw, stride, pad)
    return dx, dW, db


def conv_single_by_taps(
    x: np.ndarray, w: np.ndarray, b: float = 0.0, stride: int = 1, pad: int = 0
) -> np.ndarray:
    """One filter over one image without an im2col matrix: x (C, H, W), w (C, FH, FW) -> (OH, OW).

    im2col holds OH*OW*C*FH*FW numbers: nothing for a digit, hundreds of megabytes for a big
    photo and a big kernel. Adding one shifted slice per filter tap needs only the output's
    memory, and for a single filter it is faster too. Same numbers as conv_forward.
    """
    c, h, wd = x.shape
    wc, fh, fw = w.shape
    if wc != c:
        raise ValueError(f"input has {c} channels but the filter has {wc}")
    oh, ow = conv_output_shape(h, wd, fh, fw, pad, stride)
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad))) if pad else x
    out = np.full((oh, ow), b, dtype=np.float32)
    term = np.empty_like(out)
    for ci in range(c):
        for i in range(fh):
            for j in range(fw):
                window = xp[
                    ci,
                    i : i + stride * (oh - 1) + 1 : stride,
                    j : j + stride * (ow - 1) + 1 : stride,
                ]
                np.multiply(window, w[ci, i, j], out=term)
                out += term
    return out


# ---------------------------------------------------------------- pooling


def _is_channels_last(x: np.ndarray) -> bool:
    """True when (N, C, H, W) is a view of (N, H, W, C) memory, as conv_forward returns."""
    return x.transpose(0, 2, 3, 1).flags.c_contiguous


def _empty_in_layout(shape, dtype, channels_last: bool) -> np.ndarray:
    """An uninitialised (N, C, H, W) array stored in the given memory order."""
    if not channels_last:
        return np.empty(shape, dtype)
    n, c, h, w = shape
    return np.empty((n, h, w, c), dtype).transpose(0, 3, 1, 2)


def _copy_in_layout(x: np.ndarray, channels_last: bool) -> np.ndarray:
    out = _empty_in_layout(x.shape, x.dtype, channels_last)
    out[...] = x
    return out


def _zeros_in_layout(shape, dtype, channels_last: bool) -> np.ndarray:
    """Zeros (N, C, H, W) stored in the given memory order, so element-wise work stays linear."""
    out = _empty_in_layout(shape, dtype, channels_last)
    out.fill(0)
    return out


def _taps(x: np.ndarray, axis: int, k: int, stride: int, out_len: int) -> np.ndarray:
    """View of tap k of every window along one spatial axis (2 = H, 3 = W)."""
    return x[(slice(None),) * axis + (slice(k, k + stride * out_len, stride),)]


def _max_along(x: np.ndarray, axis: int, size: int, stride: int, out_len: int, track=True):
    """Window max along one axis -> (max, index of the first winning tap, or None)."""
    index_type = np.uint8 if size <= 256 else np.int32
    first = _taps(x, axis, 0, stride, out_len)
    if size == 1:
        return np.array(first, order="K"), (np.zeros(first.shape, index_type) if track else None)
    second = _taps(x, axis, 1, stride, out_len)
    best = np.maximum(first, second)
    # the bool "second wins" mask already is the index of taps 0 and 1 (a view, no copy)
    arg = np.greater(second, first).view(np.uint8) if track else None
    for k in range(2, size):
        tap = _taps(x, axis, k, stride, out_len)
        if track:
            arg = np.where(np.greater(tap, best), k, arg)
        np.maximum(best, tap, out=best)
    return best, (arg.astype(index_type, copy=False) if track else None)


def _max_along_backward(dout, arg, in_len, axis, size, stride, channels_last):
    """Send each window's gradient to its winning tap; overlapping windows add up."""
    shape = list(dout.shape)
    shape[axis] = in_len
    out_len = dout.shape[axis]
    tiles_exactly = stride == size and in_len == size * out_len
    if tiles_exactly:  # every input belongs to exactly one window: write, no zeros, no adds
        dx = _empty_in_layout(tuple(shape), dout.dtype, channels_last)
        for k in range(size):
            np.multiply(dout, arg == k, out=_taps(dx, axis, k, stride, out_len))
        return dx
    dx = _zeros_in_layout(tuple(shape), dout.dtype, channels_last)
    for k in range(size):
        target = _taps(dx, axis, k, stride, out_len)
        target += dout * (arg == k)
    return dx


def max_pool_forward(x: np.ndarray, ph: int, pw: int, stride: int | None = None, pad: int = 0):
    """Max over each PH x PW window. Padding is -inf, so a pad never wins the max.

    The max is separable: first over the PW taps of each row, then over the PH row maxima. That
    is (PW - 1) + (PH - 1) passes over strided views in x's own memory order instead of a copy
    of every window, and the first winner in row-major order is the one remembered (argmax's
    rule on ties).
    """
    stride = ph if stride is None else stride
    n, c, h, w = x.shape
    oh, ow = conv_output_shape(h, w, ph, pw, pad, stride)
    xp = pad_images(x, pad, -np.inf)
    rows, arg_w = _max_along(xp, 3, pw, stride, ow)
    out, arg_h = _max_along(rows, 2, ph, stride, oh)
    channels_last = _is_channels_last(x)
    return out, (x.shape, xp.shape, channels_last, arg_w, arg_h, ph, pw, stride, pad)


def max_pool(x: np.ndarray, ph: int, pw: int, stride: int | None = None, pad: int = 0):
    """max_pool_forward for inference: the same maxima without the bookkeeping for backward."""
    stride = ph if stride is None else stride
    n, c, h, w = x.shape
    oh, ow = conv_output_shape(h, w, ph, pw, pad, stride)
    rows, _ = _max_along(pad_images(x, pad, -np.inf), 3, pw, stride, ow, track=False)
    return _max_along(rows, 2, ph, stride, oh, track=False)[0]


def max_pool_backward(dout: np.ndarray, cache) -> np.ndarray:
    """Route each output gradient to the input that won its window."""
    (n, c, h, w), (_, _, hp, wp), channels_last, arg_w, arg_h, ph, pw, stride, pad = cache
    if channels_last != _is_channels_last(dout):  # mixed memory orders make every pass crawl
        dout = _copy_in_layout(dout, channels_last)
    d_rows = _max_along_backward(dout, arg_h, hp, 2, ph, stride, channels_last)
    dxp = _max_along_backward(d_rows, arg_w, wp, 3, pw, stride, channels_last)
    return dxp[:, :, pad : pad + h, pad : pad + w] if pad else dxp


def avg_pool_forward(x: np.ndarray, ph: int, pw: int, stride: int | None = None, pad: int = 0):
    """Mean over each PH x PW window; zero padding counts in the mean (PyTorch's default)."""
    stride = ph if stride is None else stride
    win = window_view(pad_images(x, pad), ph, pw, stride)
    out = win.mean(axis=(4, 5), dtype=x.dtype)
    return out, (x.shape, ph, pw, stride, pad)


def avg_pool_backward(dout: np.ndarray, cache) -> np.ndarray:
    """Spread each output gradient evenly over its window (col2im adds the overlaps)."""
    x_shape, ph, pw, stride, pad = cache
    n, c = x_shape[:2]
    share = dout / (ph * pw)
    # col rows are (n, oh, ow), columns (c, ph, pw): every tap of a window gets its share.
    col = np.repeat(share.transpose(0, 2, 3, 1)[..., None], ph * pw, axis=-1)
    col = col.reshape(-1, c * ph * pw)
    return col2im(col, x_shape, ph, pw, stride, pad)


# ---------------------------------------------------------------- element-wise and affine


def dropout_forward(x: np.ndarray, rate: float, rng: np.random.Generator | None):
    """The book's dropout: in training (rng given) keep each value with probability 1 - rate
    and do not rescale; without rng, the inference rule x * (1 - rate)."""
    if rng is None:
        return x * np.float32(1 - rate), np.float32(1 - rate)
    mask = rng.random(x.shape, dtype=np.float32) >= rate
    return x * mask, mask


def dropout_backward(dout: np.ndarray, mask) -> np.ndarray:
    return dout * mask


def relu_forward(x: np.ndarray):
    out = np.maximum(x, 0)
    return out, out > 0


def relu_backward(dout: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return dout * mask


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray):
    """x (N, ...) is flattened in C order (C, H, W for maps) -> out (N, M) = x W + b."""
    x2 = x.reshape(x.shape[0], -1)
    out = x2 @ W
    out += b
    return out, (x.shape, x2, W)


def affine_backward(dout: np.ndarray, cache, need_dx: bool = True):
    x_shape, x2, W = cache
    dW = x2.T @ dout
    db = dout.sum(axis=0)
    dx = (dout @ W.T).reshape(x_shape) if need_dx else None
    return dx, dW, db


# ---------------------------------------------------------------- output


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row max so exp never overflows."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, t: np.ndarray):
    """Mean cross-entropy of softmax(logits) against labels t -> (loss, dlogits).

    t is either integer class labels (N,) or one-hot / soft targets (N, K). The loss uses
    log-softmax (logits - logsumexp), so it stays finite even for confident wrong answers.
    """
    n = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(z).sum(axis=1, keepdims=True))
    log_p = z - log_sum
    if t.ndim == 1:
        loss = -log_p[np.arange(n), t].mean()
        target = np.zeros_like(logits)
        target[np.arange(n), t] = 1
    else:
        loss = -(t * log_p).sum(axis=1).mean()
        target = t.astype(logits.dtype, copy=False)
    dlogits = (np.exp(log_p) - target) / n
    return float(loss), dlogits.astype(logits.dtype, copy=False)
