"""The default model (models/simple.npz; simple-he until simple is trained) reaches the book's
accuracy on the full MNIST test set, when it is here."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from app.model.mnist import FILES, load_split
from app.model.storage import load_model
from tests.helpers.models import default_model_id, require_model
from tests.helpers.paths import MNIST_DIR

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
    path = require_model(default_model_id())
    return path, *load_model(path)


def test_the_shipped_model_reaches_99_percent_on_all_10000_test_digits(shipped, test_set):
    _, net, _ = shipped
    x, t = test_set
    predictions = np.concatenate(
        [net.predict(x[i : i + 500]).argmax(axis=1) for i in range(0, 10000, 500)]
    )
    accuracy = float(np.mean(predictions == t))
    assert accuracy >= 0.99, f"test accuracy {accuracy:.4f}"
    for digit in range(10):  # no digit is left behind
        assert np.mean(predictions[t == digit] == digit) >= 0.97, digit


def test_the_shipped_metadata_describes_the_shipped_weights(shipped, test_set):
    path, net, meta = shipped
    assert meta["id"] == path.stem == default_model_id()
    assert meta["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    x, t = test_set
    assert meta["test_accuracy"] == pytest.approx(net.accuracy(x, t), abs=3e-4)
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in MNIST_DIR.glob("*.gz")}
    assert meta["data_sha256"] == expected
