"""Speed of the engine against the book's code and PyTorch, on the chapter-7 SimpleConvNet
and the zoo's chapter-8 `deep` net.

    .venv/bin/python benchmarks/bench_engine.py [--quick] [--full-epochs] [--skip-deep]
                                                [--json PATH]

Times (time.perf_counter, warm-up first, then the median of repeated samples):
  a) a training step at batch 100 (forward, backward, Adam update);
  b) the forward pass (predict) at batch 1 and batch 100;
  c) one epoch: 600 steps of batch 100 over 60,000 digits;
  d) deep: a) and b) for deep_convnet() against its PyTorch twin (no book baseline).
Contenders are timed in blocks, several passes round them, so a burst of background load does
not land on one alone. Each baseline is credited with its fastest thread setting. It prints a
table and the project's targets with PASS/FAIL; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import book_convnet
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits
from torch_convnet import TorchConvNet, torch_version

from app.engine.memory import reuse_freed_memory
from app.engine.optimizers import Adam
from app.model.architecture import Architecture, deep_convnet, simple_convnet
from app.model.network import Network
from app.model.storage import load_model
from app.model.train import ParallelGradient

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"
BATCH, STEPS_PER_EPOCH, LR, SEED = 100, 600, 1e-3, 0
NO_TORCH = "torch not installed"
SETTLE_S = 0.3  # pause before each timed block, for idle spinning threads to sleep
NOISY_CPUS = 0.1  # other processes' average CPU use above which a section is flagged

TARGETS = {
    "step_speedup_vs_book": 10.0,  # book step time / our step time >= 10
    "step_ratio_vs_torch": 0.5,  # our step time / PyTorch's <= 0.5
    "forward1_ms": 0.15,  # our batch-1 forward <= 0.15 ms
    "forward1_ratio_vs_torch": 0.5,  # our batch-1 forward / PyTorch's <= 0.5
    "epoch_s": 7.0,  # our epoch <= 7 s
    "deep_step_ratio_vs_torch": 0.5,  # deep: our step time (2 threads) / PyTorch's <= 0.5
    "deep_forward1_ratio_vs_torch": 0.5,  # deep: our batch-1 forward / PyTorch's <= 0.5
}


# ---------------------------------------------------------------- timing


@dataclass
class Contender:
    """One thing to time: `fn` runs once per call, inside the context `settings()` returns."""

    key: str
    label: str
    fn: Callable[[], object]
    settings: Callable[[], contextlib.AbstractContextManager]
    inner: int = 1  # calls per sample; the sample is their mean
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def summary(self) -> dict:
        q = statistics.quantiles(self.samples, n=4) if len(self.samples) > 1 else self.samples * 3
        return {
            "label": self.label,
            "median_s": self.median,
            "p25_s": q[0],
            "p75_s": q[-1],
            "samples": len(self.samples),
            "calls_per_sample": self.inner,
        }


def time_in_blocks(contenders: list[Contender], warmup: int, repeats: int, passes: int) -> None:
    """`passes` rounds over the contenders, each timed in its own block of samples.

    Blocks, not sample-by-sample interleaving: idle BLAS and OpenMP workers keep spinning on a
    core for up to ~0.1 s after a call, so each block starts after a pause (SETTLE_S) in which
    the previous contender's threads go to sleep. Several passes spread background load fairly.
    """
    per_pass = -(-repeats // passes)
    for _ in range(passes):
        for c in contenders:
            time.sleep(SETTLE_S)
            with c.settings():
                for _ in range(warmup * c.inner):
                    c.fn()
                for _ in range(per_pass):
                    start = time.perf_counter()
                    for _ in range(c.inner):
                        c.fn()
                    c.samples.append((time.perf_counter() - start) / c.inner)


class OtherLoad:
    """What else used the CPUs while a section ran, from /proc/stat (Linux) and os.times.

    cpus(): (CPUs kept busy by other processes, CPUs stolen by the hypervisor), each averaged
    over the section's wall time; None where /proc/stat cannot be read.
    """

    def __init__(self):
        self.start = self._read()

    @staticmethod
    def _read():
        busy = steal = None
        with contextlib.suppress(OSError, ValueError, IndexError):
            v = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
            tick = os.sysconf("SC_CLK_TCK")
            busy, steal = (v[0] + v[1] + v[2] + v[5] + v[6]) / tick, v[7] / tick
        own = os.times()
        return busy, steal, own.user + own.system, time.perf_counter()

    def cpus(self) -> tuple[float, float] | None:
        (busy0, steal0, own0, wall0), (busy1, steal1, own1, wall1) = self.start, self._read()
        if busy0 is None or busy1 is None:
            return None
        wall = wall1 - wall0
        return max(0.0, (busy1 - busy0) - (own1 - own0)) / wall, (steal1 - steal0) / wall


def load_note(cpus: tuple[float, float] | None) -> str:
    if cpus is None:
        return ""
    others, steal = cpus
    warn = "  <- noisy" if others + steal > NOISY_CPUS else ""
    return f"  [other processes {others:.2f} CPUs, steal {steal:.2f}]{warn}"


def blas_threads(n: int | None):
    """Thread settings: BLAS held to n threads (None: the library's default)."""
    if n is None:
        return contextlib.nullcontext
    return lambda: threadpool_limits(n, user_api="blas")


def torch_threads(n: int):
    @contextlib.contextmanager
    def settings():
        TorchConvNet.set_threads(n)
        yield

    return settings


# ---------------------------------------------------------------- data and models


def load_data(data_dir: Path, random_data: bool):
    """60,000 training digits (N, 1, 28, 28) float32 in 0..1 and int64 labels."""
    if not random_data and data_dir.is_dir():
        from app.model.mnist import load_mnist

        mnist = load_mnist(data_dir)
        return mnist.train_images, mnist.train_labels, f"MNIST training set from {data_dir}"
    rng = np.random.default_rng(SEED)
    x = rng.random((60000, 1, 28, 28), dtype=np.float32)
    t = rng.integers(0, 10, 60000)
    return x, t, "random digits of MNIST's shape (60,000 x 1 x 28 x 28)"


def differences(logits, grads, ref_logits, ref_grads) -> tuple[float, float]:
    """Largest absolute difference of the logits; largest relative one over the gradients
    (each parameter's difference over that parameter's largest reference value)."""
    d_logits = float(np.abs(logits - ref_logits).max())
    d_grads = max(
        float(np.abs(grads[k] - g).max() / (np.abs(g).max() + 1e-12)) for k, g in ref_grads.items()
    )
    return d_logits, d_grads


def cross_check(ours: Network, book, torch_net, x: np.ndarray, t: np.ndarray) -> str:
    """Confirm the three implementations compute the same function from the same weights."""
    with threadpool_limits(1, user_api="blas"):
        ref_logits = book.predict(x)
        ref_grads = book.gradient(x, t)
        candidates = {"ours": (ours.predict(x), ours.gradient(x, t)[1])}
    if torch_net is not None:
        candidates["PyTorch"] = (torch_net.predict(x), torch_net.gradient(x, t)[1])
    parts, ok = [], True
    for name, (logits, grads) in candidates.items():
        d_logits, d_grads = differences(logits, grads, ref_logits, ref_grads)
        ok &= d_logits < 1e-3 and d_grads < 1e-3
        parts.append(f"{name} vs book: logits {d_logits:.1e}, gradients {d_grads:.1e} (rel.)")
    return ("OK  " if ok else "MISMATCH  ") + "; ".join(parts)


def without_dropout(arch: Architecture) -> Architecture:
    """arch minus its Dropout layers: the same parameters W1, b1, ... in the same shapes."""
    layers = tuple(layer for layer in arch.layers if layer.kind != "dropout")
    return Architecture(arch.input_shape, layers, arch.init)


def twin_cross_check(arch: Architecture, params: dict, x: np.ndarray, t: np.ndarray) -> str:
    """Ours and the PyTorch twin on `arch` without its dropout layers, from the same weights.

    The book's dropout (ours) does not rescale in training and multiplies by 1 - rate at
    inference; PyTorch's rescales in training and is the identity at inference. Without the
    dropout layers both nets are the same function, so logits and gradients must agree."""
    plain = without_dropout(arch)
    ours = Network(plain, {k: v.copy() for k, v in params.items()})
    twin = TorchConvNet(plain, seed=SEED)
    twin.load_params(params)
    with threadpool_limits(1, user_api="blas"):
        logits, grads = ours.predict(x), ours.gradient(x, t)[1]
    twin.set_threads(1)
    d_logits, d_grads = differences(logits, grads, twin.predict(x), twin.gradient(x, t)[1])
    ok = d_logits < 1e-3 and d_grads < 1e-3
    return ("OK  " if ok else "MISMATCH  ") + (
        f"ours vs PyTorch, without dropout: logits {d_logits:.1e}, gradients {d_grads:.1e} (rel.)"
    )


def run_epoch(step: Callable, x: np.ndarray, t: np.ndarray, steps: int, settings) -> float:
    """Seconds for `steps` shuffled steps of BATCH, batch gather included, as train() does."""
    order = np.random.default_rng(SEED).permutation(len(x))
    time.sleep(SETTLE_S)
    with settings():
        for i in range(3):  # warm-up, not counted
            idx = order[i * BATCH : (i + 1) * BATCH]
            step(x[idx], t[idx])
        start = time.perf_counter()
        for i in range(steps):
            idx = order[i * BATCH : (i + 1) * BATCH]
            step(x[idx], t[idx])
        return time.perf_counter() - start


# ---------------------------------------------------------------- report


def fmt_time(seconds: float | None, unit: str) -> str:
    if seconds is None:
        return "-"
    scale = {"ms": 1e3, "s": 1.0}[unit]
    value = seconds * scale
    digits = 3 if value < 1 else 2 if value < 100 else 1
    return f"{value:.{digits}f} {unit}"


def fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x" if r < 10 else f"{r:.1f}x"


def section_table(title: str, rows: list[dict], unit: str, book: float | None, torch: float | None):
    lines = [title]
    header = f"  {'':<44}{'median':>11}{'p25..p75':>21}{'book/this':>11}{'this/torch':>12}"
    lines.append(header)
    for r in rows:
        if r.get("missing"):
            lines.append(f"  {r['label']:<44}{r['missing']:>55}")
            continue
        spread = f"{fmt_time(r['p25_s'], unit)}..{fmt_time(r['p75_s'], unit)}"
        vs_book = fmt_ratio(book / r["median_s"]) if book else "-"
        vs_torch = fmt_ratio(r["median_s"] / torch) if torch else "-"
        lines.append(
            f"  {r['label']:<44}{fmt_time(r['median_s'], unit):>11}{spread:>21}"
            f"{vs_book:>11}{vs_torch:>12}"
        )
    return lines


def verdict(value: float | None, limit: float, at_least: bool, note: str = "") -> dict:
    if value is None:
        return {"value": None, "target": limit, "result": "n/a (" + NO_TORCH + ")"}
    ok = value >= limit if at_least else value <= limit
    return {"value": value, "target": limit, "result": ("PASS" if ok else "FAIL") + note}


def other_training_running() -> bool:
    me = os.getpid()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if int(pid) != me and b"conv-explorer" in cmd and b" train" in cmd:
            return True
    return False


def environment(data_note: str, tv: str | None) -> dict:
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": [
            f"{b['internal_api']} {b['version']} ({b.get('architecture')}, "
            f"{b['num_threads']} threads by default)"
            for b in blas
        ],
        "torch": tv or NO_TORCH,
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        "data": data_note,
        "load_average_at_start": os.getloadavg(),
        "training_process_running": other_training_running(),
    }


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 100-step epoch")
    parser.add_argument(
        "--full-epochs", action="store_true", help="also run the book's and PyTorch's epochs"
    )
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--random-data", action="store_true", help="do not read MNIST")
    parser.add_argument("--no-torch", action="store_true", help="act as if torch were missing")
    parser.add_argument("--skip-deep", action="store_true", help="leave out d) the deep net")
    args = parser.parse_args(argv)

    step_warmup, step_repeats = (2, 8) if args.quick else (3, 30)
    fwd_warmup, fwd_repeats = (1, 5) if args.quick else (1, 21)
    passes = 1 if args.quick else 3
    epoch_steps = 100 if args.quick else STEPS_PER_EPOCH

    reuse_freed_memory()  # as the training CLI does; process-wide, so the baselines get it too
    tv = None if args.no_torch else torch_version()
    x_train, t_train, data_note = load_data(args.data_dir, args.random_data)
    env = environment(data_note, tv)
    out = [
        "Conv Explorer engine benchmark",
        f"  machine: {env['cpu']}, {env['cpus']} CPUs; Python {env['python']}, "
        f"NumPy {env['numpy']} with {'; '.join(env['blas'])}; PyTorch {env['torch']}",
        f"  environment: {' '.join(f'{k}={v}' for k, v in env['openblas_env'].items()) or '-'}"
        f"; load average {env['load_average_at_start'][0]:.2f}"
        + ("; WARNING: a training process is running" if env["training_process_running"] else ""),
        f"  data: {data_note}; {'--quick run' if args.quick else 'full run'}",
        "  columns: median and quartiles of the samples; book/this = times faster than the",
        "  book baseline at its fastest setting; this/torch = time / PyTorch's fastest (< 1 wins)",
    ]
    print("\n".join(out), flush=True)

    batches = [
        (x_train[i * BATCH : (i + 1) * BATCH].copy(), t_train[i * BATCH : (i + 1) * BATCH].copy())
        for i in range(8)
    ]
    x1 = x_train[:1].copy()

    # same starting weights everywhere
    ours1 = Network.initial(simple_convnet(), seed=SEED)
    ours2 = Network.initial(simple_convnet(), seed=SEED)
    book = book_convnet.SimpleConvNet(seed=SEED)
    book.load_params(ours1.params)
    torch_net = None
    if tv:
        torch_net = TorchConvNet(seed=SEED, lr=LR)
        torch_net.load_params(ours1.params)
    check = cross_check(ours1, book, torch_net, *batches[0])
    print(f"  same function: {check}", flush=True)
    deep_arch = deep_convnet()
    deep_check = None
    if not args.skip_deep:
        deep1 = Network.initial(deep_arch, seed=SEED)
        deep_check = (
            twin_cross_check(deep_arch, deep1.params, *batches[0])
            if tv
            else "n/a (" + NO_TORCH + ")"
        )
        print(f"  same function, deep: {deep_check}", flush=True)
    print(flush=True)

    # ---- a) training step
    def stepper(step_fn):
        it = itertools.cycle(batches)
        return lambda: step_fn(*next(it))

    opt1, opt2, book_opt = Adam(lr=LR), Adam(lr=LR), book_convnet.Adam(lr=LR)
    grad2 = ParallelGradient(ours2, 2)

    def ours1_step(x, t):
        opt1.update(ours1.params, ours1.gradient(x, t)[1])

    def ours2_step(x, t):
        opt2.update(ours2.params, grad2(x, t)[1], grad2.pool, grad2.threads)

    def book_step(x, t):
        book_opt.update(book.params, book.gradient(x, t))

    one = blas_threads(1)
    default_blas = blas_threads(None)
    blas_libs = [b for b in threadpool_info() if b["user_api"] == "blas"]
    n_blas = max((b["num_threads"] for b in blas_libs), default=1)
    steps = [
        Contender("ours_1thread", "ours, 1 thread", stepper(ours1_step), one),
        Contender("ours_2threads", "ours, 2 threads (ParallelGradient)", stepper(ours2_step), one),
        Contender("book_blas1", "book baseline, BLAS 1 thread", stepper(book_step), one),
        Contender(
            "book_blas_default",
            f"book baseline, BLAS default ({n_blas} threads)",
            stepper(book_step),
            default_blas,
        ),
    ]
    if torch_net:
        for n in (2, 1):
            steps.append(
                Contender(
                    f"torch_{n}thread",
                    f"PyTorch, {n} thread{'s' if n > 1 else ''}",
                    stepper(torch_net.train_step),
                    torch_threads(n),
                )
            )
    load = {"step": OtherLoad()}
    time_in_blocks(steps, step_warmup, step_repeats, passes)
    load["step"] = load["step"].cpus()
    grad2.close()

    # ---- b) forward
    def forwards(ours_net, book_net, twin, x: np.ndarray, inner: int, shipped=None):
        cs = [Contender("ours", "ours, 1 thread", lambda: ours_net.predict(x), one, inner)]
        if shipped is not None:  # trained weights can be slow where random ones are not
            label = "ours, the shipped weights (models/simple.npz)"
            cs.append(Contender("ours_shipped", label, lambda: shipped.predict(x), one, inner))
        if book_net is not None:
            cs += [
                Contender(
                    "book_blas1", "book baseline, BLAS 1 thread", lambda: book_net.predict(x), one
                ),
                Contender(
                    "book_blas_default",
                    f"book baseline, BLAS default ({n_blas} threads)",
                    lambda: book_net.predict(x),
                    default_blas,
                ),
            ]
            for c in cs:
                if c.key.startswith("book"):
                    c.inner = max(1, inner // 4)
        if twin:
            for n in (1, 2):
                cs.append(
                    Contender(
                        f"torch_{n}thread",
                        f"PyTorch, {n} thread{'s' if n > 1 else ''}",
                        lambda: twin.predict(x),
                        torch_threads(n),
                        inner,
                    )
                )
        time_in_blocks(cs, fwd_warmup, fwd_repeats, passes)
        return cs

    monitor = OtherLoad()
    shipped_file = ROOT / "models" / "simple.npz"
    shipped = load_model(shipped_file)[0] if shipped_file.is_file() else None
    fwd1 = forwards(ours1, book, torch_net, x1, 200, shipped)
    fwd100 = forwards(ours1, book, torch_net, batches[0][0], 10, shipped)
    load["forward"] = monitor.cpus()

    # ---- c) epoch
    epoch_net = Network.initial(simple_convnet(), seed=SEED)
    epoch_opt, epoch_grad = Adam(lr=LR), ParallelGradient(epoch_net, 2)

    def epoch_step(x, t):
        epoch_opt.update(epoch_net.params, epoch_grad(x, t)[1], epoch_grad.pool, epoch_grad.threads)

    monitor = OtherLoad()
    ours_epoch = run_epoch(epoch_step, x_train, t_train, epoch_steps, one)
    epoch_grad.close()
    ours_epoch *= STEPS_PER_EPOCH / epoch_steps

    def best(cs: list[Contender], prefix: str) -> Contender | None:
        found = [c for c in cs if c.key.startswith(prefix)]
        return min(found, key=lambda c: c.median) if found else None

    book_step_best, torch_step_best = best(steps, "book"), best(steps, "torch")
    measured = epoch_steps == STEPS_PER_EPOCH
    epochs = [
        {
            "key": "ours_2threads",
            "label": "ours, 2 threads (ParallelGradient)",
            "seconds": ours_epoch,
            "how": "measured" if measured else f"extrapolated: {epoch_steps} steps x 6",
        }
    ]
    baselines = [("book", book_step_best, book_step)]
    if torch_step_best:
        baselines.append(("torch", torch_step_best, torch_net.train_step))
    for key, best_c, step_fn in baselines:
        if args.full_epochs:
            seconds = run_epoch(step_fn, x_train, t_train, STEPS_PER_EPOCH, best_c.settings)
            how = "measured"
        else:
            seconds, how = STEPS_PER_EPOCH * best_c.median, "extrapolated: 600 x step median"
        epochs.append({"key": key, "label": best_c.label, "seconds": seconds, "how": how})
    if not torch_step_best:
        epochs.append({"key": "torch", "label": "PyTorch", "seconds": None, "how": NO_TORCH})
    load["epoch"] = monitor.cpus()

    # ---- d) deep: deep_convnet() against its PyTorch twin (no book baseline)
    deep_steps = deep_fwd1 = deep_fwd100 = None
    if not args.skip_deep:
        deep2 = Network.initial(deep_arch, seed=SEED)  # deep1 made for the cross-check
        deep_twin = None
        if tv:
            deep_twin = TorchConvNet(deep_arch, seed=SEED, lr=LR)
            deep_twin.load_params(deep1.params)
        # dropout seeds, one per thread and step, as app.model.train.training_steps draws them
        seed_rng = np.random.default_rng(SEED)

        def deep_stepper(net: Network, threads: int):
            opt, grad = Adam(lr=LR), ParallelGradient(net, threads)

            def step(x, t):
                seeds = seed_rng.integers(2**63, size=threads).tolist()
                opt.update(net.params, grad(x, t, seeds)[1], grad.pool, grad.threads)

            return stepper(step), grad

        deep_step1, deep_grad1 = deep_stepper(deep1, 1)
        deep_step2, deep_grad2 = deep_stepper(deep2, 2)
        deep_steps = [
            Contender("ours_1thread", "ours, 1 thread", deep_step1, one),
            Contender("ours_2threads", "ours, 2 threads (ParallelGradient)", deep_step2, one),
        ]
        if deep_twin:
            for n in (2, 1):
                deep_steps.append(
                    Contender(
                        f"torch_{n}thread",
                        f"PyTorch, {n} thread{'s' if n > 1 else ''}",
                        stepper(deep_twin.train_step),
                        torch_threads(n),
                    )
                )
        monitor = OtherLoad()
        time_in_blocks(deep_steps, step_warmup, step_repeats, passes)
        load["deep_step"] = monitor.cpus()
        deep_grad1.close()
        deep_grad2.close()
        monitor = OtherLoad()
        deep_fwd1 = forwards(deep1, None, deep_twin, x1, 20)
        deep_fwd100 = forwards(deep1, None, deep_twin, batches[0][0], 1)
        load["deep_forward"] = monitor.cpus()

    # ---- report
    def rows(cs: list[Contender], want_torch: bool) -> list[dict]:
        r = [c.summary() for c in cs]
        if want_torch and not torch_net:
            r.append({"label": "PyTorch", "missing": NO_TORCH})
        return r

    def forward_tables(first_title: str, fwd_1, fwd_100, book_column: bool) -> list[str]:
        """The batch-1 and batch-BATCH forward tables, each against its own baselines."""
        out = []
        titles = (first_title, f"   forward (predict), batch {BATCH}, ms per call")
        for title, cs in zip(titles, (fwd_1, fwd_100), strict=True):
            tb = best(cs, "torch")
            torch_ms = tb.median if tb else None
            book_ms = best(cs, "book").median if book_column else None
            out += ["", *section_table(title, rows(cs, True), "ms", book_ms, torch_ms)]
        return out

    torch_fwd1 = best(fwd1, "torch")
    lines = []
    lines += section_table(
        f"a) training step, batch {BATCH} (forward + backward + Adam), ms per step"
        + load_note(load["step"]),
        rows(steps, True),
        "ms",
        book_step_best.median,
        torch_step_best.median if torch_step_best else None,
    )
    fwd_title = "b) forward (predict), batch 1, ms per call" + load_note(load["forward"])
    lines += forward_tables(fwd_title, fwd1, fwd100, True)
    lines += [
        "",
        f"c) one epoch, {STEPS_PER_EPOCH} steps of batch {BATCH}, s per epoch"
        + load_note(load["epoch"]),
    ]
    for e in epochs:
        lines.append(f"  {e['label']:<44}{fmt_time(e['seconds'], 's'):>11}   {e['how']}")
    if deep_steps:
        deep_torch_step = best(deep_steps, "torch")
        deep_torch1 = best(deep_fwd1, "torch")
        lines += ["", f"d) deep: {deep_arch.summary()}", f"  same function: {deep_check}"]
        lines += section_table(
            f"   training step, batch {BATCH} (forward + backward + Adam), ms per step"
            + load_note(load["deep_step"]),
            rows(deep_steps, True),
            "ms",
            None,
            deep_torch_step.median if deep_torch_step else None,
        )
        lines += forward_tables(
            "   forward (predict), batch 1, ms per call" + load_note(load["deep_forward"]),
            deep_fwd1,
            deep_fwd100,
            False,
        )

    ours_step = steps[1]  # 2 threads: how training runs
    quick_note = " (epoch extrapolated: --quick)" if epoch_steps != STEPS_PER_EPOCH else ""
    results = {
        "training step: book time / ours (2 threads)": verdict(
            book_step_best.median / ours_step.median, TARGETS["step_speedup_vs_book"], True
        ),
        "training step: ours (2 threads) / PyTorch": verdict(
            ours_step.median / torch_step_best.median if torch_step_best else None,
            TARGETS["step_ratio_vs_torch"],
            False,
        ),
        "forward batch 1: ours, ms": verdict(fwd1[0].median * 1e3, TARGETS["forward1_ms"], False),
        "forward batch 1: ours / PyTorch": verdict(
            fwd1[0].median / torch_fwd1.median if torch_fwd1 else None,
            TARGETS["forward1_ratio_vs_torch"],
            False,
        ),
        "epoch: ours (2 threads), s": verdict(ours_epoch, TARGETS["epoch_s"], False, quick_note),
    }
    if deep_steps:
        results["deep training step: ours (2 threads) / PyTorch"] = verdict(
            deep_steps[1].median / deep_torch_step.median if deep_torch_step else None,
            TARGETS["deep_step_ratio_vs_torch"],
            False,
        )
        results["deep forward batch 1: ours / PyTorch"] = verdict(
            deep_fwd1[0].median / deep_torch1.median if deep_torch1 else None,
            TARGETS["deep_forward1_ratio_vs_torch"],
            False,
        )
    lines += ["", "targets (each baseline at its fastest thread setting above)"]
    for name, v in results.items():
        sign = ">=" if "book time" in name else "<="
        value = "-" if v["value"] is None else f"{v['value']:.3g}"
        lines.append(f"  {name:<48}{value:>9}  (target {sign} {v['target']:g})  {v['result']}")
    load_end = os.getloadavg()
    lines.append(f"\nload average at the end: {load_end[0]:.2f}")
    print("\n".join(lines), flush=True)

    if args.json:
        report = {
            "environment": {**env, "load_average_at_end": load_end},
            "quick": args.quick,
            "cross_check": check,
            "other_processes_cpus": load,
            "training_step": {c.key: c.summary() for c in steps},
            "forward_batch1": {c.key: c.summary() for c in fwd1},
            "forward_batch100": {c.key: c.summary() for c in fwd100},
            "epoch": epochs,
            "targets": results,
        }
        if deep_steps:
            report["deep"] = {
                "architecture": deep_arch.to_dict(),
                "cross_check": deep_check,
                "training_step": {c.key: c.summary() for c in deep_steps},
                "forward_batch1": {c.key: c.summary() for c in deep_fwd1},
                "forward_batch100": {c.key: c.summary() for c in deep_fwd100},
            }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
