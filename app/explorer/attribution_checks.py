"""The numbers that test an attribution map: completeness, deletion and insertion, sanity.

- Completeness (Integrated Gradients): the map should sum to logit(x) - logit(baseline).
- Deletion: erase the map's top pixels one by one (set them to 0, no ink) and watch the
  target's probability; a map that found the evidence makes it fall faster than a seeded random
  order does. Insertion: start from a blank image and put x's pixels back in the map's order;
  the probability should rise faster than for the random order. (Petsiuk et al. 2018.)
- Randomisation (Adebayo et al. 2018): the same map from an untrained network of the same
  layers. A map that explains what the network learned should look different (a low Spearman
  rank correlation); one that looks the same mostly redraws the input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.layers import softmax
from app.model.network import Network

from .attribution_methods import logits_of


def completeness_error(total: float, gap: float) -> float:
    """|sum of the map - (logit(x) - logit(baseline))| / |logit(x) - logit(baseline)|."""
    return abs(total - gap) / max(abs(gap), 1e-12)


@dataclass(frozen=True)
class Curves:
    pixels: np.ndarray  # (P + 1,) 0, 1, ..., P pixels changed
    deletion: np.ndarray  # target probability with the map's top k pixels erased
    deletion_random: np.ndarray  # ... with k pixels of a seeded random order erased
    insertion: np.ndarray  # target probability with only the map's top k pixels of x kept
    insertion_random: np.ndarray

    @staticmethod
    def area(curve: np.ndarray) -> float:
        """Area under the curve over 0..P pixels divided by P (trapezoids): the mean target
        probability while the first P pixels go (deletion) or come (insertion)."""
        return float((curve[1:] + curve[:-1]).sum() / (2 * (len(curve) - 1)))


def order_of(ranking: np.ndarray) -> np.ndarray:
    """Pixel indices, highest ranking first; ties keep reading order (stable)."""
    return np.argsort(-ranking.ravel(), kind="stable")


def random_order(shape: tuple[int, int], seed: int) -> np.ndarray:
    h, w = shape
    return np.random.default_rng(seed).permutation(h * w)


def order_curves(
    net: Network, x: np.ndarray, target: int, order: np.ndarray, pixels: int
) -> tuple[np.ndarray, np.ndarray]:
    """(deletion, insertion), each (pixels + 1,): the target's probability with the first k
    pixels of `order` erased (set to 0), and with only those pixels of x kept on a blank image.

    Erasing or keeping a pixel that is already 0 changes nothing, so only the images after a
    step that touched ink go through the network (one batch); the others repeat the last."""
    c, h, w = x.shape
    flat = x.reshape(c, h * w)
    touches_ink = np.any(flat[:, order[:pixels]] != 0, axis=0)
    steps = np.concatenate([[0], np.flatnonzero(touches_ink) + 1])  # k of each distinct image
    state = np.concatenate([[0], np.cumsum(touches_ink)])  # k -> its distinct image
    position = np.empty(h * w, np.int64)
    position[order] = np.arange(h * w)
    gone = position[None, :] < steps[:, None]  # (distinct, H * W)
    images = np.concatenate([flat[None] * ~gone[:, None], flat[None] * gone[:, None]])
    logits = logits_of(net, images.reshape(-1, c, h, w).astype(np.float32))
    probs = softmax(logits.astype(np.float64))[:, target].reshape(2, -1)
    return probs[0][state], probs[1][state]


def curves(
    net: Network,
    x: np.ndarray,
    target: int,
    ranking: np.ndarray,
    pixels: int,
    random: tuple[np.ndarray, np.ndarray],
) -> Curves:
    """The map's deletion and insertion curves beside the random order's (order_curves of
    random_order, computed once per input and shared by every map)."""
    deletion, insertion = order_curves(net, x, target, order_of(ranking), pixels)
    return Curves(np.arange(pixels + 1), deletion, random[0], insertion, random[1])


def average_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of a's values, tied values sharing the mean of their ranks."""
    values, inverse, counts = np.unique(a.ravel(), return_inverse=True, return_counts=True)
    start = np.cumsum(counts) - counts
    return (start + (counts - 1) / 2)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation of two maps (Pearson's on average ranks); None when either
    map is constant, which has no ranking."""
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    norm = np.sqrt((ra @ ra) * (rb @ rb))
    return None if norm == 0 else float(ra @ rb / norm)


AREA_TOLERANCE = 0.02  # areas closer than this to random's are "the same as random"


def verdict(area: float, random_area: float, lower_is_better: bool) -> str:
    """'better', 'same' or 'worse' than the random order."""
    gain = (random_area - area) if lower_is_better else (area - random_area)
    if abs(gain) <= AREA_TOLERANCE:
        return "same"
    return "better" if gain > 0 else "worse"


# ------------------------------------------------------------------ readings in one line


def percent(p: float) -> str:
    """As the page's percent() writes it."""
    if p < 0.0005:
        return "< 0.1 %"
    if p > 0.9995:
        return "> 99.9 %"
    return f"{p * 100:.1f} %"


def deletion_reading(c: Curves, k: int, name: str) -> str:
    """'removing the 30 most important pixels drops 7 from 99.2 % to 12.0 %; 30 random
    pixels: 95.1 %'."""
    return (
        f"removing the {k} most important pixels takes {name} from {percent(c.deletion[0])} "
        f"to {percent(c.deletion[k])}; {k} random pixels: {percent(c.deletion_random[k])}"
    )


def insertion_reading(c: Curves, k: int, name: str) -> str:
    return (
        f"keeping only the {k} most important pixels gives {name} {percent(c.insertion[k])}; "
        f"{k} random pixels: {percent(c.insertion_random[k])}"
    )


def error_percent(error: float) -> str:
    """A relative error as a percentage: 2 decimals, or 2 significant digits below 0.1 %
    (as the page's errorPercent() writes it)."""
    pct = error * 100
    return f"{pct:.2f} %" if pct >= 0.1 or pct == 0 else f"{float(f'{pct:.2g}'):g} %"


def completeness_reading(total: float, gap: float, error: float) -> str:
    return (
        f"the map sums to {total:.3f}, the logit rose {gap:.3f} from the baseline: "
        f"{error_percent(error)} apart"
    )


def sanity_reading(rho: float | None) -> str:
    if rho is None:
        return "one of the two maps is flat, so there is no ranking to compare"
    if rho < 0.3:
        return f"Spearman {rho:.2f}: the map changes when the learned weights go, as it should"
    if rho < 0.6:
        return f"Spearman {rho:.2f}: the map keeps part of its shape without the learned weights"
    return (
        f"Spearman {rho:.2f}: the untrained network draws much the same map, so this map "
        "largely redraws the digit rather than what the network learned"
    )
