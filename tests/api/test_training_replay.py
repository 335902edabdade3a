"""Exact replay: a live training's losses, step by step, equal `conv-explorer train`'s for the
same seed, config and thread count (both run app.model.train.training_steps). And train()
records the first layer's history when asked."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import numpy as np

from app.model.mnist import load_mnist
from app.model.network import Network
from app.model.train import TrainConfig, train
from app.model.zoo import ZOO
from tests.helpers.app import app_client
from tests.helpers.paths import ROOT, SAMPLE_DIR


def stream_losses(body: dict) -> tuple[list[float], str]:
    with (
        app_client(data_dir="/nonexistent/mnist") as c,
        c.stream("POST", "/api/train", json=body) as r,
    ):
        events = [json.loads(line) for line in r.iter_lines() if line]
    ready = next(e for e in events if e["type"] == "ready")
    return [x for e in events if e["type"] == "report" for x in e["losses"]], ready["replay"]


def cli_losses(replay: str, tmp_path) -> list[float]:
    """Run the stream's own replay command (python -m app.cli in place of conv-explorer)."""
    args = shlex.split(replay)
    assert args[:2] == ["conv-explorer", "train"]
    args[args.index("--out") + 1] = str(tmp_path / "replay.npz")
    args[args.index("--loss-log") + 1] = str(tmp_path / "losses.txt")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args[1:]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [float(x) for x in (tmp_path / "losses.txt").read_text().split()]


def test_the_stream_and_the_cli_give_the_same_losses_bit_for_bit(tmp_path):
    """simple's recipe (book init, Adam, cosine, weight decay, augmentation), 1.5 epochs of
    the sample in batches of 50, so the run also crosses an epoch's reshuffle."""
    body = {"steps": 30, "batch_size": 50, "report_every": 7, "seed": 11}
    streamed, replay = stream_losses(body)
    assert len(streamed) == 30
    assert cli_losses(replay, tmp_path) == streamed


def test_replay_holds_for_other_settings_too(tmp_path):
    """He init, SGD, constant rate, no augmentation, a 400-digit training set."""
    body = {"arch": "simple-he", "optimizer": "sgd", "lr": 0.05, "schedule": "constant",
            "augment": False, "train_size": 400, "batch_size": 40, "steps": 12, "seed": 3,
            "report_every": 5}  # fmt: skip
    streamed, replay = stream_losses(body)
    assert "--no-augment" in replay and "--train-size 400" in replay
    assert cli_losses(replay, tmp_path) == streamed


def test_train_records_first_layer_snapshots_from_the_random_start_on(tmp_path):
    data = load_mnist(SAMPLE_DIR)
    net = Network.initial(ZOO["simple"].arch, seed=2)
    start = net.params["W1"].copy()
    snapshots: list[dict] = []
    cfg = TrainConfig(epochs=1, batch_size=50, seed=2, threads=1)
    train(net, data.train_images, data.train_labels, data.test_images, data.test_labels, cfg,
          progress=False, snapshot_every=8, snapshots=snapshots)  # fmt: skip
    assert [s["step"] for s in snapshots] == [0, 8, 16, 20]  # and after the last step
    np.testing.assert_array_equal(snapshots[0]["W"], start)
    np.testing.assert_array_equal(snapshots[-1]["W"], net.params["W1"])
    assert snapshots[-1]["test_acc"] == net.accuracy(data.test_images, data.test_labels)
    assert [s["epoch"] for s in snapshots] == [0.0, 0.4, 0.8, 1.0]
