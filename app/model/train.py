"""Training loop for any network of the zoo: shuffled epochs, optional augmentation, threads.

Each step splits the batch in two halves whose gradients are computed on two threads (NumPy
releases the GIL in its kernels, BLAS is held to one thread each) and averaged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from app.engine.optimizers import OPTIMIZERS

from .augment import AffineDraw, apply_affine, draw_affine
from .network import Network

SNAPSHOT_TEST = 1000  # test digits behind each filter snapshot's accuracy


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

    def __call__(
        self,
        x: np.ndarray,
        t: np.ndarray,
        seeds: list[int] | None = None,
        prepare: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ):
        """seeds: one per thread for dropout masks (None for nets without dropout).
        prepare(x_part, rows): e.g. the augmentation of those rows, run on the part's thread."""
        rngs = [np.random.default_rng(s) for s in seeds] if seeds else [None] * self.threads

        def gradient(rows, rng):
            part = x[rows] if prepare is None else prepare(x[rows], rows)
            return self.net.gradient(part, t[rows], rng)

        if self.pool is None or len(x) < 2 * self.threads:
            return gradient(np.arange(len(x)), rngs[0])
        parts = np.array_split(np.arange(len(x)), self.threads)
        results = list(self.pool.map(gradient, parts, rngs))
        weights = [len(i) / len(x) for i in parts]
        loss = sum(w * r[0] for w, r in zip(weights, results, strict=True))
        # each part's gradient is a mean over its part: weight by part size, add in place
        grads, others = results[0][1], [r[1] for r in results[1:]]
        if len(set(weights)) == 1:  # add, then scale once: for two halves (x 0.5) exact
            for key, g in grads.items():
                for other in others:
                    g += other[key]
                g *= np.float32(weights[0])
            return loss, grads
        for key, g in grads.items():
            g *= np.float32(weights[0])
            for w, other in zip(weights[1:], others, strict=True):
                part = other[key]
                part *= np.float32(w)
                g += part
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


@dataclass
class Step:
    """One optimiser step, just taken. `grads` and `before` stay valid until the next step."""

    step: int  # steps taken so far, counting this one (1, 2, ...)
    epoch: int  # 0-based
    index: int  # position of this step in its epoch (0-based)
    steps_per_epoch: int
    loss: float  # the batch's loss before the update
    lr: float  # the learning rate this step used
    grads: dict[str, np.ndarray]  # this step's gradients (weight decay included)
    before: dict[str, np.ndarray] | None  # copies of the parameters before the update, if asked


