"""Many models on one server: GET /api/models, and `model=` on every route that runs a network
(predict, explore, convolve, filters, model), for every model of the zoo the server holds.

A zoo file not trained yet is not served; its tests skip and name the command that makes it.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

import numpy as np
import pytest

from app.model.architecture import mlp
from app.model.filter_stats import filter_structure
from app.model.network import Network
from app.model.storage import load_model, save_model
from app.model.zoo import ZOO
from tests.helpers.app import app_client
from tests.helpers.models import MODELS_DIR, default_model_id, model_file, require_model

ATOL = 1e-4  # maps are rounded to 5 decimals, convolutions to 4


def a_one() -> list[list[float]]:
    """A 28x28 MNIST-like '1', 1 = ink."""
    px = np.zeros((28, 28))
    px[4:24, 13:16] = 1.0
    return px.tolist()


def a_seven() -> list[list[float]]:
    px = np.zeros((28, 28))
    px[6:9, 7:22] = 1.0
    for row in range(9, 24):
        px[row, 20 - (row - 9) // 2 : 23 - (row - 9) // 2] = 1.0
    return px.tolist()


@cache
def network(model_id: str) -> Network:
    return load_model(model_file(model_id))[0]


@pytest.fixture(scope="module")
def served(client) -> dict[str, dict]:
    r = client.get("/api/models")
    assert r.status_code == 200, r.text
    return {m["id"]: m for m in r.json()}


@pytest.fixture(params=list(ZOO))
def model_id(request, served) -> str:
    """Every zoo id whose file the server holds."""
    require_model(request.param)
    if request.param not in served:
        pytest.skip(f"{request.param} was trained after the test server started")
    return request.param


def has_conv(model_id: str) -> bool:
    return any(layer.kind == "conv" for layer in ZOO[model_id].arch.layers)


def conv_names(model_id: str) -> list[str]:
    arch = ZOO[model_id].arch
    return [n for n, layer in zip(arch.names(), arch.layers, strict=True) if layer.kind == "conv"]


# ------------------------------------------------------------------ GET /api/models


def test_models_lists_every_file_in_models_in_zoo_order_with_one_default(served):
    files = {p.stem for p in MODELS_DIR.glob("*.npz")}
    assert set(served) == files
    assert list(served) == [m for m in ZOO if m in files]
    assert [m for m, info in served.items() if info["default"]] == [default_model_id()]


def test_each_listed_model_describes_its_own_file(served, model_id):
    info, net = served[model_id], network(model_id)
    _, meta = load_model(model_file(model_id))
    entry = ZOO[model_id]
    assert (info["title"], info["shows"]) == (entry.title, entry.shows)
    assert info["architecture"] == net.arch.summary()
    assert info["param_count"] == net.arch.param_count()
    assert sum(layer["params"] for layer in info["layers"]) == info["param_count"]
    assert [layer["name"] for layer in info["layers"]] == ["input", *net.arch.names()]
    assert [layer["output_shape"] for layer in info["layers"][1:]] == [
        list(s) for s in net.arch.shapes
    ]
    assert info["file"] == f"{model_id}.npz"
    assert info["sha256"] == hashlib.sha256(model_file(model_id).read_bytes()).hexdigest()
    assert info["test_accuracy"] == meta["test_accuracy"]
    assert info["per_class_accuracy"] == meta["per_class_accuracy"]
    assert info["has_initial"] == (entry.source != "book")
    if not has_conv(model_id):
        assert info["filter_structure"] is None
        return
    W1 = net.weights_of(net.conv_layers()[0])[0]
    stats = filter_structure(W1)
    assert info["filter_structure"]["layer"] == "conv1"
    assert info["filter_structure"]["median_neighbour_correlation"] == pytest.approx(
        stats["median_neighbour"], abs=1e-4
    )
    assert (info["filter_structure"]["median_start_correlation"] is None) == (
        entry.source == "book"
    )


# ------------------------------------------------------------------ model= on every route


def test_predict_runs_the_chosen_model(client, model_id):
    r = client.post("/api/predict", params={"model": model_id}, json={"pixels": a_seven()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == model_id
    x = np.array(a_seven(), np.float32)[None, None]
    np.testing.assert_allclose(body["logits"], network(model_id).predict(x)[0], atol=ATOL)


def test_explore_shows_the_stages_of_the_chosen_model(client, model_id):
    r = client.post("/api/explore", params={"model": model_id}, json={"pixels": a_seven()})
    assert r.status_code == 200, r.text
    body = r.json()
    arch = ZOO[model_id].arch
    names, shapes = arch.names(), arch.shapes
    assert body["model"] == model_id
    assert [s["name"] for s in body["stages"]] == [
        n for n, s in zip(names, shapes, strict=True) if len(s) == 3
    ]
    assert [s["shape"] for s in body["stages"]] == [list(s) for s in shapes if len(s) == 3]
    flat = [n for n, s in zip(names[:-2], shapes[:-2], strict=True) if len(s) == 1]
    assert [h["name"] for h in body["hidden"]] == flat


def test_convolve_lends_the_chosen_models_first_layer_filters(client, model_id):
    params = {"model": model_id, "kernels": "learned", "values": "true"}
    r = client.post("/api/convolve", params=params, json={"pixels": a_one()})
    if not has_conv(model_id):
        assert r.status_code == 422
        assert "no conv layers" in r.json()["detail"]
        return
    assert r.status_code == 200, r.text
    net = network(model_id)
    first = net.conv_layers()[0]
    W, b = net.weights_of(first)
    conv1 = net.trace(np.array(a_one(), np.float32)[None, None])[first].value[0]
    layer = net.arch.layers[first]
    assert layer.stride == 1 and layer.pad in (0, 1)
    got = np.array([m["values"] for m in r.json()["maps"]])
    assert len(got) == len(W)
    # /api/convolve uses its own stride and pad (1 and 0 here) and, by default, no bias
    want = conv1 - b[:, None, None]
    if layer.pad:
        want = want[:, layer.pad : -layer.pad, layer.pad : -layer.pad]
    np.testing.assert_allclose(got, want, atol=2e-4)


def test_filters_serves_every_conv_layer_of_the_chosen_model(client, model_id):
    if not has_conv(model_id):
        r = client.get("/api/filters", params={"model": model_id})
        assert r.status_code == 404
        assert "no conv layers" in r.json()["detail"]
        return
    net = network(model_id)
    names = conv_names(model_id)
    for index, name in zip(net.conv_layers(), names, strict=True):
        r = client.get("/api/filters", params={"model": model_id, "layer": name})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["model"], body["layer"], body["conv_layers"]) == (model_id, name, names)
        W, b = net.weights_of(index)
        learned = body["learned"]
        assert learned["shape"] == list(W.shape)
        weights = np.array([f["weights"] for f in learned["filters"]])  # (FN, C, FH, FW)
        np.testing.assert_allclose(weights, W, atol=1e-5)
        np.testing.assert_allclose([f["bias"] for f in learned["filters"]], b, atol=1e-5)
        assert {len(f["channels"]) for f in learned["filters"]} == {W.shape[1]}
        if ZOO[model_id].source == "book":
            assert body["initial"] is None
            assert body["structure"]["start_correlation"] is None
        else:
            assert body["initial"]["shape"] == list(W.shape)
            assert len(body["structure"]["start_correlation"]) == len(W)


def test_model_describes_the_chosen_model(client, served, model_id):
    r = client.get("/api/model", params={"model": model_id})
    assert r.status_code == 200, r.text
    info = r.json()
    arch = network(model_id).arch
    assert info["id"] == model_id
    assert info["total_params"] == arch.param_count()
    assert info["config"] == json.loads(json.dumps(arch.to_dict()))
    assert info["layers"] == served[model_id]["layers"]
    assert info["sha256"] == served[model_id]["sha256"]


def test_a_request_without_model_gets_the_default(client):
    payload = {"pixels": a_seven()}
    default = client.post("/api/explore", json=payload).json()
    named = client.post("/api/explore", params={"model": default_model_id()}, json=payload).json()
    assert default == named
    assert client.get("/api/model").json()["id"] == default_model_id()
    assert client.get("/api/filters").json()["model"] == default_model_id()


# ------------------------------------------------------------------ other models, other numbers


def test_different_models_give_different_logits_for_the_same_digit(client, served):
    logits = {}
    for model_id in served:
        r = client.post("/api/predict", params={"model": model_id}, json={"pixels": a_seven()})
        assert r.status_code == 200, r.text
        logits[model_id] = tuple(r.json()["logits"])
    assert len(set(logits.values())) == len(logits), logits


def test_the_same_network_with_other_weights_gives_other_maps_and_pixel_ledgers(client, served):
    """simple-he and the book's weights share SimpleConvNet's layers: the same stages, other
    numbers; the filters a pixel's ledger multiplies by differ too."""
    for model_id in ("simple-he", "book"):
        require_model(model_id)
    params = {"values": "true"}
    maps, filters = {}, {}
    for model_id in ("simple-he", "book"):
        body = client.post(
            "/api/explore", params={**params, "model": model_id}, json={"pixels": a_seven()}
        ).json()
        assert [s["name"] for s in body["stages"]] == ["conv1", "relu1", "pool1"]
        maps[model_id] = np.array([m["values"] for m in body["stages"][0]["maps"]])
        f = client.get("/api/filters", params={"model": model_id}).json()
        filters[model_id] = np.array([x["weights"] for x in f["learned"]["filters"]])
    assert maps["simple-he"].shape == maps["book"].shape == (30, 24, 24)
    assert np.abs(maps["simple-he"] - maps["book"]).max() > 0.1
    assert filters["simple-he"].shape == filters["book"].shape == (30, 1, 5, 5)
    assert np.abs(filters["simple-he"] - filters["book"]).max() > 0.1


