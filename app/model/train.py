"""Training loop for any network of the zoo: shuffled epochs, optional augmentation, threads.

Each step splits the batch in two halves whose gradients are computed on two threads (NumPy
releases the GIL in its kernels, BLAS is held to one thread each) and averaged.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from app.engine.optimizers import OPTIMIZERS

from .augment import random_affine
from .network import Network


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 100
    lr: float = 0.001
    optimizer: str = "adam"
    seed: int = 0
    augment: bool = True
    lr_schedule: str = "cosine"  # "cosine" (to 1 % of lr) or "constant"
    threads: int = 2
    weight_decay: float = 0.0  # L2 penalty (lambda / 2) * ||W||^2 on every weight matrix


class ParallelGradient:
    """net.gradient over a batch split across worker threads; same result as one call."""

    def __init__(self, net: Network, threads: int):
        self.net, self.threads = net, max(1, threads)
        self.pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def __call__(self, x: np.ndarray, t: np.ndarray, seeds: list[int] | None = None):
        """seeds: one per thread for dropout masks (None for nets without dropout)."""
        rngs = [np.random.default_rng(s) for s in seeds] if seeds else [None] * self.threads
        if self.pool is None or len(x) < 2 * self.threads:
            return self.net.gradient(x, t, rngs[0])
        parts = np.array_split(np.arange(len(x)), self.threads)
        results = list(self.pool.map(lambda i, r: self.net.gradient(x[i], t[i], r), parts, rngs))
        weights = [len(i) / len(x) for i in parts]
        loss = sum(w * r[0] for w, r in zip(weights, results, strict=True))
        # each part's gradient is a mean over its part: weight by part size, add in place
        grads = results[0][1]
        for key, g in grads.items():
            g *= np.float32(weights[0])
            for w, (_, other) in zip(weights[1:], results[1:], strict=True):
                g += np.float32(w) * other[key]
        return loss, grads

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def learning_rate(cfg: TrainConfig, progress: float) -> float:
    """progress in [0, 1] over the whole run."""
    if cfg.lr_schedule == "constant":
        return cfg.lr
    floor = 0.01 * cfg.lr
    return floor + 0.5 * (cfg.lr - floor) * (1 + math.cos(math.pi * progress))


def train(
    net: Network,
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray,
    t_test: np.ndarray,
    cfg: TrainConfig,
    progress: bool = True,
) -> list[dict]:
    """Train net.params in place; returns per-epoch metrics. Deterministic for a given seed
    and thread count. `progress` shows a tqdm bar (which knows when stderr is not a terminal)."""
    from tqdm import tqdm

    rng = np.random.default_rng(cfg.seed)
    has_dropout = any(layer.kind == "dropout" for layer in net.arch.layers)
    weights = [k for k in net.params if k.startswith("W")]
    optimizer = OPTIMIZERS[cfg.optimizer](lr=cfg.lr)
    grad = ParallelGradient(net, cfg.threads)
    n = len(x_train)
    steps_per_epoch = n // cfg.batch_size
    total_steps = steps_per_epoch * cfg.epochs
    history = []
    try:
        for epoch in range(cfg.epochs):
            start, running, order = time.perf_counter(), 0.0, rng.permutation(n)
            bar = tqdm(
                range(steps_per_epoch),
                desc=f"epoch {epoch + 1}/{cfg.epochs}",
                disable=None if progress else True,  # None: off when not a terminal
                mininterval=2.0,
                leave=False,
            )
            for step in bar:
                idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
                x = x_train[idx]
                if cfg.augment:
                    x = random_affine(x, rng)
                optimizer.lr = learning_rate(cfg, (epoch * steps_per_epoch + step) / total_steps)
                seeds = rng.integers(2**63, size=cfg.threads).tolist() if has_dropout else None
                loss, grads = grad(x, t_train[idx], seeds)
                if cfg.weight_decay:
                    for k in weights:
                        grads[k] += np.float32(cfg.weight_decay) * net.params[k]
                optimizer.update(net.params, grads)
                running = loss if step == 0 else 0.98 * running + 0.02 * loss
                if step % 20 == 0:
                    bar.set_postfix(loss=f"{running:.4f}", refresh=False)
            bar.close()
            seconds = time.perf_counter() - start
            record = {
                "epoch": epoch + 1,
                "train_loss": evaluate_loss(net, x_train[:10000], t_train[:10000]),
                "train_acc": net.accuracy(x_train[:10000], t_train[:10000]),
                "test_loss": evaluate_loss(net, x_test, t_test),
                "test_acc": net.accuracy(x_test, t_test),
                "lr": optimizer.lr,
                "seconds": round(seconds, 2),
            }
            history.append(record)
            if progress:
                tqdm.write(
                    f"epoch {epoch + 1}/{cfg.epochs}: train acc {record['train_acc']:.4f} "
                    f"test acc {record['test_acc']:.4f} test loss {record['test_loss']:.4f} "
                    f"({seconds:.1f}s)"
                )
    finally:
        grad.close()
    return history


def evaluate_loss(net: Network, x: np.ndarray, t: np.ndarray, batch: int = 1000) -> float:
    total = 0.0
    for i in range(0, len(x), batch):
        total += net.loss(x[i : i + batch], t[i : i + batch]) * len(x[i : i + batch])
    return total / len(x)
