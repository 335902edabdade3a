"""The REST API, in process through FastAPI's TestClient: every route, every input form,
response shapes and the numbers behind them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.model.storage import load_model
from tests.helpers.images import data_url, encode
from tests.helpers.models import MODELS_DIR, default_model_id, model_file

MODEL = model_file(default_model_id())  # what a request without `model=` gets
PNG_PREFIX = "data:image/png;base64,"
IMAGE_ROUTES = ("/api/predict", "/api/explore", "/api/convolve")


# ------------------------------------------------------------------ helpers


def png_of(url: str) -> Image.Image:
    """The image inside a PNG data URL; fails unless it is a real, complete PNG."""
    assert url.startswith(PNG_PREFIX), url[:40]
    img = Image.open(io.BytesIO(base64.b64decode(url[len(PNG_PREFIX) :], validate=True)))
    img.load()
    assert img.format == "PNG"
    return img


def canvas_one(dx: int = 0, dy: int = 0, width: int = 20, mode: str = "RGB") -> Image.Image:
    """A '1' drawn the way the page's canvas sends it: black ink on a white 280x280 canvas
    (mode RGBA: black ink on a transparent canvas), off-centre by (dx, dy)."""
    if mode == "RGBA":
        img = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
        ink = (0, 0, 0, 255)
    else:
        img = Image.new(mode, (280, 280), "white")
        ink = "black"
    ImageDraw.Draw(img).line([(110 + dx, 50 + dy), (122 + dx, 200 + dy)], fill=ink, width=width)
    return img


def canvas_seven(dx: int = 0, dy: int = 0) -> Image.Image:
    """A '7' (its centre of mass is not its box's middle), black on a white 280x280 canvas."""
    img = Image.new("RGB", (280, 280), "white")
    points = [(80 + dx, 60 + dy), (190 + dx, 60 + dy), (120 + dx, 220 + dy)]
    ImageDraw.Draw(img).line(points, fill="black", width=18, joint="curve")
    return img


def stroke_pixels() -> list[list[float]]:
    """A 28x28 MNIST-like '1': a vertical bar, 1 = ink."""
    px = np.zeros((28, 28))
    px[4:24, 13:16] = 1.0
    return px.tolist()


@pytest.fixture(scope="module")
def net():
    return load_model(MODEL)[0]


def check_prediction(body: dict) -> None:
    probs = np.array(body["probabilities"])
    assert probs.shape == (10,)
    assert np.all(probs >= 0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)
    assert len(body["logits"]) == 10
    assert body["label"] == int(np.argmax(probs)) == int(np.argmax(body["logits"]))
    top = body["top"]
    assert [t["digit"] for t in top][0] == body["label"]
    assert [t["probability"] for t in top] == sorted((t["probability"] for t in top), reverse=True)
    pixels = np.array(body["input"]["pixels"])
    assert pixels.shape == (28, 28)
    assert pixels.min() >= 0 and pixels.max() <= 1
    shown = png_of(body["input"]["png"])
    assert shown.size == (28, 28)
    # the picture of the input is the input: 8-bit gray, white ink
    assert np.abs(np.asarray(shown.convert("L")) / 255 - pixels).max() <= 1 / 255 + 1e-4
    for stage in body["preprocessing"]["stages"]:
        assert png_of(stage["png"]).size == (stage["width"], stage["height"])
    assert isinstance(body["warnings"], list)


# ------------------------------------------------------------------ model info routes


def test_health_names_the_default_model_and_every_model_by_sha256(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["model"] == default_model_id()
    assert body["model_sha256"] == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    files = {p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in MODELS_DIR.glob("*.npz")}
    assert body["models"] == files


def test_model_info_layers_parameters_history_and_accuracy(client):
    r = client.get("/api/model")
    assert r.status_code == 200
    info = r.json()
    params = [layer["params"] for layer in info["layers"]]
    expected = (30 * 1 * 5 * 5 + 30) + (4320 * 100 + 100) + (100 * 10 + 10)
    assert expected == 433_890
    assert sum(params) == info["total_params"] == expected
    assert sorted(p for p in params if p) == [780, 1010, 432_100]
    shapes = [layer["output_shape"] for layer in info["layers"]]
    assert shapes[0] == [1, 28, 28]
    for shape in ([30, 24, 24], [30, 12, 12], [100], [10]):
        assert shape in shapes
    assert shapes[-1] == [10]
    assert info["history"], "the training history is empty"
    assert all("epoch" in h for h in info["history"])
    assert info["test_accuracy"] >= 0.99
    assert len(info["per_class_accuracy"]) == 10
    assert info["id"] == default_model_id()
    conv = {"type": "conv", "filters": 30, "size": [5, 5], "stride": 1, "pad": 0}
    assert info["config"]["layers"][0] == conv
    assert info["sha256"] == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    assert info["architecture"].startswith("conv 30 5x5 - relu - max pool 2x2 - affine 100")
    conv1 = info["layers"][1]
    assert (conv1["name"], conv1["size"], conv1["stride"], conv1["pad"]) == ("conv1", [5, 5], 1, 0)
    assert conv1["param_names"] == ["W1", "b1"]


def test_filters_are_the_model_weights_and_differ_from_the_initial_ones(client, net):
    r = client.get("/api/filters")
    assert r.status_code == 200
    body = r.json()
    assert (body["model"], body["layer"], body["conv_layers"]) == (
        default_model_id(),
        "conv1",
        ["conv1"],
    )
    learned, initial = body["learned"], body["initial"]
    assert learned["shape"] == initial["shape"] == [30, 1, 5, 5]
    assert len(learned["filters"]) == len(initial["filters"]) == 30
    W = np.array([f["weights"] for f in learned["filters"]])  # each (C, FH, FW)
    b = np.array([f["bias"] for f in learned["filters"]])
    np.testing.assert_allclose(W, net.params["W1"], atol=1e-5)
    np.testing.assert_allclose(b, net.params["b1"], atol=1e-6)
    W0 = np.array([f["weights"] for f in initial["filters"]])
    assert W0.shape == (30, 1, 5, 5)
    assert np.abs(W - W0).mean() > 0.01, "training did not move the filters?"
    low, high = learned["range"]
    assert low == -high and high >= np.abs(W).max() - 1e-5
    assert [f["index"] for f in learned["filters"]] == list(range(30))
    for f in learned["filters"] + initial["filters"]:
        assert len(f["channels"]) == 1  # one picture per input channel
        assert png_of(f["channels"][0]).size == (5, 5)
    structure = body["structure"]
    assert len(structure["neighbour_correlation"]) == len(structure["start_correlation"]) == 30
    assert structure["median_neighbour_correlation"] == pytest.approx(
        np.median(structure["neighbour_correlation"]), abs=1e-4
    )


def test_kernels_list_the_classic_kernels_with_their_weights(client):
    r = client.get("/api/kernels")
    assert r.status_code == 200
    kernels = {k["name"]: k for k in r.json()}
    assert {"sobel_x", "sobel_y", "laplacian", "gaussian"} <= set(kernels)
    assert kernels["sobel_x"]["weights"] == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert np.array(kernels["sobel_y"]["weights"]).T.tolist() == kernels["sobel_x"]["weights"]
    assert sum(map(sum, kernels["gaussian"]["weights"])) == pytest.approx(1.0, abs=1e-5)
    assert all(k["title"] for k in kernels.values())


# ------------------------------------------------------------------ conv-output-size


@pytest.mark.parametrize(
    ("query", "oh", "ow", "exact_h", "exact_w"),
    [
        ({"H": 28, "W": 28, "FH": 5, "FW": 5, "P": 0, "S": 1}, 24, 24, True, True),
        ({"H": 28, "W": 28, "FH": 5, "FW": 5, "P": 2, "S": 1}, 28, 28, True, True),
        ({"H": 7, "W": 7, "FH": 3, "FW": 3, "P": 0, "S": 2}, 3, 3, True, True),
        ({"H": 4, "W": 4, "FH": 3, "FW": 3, "P": 1, "S": 1}, 4, 4, True, True),  # the book's
        ({"H": 28, "W": 28, "FH": 5, "FW": 5, "P": 0, "S": 2}, 12, 12, False, False),
        ({"H": 28, "W": 27, "FH": 5, "FW": 5, "P": 0, "S": 2}, 12, 12, False, True),
        ({"H": 5, "W": 5, "FH": 5, "FW": 5, "P": 0, "S": 3}, 1, 1, True, True),
    ],
)
def test_conv_output_size_follows_the_formula(client, query, oh, ow, exact_h, exact_w):
    r = client.get("/api/conv-output-size", params=query)
    assert r.status_code == 200, r.text
    body = r.json()
    H, W, FH, FW, P, S = (query[k] for k in ("H", "W", "FH", "FW", "P", "S"))
    assert body["OH"] == oh == (H + 2 * P - FH) // S + 1
    assert body["OW"] == ow == (W + 2 * P - FW) // S + 1
    assert (body["exact_h"], body["exact_w"]) == (exact_h, exact_w)
    assert body["exact"] == (exact_h and exact_w)
    assert body["formula_h"].endswith(f"-> {oh}")
    assert f"({H} + 2*{P} - {FH}) / {S} + 1" in body["formula_h"]
    if not exact_h:
        assert f"{(H + 2 * P - FH) / S + 1:g}" in body["formula_h"]


def test_conv_output_size_defaults_are_the_networks_first_layer(client):
    body = client.get("/api/conv-output-size").json()
    assert (body["OH"], body["OW"], body["exact"]) == (24, 24, True)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"H": 3, "FH": 5}, ["FH=5", "larger", "H+2P=3"]),
        ({"W": 4, "FW": 7, "P": 1}, ["FW=7", "larger", "W+2P=6"]),
        ({"S": 0}, ["S", "greater than or equal to 1"]),
        ({"P": -1}, ["P", "greater than or equal to 0"]),
        ({"H": 0}, ["H", "greater than or equal to 1"]),
        ({"H": "abc"}, ["H", "integer"]),
    ],
)
def test_conv_output_size_impossible_shapes_are_422(client, query, words):
    r = client.get("/api/conv-output-size", params=query)
    assert r.status_code == 422
    detail = r.json()["detail"]
    text = detail if isinstance(detail, str) else json.dumps(detail)
    for word in words:
        assert word in text, text


