"""Parity: the numbers the API returns are the engine's own forward pass on the same 28x28
input, for real MNIST test digits sent to the app, for every model of the zoo."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.model.mnist import load_split
from app.model.storage import load_model
from app.model.zoo import ZOO
from tests.helpers.models import default_model_id, model_file, require_model
from tests.helpers.paths import MNIST_DIR, SAMPLE_DIR

N_DIGITS = 8
ATOL = 1e-4  # the API rounds maps to 5 decimals, probabilities to 6


@pytest.fixture(scope="module")
def net():
    return load_model(model_file(default_model_id()))[0]


@pytest.fixture(scope="module")
def digits():
    """(images (N, 28, 28) float32 0..1, labels): real MNIST test digits, one of each class
    where possible (the full set when it is there, else the sample the project ships)."""
    data_dir = MNIST_DIR if MNIST_DIR.is_dir() else SAMPLE_DIR
    images, labels, _ = load_split(data_dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    picks = [int(np.flatnonzero(labels == d)[0]) for d in range(10) if (labels == d).any()]
    picks = picks[:N_DIGITS]
    return images[picks, 0], labels[picks]


def probs_of(net, image: np.ndarray) -> np.ndarray:
    return net.trace(image[None, None])[-1].value[0]


def check_explore_is_the_trace(body: dict, net, image: np.ndarray) -> None:
    """Every map stage and every flat layer of /api/explore?values=true is the activation of
    the same name in Network.trace, in the same order; logits and probabilities too."""
    trace = net.trace(image[None, None])
    by_name = {a.name: a for a in trace}
    maps = [a.name for a in trace if a.value.ndim == 4]
    flat = [a.name for a in trace[:-2] if a.value.ndim == 2]  # before the logits
    assert [s["name"] for s in body["stages"]] == maps
    assert [h["name"] for h in body["hidden"]] == flat
    for stage in body["stages"]:
        act = by_name[stage["name"]]
        assert stage["layer"] == act.index
        assert stage["kind"] == net.arch.layers[act.index].kind
        assert stage["shape"] == list(act.value.shape[1:])
        values = np.array([m["values"] for m in stage["maps"]], dtype=np.float64)
        np.testing.assert_allclose(values, act.value[0], atol=ATOL, err_msg=stage["name"])
        assert stage["min"] == pytest.approx(float(act.value.min()), abs=1e-5)
        assert stage["max"] == pytest.approx(float(act.value.max()), abs=1e-5)
    for hidden in body["hidden"]:
        act = by_name[hidden["name"]]
        assert hidden["kind"] == net.arch.layers[act.index].kind
        np.testing.assert_allclose(hidden["values"], act.value[0], atol=ATOL, err_msg=act.name)
    np.testing.assert_allclose(body["logits"], trace[-2].value[0], atol=ATOL)
    np.testing.assert_allclose(body["probabilities"], trace[-1].value[0], atol=1e-5)
    assert body["label"] == int(trace[-1].value[0].argmax())


def test_explore_values_equal_the_engines_forward_pass(client, net, digits):
    images, labels = digits
    correct = 0
    for image, label in zip(images, labels, strict=True):
        pixels = image.tolist()
        r = client.post("/api/explore", params={"values": "true"}, json={"pixels": pixels})
        assert r.status_code == 200, r.text
        body = r.json()
        assert [s["name"] for s in body["stages"]] == ["conv1", "relu1", "pool1"]
        check_explore_is_the_trace(body, net, image)
        correct += body["label"] == label
    assert correct >= len(labels) - 1  # real digits: the network gets (nearly) all right


@pytest.mark.parametrize("model_id", list(ZOO))
def test_explore_values_equal_the_forward_pass_of_every_model(client, model_id, digits):
    """model=ID: the chapter-8 net's six conv and three pool stages, the MLP's flat layers
    only, the book's weights: each is its own network's trace."""
    other, _ = load_model(require_model(model_id))
    images, _ = digits
    for image in images[:2]:
        r = client.post(
            "/api/explore",
            params={"values": "true", "model": model_id},
            json={"pixels": image.tolist()},
        )
        assert r.status_code == 200, r.text
        assert r.json()["model"] == model_id
        check_explore_is_the_trace(r.json(), other, image)


def test_predict_classifies_exactly_the_pixels_it_was_sent(client, net, digits):
    images, _ = digits
    for image in images:
        pixels = image.tolist()
        predicted = client.post("/api/predict", json={"pixels": pixels}).json()
        explored = client.post("/api/explore", json={"pixels": pixels}).json()
        np.testing.assert_allclose(predicted["input"]["pixels"], image, atol=6e-5)
        assert predicted["probabilities"] == explored["probabilities"]
        assert predicted["logits"] == explored["logits"]
        np.testing.assert_allclose(predicted["probabilities"], probs_of(net, image), atol=1e-5)


def test_an_mnist_digit_as_a_png_with_preprocessing_off_is_the_same_input(client, net, digits):
    """A 28x28 white-on-black PNG of the digit, preprocessing switched off: the API classifies
    the identical array (8-bit PNG keeps k/255 exactly) and returns the engine's numbers."""
    images, _ = digits
    for image in images[:3]:
        buf = io.BytesIO()
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(buf, "PNG")
        url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
        r = client.post(
            "/api/explore",
            params={"invert": "no", "crop": "false", "scale": "false", "center": "false"},
            json={"image": url},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        np.testing.assert_allclose(body["input"]["pixels"], image, atol=6e-5)
        np.testing.assert_allclose(body["probabilities"], probs_of(net, image), atol=1e-5)


def test_for_a_drawn_digit_the_numbers_are_the_forward_pass_of_the_input_shown(client, net):
    """Whatever preprocessing did, the probabilities belong to the 28x28 input the API shows."""
    canvas = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(canvas).line([(60, 60), (200, 60), (110, 230)], fill=0, width=16)
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    r = client.post("/api/explore", files={"file": ("seven.png", buf.getvalue(), "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    shown = np.array(body["input"]["pixels"], dtype=np.float32)  # rounded to 4 decimals
    trace = net.trace(shown[None, None])
    np.testing.assert_allclose(body["probabilities"], trace[-1].value[0], atol=1e-3)
    np.testing.assert_allclose(body["logits"], trace[-2].value[0], atol=1e-2)
    assert body["label"] == int(trace[-1].value[0].argmax()) == 7
