"""POST /api/attribute: every method for any model of the zoo, the proof beside each map, the
curves on request, the same numbers as the application layer, and 422s that name the limit."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from app.explorer.attribution import AttributionOptions, attribute
from app.explorer.models import load_one
from app.model.mnist import load_mnist
from app.model.zoo import ZOO
from tests.helpers.models import default_model_id, model_file, require_model
from tests.helpers.paths import SAMPLE_DIR

METHODS = [
    {"method": "gradient"},
    {"method": "gradient_x_input"},
    {"method": "smoothgrad", "samples": 8},
    {"method": "integrated_gradients", "steps": 32},
    {"method": "integrated_gradients", "steps": 32, "baseline": "mean"},
    {"method": "occlusion", "patch": 4, "stride": 4},
    {"method": "occlusion", "patch": 4, "stride": 4, "ink": "add"},
    {"method": "grad_cam"},
]


@pytest.fixture(scope="module")
def seven() -> list[list[float]]:
    """The first test digit, a 7, as 28x28 numbers (1 = ink)."""
    return load_mnist(SAMPLE_DIR).test_images[0, 0].round(4).tolist()


def post(client, pixels, **query):
    return client.post("/api/attribute", params=query, json={"pixels": pixels})


@pytest.mark.parametrize("query", METHODS, ids=lambda q: "-".join(map(str, q.values())))
def test_every_method_returns_a_28x28_map_with_its_proof(client, seven, query):
    r = post(client, seven, **query)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["model"] == default_model_id() and answer["method"] == query["method"]
    assert answer["target"] == answer["predicted"] == 7
    assert answer["maps"], answer["note"]
    for m in answer["maps"]:
        values = np.array(m["values"])
        assert values.shape == (28, 28)
        low, high = m["range"]
        assert low == -high and high == pytest.approx(np.abs(values).max(), rel=1e-5)
        assert m["png"].startswith("data:image/png;base64,")
        for curve in ("deletion", "insertion"):
            proof = m[curve]
            assert 0 <= proof["area"] <= 1 and 0 <= proof["random_area"] <= 1
            assert proof["verdict"] in ("better", "same", "worse") and proof["reading"]
        assert m["sanity"]["reference"] == "untrained"
        assert (m["completeness"] is not None) == (query["method"] == "integrated_gradients")
        assert m["curves"] is None


def test_grad_cam_answers_for_each_stage(client, seven):
    answer = post(client, seven, method="grad_cam").json()
    stages = [(m["name"], m["stage_shape"]) for m in answer["maps"]]
    assert stages == [("relu1", [24, 24]), ("pool1", [12, 12])]


def test_the_target_defaults_to_the_predicted_class_and_can_be_any(client, seven):
    label = client.post("/api/predict", json={"pixels": seven}).json()["label"]
    assert post(client, seven, method="gradient").json()["target"] == label
    three = post(client, seven, method="gradient", target=3).json()
    assert three["target"] == 3 and "P(3)" in three["maps"][0]["deletion"]["reading"]


def test_the_curves_come_on_request(client, seven):
    m = post(client, seven, method="gradient", curves="true", curve_pixels=50).json()["maps"][0]
    assert m["curves"]["pixels"] == list(range(51))
    assert m["deletion"]["area"] == pytest.approx(
        np.trapezoid(m["curves"]["deletion"]) / 50, abs=1e-5
    )
    assert m["deletion"]["value_at"] == m["curves"]["deletion"][30]


def test_the_api_gives_the_application_layers_numbers(client, seven):
    model = load_one(require_model(default_model_id()))
    untrained = load_one(require_model("untrained"))
    options = AttributionOptions("integrated_gradients", steps=32, curves=True)
    expected = attribute(model, np.array(seven, np.float32), options, untrained)
    got = post(client, seven, method="integrated_gradients", steps=32, curves="true").json()
    assert got == expected.model_dump(mode="json")


def test_a_drawn_picture_is_preprocessed_like_predict(client):
    img = Image.new("L", (140, 140), 255)
    img.paste(0, (60, 20, 80, 120))  # a dark "1" on white paper
    buf = io.BytesIO()
    img.save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    predicted = client.post("/api/predict", json={"image": url}).json()
    r = client.post("/api/attribute", params={"method": "gradient"}, files={"file": buf.getvalue()})
    assert r.status_code == 200, r.text
    assert r.json()["predicted"] == predicted["label"]


@pytest.mark.parametrize("model_id", list(ZOO))
def test_every_served_model_explains_itself(client, seven, model_id):
    require_model(model_id)
    if model_id not in client.get("/api/health").json()["models"]:
        pytest.skip(f"{model_id} was trained after the test server started")
    answer = post(client, seven, method="grad_cam", model=model_id).json()
    assert answer["model"] == model_id
    if load_one(model_file(model_id)).net.conv_layers():
        assert answer["maps"]
        if model_id != "untrained":  # which is its own reference, and says so
            assert answer["note"] is None
    else:
        assert answer["maps"] == [] and "no conv layers" in answer["note"]


@pytest.mark.parametrize(
    "query, words",
    [
        ({"method": "integrated_gradients", "steps": 513}, "over the limit of 512"),
        ({"method": "smoothgrad", "samples": 257}, "over the limit of 256"),
        ({"method": "occlusion", "patch": 1, "stride": 1}, "784 occlusion windows"),
        ({"method": "gradient", "curve_pixels": 785}, "over the limit of 784"),
        ({"method": "gradient", "target": 10}, "classes 0..9"),
        ({"method": "occlusion", "patch": 30}, "patch 30"),
        ({"method": "saliency"}, "method"),
    ],
)
def test_a_request_over_a_limit_is_a_422_that_names_it(client, seven, query, words):
    r = post(client, seven, **query)
    assert r.status_code == 422 and words in r.json()["detail"]


def test_a_call_over_the_compute_budget_is_a_422_that_says_what_to_lower(client, seven):
    require_model("book-deep")
    r = post(client, seven, method="integrated_gradients", steps=512, model="book-deep")
    assert r.status_code == 422
    assert (
        "over the limit of 20 billion" in r.json()["detail"]
        and "sanity=false" in r.json()["detail"]
    )


def test_a_limit_is_refused_before_the_body_is_read(client):
    r = client.post("/api/attribute", params={"method": "smoothgrad", "samples": 999}, content=b"")
    assert r.status_code == 422 and "samples" in r.json()["detail"]


def test_an_unknown_model_is_a_404(client, seven):
    r = post(client, seven, method="gradient", model="nope")
    assert r.status_code == 404 and "unknown model" in r.json()["detail"]


def test_the_route_is_documented(client):
    spec = client.get("/openapi.json").json()
    route = spec["paths"]["/api/attribute"]["post"]
    names = {p["name"] for p in route["parameters"]}
    assert {"method", "target", "model", "steps", "baseline", "patch", "stride", "ink"} <= names
    assert "422" in route["responses"]
