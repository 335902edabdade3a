"""Central-difference numerical gradients, the chapter-4 way, for checking every backward pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f / d x by (f(x + h) - f(x - h)) / 2h, one element at a time.

    `f` takes no arguments and reads `x`, which is perturbed in place and restored. Use float64:
    in float32 the rounding error of f swamps a difference of size h.
    """
    assert x.dtype == np.float64, "numerical gradients need float64"
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        saved = x[i]
        x[i] = saved + h
        f_plus = f()
        x[i] = saved - h
        f_minus = f()
        x[i] = saved
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def assert_gradient_close(analytic, numeric, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    analytic = np.asarray(analytic)
    assert analytic.shape == numeric.shape, (analytic.shape, numeric.shape)
    worst = np.max(np.abs(analytic - numeric) / (atol + rtol * np.abs(numeric)), initial=0)
    assert worst <= 1, f"analytic and numerical gradients differ (worst error ratio {worst:.3g})"
