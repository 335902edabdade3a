"""How maps are coloured: one rule per response, and no sign washed out by the other.

/api/explore: every stage on a diverging scale with each sign scaled to its own extreme, so the
largest value is the darkest orange even when the most negative one is further from 0.
/api/convolve: every map in gray from its own minimum (black) to its own maximum (white), so the
identity kernel gives the picture back, never a false-colour version of it.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from tests.helpers.images import encode

DARKEST_PURPLE = (0x2D, 0x00, 0x4B)  # PuOr's ends: the server's render.py and the page's colors.js
DARKEST_ORANGE = (0x7F, 0x3B, 0x08)


def pixels_of(url: str) -> np.ndarray:
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    return np.asarray(img.convert("RGB"))


def drawn_seven() -> list:
    img = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(img).line([(7, 6), (21, 6), (12, 23)], fill=255, width=3)
    return (np.asarray(img) / 255.0).tolist()


def test_each_sign_of_the_conv_maps_reaches_its_own_end_of_the_scale(client):
    # simple-he's conv maps of this seven reach further below 0 than above it
    params = {"values": "true", "model": "simple-he"}
    body = client.post("/api/explore", params=params, json={"pixels": drawn_seven()}).json()
    stages = {s["name"]: s for s in body["stages"]}
    conv = stages["conv1"]
    values = np.array([m["values"] for m in conv["maps"]])
    low, high = values.min(), values.max()
    assert low < 0 < high and -low > high  # the case that washed the positives out
    assert conv["scale"] == "diverging"
    assert conv["range"] == [round(conv["min"], 6), round(conv["max"], 6)]
    assert conv["range"][0] < 0 < conv["range"][1] != -conv["range"][0]

    k, i, j = np.unravel_index(values.argmax(), values.shape)
    assert tuple(pixels_of(conv["maps"][k]["png"])[i, j]) == DARKEST_ORANGE
    k, i, j = np.unravel_index(values.argmin(), values.shape)
    assert tuple(pixels_of(conv["maps"][k]["png"])[i, j]) == DARKEST_PURPLE


def test_relu_keeps_the_colours_of_the_positive_conv_values(client):
    body = client.post("/api/explore", json={"pixels": drawn_seven()}).json()
    conv, relu, pool = body["stages"]
    assert relu["scale"] == pool["scale"] == conv["scale"]
    assert relu["range"] == [0.0, conv["range"][1]] == pool["range"]
    for c, r in zip(conv["maps"], relu["maps"], strict=True):
        before, after = pixels_of(c["png"]), pixels_of(r["png"])
        # where the conv map is orange (positive) ReLU changes nothing; elsewhere it is 0
        positive = before[..., 0].astype(int) - before[..., 2] > 8
        assert (after[positive] == before[positive]).all()


def gradient_with_a_square() -> bytes:
    ramp = np.tile(np.linspace(40, 200, 64, dtype=np.uint8), (48, 1))
    ramp[10:30, 20:40] = 10
    return encode(Image.fromarray(ramp, "L"))


def test_one_gray_rule_for_every_photo_map_and_identity_gives_the_picture_back(client):
    r = client.post(
        "/api/convolve",
        params={"kernels": "identity,sobel_x,gaussian", "values": "true", "relu": "false"},
        files={"file": ("ramp.png", gradient_with_a_square(), "image/png")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scale"] == "gray"
    assert "minimum" in body["scale_rule"] and "maximum" in body["scale_rule"]
    for m in body["maps"]:
        assert "scale" not in m  # stated once, for the whole response
        values = np.array(m["values"])
        assert m["range"] == [round(values.min(), 6), round(values.max(), 6)] or np.allclose(
            m["range"], [values.min(), values.max()], atol=1e-4
        )
        rgb = pixels_of(m["png"])
        assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
        gray = rgb[..., 0]
        assert gray[np.unravel_index(values.argmin(), values.shape)] == 0
        assert gray[np.unravel_index(values.argmax(), values.shape)] == 255
    identity = next(m for m in body["maps"] if m["name"] == "identity")
    picture = pixels_of(body["input_png"])[1:-1, 1:-1, 0].astype(int)
    shown = pixels_of(identity["png"])[..., 0].astype(int)
    # the identity map is the picture itself, only stretched to black..white
    assert np.corrcoef(picture.ravel(), shown.ravel())[0, 1] > 0.999
    assert shown[20, 30] < 10  # the dark square stays dark
