"""The convolutions the chapter names and readers ask about, on the chapter's im2col.

One forward, `conv_general`, covers them all: dilation (taps D pixels apart), groups (each group
of C/G input channels has its own FN/G filters; G = C is depthwise), zero / reflect / circular
padding, a flipped kernel (true convolution; CNNs compute cross-correlation), any FH x FW
including 1 x 1. `conv_transpose` is its adjoint with respect to the input: the col2im of the
forward, i.e. exactly what conv_backward computes as dx.

Shapes follow the chapter: x (N, C, H, W), W (FN, C/G, FH, FW), b (FN,).
"""

from __future__ import annotations

import numpy as np

from .im2col import col2im_by_image, im2col_by_image
from .shapes import ShapeError, conv_output_shape, transposed_output_length

PADDING_MODES = ("zero", "reflect", "circular")
_NUMPY_MODE = {"zero": "constant", "reflect": "reflect", "circular": "wrap"}


def pad_with(x: np.ndarray, pad: int, mode: str = "zero") -> np.ndarray:
    """Pad the two spatial axes of (N, C, H, W) by `pad` on every side.

    zero: 0s; reflect: mirrored without repeating the edge (a b c -> c b | a b c | b a, which
    needs pad < H); circular: the picture wraps around (needs pad <= H).
    """
    if mode not in PADDING_MODES:
        raise ShapeError(f"padding mode must be one of {', '.join(PADDING_MODES)}, got {mode!r}")
    if pad == 0:
        return x
    h, w = x.shape[2:]
    if mode == "reflect" and pad >= min(h, w):
        raise ShapeError(f"reflect padding needs P < H and P < W, got P={pad} for {h}x{w}")
    if mode == "circular" and pad > min(h, w):
        raise ShapeError(f"circular padding needs P <= H and P <= W, got P={pad} for {h}x{w}")
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode=_NUMPY_MODE[mode])


def _check_groups(c: int, fn: int, wc: int, groups: int) -> None:
    if groups < 1 or c % groups or fn % groups:
        raise ShapeError(
            f"groups G={groups} must divide both the input channels C={c} and the filters FN={fn}"
        )
    if wc != c // groups:
        raise ShapeError(f"with G={groups} each filter needs C/G={c // groups} channels, has {wc}")


def conv_general(
    x: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None = None,
    stride: int = 1,
    pad: int = 0,
    dilation: int = 1,
    groups: int = 1,
    padding: str = "zero",
    flip: bool = False,
) -> np.ndarray:
    """x (N, C, H, W), W (FN, C/G, FH, FW), b (FN,) or None -> out (N, FN, OH, OW).

    OH = (H + 2P - (D(FH - 1) + 1)) / S + 1 (shapes.conv_output_shape). Group g's filters
    FN/G * g ... FN/G * (g + 1) - 1 read channels C/G * g ... C/G * (g + 1) - 1 only.
    flip=True turns the kernel by 180 degrees first: the true convolution of signal processing.
    """
    n, c, h, w = x.shape
    fn, wc, fh, fw = W.shape
    _check_groups(c, fn, wc, groups)
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride, dilation)
    if flip:
        W = W[:, :, ::-1, ::-1]
    xp = pad_with(x, pad, padding)
    cg, fg = c // groups, fn // groups
    out = np.empty((n, fn, oh * ow), dtype=np.result_type(x, W))
    for g in range(groups):  # one im2col and one GEMM per group; G = 1 is the chapter's case
        col = im2col_by_image(xp[:, g * cg : (g + 1) * cg], fh, fw, stride, 0, dilation)
        out[:, g * fg : (g + 1) * fg] = np.matmul(W[g * fg : (g + 1) * fg].reshape(fg, -1), col)
    if b is not None:
        out += b[:, None]
    return out.reshape(n, fn, oh, ow)


def conv_transpose(
    y: np.ndarray,
    W: np.ndarray,
    stride: int = 1,
    pad: int = 0,
    dilation: int = 1,
    groups: int = 1,
    output_padding: int | tuple[int, int] = 0,
    b: np.ndarray | None = None,
) -> np.ndarray:
    """Transposed convolution = convolution's backward with respect to its input.

    y (N, FN, OH, OW), W (FN, C/G, FH, FW) -> x (N, C, H, W), H from
    shapes.transposed_output_length; output_padding is one number or (for H, for W). Each
    output pixel's column W^T y is scattered back onto its window by col2im, and overlapping
    windows add. Without bias it is the adjoint of conv_general (zero padding, no flip):
    <conv(x), y> = <x, conv_transpose(y)>. b is (C,).
    """
    n, fn, oh, ow = y.shape
    fn_w, cg, fh, fw = W.shape
    if fn_w != fn:
        raise ShapeError(f"y has {fn} channels but W has FN={fn_w} filters")
    c = cg * groups
    _check_groups(c, fn, cg, groups)
    op_h, op_w = (output_padding, output_padding) if np.isscalar(output_padding) else output_padding
    h = transposed_output_length(oh, fh, pad, stride, dilation, op_h, "H")
    w = transposed_output_length(ow, fw, pad, stride, dilation, op_w, "W")
    if conv_output_shape(h, w, fh, fw, pad, stride, dilation) != (oh, ow):
        raise ShapeError("output_padding too large: the forward would not give back y's shape")
    fg = fn // groups
    y3 = y.reshape(n, fn, oh * ow)
    x = np.empty((n, c, h, w), dtype=np.result_type(y, W))
    for g in range(groups):
        dcol = np.matmul(W[g * fg : (g + 1) * fg].reshape(fg, -1).T, y3[:, g * fg : (g + 1) * fg])
        x[:, g * cg : (g + 1) * cg] = col2im_by_image(
            dcol, (n, cg, h, w), fh, fw, stride, pad, dilation
        )
    if b is not None:
        x += b[:, None, None]
    return x


def output_padding_for(h: int, fh: int, pad: int, stride: int, dilation: int = 1) -> int:
    """The output_padding that makes conv_transpose give back an H the forward floored:
    the (H + 2P - D(FH - 1) - 1) mod S rows the forward's last window did not reach."""
    return (h + 2 * pad - (dilation * (fh - 1) + 1)) % stride