# ------------------------------------------------------------------ input forms


def test_every_input_form_gives_the_same_answer_for_the_same_picture(client):
    png = encode(canvas_one(dx=-40, dy=25))
    forms = {
        "multipart": {"files": {"file": ("one.png", png, "image/png")}},
        "data_url": {"json": {"image": data_url(png)}},
        "raw": {"content": png, "headers": {"content-type": "image/png"}},
    }
    answers = {}
    for name, kwargs in forms.items():
        r = client.post("/api/predict", **kwargs)
        assert r.status_code == 200, (name, r.text)
        body = r.json()
        check_prediction(body)
        answers[name] = body
    assert answers["multipart"]["label"] == 1
    assert answers["multipart"] == answers["data_url"] == answers["raw"]
    assert answers["multipart"]["preprocessing"]["inverted"] is True


def test_pixels_input_is_classified_as_sent(client):
    pixels = stroke_pixels()
    r = client.post("/api/predict", json={"pixels": pixels})
    assert r.status_code == 200, r.text
    body = r.json()
    check_prediction(body)
    assert body["label"] == 1
    assert body["input"]["pixels"] == pixels
    assert [s["name"] for s in body["preprocessing"]["stages"]] == ["pixels"]
    assert body["preprocessing"]["inverted"] is False


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "BMP", "WEBP", "TIFF"])
def test_other_image_formats_are_read(client, fmt):
    data = encode(canvas_one(dx=30, width=18), fmt)
    r = client.post("/api/predict", files={"file": (f"one.{fmt.lower()}", data, "image/x")})
    assert r.status_code == 200, r.text
    assert r.json()["label"] == 1


