"""Live training: a small run of a zoo network, streamed as it learns, one JSON event a line.

The stream is the job. The training runs in a process forked for it (its own GIL, so the
server's requests never queue behind its Python; niced, so they get the CPU first) and hands
events to the response through a pipe; when the client goes away the process is killed, so
nothing outlives the request and any worker of any server can take any run. Without fork it
runs on a thread, which stops after the step in hand. Steps
come from the same generator as `conv-explorer train` (app/model/train.py), so the `replay`
command in the `ready` event repeats the run's losses bit for bit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import shlex
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from app.engine import layers as L
from app.imaging.render import render_gray
from app.model.architecture import Architecture, ArchitectureError
from app.model.mnist import FILES, Mnist, load_mnist
from app.model.network import Network
from app.model.train import Step, TrainConfig, make_optimizer, training_steps
from app.model.zoo import ZOO
from app.settings import ROOT, Settings

from .filters import filter_bank
from .training_results import (
    DataSource,
    DoneEvent,
    ErrorEvent,
    Inspect,
    ProbeDigit,
    ProbeMaps,
    ReadyEvent,
    ReportEvent,
    StartEvent,
    TrainingStatus,
    TrainRequest,
)
from .views import render_split, split_range

log = logging.getLogger("conv_explorer")

SAMPLE_DIR = ROOT / "tests" / "data" / "mnist-sample"  # 1000 + 300 digits, always shipped
DEFAULT_STEPS = 300
DEFAULT_TRAIN_SIZE = 10_000
EVAL_SIZE = (100, 500)  # digits behind each report's train and test accuracy: fewest, most
PROBES = 500  # the probe digit is one of the first PROBES test digits
NICE = 10  # a training (process or thread) yields the CPU to requests
THREADS = 1  # gradient threads per training: two trainings on two cores, BLAS at one each
MAX_REPORTS = 1000


class TrainingLimitError(ValueError):
    """A run over one of the server's limits; the message names the limit and its setting."""


# ------------------------------------------------------------------ the run's plan


def data_source(settings: Settings) -> tuple[str, Path]:
    """The full MNIST set when the data directory holds it, else the shipped sample."""
    d = Path(settings.data_dir)
    if all((d / (stem + ".gz")).is_file() or (d / stem).is_file() for stem in FILES.values()):
        return "mnist", d
    return "sample", SAMPLE_DIR


@lru_cache(maxsize=2)
def _load(path: str) -> Mnist:
    return load_mnist(path)


_load_lock = threading.Lock()


def load_data(path: Path) -> Mnist:
    """Read once per process and shared read-only by every run (two first runs: one read)."""
    with _load_lock:
        return _load(str(path))


def _idx_count(path: Path) -> int:
    """The item count in an IDX file's header, without reading the rest."""
    import gzip

    for name, opener in ((path.name + ".gz", gzip.open), (path.name, open)):
        if (path.parent / name).is_file():
            with opener(path.parent / name, "rb") as f:
                return int.from_bytes(f.read(8)[4:8], "big")
    raise FileNotFoundError(path)


@dataclass(frozen=True)
class Plan:
    """Everything a run needs, checked against the limits before any work starts."""

    arch: Architecture
    cfg: TrainConfig
    total_steps: int
    train_size: int
    source: str
    data_dir: Path
    request: TrainRequest

    @property
    def steps_per_epoch(self) -> int:
        return self.train_size // self.cfg.batch_size


