"""The shipped model's own training history: first-layer snapshots from the random start to the
learned filters, GET /api/filters/history and /api/filters/history/{index}."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.model.network import init_params
from app.model.storage import load_model
from tests.helpers.models import MODELS_DIR, model_file


@pytest.fixture(scope="module")
def history(client) -> dict:
    r = client.get("/api/filters/history", params={"model": "simple"})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_shipped_default_model_records_its_filters_from_random_start_to_learned():
    meta = json.loads(model_file("simple").with_suffix(".json").read_text())
    record = meta["snapshots"]
    with np.load(MODELS_DIR / record["file"], allow_pickle=False) as npz:
        W, steps = npz["W"], npz["step"]
    net, _ = load_model(model_file("simple"))
    steps_per_epoch = 60_000 // meta["train"]["batch_size"]
    assert steps.tolist() == list(range(0, steps_per_epoch * meta["train"]["epochs"] + 1, 100))
    # the first snapshot is the recorded seed's start, the last the shipped weights
    start = init_params(net.arch, meta["seed"])["W1"]
    np.testing.assert_array_equal(W[0], start)
    np.testing.assert_array_equal(W[-1], net.params["W1"])


def test_the_timeline_shows_the_filters_forming_from_noise(history):
    points = history["points"]
    assert history["layer"] == "conv1" and history["every"] == 100
    assert [p["index"] for p in points] == list(range(len(points)))
    first, last = points[0], points[-1]
    assert first["step"] == 0 and first["median_start_correlation"] == 1.0
    assert abs(first["median_neighbour_correlation"]) < 0.15  # random: neighbours unrelated
    assert last["median_neighbour_correlation"] >= 0.5  # smooth, as the page says
    assert last["median_start_correlation"] < 0.5  # moved far from the start
    assert first["test_acc"] < 0.2 < 0.98 < last["test_acc"]
    assert last["max_abs_weight"] > 10 * first["max_abs_weight"]  # the book's faint start


def test_the_last_point_agrees_with_the_filters_view(client, history):
    filters = client.get("/api/filters", params={"model": "simple"}).json()["structure"]
    last = history["points"][-1]
    assert last["median_neighbour_correlation"] == filters["median_neighbour_correlation"]
    assert last["median_start_correlation"] == filters["median_start_correlation"]


def test_one_snapshot_gives_its_filters_and_figures(client, history):
    middle = len(history["points"]) // 2
    r = client.get(f"/api/filters/history/{middle}", params={"model": "simple"})
    assert r.status_code == 200, r.text
    frame = r.json()
    assert {k: frame[k] for k in history["points"][middle]} == history["points"][middle]
    meta = json.loads(model_file("simple").with_suffix(".json").read_text())
    with np.load(MODELS_DIR / meta["snapshots"]["file"], allow_pickle=False) as npz:
        W = npz["W"][middle]
    weights = np.array([f["weights"] for f in frame["filters"]["filters"]])
    np.testing.assert_allclose(weights, W, atol=1e-6)
    assert frame["filters"]["range"][1] == pytest.approx(np.abs(W).max(), rel=1e-4)


@pytest.mark.parametrize("index", [-1, 10_000])
def test_a_snapshot_outside_the_timeline_is_a_404_naming_the_range(client, history, index):
    r = client.get(f"/api/filters/history/{index}", params={"model": "simple"})
    assert r.status_code == 404
    assert f"0..{len(history['points']) - 1}" in r.json()["detail"]


@pytest.mark.parametrize("model_id", ["book", "untrained"])
def test_a_model_without_snapshots_says_so(client, model_id):
    models = {m["id"]: m for m in client.get("/api/models").json()}
    if model_id not in models:
        pytest.skip(f"{model_id} is not served")
    assert models[model_id]["has_filter_history"] is False
    r = client.get("/api/filters/history", params={"model": model_id})
    assert r.status_code == 404
    assert "no filter timeline" in r.json()["detail"]
    assert models["simple"]["has_filter_history"] is True