def test_a_transparent_canvas_reads_as_ink_on_paper(client):
    """canvas.toDataURL() of black strokes on a cleared canvas: RGBA, background alpha 0."""
    rgba = client.post("/api/predict", json={"image": data_url(encode(canvas_one(mode="RGBA")))})
    white = client.post("/api/predict", json={"image": data_url(encode(canvas_one(mode="RGB")))})
    assert rgba.status_code == white.status_code == 200
    assert rgba.json()["label"] == 1
    np.testing.assert_allclose(rgba.json()["input"]["pixels"], white.json()["input"]["pixels"])


def test_the_same_digit_off_centre_thick_or_thin_gives_the_same_input(client):
    """Preprocessing puts every drawing of the same stroke in the same 28x28 place."""
    inputs = []
    for dx, dy in [(-80, -40), (0, 0), (90, 60)]:
        r = client.post("/api/predict", json={"image": data_url(encode(canvas_one(dx, dy)))})
        assert r.status_code == 200
        assert r.json()["label"] == 1
        inputs.append(np.array(r.json()["input"]["pixels"]))
    assert np.abs(inputs[0] - inputs[1]).max() < 0.05
    assert np.abs(inputs[2] - inputs[1]).max() < 0.05
    com = [(np.arange(28) @ a.sum(1)) / a.sum() for a in inputs]
    assert all(abs(c - 13.5) <= 1 for c in com)


