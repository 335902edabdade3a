"""/api/convolve's variants equal the engine's, and "copy as code" reproduces what is shown."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.shapes import dilated_length
from app.engine.variants import conv_general, conv_transpose, output_padding_for
from app.explorer.kernels import classic_kernel
from app.explorer.variants import MIXING_KERNELS, RECTANGULAR_KERNELS


def _digit() -> np.ndarray:
    rng = np.random.default_rng(5)
    d = np.zeros((28, 28), np.float32)
    d[5:23, 11:17] = 1
    d[5:9, 7:21] = 0.6
    return np.clip(d + 0.05 * rng.random((28, 28), dtype=np.float32), 0, 1)


def rgb_picture() -> str:
    """A 20x16 RGB picture as a data URL: a red, a green and a blue patch on noise, so the three
    channels differ and a 1x1 mixing kernel has something to mix."""
    from PIL import Image

    from tests.helpers.images import data_url, encode

    rng = np.random.default_rng(3)
    a = (rng.random((16, 20, 3)) * 80 + 90).astype(np.uint8)
    a[2:8, 2:9] = (210, 30, 40)
    a[8:14, 6:12] = (30, 170, 60)
    a[3:12, 13:18] = (40, 60, 220)
    return data_url(encode(Image.fromarray(a)))


def convolve(client, query: str, **body):
    picture = {} if "image" in body else {"pixels": _digit().tolist()}
    r = client.post(f"/api/convolve?values=true&{query}", json={**picture, **body})
    assert r.status_code == 200, r.text
    return r.json()


CASES = [
    "kernels=sobel_x&dilation=2",
    "kernels=sobel_x,laplacian&pad=2&padding=reflect",
    "kernels=emboss&pad=1&padding=circular&stride=2",
    "kernels=sobel_y&flip=true&pad=1",
    "kernels=gaussian&dilation=3&stride=2&pad=4",
]


@pytest.mark.parametrize("query", CASES)
def test_each_variant_map_equals_the_engines(client, query):
    got = convolve(client, query)
    opts = dict(p.split("=") for p in query.split("&"))
    x = _digit()[None, None]
    for m, name in zip(got["maps"], opts["kernels"].split(","), strict=True):
        W = classic_kernel(name)[None, None]
        want = conv_general(
            x,
            W,
            None,
            int(opts.get("stride", 1)),
            int(opts.get("pad", 0)),
            int(opts.get("dilation", 1)),
            1,
            opts.get("padding", "zero"),
            opts.get("flip") == "true",
        )[0, 0]
        assert m["shape"] == list(want.shape)
        np.testing.assert_allclose(m["values"], want, atol=1e-4)


def test_depthwise_on_rgb_gives_one_map_per_channel_and_they_sum_to_the_standard_map(client):
    kernel = np.arange(27, dtype=float).reshape(3, 3, 3) / 27 - 0.5
    body = {"kernel": kernel.tolist()}
    grouped = convolve(client, "kernels=&mode=rgb&groups=3", **body)
    standard = convolve(client, "kernels=&mode=rgb", **body)
    assert [m["name"] for m in grouped["maps"]] == ["custom/g0", "custom/g1", "custom/g2"]
    total = sum(np.array(m["values"]) for m in grouped["maps"])
    np.testing.assert_allclose(total, standard["maps"][0]["values"], atol=5e-4)


@pytest.mark.parametrize(
    "query",
    [
        "kernels=diff_1x5,diff_5x1&stride=2&pad=1",  # two shapes in one call: 1x5 and 5x1
        "kernels=blur_1x5&dilation=2&padding=reflect&pad=2",
        "kernels=blur_5x1,diff_5x1&mode=rgb&groups=3&padding=circular&pad=1",
        "kernels=luminance,r_minus_b&mode=rgb",
        "kernels=luminance,r_minus_b&mode=rgb&groups=3&stride=2",
    ],
)
def test_rectangular_and_1x1_kernels_are_the_engines(client, query):
    """The named rectangular kernels (on the channel mean, like the classic ones) and the 1x1
    R, G, B mixers, through the engine's conv_general on the picture the API convolved."""
    got = convolve(client, query, image=rgb_picture())
    opts = dict(p.split("=") for p in query.split("&"))
    mode = opts.get("mode", "gray")  # the picture as the server convolved it, gray or rgb:
    seen = convolve(client, f"kernels=identity&mode={mode}&code=true", image=rgb_picture())
    x = np.array(seen["input_values"], np.float32)[None]
    c = x.shape[1]
    groups = int(opts.get("groups", 1))
    names = opts["kernels"].split(",")
    W = []
    for name in names:
        if name in MIXING_KERNELS:
            W.append(MIXING_KERNELS[name][1].astype(np.float32).reshape(3, 1, 1))
        else:
            k2 = RECTANGULAR_KERNELS[name][1].astype(np.float32)
            W.append(np.repeat(k2[None] / c, c, axis=0))
    if groups > 1:  # group-major: every kernel's slice of channel 0, then of channel 1, ...
        want = [
            conv_general(x[:, [g]], w[None, [g]], None, int(opts.get("stride", 1)),
                         int(opts.get("pad", 0)), 1, 1, opts.get("padding", "zero"))[0, 0]
            for g in range(groups) for w in W
        ]  # fmt: skip
        names = [f"{n}/g{g}" for g in range(groups) for n in names]
    else:
        want = [
            conv_general(x, w[None], None, int(opts.get("stride", 1)), int(opts.get("pad", 0)),
                         int(opts.get("dilation", 1)), 1, opts.get("padding", "zero"))[0, 0]
            for w in W
        ]  # fmt: skip
    assert [m["name"] for m in got["maps"]] == names
    for m, w in zip(got["maps"], want, strict=True):
        assert m["shape"] == list(w.shape)
        np.testing.assert_allclose(m["values"], w, atol=1e-4)
    if "luminance" in opts["kernels"] and groups == 1:
        lum, r_b = (np.array(m["values"]) for m in got["maps"])
        np.testing.assert_allclose(lum, 0.299 * x[0, 0] + 0.587 * x[0, 1] + 0.114 * x[0, 2],
                                   atol=1e-4)  # fmt: skip
        np.testing.assert_allclose(r_b, x[0, 0] - x[0, 2], atol=1e-4)
        assert lum.shape == x.shape[2:]  # a 1x1 kernel keeps the picture's size