# ------------------------------------------------------------------ unknown models and layers


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("post", "/api/predict"),
        ("post", "/api/explore"),
        ("post", "/api/convolve"),
        ("get", "/api/filters"),
        ("get", "/api/model"),
    ],
)
def test_an_unknown_model_is_404_naming_the_known_ones(client, served, method, route):
    kwargs = {"json": {"pixels": a_one()}} if method == "post" else {}
    r = getattr(client, method)(route, params={"model": "resnet-50"}, **kwargs)
    assert r.status_code == 404, r.text
    detail = r.json()["detail"]
    assert "unknown model 'resnet-50'" in detail
    for model_id in served:
        assert model_id in detail


@pytest.mark.parametrize("layer", ["conv7", "pool1", "affine1", "W1"])
def test_an_unknown_conv_layer_is_404_listing_the_models_conv_layers(client, layer):
    require_model("book-deep")
    r = client.get("/api/filters", params={"model": "book-deep", "layer": layer})
    assert r.status_code == 404, r.text
    detail = r.json()["detail"]
    assert f"no conv layer {layer!r}" in detail
    assert "conv1, conv2, conv3, conv4, conv5, conv6" in detail


def test_a_model_id_longer_than_any_id_is_422(client):
    r = client.get("/api/model", params={"model": "x" * 41})
    assert r.status_code == 422