def plan_training(req: TrainRequest, settings: Settings) -> Plan:
    """The request with the zoo recipe filled in; a value over a limit is TrainingLimitError."""
    entry = ZOO[req.arch]
    arch = entry.arch
    if req.init is not None:
        try:
            init = "he" if req.init == "he" else float(req.init)
        except ValueError:
            raise TrainingLimitError(f'init {req.init!r} is neither "he" nor a number') from None
        if init != "he" and not 0 < init <= 1:
            raise TrainingLimitError(f"init std {init} is outside (0, 1]")
        arch = replace(arch, init=init)
    changes = {
        k: v
        for k, v in {
            "optimizer": req.optimizer,
            "lr": req.lr,
            "lr_schedule": req.schedule,
            "batch_size": req.batch_size,
            "augment": req.augment,
            "weight_decay": req.weight_decay,
        }.items()
        if v is not None
    }
    cfg = replace(entry.train, seed=req.seed, threads=THREADS, **changes)
    source, data_dir = data_source(settings)
    available = _idx_count(data_dir / FILES["train_labels"])
    train_size = req.train_size or min(DEFAULT_TRAIN_SIZE, available)

    def over(what: str, value: int, limit: int, setting: str) -> None:
        if value > limit:
            raise TrainingLimitError(
                f"{what} {value} is over the limit of {limit} (CONV_EXPLORER_{setting.upper()})"
            )

    over("batch_size", cfg.batch_size, settings.max_train_batch, "max_train_batch")
    over("train_size", train_size, settings.max_train_size, "max_train_size")
    if train_size > available:
        raise TrainingLimitError(f"train_size {train_size}: the {source} set has {available}")
    if train_size < cfg.batch_size:
        raise TrainingLimitError(
            f"train_size {train_size} is smaller than one batch of {cfg.batch_size}"
        )
    per_epoch = train_size // cfg.batch_size
    if req.steps is not None and req.epochs is not None:
        raise TrainingLimitError("give steps or epochs, not both")
    total = req.epochs * per_epoch if req.epochs is not None else req.steps or DEFAULT_STEPS
    over("steps", total, settings.max_train_steps, "max_train_steps")
    over("reports", math.ceil(total / req.report_every), MAX_REPORTS, "fixed")
    if req.probe >= PROBES:
        raise TrainingLimitError(f"probe {req.probe} is outside the first {PROBES} test digits")
    if req.inspect_filter is not None:
        first = arch.param_shapes().get("W1")
        if first is None or len(first) != 4:
            raise TrainingLimitError(f"{req.arch} has no first conv layer to inspect")
        if req.inspect_filter >= first[0]:
            raise TrainingLimitError(f"inspect_filter {req.inspect_filter}: {first[0]} filters")
    try:
        arch.param_shapes()
    except ArchitectureError as err:
        raise TrainingLimitError(str(err)) from err
    return Plan(arch, cfg, total, train_size, source, data_dir, req)


def replay_command(plan: Plan) -> str:
    """`conv-explorer train` with every setting that shapes the losses, and where to log them."""
    cfg, epochs = plan.cfg, math.ceil(plan.total_steps / plan.steps_per_epoch)
    args = ["conv-explorer", "train", "--arch", plan.request.arch, "--data-dir", str(plan.data_dir)]
    args += ["--init", str(plan.arch.init), "--optimizer", cfg.optimizer, "--lr", repr(cfg.lr)]
    args += ["--schedule", cfg.lr_schedule, "--batch-size", str(cfg.batch_size)]
    args += ["--weight-decay", repr(cfg.weight_decay), "--seed", str(cfg.seed)]
    args += ["--threads", str(cfg.threads), "--train-size", str(plan.train_size)]
    args += ["--epochs", str(epochs), "--steps", str(plan.total_steps)]
    if not cfg.augment:
        args.append("--no-augment")
    args += ["--out", "/tmp/replay.npz", "--loss-log", "/tmp/replay-losses.txt"]
    return " ".join(shlex.quote(a) for a in args)


# ------------------------------------------------------------------ the run itself


def _first_conv(net: Network) -> tuple[int, str] | None:
    """(layer index, weight name) of the first conv layer, if it is the first param layer."""
    convs = net.conv_layers()
    if not convs or net.arch.param_layers()[0][0] != convs[0]:
        return None
    return convs[0], "W1"


def _exact(a: np.ndarray) -> list:
    """Every float32 as it is (m and v of Adam can be 1e-9: no rounding to fixed digits)."""
    return a.astype(np.float64).tolist()


