"""Write tests/data/mnist-sample/: the first 1000 training and first 300 test MNIST digits.

The sample is real MNIST in the four standard gzipped IDX files, small enough to ship with the
repository, so the training and CLI tests always run. Rebuild it with

    python tests/data/make_sample.py [--source ../shared/data/mnist]

Self-contained on purpose (no import of the package it tests). gzip's mtime is fixed at 0, so the
output bytes are the same on every run.
"""

from __future__ import annotations

import argparse
import gzip
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801
SPLITS = {  # images file, labels file, how many digits to keep
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 1000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 300),
}


def read_idx(path: Path) -> tuple[int, tuple[int, ...], bytes]:
    """(magic, header dimensions, data bytes) of a gzipped IDX file."""
    raw = gzip.decompress(path.read_bytes())
    magic, count = struct.unpack(">II", raw[:8])
    if magic == IMAGE_MAGIC:
        rows, cols = struct.unpack(">II", raw[8:16])
        return magic, (count, rows, cols), raw[16:]
    if magic == LABEL_MAGIC:
        return magic, (count,), raw[8:]
    raise ValueError(f"{path}: unexpected magic number 0x{magic:08x}")


def write_idx(path: Path, magic: int, dims: tuple[int, ...], data: bytes) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    path.write_bytes(gzip.compress(header + data, compresslevel=9, mtime=0))


def make_sample(source: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for images_name, labels_name, keep in SPLITS.values():
        magic, (count, rows, cols), data = read_idx(source / (images_name + ".gz"))
        assert magic == IMAGE_MAGIC and count >= keep
        write_idx(
            dest / (images_name + ".gz"), magic, (keep, rows, cols), data[: keep * rows * cols]
        )
        magic, (count,), data = read_idx(source / (labels_name + ".gz"))
        assert magic == LABEL_MAGIC and count >= keep
        write_idx(dest / (labels_name + ".gz"), magic, (keep,), data[:keep])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--dest", type=Path, default=HERE / "mnist-sample")
    args = parser.parse_args()
    make_sample(args.source, args.dest)
    for path in sorted(args.dest.iterdir()):
        print(f"{path.stat().st_size:8d}  {path}")


if __name__ == "__main__":
    main()
