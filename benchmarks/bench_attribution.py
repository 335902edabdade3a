"""Attribution speed: every method at batch 1, and how IG steps and occlusion windows scale.

    python benchmarks/bench_attribution.py [--model simple-he] [--repeats 15]

Every time is the median of `repeats` runs on one MNIST test digit (the first, a 7), BLAS held
to one thread as in the server. Baselines, timed in the same process:
  - forward: one inference pass of the digit (net.predict, batch 1);
  - gradient: one forward + backward pass (the plain gradient map, batch 1).
(a) each method's map alone, in ms and as a multiple of the forward pass;
(b) the whole answer of POST /api/attribute (map + deletion/insertion curves + the untrained
    network's map and Spearman), without HTTP and PNG decode;
(c) Integrated Gradients against the number of steps, batched (one pass of `steps` images, in
    chunks of 128) and, for comparison, as a loop of batch-1 passes;
(d) occlusion against the number of windows, batched and looped likewise.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.explorer import attribution_methods as M  # noqa: E402
from app.explorer.attribution import AttributionOptions, attribute  # noqa: E402
from app.explorer.mean_digit import load_mean_digit  # noqa: E402
from app.explorer.models import load_one  # noqa: E402
from app.model.mnist import load_mnist  # noqa: E402


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def looped_ig(net, x, target, baseline, steps):
    """Integrated Gradients as a loop of batch-1 passes (what batching replaces)."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    total = np.zeros_like(x, np.float64)
    for a, w in zip((nodes + 1) / 2, weights / 2, strict=True):
        point = (baseline + np.float32(a) * (x - baseline))[None]
        total += w * M.target_gradients(net, point, target)[1][0]
    return total * (x - baseline)


def looped_occlusion(net, x, target, patch, stride):
    _, h, w = x.shape
    base = net.predict(x[None])[0, target]
    for r in M.window_starts(h, patch, stride):
        for c in M.window_starts(w, patch, stride):
            y = x.copy()
            y[:, r : r + patch, c : c + patch] = 0
            base - net.predict(y[None])[0, target]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="simple-he")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    threadpool_limits(1)
    model = load_one(ROOT / "models" / f"{args.model}.npz")
    untrained = load_one(ROOT / "models" / "untrained.npz")
    net, r = model.net, args.repeats
    x = load_mnist(ROOT / "tests" / "data" / "mnist-sample").test_images[0]
    target = 7
    black, mean = np.zeros_like(x), load_mean_digit()[None]
    print(f"model {model.id} ({net.arch.summary()}); {platform.processor() or platform.machine()}")
    print(f"median of {r} runs, one BLAS thread\n")

    forward = median_ms(lambda: net.predict(x[None]), max(r, 100))  # cheap: many runs
    gradient = median_ms(lambda: M.gradient(net, x, target), max(r, 100))
    print(f"baseline forward, batch 1:             {forward:8.3f} ms")
    print(f"baseline forward + backward, batch 1:  {gradient:8.3f} ms\n")

    maps = {
        "gradient": lambda: M.gradient(net, x, target),
        "gradient x input": lambda: M.gradient_x_input(net, x, target),
        "SmoothGrad, 32 samples": lambda: M.smoothgrad(net, x, target, 32, 0.15, 0),
        "IG black, 64 steps": lambda: M.integrated_gradients(net, x, target, black, 64),
        "IG mean digit, 64 steps": lambda: M.integrated_gradients(net, x, target, mean, 64),
        "occlusion 4x4 stride 2 (169 windows)": lambda: M.occlusion(net, x, target, 4, 2, "erase"),
        "Grad-CAM, every stage": lambda: M.grad_cam(net, x, target),
    }
    answers = {
        "gradient": AttributionOptions("gradient"),
        "gradient x input": AttributionOptions("gradient_x_input"),
        "SmoothGrad, 32 samples": AttributionOptions("smoothgrad"),
        "IG black, 64 steps": AttributionOptions("integrated_gradients"),
        "IG mean digit, 64 steps": AttributionOptions("integrated_gradients", baseline="mean"),
        "occlusion 4x4 stride 2 (169 windows)": AttributionOptions("occlusion"),
        "Grad-CAM, every stage": AttributionOptions("grad_cam"),
    }
    print("(a) the map alone and (b) the whole answer (map, curves, untrained map, Spearman)")
    print(f"{'method':40s} {'map ms':>9s} {'x forward':>10s} {'answer ms':>10s} {'x forward':>10s}")
    for name, fn in maps.items():
        t = median_ms(fn, r)
        options = answers[name]
        a = median_ms(lambda o=options: attribute(model, x[0], o, untrained), max(5, r // 3))
        print(f"{name:40s} {t:9.2f} {t / forward:10.1f} {a:10.2f} {a / forward:10.1f}")

    print("\n(c) Integrated Gradients (black baseline) against the steps")
    print(f"{'steps':>6s} {'batched ms':>11s} {'per step':>9s} {'x forward':>10s} "
          f"{'looped ms':>10s} {'looped/batched':>15s}")  # fmt: skip
    for steps in (8, 16, 32, 64, 128, 256, 512):
        t = median_ms(lambda s=steps: M.integrated_gradients(net, x, target, black, s), r)
        looped = ""
        if steps in (16, 64, 256):
            lt = median_ms(lambda s=steps: looped_ig(net, x, target, black, s), max(3, r // 5))
            looped = f"{lt:10.2f} {lt / t:15.1f}"
        print(f"{steps:6d} {t:11.2f} {t / steps:9.3f} {t / forward:10.1f} {looped}")

    print("\n(d) occlusion (erase) against the windows")
    print(f"{'patch/stride':>12s} {'windows':>8s} {'batched ms':>11s} {'per window':>11s} "
          f"{'looped ms':>10s} {'looped/batched':>15s}")  # fmt: skip
    for patch, stride in ((7, 7), (4, 4), (4, 2), (2, 2), (2, 1), (1, 1)):
        n = M.occlusion_windows((28, 28), patch, stride)
        t = median_ms(lambda p=patch, s=stride: M.occlusion(net, x, target, p, s, "erase"), r)
        lt = median_ms(lambda p=patch, s=stride: looped_occlusion(net, x, target, p, s), 3)
        print(f"{patch:>6d}/{stride:<5d} {n:8d} {t:11.2f} {t / n:11.3f} {lt:10.2f} {lt / t:15.1f}")


if __name__ == "__main__":
    main()
