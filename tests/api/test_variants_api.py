"""/api/convolve's variants equal the engine's, and "copy as code" reproduces what is shown."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.shapes import dilated_length
from app.engine.variants import conv_general, conv_transpose, output_padding_for
from app.explorer.kernels import classic_kernel


def _digit() -> np.ndarray:
    rng = np.random.default_rng(5)
    d = np.zeros((28, 28), np.float32)
    d[5:23, 11:17] = 1
    d[5:9, 7:21] = 0.6
    return np.clip(d + 0.05 * rng.random((28, 28), dtype=np.float32), 0, 1)


def convolve(client, query: str, **body):
    r = client.post(
        f"/api/convolve?values=true&{query}", json={"pixels": _digit().tolist(), **body}
    )
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
    ],
)
def test_the_numpy_snippet_reproduces_the_arrays_shown(client, query, body):
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


def test_the_playground_shape_is_the_produced_arrays_shape(client):
    x = np.zeros((1, 1, 28, 20))
    for fh, fw, p, s, d in [(3, 3, 0, 1, 2), (5, 3, 1, 2, 3), (2, 4, 2, 3, 1)]:
        q = f"H=28&W=20&FH={fh}&FW={fw}&P={p}&S={s}&D={d}"
        got = client.get(f"/api/conv-output-size?{q}").json()
        out = conv_general(x, np.zeros((1, 1, fh, fw)), None, s, p, d)
        assert (got["OH"], got["OW"]) == out.shape[2:]
        y = np.zeros(out.shape)
        op = (output_padding_for(28, fh, p, s, d), output_padding_for(20, fw, p, s, d))
        if op[0] == op[1]:
            q2 = f"H={out.shape[2]}&W={out.shape[3]}&FH={fh}&FW={fw}&P={p}&S={s}&D={d}"
            t = client.get(f"/api/conv-output-size?{q2}&transposed=true&output_padding={op[0]}")
            back = conv_transpose(y, np.zeros((1, 1, fh, fw)), s, p, d, output_padding=op)
            assert (t.json()["OH"], t.json()["OW"]) == back.shape[2:] == (28, 20)
    assert dilated_length(3, 2) == 5
