"""The chapter-6 optimisers, each updating a dict of parameter arrays in place.

They keep state (velocities, moments), so one optimiser belongs to one training run; inference
never touches them.
"""

from __future__ import annotations

import numpy as np


class SGD:
    def __init__(self, lr: float = 0.01):
        self.lr = lr

    def update(self, params: dict, grads: dict) -> None:
        for key, g in grads.items():
            params[key] -= self.lr * g


class Momentum:
    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params: dict, grads: dict) -> None:
        for key, g in grads.items():
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            v *= self.momentum
            v -= self.lr * g
            params[key] += v


class AdaGrad:
    def __init__(self, lr: float = 0.01, eps: float = 1e-7):
        self.lr, self.eps, self.h = lr, eps, {}

    def update(self, params: dict, grads: dict) -> None:
        for key, g in grads.items():
            h = self.h.setdefault(key, np.zeros_like(params[key]))
            h += g * g
            params[key] -= self.lr * g / (np.sqrt(h) + self.eps)


class Adam:
    """Adam (Kingma & Ba) with bias correction folded into the step size, as in the book."""

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps=1e-7):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.iter, self.m, self.v = 0, {}, {}

    def update(self, params: dict, grads: dict) -> None:
        self.iter += 1
        # a Python float keeps float32 parameters float32 (a NumPy float64 scalar would not)
        lr_t = float(self.lr * np.sqrt(1 - self.beta2**self.iter) / (1 - self.beta1**self.iter))
        for key, g in grads.items():
            m = self.m.setdefault(key, np.zeros_like(params[key]))
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            # m += (1 - beta1)(g - m) and v += (1 - beta2)(g^2 - v), in fewer passes
            m *= self.beta1
            m += (1 - self.beta1) * g
            step = np.square(g)
            step *= 1 - self.beta2
            v *= self.beta2
            v += step
            np.sqrt(v, out=step)
            step += self.eps
            np.divide(m, step, out=step)
            step *= lr_t
            params[key] -= step


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "adam": Adam}
