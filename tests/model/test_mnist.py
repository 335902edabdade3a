"""The MNIST IDX reader: tiny valid files written here, and every way a file can be broken."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from app.model.mnist import FILES, MnistFormatError, load_mnist, load_split, parse_idx

IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


def idx_images(images: np.ndarray, count: int | None = None) -> bytes:
    n, rows, cols = images.shape
    header = struct.pack(">IIII", IMAGE_MAGIC, n if count is None else count, rows, cols)
    return header + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray, count: int | None = None) -> bytes:
    header = struct.pack(">II", LABEL_MAGIC, len(labels) if count is None else count)
    return header + labels.astype(np.uint8).tobytes()


def tiny_set(rng, n: int, rows: int = 4, cols: int = 3):
    return rng.integers(0, 256, (n, rows, cols)).astype(np.uint8), rng.integers(0, 10, n)


def write_dataset(folder: Path, files: dict[str, bytes], gz: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, data in files.items():
        name = FILES[key]
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


def write_split(folder: Path, images: bytes, labels: bytes, gz: bool = False) -> Path:
    write_dataset(folder, {"test_images": images, "test_labels": labels}, gz)
    return folder


def load_test_split(folder: Path):
    return load_split(folder, FILES["test_images"], FILES["test_labels"])


# ------------------------------------------------------------------ valid files


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_valid_tiny_files_load_as_0_to_1_float32_maps_and_int64_labels(tmp_path, gz):
    rng = np.random.default_rng(0)
    train_x, train_t = tiny_set(rng, 5)
    test_x, test_t = tiny_set(rng, 3)
    files = {
        "train_images": idx_images(train_x),
        "train_labels": idx_labels(train_t),
        "test_images": idx_images(test_x),
        "test_labels": idx_labels(test_t),
    }
    write_dataset(tmp_path, files, gz)
    data = load_mnist(tmp_path)

    assert data.train_images.shape == (5, 1, 4, 3)
    assert data.test_images.shape == (3, 1, 4, 3)
    assert data.train_images.dtype == np.float32
    np.testing.assert_allclose(data.train_images[:, 0], train_x / 255.0, rtol=1e-6)
    np.testing.assert_allclose(data.test_images[:, 0], test_x / 255.0, rtol=1e-6)
    assert data.train_labels.dtype == np.int64
    np.testing.assert_array_equal(data.train_labels, train_t)
    np.testing.assert_array_equal(data.test_labels, test_t)
    # the SHA-256 of every file as stored, for the model's metadata
    assert len(data.sha256) == 4
    for name, digest in data.sha256.items():
        assert digest == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert name.endswith(".gz") == gz


def test_a_gzipped_file_is_preferred_over_a_raw_one_of_the_same_name(tmp_path):
    rng = np.random.default_rng(1)
    x, t = tiny_set(rng, 2)
    write_split(tmp_path, idx_images(x), idx_labels(t), gz=True)
    (tmp_path / FILES["test_images"]).write_bytes(b"not read")
    images, labels, _ = load_test_split(tmp_path)
    np.testing.assert_allclose(images[:, 0], x / 255.0, rtol=1e-6)


def test_parse_idx_reads_images_and_labels():
    x = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_images(x)), x)
    np.testing.assert_array_equal(parse_idx(idx_labels(np.array([7, 1, 0]))), [7, 1, 0])


# ------------------------------------------------------------------ broken files


def test_a_wrong_magic_number_is_named_in_the_error(tmp_path):
    data = struct.pack(">II", 0x00000802, 3) + bytes(3)
    with pytest.raises(MnistFormatError, match=r"magic number 0x00000802") as err:
        parse_idx(data, "labels.idx")
    assert "labels.idx" in str(err.value)


def test_a_file_too_short_for_a_header_is_refused():
    with pytest.raises(MnistFormatError, match="too short"):
        parse_idx(b"\x00\x00\x08", "x")


def test_an_image_header_cut_short_is_refused():
    with pytest.raises(MnistFormatError, match="header"):
        parse_idx(struct.pack(">III", IMAGE_MAGIC, 1, 28), "x")


def test_truncated_image_data_says_how_much_was_promised_and_found(tmp_path):
    x, t = tiny_set(np.random.default_rng(2), 4)
    write_split(tmp_path, idx_images(x)[:-5], idx_labels(t), gz=True)
    with pytest.raises(MnistFormatError) as err:
        load_test_split(tmp_path)
    message = str(err.value)
    assert FILES["test_images"] + ".gz" in message
    assert "48" in message and "43" in message  # 4 x 4 x 3 promised, 43 found


def test_a_header_that_disagrees_with_the_data_size_is_refused(tmp_path):
    x, t = tiny_set(np.random.default_rng(3), 4)
    write_split(tmp_path, idx_images(x), idx_labels(t, count=6))  # says 6 labels, holds 4
    with pytest.raises(MnistFormatError, match=r"promises 6 bytes.*found 4"):
        load_test_split(tmp_path)


def test_trailing_bytes_after_the_data_are_refused():
    x = np.zeros((2, 2, 2), np.uint8)
    with pytest.raises(MnistFormatError, match=r"promises 8 bytes.*found 9"):
        parse_idx(idx_images(x) + b"\x00")


def test_image_and_label_counts_that_differ_are_refused(tmp_path):
    rng = np.random.default_rng(4)
    x, _ = tiny_set(rng, 5)
    _, t = tiny_set(rng, 4)
    write_split(tmp_path, idx_images(x), idx_labels(t), gz=True)
    with pytest.raises(MnistFormatError, match=r"5 images but .* 4 labels"):
        load_test_split(tmp_path)


def test_images_and_labels_swapped_are_refused(tmp_path):
    x, t = tiny_set(np.random.default_rng(5), 3)
    write_split(tmp_path, idx_labels(t), idx_images(x))
    with pytest.raises(MnistFormatError, match="swapped"):
        load_test_split(tmp_path)


def test_a_label_that_is_not_a_digit_is_refused(tmp_path):
    x, _ = tiny_set(np.random.default_rng(6), 3)
    write_split(tmp_path, idx_images(x), idx_labels(np.array([1, 12, 3])))
    with pytest.raises(MnistFormatError, match="label 12"):
        load_test_split(tmp_path)


def test_a_truncated_gzip_stream_is_refused(tmp_path):
    x, t = tiny_set(np.random.default_rng(7), 3)
    write_split(tmp_path, idx_images(x), idx_labels(t), gz=True)
    path = tmp_path / (FILES["test_images"] + ".gz")
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(MnistFormatError, match="broken gzip"):
        load_test_split(tmp_path)


def test_a_gzip_file_with_a_bad_checksum_is_refused(tmp_path):
    x, t = tiny_set(np.random.default_rng(8), 3)
    write_split(tmp_path, idx_images(x), idx_labels(t), gz=True)
    path = tmp_path / (FILES["test_labels"] + ".gz")
    raw = bytearray(path.read_bytes())
    raw[-8:-4] = bytes(b ^ 0xFF for b in raw[-8:-4])  # the CRC-32 of the trailer
    path.write_bytes(bytes(raw))
    with pytest.raises(MnistFormatError, match="broken gzip"):
        load_test_split(tmp_path)


def test_a_gzip_file_with_corrupt_compressed_data_is_refused(tmp_path):
    # a valid gzip header followed by bytes that are no deflate stream: zlib raises
    # zlib.error, which is neither OSError nor EOFError
    x, t = tiny_set(np.random.default_rng(9), 3)
    write_split(tmp_path, idx_images(x), idx_labels(t), gz=True)
    path = tmp_path / (FILES["test_images"] + ".gz")
    path.write_bytes(path.read_bytes()[:10] + b"\xff" * 40)
    with pytest.raises(MnistFormatError, match="broken gzip"):
        load_test_split(tmp_path)


def test_a_header_whose_sizes_overflow_64_bits_is_a_format_error():
    # 2**31 x 2**31 x 4 = 2**64 items: an int64 product wraps to 0 and matches empty data
    data = struct.pack(">IIII", IMAGE_MAGIC, 2**31, 2**31, 4)
    with pytest.raises(MnistFormatError):
        parse_idx(data, "huge")


def test_a_missing_file_raises_file_not_found_naming_it(tmp_path):
    x, _ = tiny_set(np.random.default_rng(10), 2)
    write_dataset(tmp_path, {"test_images": idx_images(x)}, gz=True)
    with pytest.raises(FileNotFoundError, match=FILES["test_labels"]):
        load_test_split(tmp_path)


def test_a_missing_data_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
