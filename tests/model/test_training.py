"""Training on the shipped MNIST sample (1000 train, 300 test digits), in process and by CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from app.explorer.models import load_one
from app.model.architecture import Affine, Architecture, Dropout, Relu, Softmax, simple_convnet
from app.model.filter_stats import filter_structure
from app.model.mnist import load_mnist
from app.model.network import Network, init_params
from app.model.train import TrainConfig, evaluate_loss, train
from app.model.zoo import ZOO
from tests.helpers.paths import ROOT, SAMPLE_DIR

HE = simple_convnet()  # He init: quick to learn from a thousand digits


@pytest.fixture(scope="module")
def sample():
    data = load_mnist(SAMPLE_DIR)
    assert data.train_images.shape == (1000, 1, 28, 28)
    assert data.test_images.shape == (300, 1, 28, 28)
    return data


def run_training(sample, seed: int, epochs: int, augment: bool, threads: int = 2, arch=HE, **cfg):
    net = Network.initial(arch, seed=seed)
    cfg = TrainConfig(epochs=epochs, seed=seed, augment=augment, threads=threads, **cfg)
    history = train(
        net,
        sample.train_images,
        sample.train_labels,
        sample.test_images,
        sample.test_labels,
        cfg,
        progress=False,
    )
    return net, history


def test_the_shipped_sample_holds_every_digit(sample):
    assert set(np.unique(sample.train_labels)) == set(range(10))
    assert set(np.unique(sample.test_labels)) == set(range(10))


def test_two_epochs_on_the_sample_make_the_loss_fall_and_accuracy_rise_well_above_chance(sample):
    x_test, t_test = sample.test_images, sample.test_labels
    net = Network.initial(HE, seed=0)
    loss_before = evaluate_loss(net, x_test, t_test)
    net, history = run_training(sample, seed=0, epochs=2, augment=False, threads=1)
    assert [r["epoch"] for r in history] == [1, 2]
    assert history[-1]["test_loss"] < 0.5 * loss_before
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["test_acc"] > 0.5  # chance is 0.1
    assert net.accuracy(x_test, t_test) == history[-1]["test_acc"]
    for record in history:
        assert set(record) >= {"train_loss", "train_acc", "test_loss", "test_acc", "lr"}


def test_training_is_deterministic_for_a_given_seed(sample):
    net_a, history_a = run_training(sample, seed=3, epochs=1, augment=True)
    net_b, history_b = run_training(sample, seed=3, epochs=1, augment=True)
    net_c, _ = run_training(sample, seed=4, epochs=1, augment=True)
    for name in net_a.params:
        np.testing.assert_array_equal(net_a.params[name], net_b.params[name], err_msg=name)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in history_a]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in history_b]
    assert not np.array_equal(net_a.params["W1"], net_c.params["W1"])


def test_training_with_dropout_is_deterministic_too(sample):
    """Each step draws one seed per thread for the dropout masks from the run's generator."""
    arch = Architecture((1, 28, 28), (Affine(30), Relu(), Dropout(0.5), Affine(10), Softmax()))
    net_a, _ = run_training(sample, seed=3, epochs=1, augment=False, arch=arch)
    net_b, _ = run_training(sample, seed=3, epochs=1, augment=False, arch=arch)
    net_c, _ = run_training(sample, seed=4, epochs=1, augment=False, arch=arch)
    for name in net_a.params:
        np.testing.assert_array_equal(net_a.params[name], net_b.params[name], err_msg=name)
    assert not np.array_equal(net_a.params["W2"], net_c.params["W2"])


def test_weight_decay_adds_lambda_times_w_to_every_weights_gradient(sample):
    """One plain SGD step over the whole sample: W - lr (dL/dW + lambda W). Biases are not
    decayed."""
    sgd = {"optimizer": "sgd", "lr": 0.1, "lr_schedule": "constant", "batch_size": 1000}
    start = Network.initial(HE, seed=2).params
    plain, _ = run_training(sample, seed=2, epochs=1, augment=False, threads=1, **sgd)
    decayed, _ = run_training(
        sample, seed=2, epochs=1, augment=False, threads=1, weight_decay=0.5, **sgd
    )
    for name in plain.params:
        shift = decayed.params[name] - plain.params[name]
        if name.startswith("W"):
            np.testing.assert_allclose(shift, -0.1 * 0.5 * start[name], rtol=1e-3, atol=1e-6)
        else:
            np.testing.assert_array_equal(shift, 0, err_msg=name)


