"""Parity: the numbers the API returns are the engine's own forward pass on the same 28x28
input, for real MNIST test digits sent to the app."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.model.mnist import load_split
from app.model.storage import load_model
from tests.helpers.paths import MNIST_DIR, ROOT, SAMPLE_DIR

N_DIGITS = 8
ATOL = 1e-4  # the API rounds maps to 5 decimals, probabilities to 6


@pytest.fixture(scope="module")
def net():
    return load_model(ROOT / "models" / "simple_convnet.npz")[0]


@pytest.fixture(scope="module")
def digits():
    """(images (N, 28, 28) float32 0..1, labels): real MNIST test digits, one of each class
    where possible (the full set when it is there, else the sample the project ships)."""
    data_dir = MNIST_DIR if MNIST_DIR.is_dir() else SAMPLE_DIR
    images, labels, _ = load_split(data_dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    picks = [int(np.flatnonzero(labels == d)[0]) for d in range(10) if (labels == d).any()]
    picks = picks[:N_DIGITS]
    return images[picks, 0], labels[picks]


def _maps(body: dict, stage: str) -> np.ndarray:
    (found,) = [s for s in body["stages"] if s["name"] == stage]
    return np.array([m["values"] for m in found["maps"]], dtype=np.float64)


def test_explore_values_equal_the_engines_forward_pass(client, net, digits):
    images, labels = digits
    correct = 0
    for image, label in zip(images, labels, strict=True):
        pixels = image.tolist()
        r = client.post("/api/explore", params={"values": "true"}, json={"pixels": pixels})
        assert r.status_code == 200, r.text
        body = r.json()
        trace = net.trace(image[None, None])
        np.testing.assert_allclose(body["probabilities"], trace["probs"][0], atol=1e-5)
        np.testing.assert_allclose(body["logits"], trace["logits"][0], atol=ATOL)
        np.testing.assert_allclose(body["hidden"]["values"], trace["hidden"][0], atol=ATOL)
        for stage in ("conv", "relu", "pool"):
            np.testing.assert_allclose(_maps(body, stage), trace[stage][0], atol=ATOL)
        stages = {s["name"]: s for s in body["stages"]}
        assert stages["conv"]["min"] == pytest.approx(float(trace["conv"].min()), abs=1e-5)
        assert stages["pool"]["max"] == pytest.approx(float(trace["pool"].max()), abs=1e-5)
        assert body["label"] == int(trace["probs"][0].argmax())
        correct += body["label"] == label
    assert correct >= len(labels) - 1  # real digits: the network gets (nearly) all right


def test_predict_classifies_exactly_the_pixels_it_was_sent(client, net, digits):
    images, _ = digits
    for image in images:
        pixels = image.tolist()
        predicted = client.post("/api/predict", json={"pixels": pixels}).json()
        explored = client.post("/api/explore", json={"pixels": pixels}).json()
        np.testing.assert_allclose(predicted["input"]["pixels"], image, atol=6e-5)
        assert predicted["probabilities"] == explored["probabilities"]
        assert predicted["logits"] == explored["logits"]
        probs = net.trace(image[None, None])["probs"][0]
        np.testing.assert_allclose(predicted["probabilities"], probs, atol=1e-5)


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
        np.testing.assert_allclose(
            body["probabilities"], net.trace(image[None, None])["probs"][0], atol=1e-5
        )


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
    np.testing.assert_allclose(body["probabilities"], trace["probs"][0], atol=1e-3)
    np.testing.assert_allclose(body["logits"], trace["logits"][0], atol=1e-2)
    assert body["label"] == int(trace["probs"][0].argmax()) == 7