def _augment(draw: AffineDraw, part: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return apply_affine(part, draw.rows(rows))


def make_optimizer(cfg: TrainConfig):
    return OPTIMIZERS[cfg.optimizer](lr=cfg.lr)


def training_steps(
    net: Network,
    x_train: np.ndarray,
    t_train: np.ndarray,
    cfg: TrainConfig,
    optimizer=None,
    total_steps: int | None = None,
    keep_before: Callable[[int], bool] | None = None,
) -> Iterator[Step]:
    """The training loop itself, one Step at a time; `conv-explorer train` and the page's live
    training both run it, so one seed, config and thread count give the same numbers in both.

    Per epoch one shuffle; per step the batch's augmentation, then (nets with dropout) one seed
    per thread, all drawn from one generator seeded with cfg.seed. `total_steps` (default every
    epoch of cfg) ends the run mid-epoch if need be; the cosine schedule runs over it.
    `keep_before(step)` asks for a copy of the parameters before that step's update. Closing
    the generator stops after the step in hand and frees the gradient threads."""
    rng = np.random.default_rng(cfg.seed)
    has_dropout = any(layer.kind == "dropout" for layer in net.arch.layers)
    weights = [k for k in net.params if k.startswith("W")]
    optimizer = optimizer if optimizer is not None else make_optimizer(cfg)
    n = len(x_train)
    steps_per_epoch = n // cfg.batch_size
    total = steps_per_epoch * cfg.epochs if total_steps is None else total_steps
    if total > 0 and steps_per_epoch == 0:
        raise ValueError(f"{n} training digits do not fill one batch of {cfg.batch_size}")
    grad = ParallelGradient(net, cfg.threads)
    taken = 0
    try:
        for epoch in range(-(-total // max(1, steps_per_epoch))):
            order = rng.permutation(n)
            for index in range(min(steps_per_epoch, total - taken)):
                idx = order[index * cfg.batch_size : (index + 1) * cfg.batch_size]
                # the distortions are drawn here, in order; each gradient thread resamples its rows
                prepare = partial(_augment, draw_affine(rng, len(idx))) if cfg.augment else None
                optimizer.lr = learning_rate(cfg, taken / total)
                seeds = rng.integers(2**63, size=cfg.threads).tolist() if has_dropout else None
                loss, grads = grad(x_train[idx], t_train[idx], seeds, prepare)
                if cfg.weight_decay:
                    for k in weights:
                        grads[k] += np.float32(cfg.weight_decay) * net.params[k]
                taken += 1
                before = None
                if keep_before is not None and keep_before(taken):
                    before = {k: v.copy() for k, v in net.params.items()}
                optimizer.update(net.params, grads, grad.pool, grad.threads)
                lr = optimizer.lr
                yield Step(taken, epoch, index, steps_per_epoch, float(loss), lr, grads, before)
    finally:
        grad.close()


def train(
    net: Network,
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray,
    t_test: np.ndarray,
    cfg: TrainConfig,
    progress: bool = True,
    total_steps: int | None = None,
    snapshot_every: int = 0,
    snapshots: list[dict] | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> list[dict]:
    """Train net.params in place; returns per-epoch metrics. Deterministic for a given seed
    and thread count. `progress` shows a tqdm bar (which knows when stderr is not a terminal).

    With `snapshot_every` N > 0, `snapshots` receives the first parameter layer's weights at
    the start and every N steps (and after the last), each with its step, epoch and accuracy
    on the first SNAPSHOT_TEST test digits: the filters' history from noise to learned.
    `on_step` sees every Step (e.g. to log the loss sequence)."""
    from tqdm import tqdm

    first = "W1" if "W1" in net.params else None
    x_probe, t_probe = x_test[:SNAPSHOT_TEST], t_test[:SNAPSHOT_TEST]

    def snapshot(step: int, epoch: float) -> None:
        if snapshots is not None and first is not None:
            acc = net.accuracy(x_probe, t_probe)
            snapshots.append(
                {"step": step, "epoch": epoch, "test_acc": acc, "W": net.params[first].copy()}
            )

    if snapshot_every > 0:
        snapshot(0, 0.0)
    history: list[dict] = []
    steps = training_steps(net, x_train, t_train, cfg, total_steps=total_steps)
    start, running, bar, s = time.perf_counter(), 0.0, None, None
    for s in steps:
        if s.index == 0:
            bar = tqdm(
                total=s.steps_per_epoch,
                desc=f"epoch {s.epoch + 1}/{cfg.epochs}",
                disable=None if progress else True,  # None: off when not a terminal
                mininterval=2.0,
                leave=False,
            )
        if on_step is not None:
            on_step(s)
        running = s.loss if s.index == 0 else 0.98 * running + 0.02 * s.loss
        bar.update()
        if s.index % 20 == 0:
            bar.set_postfix(loss=f"{running:.4f}", refresh=False)
        if snapshot_every > 0 and s.step % snapshot_every == 0:
            snapshot(s.step, s.step / s.steps_per_epoch)
        if s.index < s.steps_per_epoch - 1:
            continue
        bar.close()
        seconds = time.perf_counter() - start
        record = {
            "epoch": s.epoch + 1,
            "train_loss": evaluate_loss(net, x_train[:10000], t_train[:10000]),
            "train_acc": net.accuracy(x_train[:10000], t_train[:10000]),
            "test_loss": evaluate_loss(net, x_test, t_test),
            "test_acc": net.accuracy(x_test, t_test),
            "lr": s.lr,
            "seconds": round(seconds, 2),
        }
        history.append(record)
        if progress:
            tqdm.write(
                f"epoch {s.epoch + 1}/{cfg.epochs}: train acc {record['train_acc']:.4f} "
                f"test acc {record['test_acc']:.4f} test loss {record['test_loss']:.4f} "
                f"({seconds:.1f}s)"
            )
        start = time.perf_counter()
    if bar is not None:
        bar.close()
    if snapshot_every > 0 and s is not None and s.step % snapshot_every:
        snapshot(s.step, s.step / s.steps_per_epoch)
    return history


def evaluate_loss(net: Network, x: np.ndarray, t: np.ndarray, batch: int = 1000) -> float:
    total = 0.0
    for i in range(0, len(x), batch):
        total += net.loss(x[i : i + batch], t[i : i + batch]) * len(x[i : i + batch])
    return total / len(x)