def _inspect(net: Network, s: Step, optimizer, k: int) -> Inspect:
    state_of = {"adam": ("m", "v"), "momentum": ("v",), "adagrad": ("h",), "sgd": ()}
    name = type(optimizer).__name__.lower()
    state = {a: _exact(getattr(optimizer, a)["W1"][k]) for a in state_of.get(name, ())}
    return Inspect(
        filter=k,
        step=s.step,
        optimizer=name,
        lr=s.lr,
        W_before=_exact(s.before["W1"][k]),
        dW=_exact(s.grads["W1"][k]),
        state=state,
        W_after=_exact(net.params["W1"][k]),
    )


def eval_size(plan: Plan) -> int:
    """Held-out digits per report: about a tenth of the digits trained on between two reports
    (a forward pass over them costs ~1/30 of those steps' forward and backward passes), so
    reporting slows the run by a few percent, within EVAL_SIZE."""
    lo, hi = EVAL_SIZE
    return max(lo, min(hi, plan.request.report_every * plan.cfg.batch_size // 10))


def _finite(v: float) -> float | None:
    """JSON has no NaN or infinity: a loss that blew up is sent as null."""
    return v if math.isfinite(v) else None


def _accuracy_and_loss(net: Network, x: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Both from one forward pass."""
    logits = net.predict(x)
    return float((logits.argmax(1) == t).mean()), float(L.softmax_cross_entropy(logits, t)[0])


def start_event(plan: Plan) -> dict:
    req, cfg = plan.request, plan.cfg
    return StartEvent(
        data=DataSource(source=plan.source, dir=str(plan.data_dir)),
        config={
            "arch": req.arch,
            "init": plan.arch.init,
            **{k: getattr(cfg, k) for k in ("optimizer", "lr", "lr_schedule", "batch_size")},
            **{k: getattr(cfg, k) for k in ("augment", "weight_decay", "seed", "threads")},
            "report_every": req.report_every,
            "inspect_filter": req.inspect_filter,
        },
        limits={"total_steps": plan.total_steps, "train_size": plan.train_size},
    ).model_dump()


def run_events(
    plan: Plan, stop: threading.Event, data: Mnist | None = None, start: bool = True
) -> Iterator[dict]:
    """The run as events (JSON-ready dicts). Checks `stop` before every step. `data`: the
    MNIST set if already loaded; `start`: whether to begin with the start event."""
    req, cfg = plan.request, plan.cfg
    if start:
        yield start_event(plan)
    data = data if data is not None else load_data(plan.data_dir)
    x_train, t_train = data.train_images[: plan.train_size], data.train_labels[: plan.train_size]
    size = eval_size(plan)
    x_eval, t_eval = x_train[:size], t_train[:size]
    x_test, t_test = data.test_images[:size], data.test_labels[:size]
    probe_index = min(req.probe, len(data.test_images) - 1)
    probe = data.test_images[probe_index : probe_index + 1]
    net = Network.initial(plan.arch, seed=cfg.seed)
    conv = _first_conv(net)
    yield ReadyEvent(
        train_size=plan.train_size,
        steps_per_epoch=plan.steps_per_epoch,
        total_steps=plan.total_steps,
        eval_train=len(x_eval),
        eval_test=len(x_test),
        layer=net.arch.names()[conv[0]] if conv else None,
        probe=ProbeDigit(
            index=probe_index,
            label=int(data.test_labels[probe_index]),
            png=render_gray(probe[0, 0]),
        ),
        replay=replay_command(plan),
    ).model_dump()

    def report(step: int, losses: list[float], lr: float | None, started: float, s=None):
        filters = probe_maps = inspect = None
        sane = all(np.isfinite(v).all() for v in net.params.values())  # not after a blow-up
        if conv is not None and sane:
            index, w = conv
            W, b = net.params[w], net.params["b1"]
            filters = filter_bank(W, b)
            layer = net.arch.layers[index]
            maps = L.conv_forward(probe, W, b, layer.stride, layer.pad)[0][0]
            low, high = split_range(maps)
            probe_maps = ProbeMaps(
                range=[round(low, 5), round(high, 5)],
                maps=[render_split(m, low, high) for m in maps],
            )
        if sane and s is not None and s.before is not None and req.inspect_filter is not None:
            inspect = _inspect(net, s, optimizer, req.inspect_filter)
        test_acc, test_loss = _accuracy_and_loss(net, x_test, t_test)
        return ReportEvent(
            step=step,
            epoch=round(step / plan.steps_per_epoch, 4),
            lr=lr,
            losses=[_finite(v) for v in losses],
            loss=_finite(float(np.mean(losses))) if losses else None,
            train_acc=_accuracy_and_loss(net, x_eval, t_eval)[0],
            test_acc=test_acc,
            test_loss=_finite(test_loss),
            filters=filters,
            probe=probe_maps,
            inspect=inspect,
            seconds=round(time.perf_counter() - started, 3),
        ).model_dump()

    every = req.report_every
    optimizer = make_optimizer(cfg)
    started = time.perf_counter()
    yield report(0, [], None, started)
    steps = training_steps(
        net,
        x_train,
        t_train,
        cfg,
        optimizer,
        total_steps=plan.total_steps,
        keep_before=(lambda n: n % every == 0 or n == plan.total_steps)
        if req.inspect_filter is not None
        else None,
    )
    losses: list[float] = []
    taken, diverged = 0, None
    try:
        for s in steps:
            taken = s.step
            losses.append(s.loss)
            if not math.isfinite(s.loss):
                diverged = s.step
            if s.step % every == 0 or s.step == plan.total_steps or diverged:
                yield report(s.step, losses, s.lr, started, s)
                losses = []
            if stop.is_set() or diverged:
                break
    finally:
        steps.close()  # frees the gradient threads at once, also when stopped
    seconds = time.perf_counter() - started
    stopped = stop.is_set()
    yield DoneEvent(
        steps=taken,
        total_steps=plan.total_steps,
        stopped=stopped,
        seconds=round(seconds, 3),
        steps_per_second=round(taken / max(seconds, 1e-9), 2),
        train_acc=None if stopped else net.accuracy(x_eval, t_eval),
        test_acc=None if stopped else net.accuracy(x_test, t_test),
        diverged_at=diverged,
    ).model_dump()


# ------------------------------------------------------------------ sharing the machine


def _be_nice() -> None:
    """Lower this thread's CPU priority, so a busy machine answers requests first."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


class TrainingSlots:
    """At most `limit` live trainings in this process; a slot is held until its thread ends."""

    def __init__(self, limit: int):
        self.limit, self.running, self._lock = limit, 0, threading.Lock()
        self.finished, self.stopped, self.last = 0, 0, None

    def status(self, settings: Settings) -> TrainingStatus:
        source, path = data_source(settings)
        with self._lock:
            return TrainingStatus(
                running=self.running,
                limit=self.limit,
                finished=self.finished,
                stopped=self.stopped,
                last=self.last,
                data=DataSource(source=source, dir=str(path)),
                train_digits=_idx_count(path / FILES["train_labels"]),
                limits={
                    "max_train_steps": settings.max_train_steps,
                    "max_train_size": settings.max_train_size,
                    "max_train_batch": settings.max_train_batch,
                },
            )

    def try_acquire(self) -> bool:
        with self._lock:
            if self.running >= self.limit:
                return False
            self.running += 1
            return True

    def release(self, outcome: dict | None = None) -> None:
        """Free a slot; `outcome` (a done event) says how the run ended."""
        with self._lock:
            self.running -= 1
            if outcome is not None and outcome.get("type") == "done":
                self.last = DoneEvent(**outcome)
                if outcome["stopped"]:
                    self.stopped += 1
                else:
                    self.finished += 1


def line(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), allow_nan=False).encode() + b"\n"


class Job:
    """One run's worker: a forked process where the OS has fork (each run its own GIL, niced
    as a whole, killed at once when its client goes), else a thread that stops between steps.
    Either way `emit` gets the NDJSON lines and `release` the outcome once the work is over."""

    def __init__(self, plan: Plan, emit: Callable, release: Callable[[dict | None], None]):
        self.plan, self.emit, self.release = plan, emit, release
        self.stop, self.pid, self._lock = threading.Event(), None, threading.Lock()

    def start(self) -> None:
        target = self._in_process if hasattr(os, "fork") else self._in_thread
        threading.Thread(target=target, name="live-training", daemon=True).start()

    def cancel(self) -> None:
        """The client is gone: stop now."""
        with self._lock:
            self.stop.set()
            if self.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)

    def _send(self, raw: bytes) -> None:
        if not self.stop.is_set():
            self.emit(raw)

    def _failed(self, err: BaseException) -> None:
        log.exception("live training failed", exc_info=err)
        self._send(line(ErrorEvent(detail=f"training failed: {err}").model_dump()))

    def _in_thread(self) -> None:
        event = None
        try:
            _be_nice()
            for event in run_events(self.plan, self.stop):  # after a stop: one unsent done
                self._send(line(event))
        except Exception as err:  # the client gets the reason, the log gets the trace
            self._failed(err)
        finally:
            self.release(event)
            self.emit(None)

    def _in_process(self) -> None:
        plan, outcome, last_step, started = self.plan, None, 0, time.perf_counter()
        failed = None
        try:
            self._send(line(start_event(plan)))  # at once, before the data is read
            data = load_data(plan.data_dir)  # here, so the child never waits on a lock
            read, write = os.pipe()
            with self._lock:
                if self.stop.is_set():
                    os.close(read)
                    os.close(write)
                    return
                self.pid = os.fork()
            if self.pid == 0:  # the child: train, write the events, exit without cleanup
                code = 1
                try:
                    # keep only the pipe: no copy of the server's sockets outlives the server
                    os.closerange(3, write)
                    os.closerange(write + 1, os.sysconf("SC_OPEN_MAX"))
                    os.nice(NICE)
                    with os.fdopen(write, "wb", buffering=0) as out:
                        try:
                            for event in run_events(plan, threading.Event(), data, start=False):
                                out.write(line(event))
                            code = 0
                        except BrokenPipeError:  # the server is gone
                            pass
                        except Exception as err:  # the server logs it, the client reads it
                            detail = f"training failed: {type(err).__name__}: {err}"
                            out.write(line(ErrorEvent(detail=detail).model_dump()))
                finally:
                    os._exit(code)
            os.close(write)
            with os.fdopen(read, "rb") as events:
                for raw in events:
                    if raw.startswith(b'{"type":"report","step":'):
                        last_step = int(raw[24 : raw.index(b",", 24)])
                    elif raw.startswith(b'{"type":"done"'):
                        outcome = json.loads(raw)
                    elif raw.startswith(b'{"type":"error"'):
                        failed = json.loads(raw)["detail"]
                        log.error("live training %s", failed)
                    self._send(raw)
            os.waitpid(self.pid, 0)
            with self._lock:  # reaped: its pid may now name another process, never kill that
                self.pid = None
            if outcome is None and self.stop.is_set():
                seconds = time.perf_counter() - started
                outcome = DoneEvent(
                    steps=last_step,
                    total_steps=plan.total_steps,
                    stopped=True,
                    seconds=round(seconds, 3),
                    steps_per_second=round(last_step / max(seconds, 1e-9), 2),
                    train_acc=None,
                    test_acc=None,
                ).model_dump()
            elif outcome is None and failed is None:
                raise RuntimeError("the training process ended before its last step")
        except Exception as err:
            self._failed(err)
        finally:
            self.release(outcome)
            self.emit(None)


async def ndjson_stream(plan: Plan, release: Callable[[dict | None], None]) -> AsyncIterator[bytes]:
    """Run `plan` as a Job and yield its events as NDJSON lines. When the response stops (the
    client went away, the server shuts down) the job is cancelled, then `release` frees the
    slot."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def emit(item) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the event loop is gone: nobody is listening
            job.cancel()

    job = Job(plan, emit, release)
    try:
        job.start()
    except BaseException:
        release(None)
        raise
    try:
        while (raw := await queue.get()) is not None:
            yield raw
    finally:
        job.cancel()
