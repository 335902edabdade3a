"""Imaging speed, each figure against a baseline timed in the same process on the same data.

    python benchmarks/bench_render.py [--samples 200]

(a) The 91 maps of one exploration (30 conv 24x24 on the diverging map, 30 ReLU 24x24 and
    30 pool 12x12 on viridis, the 10x10 hidden layer) as PNG data URLs: ours (render_signed /
    render_sequential: quantize, colour table, our PNG writer, base64) against the same colour
    arrays encoded by Pillow's PNG encoder at compress_level=1, then base64.
(b) The PNG writer alone on those 91 colour arrays: png_bytes against Pillow's encoder.
(c) MNIST-style preprocessing of a 280x280 canvas (polarity, crop, scale, centre of mass)
    against a plain Pillow resize of the same canvas to 28x28 (no preprocessing at all).
(d) Refusing a PNG whose header claims 30000x30000 pixels against opening an 8x8 PNG: the
    refusal reads the header only, so it should cost about the same.

These timings used to be test asserts (tests/imaging: < 10 ms for (a), < 2 ms for (c), < 0.5 s
for (d)); a loaded machine made them flaky, so they are reported here as ratios instead.
Each sample is the mean of a block of calls; ours and the baseline alternate block by block.
"""

from __future__ import annotations

import argparse
import base64
import io
import platform
import statistics
import struct
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.imaging.decode import open_image  # noqa: E402
from app.imaging.errors import ImageInputError  # noqa: E402
from app.imaging.preprocess import preprocess_digit  # noqa: E402
from app.imaging.render import (  # noqa: E402
    PUOR,
    VIRIDIS,
    png_bytes,
    render_sequential,
    render_signed,
)


def exploration_maps(rng: np.random.Generator) -> list[tuple[str, np.ndarray, float]]:
    """(colour map, values, limit) for the 91 maps one /api/explore renders."""
    conv = rng.normal(size=(30, 24, 24)).astype(np.float32)
    pool = rng.random((30, 12, 12), dtype=np.float32)
    hidden = rng.random((10, 10), dtype=np.float32)
    return (
        [("puor", m, 3.0) for m in conv]
        + [("viridis", m, 3.0) for m in np.maximum(conv, 0)]
        + [("viridis", m, 1.0) for m in pool]
        + [("viridis", hidden, 1.0)]
    )


def colours(kind: str, values: np.ndarray, limit: float) -> np.ndarray:
    """The (H, W, 3) uint8 picture our renderers encode, computed here for the baseline."""
    if kind == "puor":
        return PUOR[(np.clip(np.rint(values * (127 / limit)), -127, 127) + 127).astype(np.uint8)]
    return VIRIDIS[np.clip(np.rint(values * (255 / limit)), 0, 255).astype(np.uint8)]


def pillow_png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def with_size(png: bytes, width: int, height: int) -> bytes:
    """The same PNG with its header claiming another size (CRC recomputed): a bomb's header."""
    ihdr = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return png[:16] + ihdr + crc + png[33:]


def compare(ours: Callable[[], object], base: Callable[[], object], samples: int, block: int):
    """Per-call seconds of each, block means, alternating; returns (ours, baseline) lists."""
    for fn in (ours, base):  # warm-up
        for _ in range(block):
            fn()
    times: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(samples):
        for i, fn in enumerate((ours, base)):
            started = time.perf_counter()
            for _ in range(block):
                fn()
            times[i].append((time.perf_counter() - started) / block)
    return times[0], times[1]


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(xs, n=4)
    return q[0], statistics.median(xs), q[2]


def report(name: str, unit: str, scale: float, ours: list[float], base: list[float], what: str):
    (o25, o50, o75), (b25, b50, b75) = quartiles(ours), quartiles(base)
    print(f"{name}")
    print(f"  ours      {o50 * scale:9.3f} {unit}  (p25..p75 {o25 * scale:.3f}..{o75 * scale:.3f})")
    print(f"  {what:<9} {b50 * scale:9.3f} {unit}  (p25..p75 {b25 * scale:.3f}..{b75 * scale:.3f})")
    print(f"  ours / baseline = {o50 / b50:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200, help="samples of each (default 200)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, "
          f"Pillow {Image.__version__}, {platform.machine()}")  # fmt: skip
    rng = np.random.default_rng(3)

    # (a) and (b): the maps of one exploration
    maps = exploration_maps(rng)
    pictures = [colours(*m) for m in maps]
    for (kind, values, limit), rgb in zip(maps, pictures, strict=True):
        render = render_signed if kind == "puor" else render_sequential
        ours_png = base64.b64decode(render(values, limit).split(",", 1)[1])
        same = np.asarray(Image.open(io.BytesIO(ours_png)).convert("RGB"))
        assert np.array_equal(same, rgb), "our PNG is not the baseline's picture"

    def ours_render():
        for kind, values, limit in maps:
            (render_signed if kind == "puor" else render_sequential)(values, limit)

    def pillow_render():
        for m in maps:
            base64.b64encode(pillow_png(colours(*m))).decode("ascii")

    ours, base = compare(ours_render, pillow_render, args.samples, 1)
    report("(a) 91 maps of one exploration to PNG data URLs, ms per exploration", "ms", 1e3,
           ours, base, "Pillow")  # fmt: skip

    ours, base = compare(
        lambda: [png_bytes(p) for p in pictures],
        lambda: [pillow_png(p) for p in pictures],
        args.samples,
        1,
    )
    report("(b) the PNG writer alone on those 91 pictures, ms", "ms", 1e3, ours, base, "Pillow")

    # (c) preprocessing a drawn canvas
    canvas = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(canvas).line([(60, 50), (210, 50), (110, 240)], fill=0, width=22)
    gray = np.asarray(canvas, dtype=np.float32) / 255
    ours, base = compare(
        lambda: preprocess_digit(gray),
        lambda: np.asarray(Image.fromarray(gray, "F").resize((28, 28), Image.Resampling.BOX)),
        args.samples,
        10,
    )
    report("(c) a 280x280 canvas to the 28x28 input, ms", "ms", 1e3, ours, base, "resize")

    # (d) a bomb's header against a real small picture
    small = io.BytesIO()
    Image.new("L", (8, 8), 255).save(small, "PNG")
    bomb = with_size(small.getvalue(), 30000, 30000)

    def refuse():
        try:
            open_image(bomb, 16_000_000)
        except ImageInputError as err:
            assert err.status_code == 413
        else:
            raise AssertionError("the bomb was not refused")

    ours, base = compare(refuse, lambda: open_image(small.getvalue(), 16_000_000), args.samples, 10)
    report("(d) refusing a 30000x30000 header, us", "us", 1e6, ours, base, "8x8 PNG")


if __name__ == "__main__":
    main()
