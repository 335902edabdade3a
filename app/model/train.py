"""Training loop for SimpleConvNet: shuffled epochs, optional augmentation, two threads.

Each step splits the batch in two halves whose gradients are computed on two threads (NumPy
releases the GIL in its kernels, BLAS is held to one thread each) and averaged.
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from app.engine.optimizers import OPTIMIZERS

from .augment import random_affine
from .network import SimpleConvNet


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


class ParallelGradient:
    """net.gradient over a batch split across worker threads; same result as one call."""

    def __init__(self, net: SimpleConvNet, threads: int):
        self.net, self.threads = net, max(1, threads)
        self.pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def __call__(self, x: np.ndarray, t: np.ndarray):
        if self.pool is None or len(x) < 2 * self.threads:
            return self.net.gradient(x, t)
        parts = np.array_split(np.arange(len(x)), self.threads)
        results = list(self.pool.map(lambda i: self.net.gradient(x[i], t[i]), parts))
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


def progress_bar(done: int, total: int, loss: float, start: float, width: int = 30) -> str:
    filled = int(width * done / total)
    elapsed = time.perf_counter() - start
    bar = "#" * filled + "." * (width - filled)
    return f"\r  [{bar}] {done}/{total} loss {loss:.4f} {elapsed:5.1f}s"


def train(
    net: SimpleConvNet,
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray,
    t_test: np.ndarray,
    cfg: TrainConfig,
    out=sys.stderr,
) -> list[dict]:
    """Train net.params in place; returns per-epoch metrics. Deterministic for a given seed."""
    rng = np.random.default_rng(cfg.seed)
    optimizer = OPTIMIZERS[cfg.optimizer](lr=cfg.lr)
    grad = ParallelGradient(net, cfg.threads)
    n = len(x_train)
    steps_per_epoch = n // cfg.batch_size
    total_steps = steps_per_epoch * cfg.epochs
    history = []
    try:
        for epoch in range(cfg.epochs):
            start, running, order = time.perf_counter(), 0.0, rng.permutation(n)
            for step in range(steps_per_epoch):
                idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
                x = x_train[idx]
                if cfg.augment:
                    x = random_affine(x, rng)
                optimizer.lr = learning_rate(cfg, (epoch * steps_per_epoch + step) / total_steps)
                loss, grads = grad(x, t_train[idx])
                optimizer.update(net.params, grads)
                running = loss if step == 0 else 0.98 * running + 0.02 * loss
                if out is not None and (step % 20 == 0 or step == steps_per_epoch - 1):
                    out.write(progress_bar(step + 1, steps_per_epoch, running, start))
                    out.flush()
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
            if out is not None:
                out.write(
                    f"\nepoch {epoch + 1}/{cfg.epochs}: train acc {record['train_acc']:.4f} "
                    f"test acc {record['test_acc']:.4f} test loss {record['test_loss']:.4f} "
                    f"({seconds:.1f}s)\n"
                )
    finally:
        grad.close()
    return history


def evaluate_loss(net: SimpleConvNet, x: np.ndarray, t: np.ndarray, batch: int = 1000) -> float:
    total = 0.0
    for i in range(0, len(x), batch):
        total += net.loss(x[i : i + batch], t[i : i + batch]) * len(x[i : i + batch])
    return total / len(x)
