"""How often the "this does not look like a digit" warning fires, on digits and on non-digits.

    .venv/bin/python benchmarks/measure_novelty.py                        # the default model
    .venv/bin/python benchmarks/measure_novelty.py --model models/mlp.npz
    .venv/bin/python benchmarks/measure_novelty.py --all                  # every models/*.npz

For one model: the calibration from its metadata ("novelty") when present, else fitted here on
the 60 000 training digits (app.novelty.calibrate). Then the share flagged of

- the 10 000 MNIST test digits (aim: at most 2 %),
- 300 test digits drawn as a person draws on the page's canvas (tests/api/test_drawn_digits.py),
  sent through the API's preprocessing,
- the non-digits of benchmarks/nondigits.py, overall and per family (aim: at least 80 %),
  counting a warning from the network's-view and ink checks, the tiny-mark rule, or the
  picture refused as blank,
- the digit-like controls (a vertical stroke, a ring, letters O I S Z B G), which a reader
  would call digits: reported apart, never counted as non-digits.

When it calibrated, it also prints the same shares for other training flag rates: the price
of each point of non-digits caught, in digits flagged by mistake.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import novelty  # noqa: E402
from app.model.mnist import load_mnist  # noqa: E402
from app.model.storage import ModelFileError, load_model  # noqa: E402
from app.model.zoo import DEFAULT_MODEL_ID  # noqa: E402
from benchmarks.nondigits import FAMILIES, digit_like, nondigits, preprocess  # noqa: E402

DRAWN = 300
DRAWN_SEED = 2024  # the drawn-digit test's seed: the same 300 drawings
RATES = (0.01, 0.015, 0.02, 0.03)


def drawn_digits(images: np.ndarray, n: int = DRAWN, seed: int = DRAWN_SEED) -> list:
    """n test digits drawn on a 280x280 canvas by the drawn-digit test's recipe, as canvases."""
    from tests.api.test_drawn_digits import draw_like_a_person

    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), n, replace=False)
    out = []
    for i in picks:
        png, how = draw_like_a_person(images[i, 0], rng)
        out.append((f"test digit {i} {how}", Image.open(io.BytesIO(png))))
    return out


def through_preprocessing(items: list) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """(names, digits (N, 1, 28, 28), tiny-mark warned (N,), refused as blank (N,))."""
    names, digits, tiny, blank = [], [], [], []
    for name, image in items:
        pre = preprocess(image)
        names.append(name)
        blank.append(pre is None)
        tiny.append(pre is not None and bool(novelty.tiny_mark_warnings(pre)))
        digits.append(np.zeros((28, 28), np.float32) if pre is None else pre.digit)
    return names, np.stack(digits)[:, None], np.array(tiny), np.array(blank)


def share(flags: np.ndarray) -> str:
    return f"{flags.mean():6.1%}  ({int(flags.sum())}/{flags.size})"


