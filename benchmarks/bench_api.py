"""API speed for a drawn digit: what one explore costs inside the server, and predict end to end.

    python benchmarks/bench_api.py [--explore 200] [--predict 500]

(a) Server-side time of POST /api/explore for a 280x280 canvas PNG data URL (every map's PNG
    included), timed in process through the ASGI app (httpx.ASGITransport, no network), and
    broken down: data URL + PNG decoding, preprocessing, forward pass, PNG encoding of the maps.
(b) POST /api/predict end to end over loopback against a real uvicorn (OPENBLAS_NUM_THREADS=1),
    one httpx.Client, concurrency 1.

Targets: explore p50 <= 10 ms (a), predict p50 <= 5 ms (b). Exit status 1 if one is missed.
Only 127.0.0.1 is ever contacted; the server is stopped at the end.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy is imported

import argparse  # noqa: E402
import asyncio  # noqa: E402
import base64  # noqa: E402
import io  # noqa: E402
import platform  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.api.app import create_app  # noqa: E402
from app.explorer.digits import DIGIT_WORK_SIDE, digit_report, read_digit  # noqa: E402
from app.imaging.decode import decode_data_url, decode_to_array  # noqa: E402
from app.imaging.preprocess import PreprocessOptions  # noqa: E402
from app.model.mnist import load_split  # noqa: E402
from app.settings import Settings  # noqa: E402

EXPLORE_TARGET_MS = 10.0
PREDICT_TARGET_MS = 5.0
N_DRAWINGS = 20
SAMPLE_DIR = ROOT / "tests" / "data" / "mnist-sample"
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"


def drawn_digits(n: int) -> list[str]:
    """n real MNIST test digits drawn as on the page: black ink on a transparent 280x280
    canvas (what canvas.toDataURL() gives), scaled 5x-8x, off-centre, as PNG data URLs."""
    data_dir = MNIST_DIR if MNIST_DIR.is_dir() else SAMPLE_DIR
    images, _, _ = load_split(data_dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    rng = np.random.default_rng(0)
    urls = []
    for digit in images[:n, 0]:
        img = Image.fromarray(np.round(digit * 255).astype(np.uint8))
        img = img.crop(img.getbbox())
        f = rng.uniform(5, 8)
        img = img.resize((round(img.width * f), round(img.height * f)), Image.BICUBIC)
        img = img.filter(ImageFilter.MaxFilter(3))
        ink = np.clip((np.asarray(img, dtype=np.float32) - 96) / 64, 0, 1)
        h, w = ink.shape
        top, left = rng.integers(0, 280 - h + 1), rng.integers(0, 280 - w + 1)
        rgba = np.zeros((280, 280, 4), dtype=np.uint8)
        rgba[top : top + h, left : left + w, 3] = np.round(255 * ink).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(buf, "PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    return urls


def percentiles(ms: list[float], qs=(50, 90, 99)) -> dict[int, float]:
    return {q: float(np.percentile(ms, q)) for q in qs}


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


# ------------------------------------------------------------------ (a) in process


def bench_explore_in_process(urls: list[str], n: int) -> tuple[dict, dict]:
    settings = Settings()
    app = create_app(settings)
    model = app.state.models.default
    options = PreprocessOptions()

    async def requests() -> list[float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            times = []
            for i in range(n + 20):
                t0 = time.perf_counter()
                r = await client.post("/api/explore", json={"image": urls[i % len(urls)]})
                elapsed = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"explore failed: {r.status_code} {r.text[:200]}")
                if i >= 20:  # warm-up excluded
                    times.append(elapsed)
            return times

    whole = asyncio.run(requests())

    # the same work step by step, on the same drawings
    stages: dict[str, list[float]] = {k: [] for k in ("decode", "preprocess", "forward", "report")}
    for i in range(n):
        url = urls[i % len(urls)]
        t0 = time.perf_counter()
        data = decode_data_url(url, settings.max_body_bytes)
        gray = decode_to_array(data, settings.max_image_pixels, DIGIT_WORK_SIDE, "gray")
        t1 = time.perf_counter()
        pre = read_digit(gray, None, options)
        t2 = time.perf_counter()
        model.net.trace(pre.digit[None, None])
        t3 = time.perf_counter()
        report = digit_report(model, pre, explore=True, values=False)  # forward + every PNG
        t4 = time.perf_counter()
        for key, a, b in (("decode", t0, t1), ("preprocess", t1, t2), ("forward", t2, t3),
                          ("report", t3, t4)):  # fmt: skip
            stages[key].append((b - a) * 1000)
    pngs = _count_pngs(report)
    p50 = {k: float(np.median(v)) for k, v in stages.items()}
    steps = p50["decode"] + p50["preprocess"] + p50["report"]
    parts = {
        "data URL + PNG decode": p50["decode"],
        "preprocess (to gray, invert, crop, scale, centre)": p50["preprocess"],
        "forward pass (net.trace)": p50["forward"],
        f"encoding {pngs} PNGs + rounding the numbers": max(p50["report"] - p50["forward"], 0.0),
        "sum of the steps": steps,
        "rest: parsing, response validation, JSON, ASGI": max(float(np.median(whole)) - steps, 0),
    }
    return percentiles(whole), parts


def _count_pngs(obj) -> int:
    if isinstance(obj, str):
        return int(obj.startswith("data:image/png;base64,"))
    if isinstance(obj, dict):
        return sum(_count_pngs(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(_count_pngs(v) for v in obj)
    return 0


# ------------------------------------------------------------------ (b) over loopback


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("uvicorn did not start")


def bench_over_loopback(urls: list[str], n_predict: int, n_explore: int) -> dict[str, dict]:
    proc, base = start_server()
    try:
        with httpx.Client(base_url=base, timeout=30) as client:

            def run(path: str, n: int) -> dict:
                times = []
                for i in range(n + 30):
                    t0 = time.perf_counter()
                    r = client.post(path, json={"image": urls[i % len(urls)]})
                    elapsed = (time.perf_counter() - t0) * 1000
                    if r.status_code != 200:
                        raise SystemExit(f"{path} failed: {r.status_code} {r.text[:200]}")
                    if i >= 30:
                        times.append(elapsed)
                return percentiles(times)

            return {
                "predict": run("/api/predict", n_predict),
                "explore": run("/api/explore", n_explore),
            }
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--explore", type=int, default=200, help="in-process explore calls")
    parser.add_argument("--predict", type=int, default=500, help="predict requests over loopback")
    args = parser.parse_args()

    urls = drawn_digits(N_DRAWINGS)
    kb = np.mean([len(u) for u in urls]) / 1024
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")  # fmt: skip
    print(
        f"input: {N_DRAWINGS} MNIST test digits drawn on a 280x280 RGBA canvas, "
        f"PNG data URLs of {kb:.1f} KB on average"
    )

    whole, parts = bench_explore_in_process(urls, args.explore)
    print(f"\n(a) POST /api/explore in process (ASGI, no network), {args.explore} calls")
    print(f"    whole request  p50 {whole[50]:6.2f} ms   p90 {whole[90]:6.2f} ms   "
          f"p99 {whole[99]:6.2f} ms")  # fmt: skip
    print("    breakdown (p50 of each step, called directly):")
    for name, ms in parts.items():
        print(f"      {name:<52} {ms:6.2f} ms")
    explore_ok = whole[50] <= EXPLORE_TARGET_MS

    loop = bench_over_loopback(urls, args.predict, args.explore)
    pred, expl = loop["predict"], loop["explore"]
    print("\n(b) over loopback, real uvicorn, 1 httpx.Client, concurrency 1")
    print(f"    POST /api/predict  {args.predict} requests  p50 {pred[50]:6.2f} ms   "
          f"p90 {pred[90]:6.2f} ms   p99 {pred[99]:6.2f} ms")  # fmt: skip
    print(f"    POST /api/explore  {args.explore} requests  p50 {expl[50]:6.2f} ms   "
          f"p90 {expl[90]:6.2f} ms   p99 {expl[99]:6.2f} ms   (for reference)")  # fmt: skip
    predict_ok = pred[50] <= PREDICT_TARGET_MS

    print()
    print(
        f"explore server-side p50 {whole[50]:.2f} ms <= {EXPLORE_TARGET_MS:g} ms: "
        f"{verdict(explore_ok)}"
    )
    print(
        f"predict end-to-end  p50 {pred[50]:.2f} ms <= {PREDICT_TARGET_MS:g} ms: "
        f"{verdict(predict_ok)}"
    )
    return 0 if explore_ok and predict_ok else 1


if __name__ == "__main__":
    sys.exit(main())
