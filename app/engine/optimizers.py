"""The chapter-6 optimisers, each updating a dict of parameter arrays in place.

They keep state (velocities, moments), so one optimiser belongs to one training run; inference
never touches them. Every element's update depends on that element alone, so `update` may
split the arrays into slices and update them on a thread pool (the training loop's gradient
threads, idle at that moment): the same numbers, in less time.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np

from .numerics import flush_subnormals

PARALLEL_MIN = 1 << 15  # arrays smaller than this are updated whole, in the calling thread
FLUSH_EVERY = 10  # updates between two flushes of subnormal weights and state (numerics.py)


def _slices(arrays: tuple[np.ndarray, ...], parts: int) -> list[tuple[np.ndarray, ...]]:
    """The same element range of each array, as flat views, in `parts` pieces."""
    flat = [a.reshape(-1) for a in arrays]  # views: parameters and state are contiguous
    bounds = np.linspace(0, flat[0].size, parts + 1).astype(int)
    return [tuple(f[lo:hi] for f in flat) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


class Optimizer:
    """update() = begin() once per step, then step() on every (param, grad, *state) set; every
    FLUSH_EVERY updates the parameters and the state lose their subnormal numbers."""

    updates = 0

    def begin(self) -> None:
        pass

    def state(self, key: str, param: np.ndarray) -> tuple[np.ndarray, ...]:
        return ()

    def step(self, param, grad, *state) -> None:
        raise NotImplementedError

    def update(
        self, params: dict, grads: dict, pool: Executor | None = None, threads: int = 1
    ) -> None:
        self.begin()
        self.updates += 1
        flush = self.updates % FLUSH_EVERY == 0
        jobs = [(params[k], g, *self.state(k, params[k])) for k, g in grads.items()]

        def run(batch):
            for param, grad, *state in batch:
                self.step(param, grad, *state)
                if flush:
                    for a in (param, *state):
                        flush_subnormals(a)

        if pool is None or threads < 2:
            run(jobs)
            return
        small = [j for j in jobs if j[0].size < PARALLEL_MIN]
        pieces = [_slices(j, threads) for j in jobs if j[0].size >= PARALLEL_MIN]
        per_thread = [[p[t] for p in pieces] for t in range(threads)]
        per_thread[0] += small
        for done in [pool.submit(run, batch) for batch in per_thread]:
            done.result()


class SGD(Optimizer):
    def __init__(self, lr: float = 0.01):
        self.lr = lr

    def step(self, param, grad) -> None:
        param -= self.lr * grad


class Momentum(Optimizer):
    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def state(self, key, param):
        return (self.v.setdefault(key, np.zeros_like(param)),)

    def step(self, param, grad, v) -> None:
        v *= self.momentum
        v -= self.lr * grad
        param += v


class AdaGrad(Optimizer):
    def __init__(self, lr: float = 0.01, eps: float = 1e-7):
        self.lr, self.eps, self.h = lr, eps, {}

    def state(self, key, param):
        return (self.h.setdefault(key, np.zeros_like(param)),)

    def step(self, param, grad, h) -> None:
        h += grad * grad
        param -= self.lr * grad / (np.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction folded into the step size, as in the book."""

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps=1e-7):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.iter, self.m, self.v = 0, {}, {}
        self.lr_t = lr

    def begin(self) -> None:
        self.iter += 1
        # a Python float keeps float32 parameters float32 (a NumPy float64 scalar would not)
        self.lr_t = float(
            self.lr * np.sqrt(1 - self.beta2**self.iter) / (1 - self.beta1**self.iter)
        )

    def state(self, key, param):
        return self.m.setdefault(key, np.zeros_like(param)), self.v.setdefault(
            key, np.zeros_like(param)
        )

    def step(self, param, grad, m, v) -> None:
        # m += (1 - beta1)(g - m) and v += (1 - beta2)(g^2 - v), in fewer passes
        m *= self.beta1
        m += (1 - self.beta1) * grad
        step = np.square(grad)
        step *= 1 - self.beta2
        v *= self.beta2
        v += step
        np.sqrt(v, out=step)
        step += self.eps
        np.divide(m, step, out=step)
        step *= self.lr_t
        param -= step


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "adam": Adam}