# ------------------------------------------------------------------ a model without conv layers


@pytest.fixture(scope="module")
def mlp_only(tmp_path_factory):
    """A server whose zoo is one fully connected net (Fig. 7-1), trained or not: what a page
    gets from a model with no filters to show."""
    folder = tmp_path_factory.mktemp("zoo")
    save_model(Network.initial(mlp(), 0), folder / "mlp.npz", {"id": "mlp", "seed": 0})
    with app_client(models_dir=folder, default_model="mlp", model_path=None) as c:
        yield c


def test_a_model_without_conv_layers_lends_no_learned_filters(mlp_only):
    r = mlp_only.post("/api/convolve", params={"kernels": "learned"}, json={"pixels": a_one()})
    assert r.status_code == 422
    assert "no conv layers" in r.json()["detail"]
    # the classic kernels do not need the model's filters
    r = mlp_only.post("/api/convolve", params={"kernels": "sobel_x"}, json={"pixels": a_one()})
    assert r.status_code == 200, r.text


def test_a_model_without_conv_layers_has_no_filters_to_show(mlp_only):
    r = mlp_only.get("/api/filters")
    assert r.status_code == 404
    assert "no conv layers" in r.json()["detail"]


def test_a_model_without_conv_layers_is_explored_by_its_flat_layers_alone(mlp_only):
    r = mlp_only.post("/api/explore", json={"pixels": a_one()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stages"] == []
    assert [h["name"] for h in body["hidden"]] == ["affine1", "relu1", "affine2", "relu2"]
    assert [h["size"] for h in body["hidden"]] == [100, 100, 100, 100]
    (info,) = mlp_only.get("/api/models").json()
    assert info["filter_structure"] is None and info["default"] is True