# ------------------------------------------------------------------ the CLI


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def trained_by_cli(tmp_path_factory):
    """`simple`'s recipe (the book's init, weight decay), cut to one epoch on the sample."""
    out = tmp_path_factory.mktemp("cli") / "sample_net.npz"
    args = ["train", "--arch", "simple", "--data-dir", str(SAMPLE_DIR), "--epochs", "1"]
    args += ["--seed", "5"]
    result = cli(*args, "--threads", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def test_cli_train_writes_weights_and_metadata(trained_by_cli):
    out, result = trained_by_cli
    assert out.is_file() and out.with_suffix(".json").is_file()
    assert str(out) in result.stdout
    with np.load(out, allow_pickle=False) as npz:
        assert npz["W1"].shape == (30, 1, 5, 5)
        assert npz["W2"].shape == (4320, 100)


def test_cli_train_metadata_records_how_the_model_was_made(trained_by_cli):
    out, _ = trained_by_cli
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["id"] == "simple" and meta["title"] == ZOO["simple"].title
    assert meta["config"] == json.loads(json.dumps(ZOO["simple"].arch.to_dict()))
    assert meta["architecture"] == ZOO["simple"].arch.summary()
    assert meta["seed"] == meta["train"]["seed"] == 5
    # the zoo's recipe, with the command line's changes
    assert meta["train"]["epochs"] == 1 and meta["train"]["threads"] == 1
    assert meta["train"]["weight_decay"] == ZOO["simple"].train.weight_decay > 0
    assert meta["data_sha256"] == {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SAMPLE_DIR.glob("*.gz")
    }
    assert meta["command"].startswith("conv-explorer train --arch simple ")
    assert "--epochs 1" in meta["command"] and "--seed 5" in meta["command"]
    assert len(meta["history"]) == 1 and meta["history"][0]["epoch"] == 1
    assert 0.1 < meta["test_accuracy"] <= 1.0
    assert len(meta["per_class_accuracy"]) == 10
    assert meta["weights_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_the_initial_filters_are_regenerated_from_the_recorded_seed(trained_by_cli):
    """The file keeps no copy of its random start: init_params(config, seed) gives it back,
    and the first-layer figures recorded at training time are computed against it."""
    out, _ = trained_by_cli
    model = load_one(out)
    assert model.metadata["initial"] == "regenerate from seed"
    start = init_params(ZOO["simple"].arch, 5)
    for name, value in start.items():
        np.testing.assert_array_equal(model.initial[name], value, err_msg=name)
    trained = model.net.params["W1"]
    assert not np.allclose(trained, start["W1"])
    stats = filter_structure(trained, start["W1"])
    recorded = model.metadata["filter_structure"]
    assert recorded["layer"] == "conv1"
    assert recorded["median_start_correlation"] == round(stats["median_start"], 4)
    assert recorded["median_neighbour_correlation"] == round(stats["median_neighbour"], 4)
    # one short epoch leaves the filters near their start, and not near another seed's
    other = filter_structure(trained, init_params(ZOO["simple"].arch, 6)["W1"])
    assert stats["median_start"] > 0.5 > abs(other["median_start"])


def test_cli_evaluate_json_reports_accuracy_per_class_and_the_confusion_matrix(trained_by_cli):
    out, _ = trained_by_cli
    result = cli("evaluate", "--model", str(out), "--data-dir", str(SAMPLE_DIR), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10)
    assert matrix.sum() == 300
    labels = load_mnist(SAMPLE_DIR).test_labels
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(labels, minlength=10))
    assert report["accuracy"] == pytest.approx(np.trace(matrix) / 300)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert report["accuracy"] == pytest.approx(meta["test_accuracy"])
    per_class = np.diag(matrix) / matrix.sum(axis=1)
    np.testing.assert_allclose(report["per_class_accuracy"], per_class, atol=1e-4)


def test_cli_train_offers_only_the_models_it_can_train():
    """The book's weights are imported (`conv-explorer import-book`), not trained."""
    result = cli("train", "--arch", "book", "--data-dir", str(SAMPLE_DIR))
    assert result.returncode == 2
    assert "invalid choice: 'book'" in result.stderr
    offered = result.stderr.rsplit("choose from", 1)[1]
    trainable = [m for m, e in ZOO.items() if e.source != "book"]
    assert all(f"'{m}'" in offered for m in trainable)
    assert "'book-deep'" not in offered


def test_cli_train_names_the_zoo_when_the_arch_is_unknown():
    result = cli("train", "--arch", "resnet", "--data-dir", str(SAMPLE_DIR))
    assert result.returncode == 2
    assert "invalid choice: 'resnet'" in result.stderr
    for model_id in ("simple", "deep", "mlp"):
        assert model_id in result.stderr


def test_cli_evaluate_of_a_missing_model_fails_with_one_clear_line(tmp_path):
    missing = tmp_path / "nothing.npz"
    result = cli("evaluate", "--model", str(missing), "--data-dir", str(SAMPLE_DIR))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"conv-explorer: model file {missing} not found"]
