"""Numbers that say whether learned filters have structure (Fig. 7-24) or are still noise.

Neighbour correlation: the Pearson correlation between each weight and its right and lower
neighbours, after removing the filter's mean. Smooth edge and blob detectors score near 1,
white noise near 0. Correlation with the start: how much of the random initial filter is
still there after training.
"""

from __future__ import annotations

import numpy as np


def neighbour_correlation(w: np.ndarray) -> float:
    """w (FH, FW) or (C, FH, FW): correlation of every weight with its right and lower
    neighbours (within each channel), the filter's mean removed."""
    w = np.asarray(w, np.float64)
    w = w.reshape((-1, *w.shape[-2:]))
    w = w - w.mean()
    a = np.concatenate([w[:, :, :-1].ravel(), w[:, :-1, :].ravel()])
    b = np.concatenate([w[:, :, 1:].ravel(), w[:, 1:, :].ravel()])
    return _pearson(a, b)


def start_correlation(learned: np.ndarray, initial: np.ndarray) -> float:
    """Pearson correlation between a learned filter and the random filter it started from."""
    return _pearson(np.ravel(learned).astype(np.float64), np.ravel(initial).astype(np.float64))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def filter_structure(W: np.ndarray, W_initial: np.ndarray | None = None) -> dict:
    """Medians over the bank W (FN, C, FH, FW), with each filter's own figures."""
    neighbour = [neighbour_correlation(w) for w in W]
    report = {"neighbour_correlation": neighbour, "median_neighbour": float(np.median(neighbour))}
    if W_initial is not None:
        start = [start_correlation(w, w0) for w, w0 in zip(W, W_initial, strict=True)]
        report["start_correlation"] = start
        report["median_start"] = float(np.median(start))
    return report
