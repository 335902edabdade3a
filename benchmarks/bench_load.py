"""Load test over loopback: `uvicorn --workers 2`, a bounded number of requests at a fixed
concurrency, printing throughput, latency percentiles, errors and the server's memory.

    python benchmarks/bench_load.py [--requests 2000] [--concurrency 32]

Targets: 0 errors, and memory flat between the first and the last thousand requests.
The request mix is what the page sends: drawn digits to /api/explore and /api/predict, and a
small photo to /api/convolve. Only 127.0.0.1 is ever contacted; the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]


def drawn_digit(seed: int) -> str:
    """A '7'-ish stroke on a white 280x280 canvas, jittered, as a PNG data URL."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (280, 280), "white")
    dx, dy = rng.integers(-40, 40, 2)
    pts = [(70 + dx, 60 + dy), (200 + dx, 60 + dy), (120 + dx, 230 + dy)]
    ImageDraw.Draw(img).line(pts, fill="black", width=int(rng.integers(14, 26)), joint="curve")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def photo_png() -> bytes:
    yy, xx = np.mgrid[0:160, 0:200]
    arr = ((np.sin(xx / 9) + np.cos(yy / 13)) * 60 + 128).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def start_server(workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


async def run_load(url: str, total: int, concurrency: int) -> list:
    digits = [drawn_digit(i) for i in range(16)]
    photo = photo_png()
    results: list = [None] * total
    counter = iter(range(total))

    async def one(client: httpx.AsyncClient, i: int):
        kind = i % 4
        start = time.perf_counter()
        try:
            if kind == 3:
                files = {"file": ("photo.png", photo, "image/png")}
                r = await client.post("/api/convolve?kernels=learned,sobel_x", files=files)
            else:
                path = "/api/explore" if kind == 0 else "/api/predict"
                r = await client.post(path, json={"image": digits[i % len(digits)]})
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        results[i] = (time.perf_counter() - start, ok)

    async def worker(client):
        for i in counter:
            await one(client, i)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    proc, url = start_server(args.workers)
    samples, half = [], args.requests // 2
    marks: dict[str, float] = {}
    stop = threading.Event()

    def sample_memory():
        while not stop.is_set():
            samples.append(tree_rss_mb(proc.pid))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    try:
        marks["start"] = tree_rss_mb(proc.pid)
        t0 = time.perf_counter()
        first = asyncio.run(run_load(url, half, args.concurrency))
        marks["after first half"] = tree_rss_mb(proc.pid)
        second = asyncio.run(run_load(url, args.requests - half, args.concurrency))
        marks["after second half"] = tree_rss_mb(proc.pid)
        elapsed = time.perf_counter() - t0
    finally:
        stop.set()
        sampler.join()
        proc.terminate()
        proc.wait(timeout=10)

    results = first + second
    latencies = sorted(r[0] * 1000 for r in results)
    errors = sum(1 for r in results if not r[1])
    q = statistics.quantiles(latencies, n=100)
    growth = marks["after second half"] - marks["after first half"]
    print(f"requests {len(results)}  concurrency {args.concurrency}  workers {args.workers}")
    print(f"throughput   {len(results) / elapsed:8.1f} req/s  ({elapsed:.1f} s)")
    print(f"latency p50  {q[49]:8.1f} ms   p99 {q[98]:8.1f} ms   max {latencies[-1]:.1f} ms")
    print(f"errors       {errors}")
    print(f"server RSS   start {marks['start']:.0f} MB, after first {half}: "
          f"{marks['after first half']:.0f} MB, after all: {marks['after second half']:.0f} MB, "
          f"peak {max(samples):.0f} MB")  # fmt: skip
    flat = growth <= max(20.0, 0.05 * marks["after first half"])
    print(f"errors == 0: {'PASS' if errors == 0 else 'FAIL'}   "
          f"memory flat (growth {growth:+.0f} MB over the second half): "
          f"{'PASS' if flat else 'FAIL'}")  # fmt: skip


if __name__ == "__main__":
    main()
