"""Pooling on the user's digit (Fig. 7-14 ... 7-16, 7-21, 7-22): one pooled pixel's window in
every channel with its max or mean, winner and ties; the digit shifted by one pixel, to see which
pooled values stay the same (the robustness the chapter claims) and which do not; and pooling
the way the book implements it, through im2col: expand, take each row's max, reshape."""

from __future__ import annotations

import numpy as np

from app.engine import layers as L
from app.engine.im2col import im2col

from .models import LoadedModel
from .results import PoolIm2col, Pooling, PoolWindow, ShiftComparison
from .views import rounded

SHIFTS = {"right": (0, 1), "down": (1, 0), "left": (0, -1), "up": (-1, 0)}
SAME = 1e-6  # pooled values closer than this (relative to the map's largest) count as the same


class NoPoolLayerError(ValueError):
    """The model has no pooling layer."""


def shifted(digit: np.ndarray, direction: str) -> np.ndarray:
    """The digit moved by one pixel; the pixels that come in are 0 (background)."""
    dy, dx = SHIFTS[direction]
    out = np.zeros_like(digit)
    h, w = digit.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = digit[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def _pool(x: np.ndarray, size, stride: int, mode: str) -> np.ndarray:
    """x (C, H, W) through the engine's max or average pooling."""
    if mode == "max":
        return L.max_pool(x[None], *size, stride)[0]
    return L.avg_pool_forward(x[None], *size, stride)[0][0]


def _first_pool(model: LoadedModel) -> int:
    for i, layer in enumerate(model.net.arch.layers):
        if layer.kind == "pool":
            return i
    raise NoPoolLayerError(f"model {model.id!r} has no pooling layer")


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= SAME * max(float(np.abs(a).max()), 1e-12)


def pool_windows(x: np.ndarray, row: int, col: int, size, stride: int, mode: str):
    """The window under pooled pixel (row, col) in every channel of x (C, H, W)."""
    ph, pw = size
    out = []
    for c, plane in enumerate(x):
        w = plane[row * stride : row * stride + ph, col * stride : col * stride + pw]
        best = float(w.max())
        winners = np.argwhere(w == best)
        first = winners[0]  # row-major: the engine's (and argmax's) tie rule
        out.append(
            PoolWindow(
                channel=c,
                values=rounded(w, 6),
                result=round(best if mode == "max" else float(w.mean()), 6),
                winner=[int(row * stride + first[0]), int(col * stride + first[1])],
                tied=len(winners) > 1,
            )
        )
    return out


def digit_pooling(
    model: LoadedModel,
    digit: np.ndarray,
    channel: int = 0,
    row: int = 0,
    col: int = 0,
    mode: str = "max",
    shift: str = "right",
    im2col_rows: bool = False,
) -> Pooling:
    """What the first pooling layer does to this digit, for the page's pooling view."""
    index = _first_pool(model)
    layer = model.net.arch.layers[index]
    acts = model.net.trace(digit[None, None])
    x = acts[index - 1].value[0]  # (C, H, W): what the pool reads
    moved = model.net.trace(shifted(digit, shift)[None, None])[index - 1].value[0]
    c, h, w = x.shape
    channel = min(max(channel, 0), c - 1)
    pooled = _pool(x, layer.size, layer.stride, mode)
    pooled_moved = _pool(moved, layer.size, layer.stride, mode)
    oh, ow = pooled.shape[1:]
    row, col = min(max(row, 0), oh - 1), min(max(col, 0), ow - 1)
    same = _same(pooled, pooled_moved)
    same_before = _same(x, moved)
    lit = pooled > SAME  # values the pool let through above 0: the ones worth comparing
    via = None
    if im2col_rows:
        ph, pw = layer.size
        # the book's Pooling.forward: expand every channel's windows into rows, max per row
        col_rows = im2col(x[None], ph, pw, layer.stride).reshape(-1, ph * pw)
        row_max = col_rows.max(axis=1) if mode == "max" else col_rows.mean(axis=1)
        back = row_max.reshape(1, oh, ow, c).transpose(0, 3, 1, 2)[0]
        via = PoolIm2col(
            rows=rounded(col_rows.reshape(oh * ow, c, ph * pw)[:, channel], 6),
            row_result=rounded(row_max.reshape(oh * ow, c)[:, channel], 6),
            equals_engine=bool(np.array_equal(back, pooled)),
            shape=[oh * ow * c, ph * pw],
        )
    return Pooling(
        model=model.id,
        layer=acts[index].name,
        mode=mode,
        size=list(layer.size),
        stride=layer.stride,
        input_shape=[c, h, w],
        channel=channel,
        input=rounded(x[channel], 6),
        output=rounded(pooled[channel], 6),
        pixel=[row, col],
        windows=pool_windows(x, row, col, layer.size, layer.stride, mode),
        shift=ShiftComparison(
            direction=shift,
            input=rounded(moved[channel], 6),
            output=rounded(pooled_moved[channel], 6),
            same=same[channel].tolist(),
            same_pooled=int((same & lit).sum()),
            lit_pooled=int(lit.sum()),
            same_before_pooling=int((same_before & (x > SAME)).sum()),
            lit_before_pooling=int((x > SAME).sum()),
        ),
        im2col=via,
    )
