"""Gradient check on the user's digit: the engine's backward pass against central differences.

Everything runs in float64 (in float32 the rounding of the loss swamps a difference of size h).
A max-pool window whose maximum is reached twice is a kink: nudging one of the tied inputs up
moves the max, nudging it down does not, so the central difference sees half a slope. A blank
background makes such windows by the hundred (every window reads the same zeros). They are
found and counted, then broken by a tiny seeded jitter of the input before checking.
"""

from __future__ import annotations

import numpy as np

from app.engine import layers as L
from app.model.network import Network

from .backward import loss_gradient, pool_ties
from .models import LoadedModel
from .results import GradientCheck, GradientEntry, PoolTies

STEP = 1e-5  # h of (f(x + h) - f(x - h)) / 2h
JITTER = 1e-3  # std of the tie-breaking noise added to the input (a 255th of a gray level is 4e-3)
# relative error = |analytic - numeric| / max(|analytic|, |numeric|, floor), floor = FLOOR *
# max(1, L). Below the floor a gradient is compared absolutely: the loss's own float64 rounding,
# about 1e-16 L / h, is a sizeable part of a gradient of 1e-10, whatever the backward pass does.
FLOOR = 1e-4


def count_ties(net: Network, x: np.ndarray) -> list[PoolTies]:
    """Tied max-pool windows of every max-pool layer, on the input the layer pools."""
    found = []
    acts = net.trace(x)
    for act in acts:
        layer = net.arch.layers[act.index]
        if layer.kind != "pool" or layer.mode != "max":
            continue
        pooled = acts[act.index - 1].value[0]
        ph, pw = layer.size
        _, _, tied, best, gap = pool_ties(pooled, ph, pw, layer.stride)
        carrying = best > 0
        found.append(
            PoolTies(
                layer=act.name,
                windows=int(tied.size),
                tied=int(tied.sum()),
                tied_at_zero=int((tied & ~carrying).sum()),
                tied_with_gradient=int((tied & carrying).sum()),
                smallest_gap=float(gap[carrying].min()) if carrying.any() else None,
            )
        )
    return found


def _relative(a: float, n: float, floor: float) -> float:
    return abs(a - n) / max(abs(a), abs(n), floor)


def gradient_check(
    model: LoadedModel,
    digit: np.ndarray,
    target: int | None = None,
    pixels: int = 12,
    weights: int = 12,
    seed: int = 0,
    jitter: bool = True,
) -> GradientCheck:
    """Analytic (the engine's backward, float64) vs central-difference gradients of the
    cross-entropy against `target` (default: the predicted class) for `pixels` sampled input
    pixels and `weights` sampled parameters, seeded."""
    net = Network(model.net.arch, model.net.params, dtype=np.float64)
    x = digit[None, None].astype(np.float64)
    rng = np.random.default_rng(seed)
    ties_before = count_ties(net, x)
    if jitter:
        x = x + JITTER * rng.standard_normal(x.shape)
    ties_after = count_ties(net, x)

    logits, caches = net.forward(x)
    label = int(logits[0].argmax())
    target = label if target is None else target
    t = np.array([target])
    loss, dlogits = loss_gradient(logits, target)
    grads, dx = net.backward(dlogits, caches, need_dx=True)
    floor = FLOOR * max(1.0, abs(loss))

    def pattern() -> bytes:
        """Which side of every kink the pass is on: ReLU masks and max-pool winners."""
        _, trial = net.forward(x)
        return b"".join(a.tobytes() for a in _kink_sides(net, trial))

    here = pattern()

    def numeric(array: np.ndarray, index: tuple) -> tuple[float, bool]:
        """Central difference, and whether x + h or x - h lands across a kink."""
        saved = array[index]
        array[index] = saved + STEP
        plus, crossed = net.loss(x, t), pattern() != here
        array[index] = saved - STEP
        minus, crossed = net.loss(x, t), crossed or pattern() != here
        array[index] = saved
        return (plus - minus) / (2 * STEP), crossed

    entries = []
    flat = rng.choice(x.size, size=min(pixels, x.size), replace=False)
    for k in flat:
        index = (0, 0, *np.unravel_index(int(k), x.shape[2:]))
        entries.append(
            _entry("x", [int(v) for v in index[2:]], float(dx[index]), *numeric(x, index), floor)
        )
    names = sorted(net.params, key=lambda s: (int(s[1:]), s[0]))  # W1, b1, W2, b2, ...
    for k in range(weights):
        name = names[k % len(names)]
        p = net.params[name]
        index = tuple(int(v) for v in np.unravel_index(int(rng.integers(p.size)), p.shape))
        entries.append(
            _entry(name, list(index), float(grads[name][index]), *numeric(p, index), floor)
        )
    smooth = [e for e in entries if not e.kink] or entries
    worst = max(smooth, key=lambda e: e.relative_error)
    return GradientCheck(
        model=model.id,
        label=label,
        target=target,
        loss=round(loss, 9),
        dtype="float64",
        step=STEP,
        jitter=JITTER if jitter else 0.0,
        seed=seed,
        floor=floor,
        ties_before_jitter=ties_before,
        ties_after_jitter=ties_after,
        checked=len(entries),
        kinks=sum(e.kink for e in entries),
        max_relative_error=worst.relative_error,
        worst=worst,
        entries=entries,
    )


def _entry(param: str, index: list, analytic: float, numeric: float, kink: bool, floor: float):
    return GradientEntry(
        param=param,
        index=index,
        analytic=analytic,
        numeric=numeric,
        relative_error=_relative(analytic, numeric, floor),
        kink=kink,
    )


def _kink_sides(net: Network, caches) -> list[np.ndarray]:
    """Which side of every kink that matters the pass is on: each ReLU's mask and, for max
    pooling, the inputs that receive gradient (winners of windows whose maximum passes the
    ReLU). A winner change in a window the ReLU zeroes anyway is no kink of the loss."""
    sides = []
    for entry in caches:
        if entry[0] == "pool_relu":
            _, pool_cache, mask = entry
            sides += [mask, L.max_pool_backward(mask.astype(net.dtype), pool_cache) != 0]
            continue
        layer = net.arch.layers[entry[0]]
        if layer.kind == "relu":
            sides.append(entry[1])
        elif layer.kind == "pool" and layer.mode == "max":
            sides += [entry[1][3], entry[1][4]]  # the winners along W and along H
    return sides
