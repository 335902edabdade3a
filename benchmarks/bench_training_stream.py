"""Live training's cost: steps per second in the stream against the CLI's loop, and what two
streaming trainings do to /api/predict latency.

    python benchmarks/bench_training_stream.py [--steps 200] [--report-every 20] [--predicts 300]
                                               [--repeats 2] [--rounds 3] [--sample]

(a) Steps/s of the same run (zoo `simple`, batch 100, one gradient thread, the full MNIST set
    when ../shared/data/mnist exists, else the shipped sample) two ways: the loop
    `conv-explorer train` runs (app.model.train.training_steps, in this process), and
    POST /api/train against a real uvicorn, timed by the server from its first step to the done
    event (every report's evaluation, filters and PNGs included) and by the client from the
    request to the last byte. The runs alternate, `--repeats` times each; the best of each is
    compared. Aim: stream >= 0.9x the CLI loop.
(b) POST /api/predict over loopback, concurrency 1, p50 and p95: idle, then while two trainings
    stream (their events read and dropped by two threads). Issue 12's bound: p95 <= 2x idle.

Ratios are the result: this machine's cores are shared with other work, so absolute times move.
Only 127.0.0.1 is contacted; the server is stopped at the end.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from app.explorer.training_results import TrainRequest  # noqa: E402
from app.explorer.training_stream import load_data, plan_training  # noqa: E402
from app.model.network import Network  # noqa: E402
from app.model.train import make_optimizer, training_steps  # noqa: E402
from app.settings import Settings  # noqa: E402

NO_DATA = "/nonexistent/mnist"


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    url, deadline = f"http://127.0.0.1:{port}", time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=1)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise SystemExit("uvicorn did not start") from None
            time.sleep(0.1)


def cli_loop(body: dict, settings: Settings) -> float:
    """Steps per second of the loop `conv-explorer train` runs, for the stream's exact plan."""
    plan = plan_training(TrainRequest(**body), settings)
    data = load_data(plan.data_dir)
    x, t = data.train_images[: plan.train_size], data.train_labels[: plan.train_size]
    net = Network.initial(plan.arch, seed=plan.cfg.seed)
    start = time.perf_counter()
    for _ in training_steps(net, x, t, plan.cfg, make_optimizer(plan.cfg), plan.total_steps):
        pass
    return plan.total_steps / (time.perf_counter() - start)


FIRST_EVENT: list[float] = []  # seconds from the request to the first event, every run


def stream_run(url: str, body: dict) -> tuple[float, float]:
    """(server-timed steps/s from the first step to done, client-timed from request to end)."""
    start = time.perf_counter()
    with httpx.stream("POST", url + "/api/train", json=body, timeout=600) as r:
        r.raise_for_status()
        events = []
        for line in r.iter_lines():
            if not events:
                FIRST_EVENT.append(time.perf_counter() - start)
            events.append(json.loads(line))
    wall = time.perf_counter() - start
    done = events[-1]
    assert done["type"] == "done" and not done["stopped"], done
    return done["steps_per_second"], done["steps"] / wall


def predict_latencies(url: str, n: int, pixels: list) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=60) as c:
        for _ in range(5):
            c.post("/api/predict", json={"pixels": pixels}).raise_for_status()
        for _ in range(n):
            t0 = time.perf_counter()
            c.post("/api/predict", json={"pixels": pixels}).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    return times


