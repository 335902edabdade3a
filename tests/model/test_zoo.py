"""The model zoo in models/: every file loads, says how it was made, and is what it claims.

The strongest check of the generic engine: the weights the book itself publishes, run by our
network, give the logits of the book's own forward pass (written out below in float64, from
the book's layer order) and the book's accuracies, 96.00 % and 97.97 %.

The trained files arrive one by one; a test about a file that is not there yet skips and names
the command that makes it.
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from app.model.architecture import Architecture
from app.model.evaluate import confusion_matrix, summarize
from app.model.filter_stats import filter_structure
from app.model.mnist import FILES, load_split
from app.model.network import init_params
from app.model.storage import file_sha256, load_model
from app.model.zoo import BOOK_FILES, ZOO
from tests.helpers.models import MODELS_DIR, model_file, require_model
from tests.helpers.paths import MNIST_DIR, ROOT, SAMPLE_DIR

BOOK_WEIGHTS = ROOT.parent / "shared" / "data" / "book-weights"
N_REFERENCE = 500  # test digits compared logit by logit with the float64 forward pass
BOOK_ACCURACY = {"book": 0.9600, "book-deep": 0.9797}  # the book's code, its README says

needs_mnist = pytest.mark.skipif(
    not MNIST_DIR.is_dir(), reason=f"full MNIST set not found at {MNIST_DIR}"
)


def load_test_set(data_dir):
    return load_split(data_dir, FILES["test_images"], FILES["test_labels"])


@cache
def shipped(model_id: str):
    """(network, metadata) of models/ID.npz, loaded once for the whole module."""
    return load_model(require_model(model_id))


@cache
def fresh_report(model_id: str) -> dict:
    """Accuracy, per-class accuracy and confusion matrix on all 10 000 MNIST test digits."""
    net, _ = shipped(model_id)
    x, t, _ = load_test_set(MNIST_DIR)
    return summarize(confusion_matrix(net, x, t))


# ------------------------------------------------------------------ the book's forward pass


def conv(x, W, b, pad):
    """Every FH x FW window of the padded input against every filter, all channels summed."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(x, W.shape[2:], axis=(2, 3))  # (N, C, OH, OW, FH, FW)
    out = np.tensordot(windows, W, axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, FN)
    return out.transpose(0, 3, 1, 2) + b[:, None, None]


def relu(x):
    return np.maximum(x, 0)


def pool2(x):
    """2x2 max pooling, stride 2 (every map here has an even side)."""
    n, c, h, w = x.shape
    assert h % 2 == 0 and w % 2 == 0
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def affine(x, W, b):
    return x.reshape(len(x), -1) @ W + b


def book_simple_convnet(p, x):
    """ch07/simple_convnet.py: Conv1 - Relu1 - Pool1 - Affine1 - Relu2 - Affine2."""
    h = pool2(relu(conv(x, p["W1"], p["b1"], pad=0)))
    return affine(relu(affine(h, p["W2"], p["b2"])), p["W3"], p["b3"])


def book_deep_convnet(p, x):
    """ch08/deep_convnet.py: six 3x3 convs (pads 1, 1, 1, 2, 1, 1), a pool after every
    second, affine 50 - relu - dropout - affine 10 - dropout. At inference each dropout
    multiplies by 1 - 0.5, the last one the logits themselves."""
    h = x
    for k, pad in zip(range(1, 7), (1, 1, 1, 2, 1, 1), strict=True):
        h = relu(conv(h, p[f"W{k}"], p[f"b{k}"], pad))
        if k % 2 == 0:
            h = pool2(h)
    h = relu(affine(h, p["W7"], p["b7"])) * 0.5
    return affine(h, p["W8"], p["b8"]) * 0.5


BOOK_FORWARD = {"book": book_simple_convnet, "book-deep": book_deep_convnet}


@pytest.fixture(scope="module")
def reference_digits():
    """The first N_REFERENCE test digits, or the shipped sample's when MNIST is absent; as
    the book reads them: uint8 / 255.0 in float64."""
    x, t, _ = load_test_set(MNIST_DIR if MNIST_DIR.is_dir() else SAMPLE_DIR)
    pixels = np.round(x[:N_REFERENCE] * 255).astype(np.uint8)
    return pixels / 255.0, t[:N_REFERENCE]


@pytest.mark.parametrize("model_id", list(BOOK_FILES))
def test_the_books_weights_give_the_books_logits(model_id, reference_digits):
    """Our logits within 1e-5 of the float64 forward pass, relative to each digit's largest
    logit (a logit near 0 has no relative precision to speak of in float32)."""
    source = BOOK_WEIGHTS / BOOK_FILES[model_id]
    if not source.is_file():
        pytest.skip(f"the book's original weights {source} are not on this machine")
    with np.load(source, allow_pickle=False) as npz:
        original = {k: npz[k].astype(np.float64) for k in npz.files}
    net, _ = shipped(model_id)
    x, t = reference_digits
    want = np.concatenate(
        [BOOK_FORWARD[model_id](original, x[i : i + 50]) for i in range(0, len(x), 50)]
    )
    got = net.predict(x)
    scale = np.abs(want).max(axis=1, keepdims=True)
    worst = float((np.abs(got - want) / scale).max())
    assert worst <= 1e-5, f"logits differ by {worst:.2g} of the largest logit"
    np.testing.assert_array_equal(got.argmax(axis=1), want.argmax(axis=1))
    assert (want.argmax(axis=1) == t).mean() > 0.9