# ------------------------------------------------------------------ explore


def test_explore_returns_every_stage_hidden_and_logits(client):
    r = client.post("/api/explore", json={"image": data_url(encode(canvas_one(dx=50)))})
    assert r.status_code == 200, r.text
    body = r.json()
    check_prediction(body)
    stages = {s["name"]: s for s in body["stages"]}
    assert list(stages) == ["conv1", "relu1", "pool1"]
    assert [(s["kind"], s["layer"]) for s in body["stages"]] == [
        ("conv", 0),
        ("relu", 1),
        ("pool", 2),
    ]
    expect = {"conv1": [30, 24, 24], "relu1": [30, 24, 24], "pool1": [30, 12, 12]}
    for name, stage in stages.items():
        assert stage["shape"] == expect[name]
        assert len(stage["maps"]) == 30
        assert [m["index"] for m in stage["maps"]] == list(range(30))
        side = expect[name][1]
        for m in stage["maps"]:
            assert m["values"] is None  # only with values=true
            assert png_of(m["png"]).size == (side, side)
        assert stage["min"] <= stage["max"]
    # one diverging scale, each sign to its own extreme (tests/api/test_colour_scales.py)
    assert stages["conv1"]["scale"] == stages["relu1"]["scale"] == stages["pool1"]["scale"]
    assert stages["conv1"]["range"] == [stages["conv1"]["min"], stages["conv1"]["max"]]
    assert stages["relu1"]["min"] >= 0 and stages["pool1"]["min"] >= 0
    # the flat layers before the logits: affine 100 and its ReLU, each a 10 x 10 picture
    affine, relu = body["hidden"]
    assert [(h["name"], h["kind"]) for h in body["hidden"]] == [
        ("affine1", "affine"),
        ("relu2", "relu"),
    ]
    for hidden in (affine, relu):
        assert hidden["size"] == len(hidden["values"]) == 100
        assert hidden["grid"] == [10, 10]
        assert png_of(hidden["png"]).size == (10, 10)
    assert min(relu["values"]) >= 0 and min(affine["values"]) < 0
    np.testing.assert_allclose(relu["values"], np.maximum(affine["values"], 0))
    assert body["model"] == default_model_id()


def test_explore_values_are_consistent_across_stages(client):
    r = client.post("/api/explore", params={"values": "true"}, json={"pixels": stroke_pixels()})
    assert r.status_code == 200, r.text
    stages = {s["name"]: s for s in r.json()["stages"]}
    conv = np.array([m["values"] for m in stages["conv1"]["maps"]])
    relu = np.array([m["values"] for m in stages["relu1"]["maps"]])
    pool = np.array([m["values"] for m in stages["pool1"]["maps"]])
    assert conv.shape == relu.shape == (30, 24, 24)
    assert pool.shape == (30, 12, 12)
    np.testing.assert_allclose(relu, np.maximum(conv, 0), atol=1e-5)
    np.testing.assert_allclose(pool, relu.reshape(30, 12, 2, 12, 2).max(axis=(2, 4)), atol=1e-5)
    assert stages["conv1"]["min"] == pytest.approx(conv.min(), abs=1e-4)
    assert stages["conv1"]["max"] == pytest.approx(conv.max(), abs=1e-4)
    assert stages["pool1"]["max"] == pytest.approx(pool.max(), abs=1e-4)


def test_explore_and_predict_agree(client):
    payload = {"image": data_url(encode(canvas_one(dx=-20, dy=30)))}
    predicted = client.post("/api/predict", json=payload).json()
    explored = client.post("/api/explore", json=payload).json()
    for key in ("model", "label", "probabilities", "logits", "top", "input", "preprocessing"):
        assert predicted[key] == explored[key], key


# ------------------------------------------------------------------ preprocessing toggles