def predict_while_training(url: str, body: dict, n: int, pixels: list) -> list[float]:
    """Start two streaming trainings, time n predicts, close both streams (which stops them)."""
    stop = threading.Event()

    def train_in_background():
        with httpx.stream("POST", url + "/api/train", json=body, timeout=600) as r:
            for _ in r.iter_lines():
                if stop.is_set():
                    return  # closing the stream stops the training

    threads = [threading.Thread(target=train_in_background) for _ in range(2)]
    for th in threads:
        th.start()
    while httpx.get(url + "/api/train/status").json()["running"] < 2:
        time.sleep(0.05)
    time.sleep(1.0)  # both past their data loading and first report
    try:
        return predict_latencies(url, n, pixels)
    finally:
        stop.set()
        for th in threads:
            th.join()
        while httpx.get(url + "/api/train/status").json()["running"]:
            time.sleep(0.05)


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--report-every", type=int, default=20)
    ap.add_argument("--predicts", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--sample", action="store_true", help="train on the shipped sample")
    ap.add_argument("--only-predict", action="store_true", help="skip (a)")
    ap.add_argument("--rounds", type=int, default=3, help="(b): idle/busy alternations")
    ap.add_argument("--busy-report-every", type=int, default=20, help="(b)'s trainings")
    args = ap.parse_args()
    threadpool_limits(1)

    env = {"OPENBLAS_NUM_THREADS": "1"}
    if args.sample:
        env["CONV_EXPLORER_DATA_DIR"] = NO_DATA
    settings = Settings.from_env({**os.environ, **env})
    body = {"arch": "simple", "batch_size": 100, "steps": args.steps,
            "report_every": args.report_every, "seed": 0}  # fmt: skip
    if args.sample:
        body["train_size"] = 1000
    proc, url = start_server(env)
    try:
        source = httpx.get(url + "/api/train/status").json()["data"]["source"]
        print(f"(a) {args.steps} steps of `simple`, batch 100, 1 thread, report every "
              f"{args.report_every}, data: {source}")  # fmt: skip
        stream_run(url, {**body, "steps": 2 * args.report_every})  # warm-up: data loaded
        cli, server, client = [], [], []
        for _ in range(0 if args.only_predict else args.repeats):
            cli.append(cli_loop(body, settings))
            s, c = stream_run(url, body)
            server.append(s)
            client.append(c)
        best_cli = max(cli, default=float("nan"))
        print(
            f"    CLI loop                 {best_cli:7.1f} steps/s  (runs: "
            f"{', '.join(f'{v:.1f}' for v in cli)})"
        )
        print(
            f"    stream, server-timed     {max(server, default=float('nan')):7.1f} steps/s  "
            f"= {max(server, default=float('nan')) / best_cli:.2f}x the CLI  (runs: "
            f"{', '.join(f'{v:.1f}' for v in server)})"
        )
        print(
            f"    stream, client-timed     {max(client, default=float('nan')):7.1f} steps/s  "
            f"= {max(client, default=float('nan')) / best_cli:.2f}x the CLI (request to last byte)"
        )

        if FIRST_EVENT:
            print(
                f"    first event after {max(FIRST_EVENT) * 1000:.0f} ms at most "
                f"({len(FIRST_EVENT)} runs, the first reads the data; issue 12: <= 1 s)"
            )

        from app.model.mnist import load_mnist

        digit = load_mnist(ROOT / "tests" / "data" / "mnist-sample").test_images[0, 0]
        pixels = np.round(digit, 3).tolist()
        long = {**body, "steps": 6000, "report_every": args.busy_report_every}
        idle, busy = [], []
        per_round = max(1, args.predicts // args.rounds)
        for _ in range(args.rounds):  # idle and busy interleaved: the machine's drift cancels
            idle += predict_latencies(url, per_round, pixels)
            busy += predict_while_training(url, long, per_round, pixels)
        print(f"(b) /api/predict, {len(idle)} requests each way, concurrency 1, "
              f"{args.rounds} rounds of idle then two trainings streaming")  # fmt: skip
        print(f"    idle                     p50 {p(idle, 50):6.2f} ms   p95 {p(idle, 95):6.2f} ms")
        print(f"    two trainings streaming  p50 {p(busy, 50):6.2f} ms   p95 {p(busy, 95):6.2f} ms")
        print(
            f"    p95 ratio {p(busy, 95) / p(idle, 95):.2f}x idle (bound 2x), "
            f"p50 ratio {statistics.median(busy) / statistics.median(idle):.2f}x"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