@needs_mnist
@pytest.mark.parametrize("model_id", list(BOOK_FILES))
def test_the_books_weights_reach_the_books_accuracy_on_all_10000_digits(model_id):
    report = fresh_report(model_id)
    assert np.trace(report["confusion_matrix"]) == round(BOOK_ACCURACY[model_id] * 10000)
    assert report["accuracy"] == BOOK_ACCURACY[model_id]


@pytest.mark.parametrize("model_id", list(BOOK_FILES))
def test_the_books_weights_are_converted_unchanged(model_id):
    source = BOOK_WEIGHTS / BOOK_FILES[model_id]
    if not source.is_file():
        pytest.skip(f"the book's original weights {source} are not on this machine")
    net, meta = shipped(model_id)
    assert meta["source"]["file"] == source.name
    assert meta["source"]["sha256"] == file_sha256(source)
    assert "MIT" in meta["source"]["licence"]
    with np.load(source, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(net.params)
        for name in npz.files:  # float64 in the book's files, float32 in ours
            np.testing.assert_allclose(net.params[name], npz[name], rtol=1e-6, atol=1e-7)
    assert meta["initial"] is None  # the book's random start is unknown


# ------------------------------------------------------------------ every shipped file


def test_every_file_in_models_is_a_zoo_entry_named_by_its_id():
    files = sorted(MODELS_DIR.glob("*.npz"))
    assert files, "models/ holds no model"
    for path in files:
        meta = json.loads(path.with_suffix(".json").read_text())
        assert meta["id"] == path.stem, path.name
        assert path.stem in ZOO, f"{path.name} is not in app/model/zoo.py"


@pytest.mark.parametrize("model_id", list(ZOO))
def test_the_shipped_file_loads_and_records_how_it_was_made(model_id):
    net, meta = shipped(model_id)
    path = model_file(model_id)
    entry = ZOO[model_id]
    assert meta["weights_sha256"] == file_sha256(path)
    assert Architecture.from_dict(meta["config"]) == net.arch == entry.arch
    assert meta["command"].startswith("conv-explorer ")
    assert meta["title"] == entry.title
    data = meta["data_sha256"]
    assert set(data) == {f + ".gz" for f in FILES.values()}
    if MNIST_DIR.is_dir():  # the data it was measured on is the data here
        assert data == {name: file_sha256(MNIST_DIR / name) for name in data}
    if entry.source == "book":
        assert meta["source"]["sha256"] and meta["source"]["file"] == BOOK_FILES[model_id]
        assert meta["command"] == "conv-explorer import-book"
    else:
        assert isinstance(meta["seed"], int)
        assert meta["train"]["epochs"] >= 0
    assert 0 <= meta["test_accuracy"] <= 1 and len(meta["per_class_accuracy"]) == 10


@needs_mnist
@pytest.mark.parametrize("model_id", list(ZOO))
def test_the_recorded_test_accuracy_is_a_fresh_evaluation(model_id):
    _, meta = shipped(model_id)
    report = fresh_report(model_id)
    assert meta["test_accuracy"] == report["accuracy"]
    assert meta["per_class_accuracy"] == report["per_class_accuracy"]


# ------------------------------------------------------------------ what each model is for


def first_layer_structure(model_id: str) -> dict:
    """Fig. 7-24 in numbers: neighbour correlation of the learned 5x5 weights and correlation
    of each learned filter with the random one it started from (regenerated from the seed)."""
    net, meta = shipped(model_id)
    initial = init_params(net.arch, meta["seed"])
    return filter_structure(net.params["W1"], initial["W1"])


def test_simple_has_filters_with_structure_as_in_fig_7_24():
    stats = first_layer_structure("simple")
    assert stats["median_neighbour"] >= 0.5, "the learned filters are still noise"
    assert stats["median_start"] <= 0.5, "the learned filters are still their random start"
    _, meta = shipped("simple")
    recorded = meta["filter_structure"]
    assert recorded["median_neighbour_correlation"] == round(stats["median_neighbour"], 4)
    assert recorded["median_start_correlation"] == round(stats["median_start"], 4)


def test_simple_he_filters_stay_close_to_their_random_start():
    """What simple-he is in the zoo for: as accurate, but its filters are mostly the noise
    they started from."""
    stats = first_layer_structure("simple-he")
    assert stats["median_start"] > 0.8
    assert stats["median_neighbour"] < 0.3


def test_the_books_first_filters_are_smooth_edge_and_blob_detectors():
    net, _ = shipped("book")
    assert filter_structure(net.params["W1"])["median_neighbour"] >= 0.5


@pytest.mark.parametrize(("model_id", "least"), [("simple", 0.992), ("deep", 0.994)])
def test_the_recorded_accuracy_reaches_the_issues_bar(model_id, least):
    _, meta = shipped(model_id)
    assert meta["test_accuracy"] >= least


@needs_mnist
@pytest.mark.parametrize(("model_id", "least"), [("simple", 0.992), ("deep", 0.994)])
def test_on_all_10000_test_digits_the_accuracy_reaches_the_issues_bar(model_id, least):
    assert fresh_report(model_id)["accuracy"] >= least


def test_untrained_is_the_random_start_its_seed_regenerates():
    net, meta = shipped("untrained")
    start = init_params(net.arch, meta["seed"])
    assert set(start) == set(net.params)
    for name, value in start.items():
        np.testing.assert_array_equal(net.params[name], value, err_msg=name)
    # the start of `simple`, as the zoo says: its layers and its training seed
    assert net.arch == ZOO["simple"].arch and meta["seed"] == ZOO["simple"].train.seed
    assert meta["test_accuracy"] < 0.2  # chance is 0.1
