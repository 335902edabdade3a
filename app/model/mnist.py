"""Reader for the four MNIST files in IDX format, gzipped or raw.

IDX: a big-endian header (magic 0x00000803 for images, 0x00000801 for labels, then the item
count and, for images, rows and columns), followed by uint8 data.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class MnistFormatError(ValueError):
    """A file that is not a valid MNIST IDX file; the message says what is wrong."""


class Mnist(NamedTuple):
    train_images: np.ndarray  # (60000, 1, 28, 28) float32 in 0..1, 1 = ink
    train_labels: np.ndarray  # (60000,) int64
    test_images: np.ndarray
    test_labels: np.ndarray
    sha256: dict[str, str]  # file name -> SHA-256 of the file as stored


def _find(data_dir: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (data_dir / name).is_file():
            return data_dir / name
    raise FileNotFoundError(f"{stem}(.gz) not found in {data_dir}")


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise MnistFormatError(f"{path.name}: broken gzip stream ({err})") from err
    return raw


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse an MNIST IDX image (N, rows, cols) or label (N,) file into a uint8 array."""
    if len(data) < 8:
        raise MnistFormatError(f"{name}: {len(data)} bytes is too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    count = int.from_bytes(data[4:8], "big")
    if magic == IMAGE_MAGIC:
        if len(data) < 16:
            raise MnistFormatError(f"{name}: image header is cut short")
        rows, cols = int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big")
        shape, offset = (count, rows, cols), 16
    elif magic == LABEL_MAGIC:
        shape, offset = (count,), 8
    else:
        raise MnistFormatError(
            f"{name}: magic number 0x{magic:08x} is neither images (0x{IMAGE_MAGIC:08x}) "
            f"nor labels (0x{LABEL_MAGIC:08x})"
        )
    expected = math.prod(shape)  # Python ints: a hostile header cannot overflow
    actual = len(data) - offset
    if actual != expected:
        raise MnistFormatError(
            f"{name}: header promises {expected} bytes of data for shape {shape}, found {actual}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def load_split(data_dir: Path, images_stem: str, labels_stem: str):
    img_path, lbl_path = _find(data_dir, images_stem), _find(data_dir, labels_stem)
    images = parse_idx(_read_bytes(img_path), img_path.name)
    labels = parse_idx(_read_bytes(lbl_path), lbl_path.name)
    if images.ndim != 3 or labels.ndim != 1:
        raise MnistFormatError(f"{img_path.name} / {lbl_path.name}: images and labels swapped?")
    if len(images) != len(labels):
        raise MnistFormatError(
            f"{img_path.name} has {len(images)} images but {lbl_path.name} has {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise MnistFormatError(f"{lbl_path.name}: label {labels.max()} is not a digit")
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (img_path, lbl_path)}
    return x, labels.astype(np.int64), digests


def load_mnist(data_dir: str | Path) -> Mnist:
    """All four files from `data_dir`; pixels scaled to 0..1 as in the book (no standardising)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"MNIST data directory {data_dir} does not exist")
    xtr, ttr, h1 = load_split(data_dir, FILES["train_images"], FILES["train_labels"])
    xte, tte, h2 = load_split(data_dir, FILES["test_images"], FILES["test_labels"])
    return Mnist(xtr, ttr, xte, tte, {**h1, **h2})
