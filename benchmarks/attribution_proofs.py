"""The proof numbers of every attribution method over many test digits, for one model.

    python benchmarks/attribution_proofs.py [--model simple-he] [--digits 100] [--data-dir DIR]

For the first N MNIST test digits (the full set from --data-dir when it is there, else the
shipped sample), each explained for its predicted class with the API's defaults (attribute()
exactly as POST /api/attribute runs it), per method:
  - Integrated Gradients' completeness error: median and max;
  - deletion area (mean probability over the first 100 erased pixels; lower is better) and the
    random order's, means over the digits, and on how many digits the map's is lower;
  - insertion area likewise (higher is better);
  - Spearman's rho between |map| and the untrained network's |map|: median and quartiles.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.explorer.attribution import AttributionOptions, attribute  # noqa: E402
from app.explorer.models import load_one  # noqa: E402
from app.model.mnist import FILES, load_split  # noqa: E402

METHODS = {
    "gradient": AttributionOptions("gradient"),
    "gradient x input": AttributionOptions("gradient_x_input"),
    "SmoothGrad": AttributionOptions("smoothgrad"),
    "IG black": AttributionOptions("integrated_gradients"),
    "IG mean digit": AttributionOptions("integrated_gradients", baseline="mean"),
    "occlusion erase": AttributionOptions("occlusion"),
    "occlusion add": AttributionOptions("occlusion", ink="add"),
    "Grad-CAM": AttributionOptions("grad_cam"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="simple-he")
    parser.add_argument("--digits", type=int, default=100)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    args = parser.parse_args()
    threadpool_limits(1)
    data_dir = args.data_dir if args.data_dir.is_dir() else ROOT / "tests" / "data" / "mnist-sample"
    images, _, _ = load_split(data_dir, FILES["test_images"], FILES["test_labels"])
    digits = images[: args.digits, 0]
    model = load_one(ROOT / "models" / f"{args.model}.npz")
    untrained = load_one(ROOT / "models" / "untrained.npz")
    print(f"model {model.id}, the first {len(digits)} test digits of {data_dir}, predicted class")
    print(f"{'method / stage':34s} {'deletion':>8s} {'random':>7s} {'lower':>6s} "
          f"{'insertion':>9s} {'random':>7s} {'higher':>7s} {'rho median [q1, q3]':>21s} "
          f"{'IG error median / max':>22s}")  # fmt: skip
    for name, options in METHODS.items():
        rows: dict[str, list] = {}
        for digit in digits:
            for m in attribute(model, digit, options, untrained).maps:
                rows.setdefault(m.title if name == "Grad-CAM" else name, []).append(m)
        for title, maps in rows.items():
            d = np.array([[m.deletion.area, m.deletion.random_area] for m in maps])
            i = np.array([[m.insertion.area, m.insertion.random_area] for m in maps])
            rho = np.array([np.nan if m.sanity is None or m.sanity.spearman is None
                            else m.sanity.spearman for m in maps])  # fmt: skip
            q1, med, q3 = [np.nan] * 3
            if np.isfinite(rho).any():
                q1, med, q3 = np.nanpercentile(rho, [25, 50, 75])
            ig = ""
            if maps[0].completeness is not None:
                e = np.array([m.completeness.error for m in maps]) * 100
                ig = f"{np.median(e):.3f} % / {e.max():.3f} %"
            lower, higher = (d[:, 0] < d[:, 1]).mean(), (i[:, 0] > i[:, 1]).mean()
            print(f"{title:34s} {d[:, 0].mean():8.3f} {d[:, 1].mean():7.3f} {lower:6.0%} "
                  f"{i[:, 0].mean():9.3f} {i[:, 1].mean():7.3f} {higher:7.0%} "
                  f"{med:8.2f} [{q1:5.2f}, {q3:5.2f}] {ig:>22s}")  # fmt: skip


if __name__ == "__main__":
    main()
