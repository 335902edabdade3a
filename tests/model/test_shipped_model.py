"""The shipped weights reach the book's accuracy on the full MNIST test set (when it is here)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from app.model.mnist import FILES, load_split
from app.model.storage import load_model
from tests.helpers.paths import MNIST_DIR, ROOT

MODEL = ROOT / "models" / "simple_convnet.npz"

pytestmark = pytest.mark.skipif(
    not MNIST_DIR.is_dir(), reason=f"full MNIST set not found at {MNIST_DIR.resolve()}"
)


@pytest.fixture(scope="module")
def test_set():
    x, t, _ = load_split(MNIST_DIR, FILES["test_images"], FILES["test_labels"])
    assert x.shape == (10000, 1, 28, 28)
    return x, t


@pytest.fixture(scope="module")
def shipped():
    assert MODEL.is_file(), f"the shipped model {MODEL} is missing"
    return load_model(MODEL)


def test_the_shipped_model_reaches_99_percent_on_all_10000_test_digits(shipped, test_set):
    net, _ = shipped
    x, t = test_set
    predictions = np.concatenate(
        [net.predict(x[i : i + 500]).argmax(axis=1) for i in range(0, 10000, 500)]
    )
    accuracy = float(np.mean(predictions == t))
    assert accuracy >= 0.99, f"test accuracy {accuracy:.4f}"
    for digit in range(10):  # no digit is left behind
        assert np.mean(predictions[t == digit] == digit) >= 0.97, digit


def test_the_shipped_metadata_describes_the_shipped_weights(shipped, test_set):
    net, meta = shipped
    assert meta["weights_sha256"] == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    x, t = test_set
    assert meta["test_accuracy"] == pytest.approx(net.accuracy(x, t), abs=3e-4)
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in MNIST_DIR.glob("*.gz")}
    assert meta["data_sha256"] == expected