def test_a_1x1_mixing_kernel_on_a_one_channel_picture_is_refused_with_a_reason(client):
    r = client.post("/api/convolve?kernels=luminance", json={"pixels": _digit().tolist()})
    assert r.status_code == 422 and "mode=rgb" in r.json()["detail"]
    r = client.post("/api/convolve?kernels=diff_3x1", json={"pixels": _digit().tolist()})
    assert r.status_code == 422 and "diff_5x1" in r.json()["detail"]  # the known names listed


def test_transposed_is_the_col2im_of_the_map_just_shown_and_has_the_inputs_shape(client):
    got = convolve(client, "kernels=sobel_x&stride=2&pad=1&transposed=true")
    y = np.array(got["maps"][0]["values"], np.float32)
    back = got["transposed_maps"][0]
    assert back["name"] == "sobel_x:transposed" and back["shape"] == [28, 28]
    W = classic_kernel("sobel_x")[None, None]
    op = output_padding_for(28, 3, 1, 2)
    want = conv_transpose(y[None, None], W, 2, 1, output_padding=op)[0, 0]
    np.testing.assert_allclose(back["values"], want, atol=2e-3)


def test_transposed_with_reflect_padding_is_refused_with_a_reason(client):
    r = client.post(
        "/api/convolve?kernels=sobel_x&transposed=true&padding=reflect&pad=1",
        json={"pixels": _digit().tolist()},
    )
    assert r.status_code == 422 and "adjoint" in r.json()["detail"]


@pytest.mark.parametrize(
    "query, body",
    [
        ("kernels=sobel_x,emboss&dilation=2&pad=1&padding=reflect&flip=true&relu=true", {}),
        ("kernels=learned&stride=2&pad=2&padding=circular&bias=true&model=book", {}),
        ("kernels=&mode=rgb&groups=3&pad=1", {"kernel": np.eye(3).tolist()}),
        ("kernels=laplacian&stride=3&pad=1&transposed=true", {}),
        ("kernels=diff_1x5&stride=2&pad=1&dilation=2&transposed=true", {}),
        ("kernels=blur_5x1&pad=2&padding=reflect&flip=true", {}),
        ("kernels=luminance,r_minus_b&mode=rgb", {"image": "rgb"}),
        ("kernels=luminance,r_minus_b&mode=rgb&groups=3&relu=true", {"image": "rgb"}),
        ("kernels=luminance,r_minus_b&mode=rgb&stride=2&pad=1&transposed=true", {"image": "rgb"}),
        ("kernels=diff_5x1&mode=rgb&groups=3&padding=circular&pad=2", {"image": "rgb"}),
    ],
)
def test_the_numpy_snippet_reproduces_the_arrays_shown(client, query, body):
    if body.get("image") == "rgb":
        body = {"image": rgb_picture()}
    got = convolve(client, query + "&code=true", **body)
    scope: dict = {}
    exec(got["code"]["numpy"], scope)  # noqa: S102 - the program the page offers to copy
    maps = scope["maps"]
    assert len(maps) == len(got["maps"])
    for shown, mine in zip(got["maps"], maps, strict=True):
        np.testing.assert_allclose(mine, shown["values"], atol=2e-4)
    if got["transposed_maps"]:
        for shown, mine in zip(got["transposed_maps"], scope["transposed"], strict=True):
            np.testing.assert_allclose(mine, shown["values"], atol=2e-4)
    assert "torch.nn.functional" in got["code"]["pytorch"]


