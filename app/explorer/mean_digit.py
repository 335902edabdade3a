"""The mean training digit: a baseline for Integrated Gradients, stored once in models/.

`python -m app.explorer.mean_digit --data-dir ../shared/data/mnist` averages the 60 000
training images and writes models/mean_digit.npy (28x28 float32, a plain array read with
allow_pickle=False) and models/mean_digit.json (the data files' SHA-256, the count, the
command). The server only reads the file; it never needs the MNIST files.
"""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from app.model.mnist import FILES, load_split
from app.settings import MODELS_DIR

MEAN_DIGIT_PATH = MODELS_DIR / "mean_digit.npy"
COMMAND = "python -m app.explorer.mean_digit --data-dir ../shared/data/mnist"


class MeanDigitMissing(FileNotFoundError):
    """models/mean_digit.npy is absent or not a 28x28 array in 0..1."""


@lru_cache(maxsize=4)
def load_mean_digit(path: Path = MEAN_DIGIT_PATH) -> np.ndarray:
    """(28, 28) float32 in 0..1, 1 = ink."""
    try:
        digit = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise MeanDigitMissing(f"the mean-digit baseline {path.name} is unreadable ({err}); "
                               f"make it with {COMMAND}") from None  # fmt: skip
    if digit.shape != (28, 28) or not (digit.min() >= 0 and digit.max() <= 1):
        raise MeanDigitMissing(f"{path.name} is not a 28x28 image in 0..1; remake it: {COMMAND}")
    return digit.astype(np.float32)


def write_mean_digit(data_dir: Path, out: Path = MEAN_DIGIT_PATH) -> np.ndarray:
    images, _, digests = load_split(Path(data_dir), FILES["train_images"], FILES["train_labels"])
    mean = images[:, 0].mean(axis=0, dtype=np.float64).astype(np.float32)
    np.save(out, mean, allow_pickle=False)
    record = {"what": "mean of the MNIST training images, 0..1, 1 = ink", "count": len(images),
              "data_sha256": digests, "command": COMMAND}  # fmt: skip
    out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    return mean


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=MEAN_DIGIT_PATH)
    args = parser.parse_args()
    mean = write_mean_digit(args.data_dir, args.out)
    print(f"wrote {args.out}: mean ink {mean.mean():.4f}, max {mean.max():.4f}")