def _stage_names(body):
    return [s["name"] for s in body["preprocessing"]["stages"]]


def test_preprocessing_toggles_change_the_stages_and_the_classified_input(client):
    seven = canvas_seven(dx=-60, dy=40)
    payload = {"image": data_url(encode(seven))}
    results = {}
    for name, params in {
        "all": {},
        "no_crop": {"crop": "false"},
        "no_scale": {"scale": "false"},
        "no_center": {"center": "false"},
        "none": {"crop": "false", "scale": "false", "center": "false"},
    }.items():
        r = client.post("/api/predict", params=params, json=payload)
        assert r.status_code == 200, (name, r.text)
        results[name] = r.json()
    assert _stage_names(results["all"]) == ["input", "polarity", "cropped", "scaled", "centered"]
    assert "cropped" not in _stage_names(results["no_crop"])
    assert "scaled" not in _stage_names(results["no_scale"])
    assert _stage_names(results["no_center"])[-1] == "placed"
    assert _stage_names(results["none"]) == ["input", "polarity", "placed"]
    base = np.array(results["all"]["input"]["pixels"])
    for name in ("no_crop", "no_scale", "no_center", "none"):
        other = np.array(results[name]["input"]["pixels"])
        assert np.abs(other - base).max() > 0.5, f"{name} classified the same input"
    # without cropping and scaling, the network sees the middle 28x28 of the 280x280 canvas
    ink = 1 - np.asarray(seven.convert("L"), dtype=np.float32) / 255
    np.testing.assert_allclose(results["none"]["input"]["pixels"], ink[126:154, 126:154], atol=1e-4)
    assert results["all"]["label"] == 7


def test_invert_option(client):
    black_on_white = {"image": data_url(encode(canvas_one()))}
    auto = client.post("/api/predict", json=black_on_white).json()
    forced_no = client.post("/api/predict", params={"invert": "no"}, json=black_on_white).json()
    assert auto["preprocessing"]["inverted"] is True
    assert forced_no["preprocessing"]["inverted"] is False
    assert auto["input"]["pixels"] != forced_no["input"]["pixels"]
    assert any("background is light" in w for w in forced_no["warnings"])
    # white ink on black, like MNIST itself: auto leaves it alone, yes inverts it
    mnist_like = Image.eval(canvas_one().convert("L"), lambda v: 255 - v)
    white_on_black = {"image": data_url(encode(mnist_like))}
    auto2 = client.post("/api/predict", json=white_on_black).json()
    assert auto2["preprocessing"]["inverted"] is False
    assert auto2["label"] == 1
    np.testing.assert_allclose(auto2["input"]["pixels"], auto["input"]["pixels"], atol=1e-4)
    yes = client.post("/api/predict", params={"invert": "yes"}, json=white_on_black).json()
    assert yes["preprocessing"]["inverted"] is True
    bad = client.post("/api/predict", params={"invert": "maybe"}, json=white_on_black)
    assert bad.status_code == 422


# ------------------------------------------------------------------ convolve


def _maps(body):
    return {m["name"]: m for m in body["maps"]}