def test_a_big_photo_snippet_loads_the_input_the_api_returns(client, tmp_path, monkeypatch):
    from PIL import Image

    from tests.helpers.images import encode  # a real upload, not pixels

    rng = np.random.default_rng(0)
    picture = (rng.random((40, 50)) * 255).astype(np.uint8)
    r = client.post(
        "/api/convolve?kernels=sobel_x&dilation=2&values=true&code=true",
        files={"file": ("p.png", encode(Image.fromarray(picture)), "image/png")},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    np.save(tmp_path / "input.npy", np.array(got["input_values"], np.float32))
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(got["code"]["numpy"], scope)  # noqa: S102
    np.testing.assert_allclose(scope["maps"][0], got["maps"][0]["values"], atol=2e-4)


@pytest.mark.parametrize(
    "query, shape",
    [
        ("H=28&W=28&FH=3&FW=3&P=0&S=1&D=2", (24, 24)),
        ("H=28&W=20&FH=5&FW=3&P=1&S=2&D=3", (9, 8)),  # (30 - 13) / 2 + 1, (22 - 7) / 2 + 1
        ("H=4&W=4&FH=3&FW=3&P=1&S=2&transposed=true&output_padding=1", (8, 8)),
    ],
)
def test_the_output_size_formula_covers_dilation_and_transposed(client, query, shape):
    got = client.get(f"/api/conv-output-size?{query}").json()
    assert (got["OH"], got["OW"]) == shape


# (FH, FW, P, S, D): square and rectangular filters, 1x1, dilation, strides that do not divide
SHAPE_CONFIGS = [
    (3, 3, 0, 1, 2), (5, 3, 1, 2, 3), (2, 4, 2, 3, 1), (1, 5, 0, 2, 1), (5, 1, 2, 1, 2),
    (1, 1, 0, 1, 1), (1, 1, 1, 3, 4), (3, 2, 0, 4, 3), (4, 4, 3, 2, 2), (7, 1, 0, 1, 4),
]  # fmt: skip


@pytest.mark.parametrize("fh, fw, p, s, d", SHAPE_CONFIGS)
def test_the_playground_shape_is_the_produced_arrays_shape(client, fh, fw, p, s, d):
    """The API's formula (the playground's) against the shape of the array the engine makes:
    the forward on a 28x20 input, then the transposed convolution of that output with every
    output_padding the engine's adjoint takes (0 ... S - 1), which gives back 28x20 for the
    one that restores the rows the floor dropped."""
    x = np.zeros((1, 1, 28, 20), np.float32)
    W = np.zeros((1, 1, fh, fw), np.float32)
    q = f"FH={fh}&FW={fw}&P={p}&S={s}&D={d}"
    got = client.get(f"/api/conv-output-size?H=28&W=20&{q}").json()
    out = conv_general(x, W, None, s, p, d)
    assert (got["OH"], got["OW"]) == out.shape[2:]
    oh, ow = out.shape[2:]
    for op in range(s):
        t = client.get(
            f"/api/conv-output-size?H={oh}&W={ow}&{q}&transposed=true&output_padding={op}"
        )
        assert t.status_code == 200, t.text
        back = conv_transpose(np.zeros(out.shape, np.float32), W, s, p, d, output_padding=op)
        assert (t.json()["OH"], t.json()["OW"]) == back.shape[2:]
    restore = (output_padding_for(28, fh, p, s, d), output_padding_for(20, fw, p, s, d))
    back = conv_transpose(np.zeros(out.shape, np.float32), W, s, p, d, output_padding=restore)
    assert back.shape[2:] == (28, 20)
    if restore[0] == restore[1]:  # the API takes one output_padding for both sides
        q2 = f"H={oh}&W={ow}&{q}&transposed=true&output_padding={restore[0]}"
        t = client.get(f"/api/conv-output-size?{q2}").json()
        assert (t["OH"], t["OW"]) == (28, 20)
    assert dilated_length(fh, d) == d * (fh - 1) + 1


def test_the_playground_refuses_what_the_engine_cannot_make(client):
    """A filter whose dilated span is larger than the padded input: the API says 422 and
    names it, and the engine raises for the same shape."""
    from app.engine.shapes import ShapeError

    r = client.get("/api/conv-output-size?H=8&W=20&FH=3&FW=3&P=0&S=1&D=4")
    assert r.status_code == 422 and "dilated by D=4 to 9" in r.json()["detail"]
    with pytest.raises(ShapeError):
        conv_general(np.zeros((1, 1, 8, 20)), np.zeros((1, 1, 3, 3)), None, 1, 0, 4)
