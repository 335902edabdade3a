"""Any picture through learned, classic or custom kernels, within a compute budget."""

from __future__ import annotations

import numpy as np

from app.engine.layers import conv_forward, conv_single_by_taps
from app.engine.shapes import conv_output_length, conv_output_shape
from app.imaging.render import render_gray

from .kernels import Kernel
from .results import Convolution, ResponseMap
from .views import rounded

# How /api/convolve colours its maps, stated once per response (the page's legend repeats it).
STRETCH_RULE = (
    "gray, each map stretched from its own minimum (black) to its own maximum (white); "
    "a map's range is that [minimum, maximum]"
)


class ComputeBudgetError(ValueError):
    """A convolution request that would hold a core for too long."""


def convolution_cost(shape: tuple[int, int, int], kernels: list[Kernel], stride: int, pad: int):
    """(output shape per kernel, multiply-adds) before any work is done."""
    _, h, w = shape
    total, shapes = 0, []
    for k in kernels:
        c, fh, fw = k.weights.shape
        oh = conv_output_length(h, fh, pad, stride, "H")
        ow = conv_output_length(w, fw, pad, stride, "W")
        shapes.append((oh, ow))
        total += oh.size * ow.size * c * fh * fw
    return shapes, total


IM2COL_BYTES = 64 * 2**20  # above this, filters are applied tap by tap instead


def _responses(x: np.ndarray, kernels: list[Kernel], stride: int, pad: int) -> list[np.ndarray]:
    """Every kernel's map. Kernels of one shape share one im2col matrix and one GEMM (the
    chapter's way, and 20x faster than tap by tap for a bank of 30 learned filters); a lone
    kernel, or a bank whose im2col would be too big, goes tap by tap in the output's memory."""
    out: list[np.ndarray | None] = [None] * len(kernels)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, k in enumerate(kernels):
        groups.setdefault(k.weights.shape, []).append(i)
    c, h, w = x.shape
    for (kc, fh, fw), members in groups.items():
        oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
        if len(members) == 1 or kc * fh * fw * oh * ow * 4 > IM2COL_BYTES:
            for i in members:
                k = kernels[i]
                out[i] = conv_single_by_taps(x, k.weights, k.bias, stride, pad)
            continue
        W = np.stack([kernels[i].weights for i in members])
        b = np.array([kernels[i].bias for i in members], np.float32)
        maps = conv_forward(x[None], W, b, stride, pad)[0][0]
        for i, m in zip(members, maps, strict=True):
            out[i] = m
    return out


def convolve_image(
    image: np.ndarray,
    kernels: list[Kernel],
    stride: int,
    pad: int,
    relu: bool,
    values: bool,
    max_macs: int,
) -> Convolution:
    """image (C, H, W) 0..1 through each kernel.

    One colour rule for every map (STRETCH_RULE): gray from each map's minimum to its maximum,
    so a blur or the identity kernel looks like the photo and an edge map like an embossed one.
    """
    shapes, macs = convolution_cost(image.shape, kernels, stride, pad)
    if macs > max_macs:
        raise ComputeBudgetError(
            f"this convolution needs {macs:,} multiply-adds; the limit is {max_macs:,}. "
            "Use a smaller image, fewer kernels or a larger stride."
        )
    x = image.astype(np.float32, copy=False)
    responses = _responses(x, kernels, stride, pad)
    maps = []
    for k, (oh, ow), m in zip(kernels, shapes, responses, strict=True):
        if relu:
            m = np.maximum(m, 0)
        low, high = float(m.min()), float(m.max())
        maps.append(
            ResponseMap(
                name=k.name,
                shape=[oh.size, ow.size],
                exact=oh.exact and ow.exact,
                range=[round(low, 6), round(high, 6)],
                png=render_gray(m, low, high if high > low else low + 1e-6, ink_white=True),
                values=rounded(m, 4) if values else None,
            )
        )
    shown = image.mean(axis=0)  # brightness, for the page to show beside the maps
    return Convolution(
        input_shape=list(image.shape),
        input_png=render_gray(shown, 0.0, 1.0, ink_white=True),
        stride=stride,
        pad=pad,
        macs=macs,
        scale="gray",
        scale_rule=STRETCH_RULE,
        maps=maps,
    )