def measure(model_path: Path, data_dir: Path, recalibrate: bool, train_size: int) -> dict:
    net, meta = load_model(model_path)
    mnist = load_mnist(data_dir)
    if train_size < len(mnist.train_labels):  # a seeded subset, for slow models
        keep = np.sort(np.random.default_rng(0).permutation(len(mnist.train_labels))[:train_size])
        mnist = mnist._replace(
            train_images=mnist.train_images[keep], train_labels=mnist.train_labels[keep]
        )
    print(f"== {model_path}  ({meta.get('title', meta.get('id', model_path.stem))})")
    fitted = None
    if "novelty" in meta and not recalibrate:
        calibration = meta["novelty"]
        print("calibration: from the model's metadata")
    else:
        start = time.perf_counter()
        fitted = novelty.fit(net, mnist.train_images, mnist.train_labels)
        calibration = novelty.set_threshold(*fitted, novelty.FLAG_RATE)
        took = time.perf_counter() - start
        print(f"calibration: fitted on {len(mnist.train_labels)} training digits in {took:.1f} s")
    text = json.dumps(calibration)
    numbers = sum(
        len(c["mean"]) + sum(map(len, c["axes"])) + len(c["variances"]) + 1
        for c in calibration["classes"]
    )
    print(
        f"  {calibration['features']} features, {numbers} numbers stored, {len(text) / 1024:.0f} KB"
        f" of JSON; threshold {calibration['threshold']}, ink {calibration['ink']}; "
        f"flags {calibration['held_out_flagged']:.2%} of {calibration['held_out']} held-out "
        "training digits"
    )

    sets = {}
    sets["test digits"] = (mnist.test_images, np.zeros(len(mnist.test_images), bool))
    for label, items in (
        ("drawn digits", drawn_digits(mnist.test_images)),
        ("non-digits", nondigits()),
        ("digit-like", digit_like()),
    ):
        names, x, tiny, blank = through_preprocessing(items)
        sets[label] = (x, tiny | blank, names, tiny, blank)

    results = {"model": str(model_path), "held_out_flagged": calibration["held_out_flagged"]}
    scored = {k: novelty.score(net, v[0], calibration) for k, v in sets.items()}

    def flagged_at(cal: dict) -> dict:
        """Each set's flags under cal: the checks, the tiny-mark rule, refused as blank."""
        return {
            k: (s > cal["threshold"]) | np.logical_or.reduce(list(rules.values())) | sets[k][1]
            for k, (s, rules) in scored.items()
        }

    got = flagged_at(calibration)
    print(f"test digits flagged    {share(got['test digits'])}   (aim <= 2 %)")
    print(f"drawn digits flagged   {share(got['drawn digits'])}")
    _, _, names, tiny, blank = sets["non-digits"]
    flagged = got["non-digits"]
    print(f"non-digits flagged     {share(flagged)}   (aim >= 80 %)")
    print(f"  of which the tiny-mark rule warns {share(tiny)}, refused as blank {share(blank)}")
    families = np.array([n.split("/")[0] for n in names])
    for family in FAMILIES:
        print(f"  {family:13s} {share(flagged[families == family])}")
    missed = [n for n, f in zip(names, flagged, strict=True) if not f]
    print("  not flagged: " + ", ".join(missed))
    print(
        f"digit-like controls    {share(got['digit-like'])}   (a 1, a 0, letters O I S Z B G: "
        "not counted)"
    )
    results.update(
        test=float(got["test digits"].mean()),
        drawn=float(got["drawn digits"].mean()),
        nondigits=float(flagged.mean()),
        families={f: float(flagged[families == f].mean()) for f in FAMILIES},
        controls=float(got["digit-like"].mean()),
    )
    if fitted is not None:
        print("other flag rates on held-out training digits (test / drawn / non-digits flagged):")
        for rate in RATES:
            other = flagged_at(novelty.set_threshold(*fitted, rate))
            print(
                f"  {rate:5.1%}: {other['test digits'].mean():6.2%} / "
                f"{other['drawn digits'].mean():6.2%} / {other['non-digits'].mean():6.1%}"
            )
    print()
    return results


def default_model() -> Path:
    """The zoo's default (models/simple.npz), or the first release's model until it is trained."""
    path = ROOT / "models" / f"{DEFAULT_MODEL_ID}.npz"
    return path if path.is_file() else ROOT / "models" / "simple-he.npz"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=default_model(), help="a .npz file")
    parser.add_argument("--all", action="store_true", help="every models/*.npz")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument(
        "--recalibrate", action="store_true", help="fit even when the metadata has one"
    )
    parser.add_argument(
        "--train-size", type=int, default=60000, help="calibrate on this many training digits"
    )
    parser.add_argument("--json", type=Path, help="write the measured shares here")
    args = parser.parse_args(argv)
    paths = sorted((ROOT / "models").glob("*.npz")) if args.all else [args.model]
    results = []
    for path in paths:
        try:
            results.append(measure(path, args.data_dir, args.recalibrate, args.train_size))
        except ModelFileError as err:  # not a network file
            print(f"== {path}: skipped ({err})\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