def test_convolve_with_the_learned_filters_matches_the_networks_first_layer(client, net):
    pixels = stroke_pixels()
    x = np.array(pixels, dtype=np.float32)[None, None]
    conv = net.trace(x)[0].value[0]  # conv1, including the bias b1
    b1 = net.params["b1"]
    for bias in (False, True):
        r = client.post(
            "/api/convolve",
            params={"kernels": "learned", "values": "true", "bias": str(bias).lower()},
            json={"pixels": pixels},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["input_shape"] == [1, 28, 28]
        assert (body["stride"], body["pad"]) == (1, 0)
        assert [m["name"] for m in body["maps"]] == [f"learned_{i}" for i in range(30)]
        assert body["macs"] == 30 * 24 * 24 * 25
        got = np.array([m["values"] for m in body["maps"]])
        want = conv if bias else conv - b1[:, None, None]
        np.testing.assert_allclose(got, want, atol=2e-4)
        for m in body["maps"]:
            assert m["shape"] == [24, 24] and m["exact"] is True
            assert png_of(m["png"]).size == (24, 24)
        assert png_of(body["input_png"]).size == (28, 28)


def test_convolve_classic_kernels_find_the_edges(client):
    """A step from 0 (left) to 1 (right): Sobel x answers 4 on the edge, Sobel y nothing."""
    step = np.zeros((28, 28))
    step[:, 14:] = 1.0
    names = [k["name"] for k in client.get("/api/kernels").json()]
    r = client.post(
        "/api/convolve",
        params={"kernels": ",".join(names), "values": "true"},
        json={"pixels": step.tolist()},
    )
    assert r.status_code == 200, r.text
    maps = _maps(r.json())
    assert list(maps) == names
    sobel_x = np.array(maps["sobel_x"]["values"])
    assert sobel_x.shape == (26, 26)
    np.testing.assert_allclose(sobel_x[:, 12:14], 4.0)  # the windows that straddle the step
    assert np.abs(np.delete(sobel_x, [12, 13], axis=1)).max() == 0
    assert np.abs(np.array(maps["sobel_y"]["values"])).max() == 0
    np.testing.assert_allclose(maps["identity"]["values"], step[1:-1, 1:-1])
    assert maps["gaussian"]["shape"] == [24, 24]
    assert r.json()["scale"] == "gray"  # one rule for every map: its own min to its own max
    assert maps["sobel_x"]["range"] == [0.0, 4.0]


def test_convolve_custom_kernel_in_json_and_in_a_form_field(client):
    img = Image.new("L", (40, 30), 255)
    ImageDraw.Draw(img).rectangle([10, 5, 19, 24], fill=0)
    kernel = [[1, -1]]  # horizontal difference of brightness
    as_json = client.post(
        "/api/convolve",
        params={"kernels": "", "values": "true"},
        json={"image": data_url(encode(img)), "kernel": kernel},
    )
    as_form = client.post(
        "/api/convolve",
        params={"kernels": "", "values": "true"},
        files={"file": ("r.png", encode(img), "image/png")},
        data={"kernel": json.dumps(kernel)},
    )
    assert as_json.status_code == as_form.status_code == 200, (as_json.text, as_form.text)
    assert as_json.json() == as_form.json()
    body = as_json.json()
    assert body["input_shape"] == [1, 30, 40]
    (m,) = body["maps"]
    assert m["name"] == "custom" and m["shape"] == [30, 39]
    got = np.array(m["values"])
    gray = np.asarray(img, dtype=np.float32) / 255  # 1 = white for photos
    np.testing.assert_allclose(got, gray[:, :-1] - gray[:, 1:], atol=1e-4)
    assert got.max() == 1.0 and got.min() == -1.0


def test_convolve_rgb_mode_with_a_three_channel_kernel(client):
    """3-D convolution: a 1x1 kernel per channel picks out one colour."""
    img = Image.new("RGB", (20, 16), (0, 0, 0))
    img.paste((255, 0, 0), (0, 0, 10, 16))  # left half red
    img.paste((0, 0, 255), (10, 0, 20, 16))  # right half blue
    url = data_url(encode(img))
    answers = {}
    for channel in range(3):
        kernel = [[[1.0 if c == channel else 0.0]] for c in range(3)]
        r = client.post(
            "/api/convolve",
            params={"kernels": "sobel_x", "mode": "rgb", "values": "true"},
            json={"image": url, "kernel": kernel},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["input_shape"] == [3, 16, 20]
        maps = _maps(body)
        assert maps["custom"]["shape"] == [16, 20]
        assert maps["sobel_x"]["shape"] == [14, 18]
        answers[channel] = np.array(maps["custom"]["values"])
    red, green, blue = answers[0], answers[1], answers[2]
    assert red[:, :10].min() == 1.0 and red[:, 10:].max() == 0.0
    assert green.max() == 0.0
    assert blue[:, 10:].min() == 1.0 and blue[:, :10].max() == 0.0
    # a 2-D kernel in rgb mode is the same kernel on the channel mean
    r = client.post(
        "/api/convolve",
        params={"kernels": "", "mode": "rgb", "values": "true"},
        json={"image": url, "kernel": [[1.0]]},
    )
    np.testing.assert_allclose(_maps(r.json())["custom"]["values"], 1 / 3, atol=1e-4)


@pytest.mark.parametrize(
    ("stride", "pad", "kernel"),
    [
        (1, 0, "sobel_x"),
        (2, 0, "sobel_x"),
        (2, 1, "sobel_x"),
        (3, 2, "gaussian"),
        (4, 0, "learned"),
    ],
)
def test_convolve_stride_and_pad_give_the_formulas_shapes(client, stride, pad, kernel):
    img = Image.new("L", (45, 30), 200)
    ImageDraw.Draw(img).ellipse([5, 5, 35, 25], fill=20)
    r = client.post(
        "/api/convolve",
        params={"kernels": kernel, "stride": stride, "pad": pad, "values": "true"},
        files={"file": ("e.png", encode(img), "image/png")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["stride"], body["pad"]) == (stride, pad)
    f = {"sobel_x": 3, "gaussian": 5, "learned": 5}[kernel]
    size = client.get(
        "/api/conv-output-size", params={"H": 30, "W": 45, "FH": f, "FW": f, "P": pad, "S": stride}
    ).json()
    oh, ow = (30 + 2 * pad - f) // stride + 1, (45 + 2 * pad - f) // stride + 1
    assert (size["OH"], size["OW"]) == (oh, ow)
    exact = (30 + 2 * pad - f) % stride == 0 and (45 + 2 * pad - f) % stride == 0
    assert size["exact"] == exact
    total = 0
    for m in body["maps"]:
        assert m["shape"] == [oh, ow]
        assert m["exact"] == exact
        assert np.array(m["values"]).shape == (oh, ow)
        assert png_of(m["png"]).size == (ow, oh)
        total += oh * ow * f * f
    assert body["macs"] == total


def test_convolve_relu_and_max_side(client):
    img = Image.new("RGB", (600, 300), "white")
    ImageDraw.Draw(img).line([(0, 0), (600, 300)], fill="black", width=30)
    r = client.post(
        "/api/convolve",
        params={"kernels": "sobel_x,laplacian", "relu": "true", "max_side": 100, "values": "1"},
        files={"file": ("big.png", encode(img), "image/png")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["input_shape"] == [1, 50, 100]
    assert png_of(body["input_png"]).size == (100, 50)
    for m in body["maps"]:
        assert m["shape"] == [48, 98]
        assert np.array(m["values"]).min() >= 0
        assert m["range"][0] >= 0
    without = client.post(
        "/api/convolve",
        params={"kernels": "sobel_x", "max_side": 100, "values": "1"},
        files={"file": ("big.png", encode(img), "image/png")},
    ).json()
    assert np.array(without["maps"][0]["values"]).min() < 0


def test_convolve_accepts_every_input_form(client):
    png = encode(canvas_one())
    forms = [
        {"files": {"file": ("one.png", png, "image/png")}},
        {"json": {"image": data_url(png)}},
        {"content": png, "headers": {"content-type": "image/png"}},
    ]
    bodies = []
    for kwargs in forms:
        r = client.post("/api/convolve", params={"kernels": "sobel_y", "max_side": 64}, **kwargs)
        assert r.status_code == 200, r.text
        bodies.append(r.json())
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["input_shape"] == [1, 64, 64]


# ------------------------------------------------------------------ page, docs, headers


def test_the_page_and_its_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    html = r.text
    # with that CSP an inline script or style attribute would not run: the page has none
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in s for s in scripts)
    assert " style=" not in html and "onclick=" not in html.lower()
    for ref in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html):
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert asset.headers["x-content-type-options"] == "nosniff"


def test_api_responses_carry_the_safe_headers_too(client):
    for r in (client.get("/api/health"), client.post("/api/predict", content=b"x")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["content-type"].startswith("application/json")


def test_openapi_documents_every_route_and_input_form(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    paths = spec["paths"]
    for path, method in [
        ("/api/health", "get"),
        ("/api/model", "get"),
        ("/api/models", "get"),
        ("/api/filters", "get"),
        ("/api/kernels", "get"),
        ("/api/conv-output-size", "get"),
        ("/api/predict", "post"),
        ("/api/explore", "post"),
        ("/api/convolve", "post"),
    ]:
        assert method in paths[path], path
        assert paths[path][method].get("summary"), path
    for path in IMAGE_ROUTES:
        op = paths[path]["post"]
        content = op["requestBody"]["content"]
        assert {"multipart/form-data", "application/json", "image/png"} <= set(content)
        assert content["application/json"]["examples"]
        assert {"400", "413", "415", "422"} <= set(op["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower() and "/openapi.json" in docs.text
