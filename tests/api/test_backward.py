"""The backward pass on a digit (/api/backward, /api/gradient-check) against the engine."""

from __future__ import annotations

import numpy as np
import pytest

from app.api.routes_backward import EXAMPLES
from app.engine import layers as L
from app.engine.im2col import col2im_by_image, im2col_by_image
from app.explorer.models import ModelRegistry
from app.settings import Settings
from tests.helpers.backward_examples import QUERIES, example_body, trimmed


def _digit() -> list[list[float]]:
    d = np.zeros((28, 28))
    d[6:22, 12:16] = 1
    d[6:9, 8:20] = 0.7
    return d.tolist()


@pytest.fixture(scope="module")
def registry():
    s = Settings.from_env()
    return ModelRegistry.from_dir(s.models_dir, "book", None)


def test_dl_dx_equals_the_engines_input_gradient_and_each_pixel_is_its_windows_sum(
    client, registry
):
    r = client.post("/api/backward?model=book&target=3&row=10&col=13", json={"pixels": _digit()})
    assert r.status_code == 200, r.text
    got = r.json()
    net = registry.get("book").net
    x = np.array(_digit(), np.float32)[None, None]
    logits = net.predict(x)
    _, dlogits = L.softmax_cross_entropy(logits, np.array([3]))
    dx = net.input_gradient(x, dlogits)[0, 0]
    np.testing.assert_allclose(got["gradient"], dx, atol=1e-8)
    ledger = got["ledger"]
    assert ledger["pixel"] == [10, 13] and ledger["windows"] == 25  # 5x5 windows, all inside
    assert ledger["total"] == pytest.approx(dx[10, 13], abs=1e-7)
    assert sum(e["value"] for e in ledger["entries"]) == pytest.approx(dx[10, 13], abs=1e-7)
    assert {tuple(e["tap"]) for e in ledger["entries"]} == {
        (a, b) for a in range(5) for b in range(5)
    }


def test_a_corner_pixel_is_read_by_one_window_and_the_middle_by_25(client):
    got = client.post("/api/backward?model=book&row=0&col=0", json={"pixels": _digit()}).json()
    overlap = np.array(got["overlap"])
    ones = np.ones((1, 1, 28, 28))
    col = im2col_by_image(ones, 5, 5)
    np.testing.assert_array_equal(overlap, col2im_by_image(col, ones.shape, 5, 5)[0, 0])
    assert overlap[0, 0] == 1 and overlap[14, 14] == 25 and overlap.max() == 25
    assert got["ledger"]["windows"] == 1 and got["ledger"]["entries"][0]["window"] == [0, 0]


def test_max_pool_sends_gradient_to_winners_only_and_lists_its_ties(client):
    got = client.post("/api/backward?model=book&channel=4", json={"pixels": _digit()}).json()
    pool = got["pool"]
    assert pool["layer"] == "pool1" and pool["channel"] == 4 and pool["size"] == [2, 2]
    din, x = np.array(pool["din"]), np.array(pool["input"])
    winners = {tuple(w) for row in pool["winners"] for w in row}
    receiving = {tuple(p) for p in np.argwhere(din != 0)}
    assert receiving <= winners
    dout = np.array(pool["dout"])
    for i, row in enumerate(pool["winners"]):
        for j, (r, c) in enumerate(row):
            assert din[r, c] == pytest.approx(dout[i, j], abs=1e-8)
            assert x[r, c] == x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].max()
    for i, j in pool["tied"]:
        window = x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
        assert (window == window.max()).sum() > 1
    assert pool["tied_windows"] == len(pool["tied"]) > 0  # blank background: tied zeros


def test_gradient_check_agrees_to_1e_6_in_float64_once_the_ties_are_jittered(client):
    got = client.post(
        "/api/gradient-check?model=book&pixels=16&weights=16&seed=3", json={"pixels": _digit()}
    ).json()
    assert got["dtype"] == "float64" and got["checked"] == 32
    assert got["max_relative_error"] <= 1e-6
    before, after = got["ties_before_jitter"][0], got["ties_after_jitter"][0]
    assert before["tied_with_gradient"] > 0  # the blank background ties whole windows
    assert after["tied_with_gradient"] == 0
    assert got["kinks"] <= 4


def test_without_jitter_the_ties_put_pixel_checks_on_kinks(client):
    got = client.post(
        "/api/gradient-check?model=book&pixels=8&weights=0&jitter=false",
        json={"pixels": _digit()},
    ).json()
    assert got["jitter"] == 0 and got["kinks"] > 0
    assert all(
        e["kink"] for e in got["entries"] if e["param"] == "x" and e["relative_error"] > 1e-4
    )


def test_the_default_model_passes_the_gradient_check_too(client):
    got = client.post("/api/gradient-check", json={"pixels": _digit()}).json()
    assert got["max_relative_error"] <= 1e-6, got["worst"]


def test_a_model_without_conv_layers_has_no_ledger(client):
    r = client.post("/api/backward?model=mlp", json={"pixels": _digit()})
    assert r.status_code == 422 and "conv" in r.json()["detail"]
    assert (
        client.post("/api/gradient-check?model=mlp", json={"pixels": _digit()}).status_code == 200
    )


def test_unknown_model_is_a_404(client):
    assert client.post("/api/backward?model=nope", json={"pixels": _digit()}).status_code == 404


@pytest.mark.parametrize("name", list(QUERIES))
def test_the_documented_examples_are_the_apps_own_answers(client, name):
    path, query = QUERIES[name]
    assert EXAMPLES[name]["query"] == query
    answer = client.post(f"{path}?{query}", json=example_body()).json()
    assert trimmed(answer) == EXAMPLES[name]["response"]
    spec = client.get("/openapi.json").json()["paths"][path]["post"]
    documented = spec["responses"]["200"]["content"]["application/json"]["example"]
    assert documented == EXAMPLES[name]["response"]


@pytest.mark.parametrize("target", range(10))
def test_every_class_of_the_loss_checks_to_1e_6_however_large_the_loss(client, target):
    got = client.post(
        f"/api/gradient-check?model=simple-he&target={target}&seed={target}",
        json={"pixels": _digit()},
    ).json()
    assert got["max_relative_error"] <= 1e-6, got["worst"]
    assert got["kinks"] <= 4
