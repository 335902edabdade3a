"""The PyTorch side of "copy as code" and of the output-size formula, run against torch itself.

torch is in the `test` extra (a CPU wheel); these tests import it unconditionally, so a missing
torch is a failure, not a skip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.api.test_variants_api import _digit, rgb_picture


def convolve(client, query: str, rgb: bool) -> dict:
    body = {"image": rgb_picture()} if rgb else {"pixels": _digit().tolist()}
    r = client.post(f"/api/convolve?values=true&code=true&{query}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def run(program: str) -> dict:
    scope: dict = {}
    exec(program, scope)  # noqa: S102 - the program the page offers to copy
    return scope


def as_numpy(a) -> np.ndarray:
    return a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


# every setting "copy as code" writes differently: stride, pad, dilation, groups (depthwise),
# flip, the three padding modes, ReLU, transposed, learned filters with bias, rectangular, 1x1
SETTINGS = [
    ("kernels=sobel_x&stride=2&pad=1", False),
    ("kernels=sobel_x,emboss&dilation=2&pad=2&padding=reflect&flip=true&relu=true", False),
    ("kernels=laplacian&pad=1&padding=circular&stride=2", False),
    ("kernels=learned&stride=2&pad=2&padding=circular&bias=true&model=book", False),
    ("kernels=gaussian&stride=3&pad=1&transposed=true", False),
    ("kernels=sobel_y&stride=2&pad=2&dilation=2&transposed=true", False),
    ("kernels=sobel_y&mode=rgb&groups=3&pad=1", True),
    ("kernels=emboss&mode=rgb&groups=3&dilation=2&padding=reflect&pad=2&flip=true", True),
    ("kernels=diff_1x5&stride=2&pad=1&transposed=true", False),
    ("kernels=diff_5x1&dilation=3&pad=1&padding=reflect", False),
    ("kernels=blur_5x1&mode=rgb&groups=3&padding=circular&pad=2&relu=true", True),
    ("kernels=blur_1x5&mode=rgb&stride=2&flip=true", True),
    ("kernels=luminance,r_minus_b&mode=rgb", True),
    ("kernels=luminance,r_minus_b&mode=rgb&groups=3&relu=true", True),
    ("kernels=luminance,r_minus_b&mode=rgb&stride=2&pad=1&transposed=true", True),
]


@pytest.mark.parametrize("query, rgb", SETTINGS)
def test_the_pytorch_snippet_reproduces_the_arrays_shown(client, query, rgb):
    got = convolve(client, query, rgb)
    mine = run(got["code"]["pytorch"])
    theirs = run(got["code"]["numpy"])
    maps = as_numpy(mine["maps"])
    assert maps.shape[0] == len(got["maps"])
    for shown, m, n in zip(got["maps"], maps, theirs["maps"], strict=True):
        assert list(m.shape) == shown["shape"]
        np.testing.assert_allclose(m, shown["values"], atol=1e-4)  # the API rounds to 4 places
        np.testing.assert_allclose(m, n, rtol=1e-5, atol=1e-5)  # float32 against float32
    if "transposed=true" in query:
        back = as_numpy(mine["transposed"])
        assert back.shape[0] == len(got["transposed_maps"])
        for shown, m, n in zip(got["transposed_maps"], back, theirs["transposed"], strict=True):
            assert list(m.shape) == shown["shape"] == got["input_shape"][1:]
            np.testing.assert_allclose(m, shown["values"], atol=1e-4)
            np.testing.assert_allclose(m, n, rtol=1e-5, atol=1e-5)
    else:
        assert "transposed" not in mine


def test_the_pytorch_snippet_of_a_big_picture_loads_the_input_the_api_returns(
    client, tmp_path, monkeypatch
):
    from PIL import Image

    from tests.helpers.images import data_url, encode

    rng = np.random.default_rng(2)
    picture = (rng.random((40, 50, 3)) * 255).astype(np.uint8)  # 6000 numbers: not inlined
    r = client.post(
        "/api/convolve?kernels=diff_1x5&mode=rgb&groups=3&dilation=2&values=true&code=true",
        json={"image": data_url(encode(Image.fromarray(picture)))},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert "np.load('input.npy')" in got["code"]["pytorch"]
    np.save(tmp_path / "input.npy", np.array(got["input_values"], np.float32))
    monkeypatch.chdir(tmp_path)
    maps = as_numpy(run(got["code"]["pytorch"])["maps"])
    for shown, m in zip(got["maps"], maps, strict=True):
        np.testing.assert_allclose(m, shown["values"], atol=1e-4)


def _torch_size(H, W, FH, FW, P, S, D, transposed, op):
    """The (OH, OW) torch gives, or None when torch refuses the setting."""
    try:
        if transposed:
            y = F.conv_transpose2d(
                torch.zeros(1, 1, H, W), torch.zeros(1, 1, FH, FW), stride=S, padding=P,
                output_padding=op, dilation=D,
            )  # fmt: skip
        else:
            y = F.conv2d(
                torch.zeros(1, 1, H, W), torch.zeros(1, 1, FH, FW), stride=S, padding=P, dilation=D
            )
    except RuntimeError:
        return None
    return tuple(y.shape[2:])


def _configs(n: int = 400):
    rng = np.random.default_rng(10)
    for _ in range(n):
        H, W = (int(v) for v in rng.integers(1, 11, 2))
        FH, FW = (int(v) for v in rng.integers(1, 6, 2))
        P, S, D, op = int(rng.integers(0, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 4)), 0
        transposed = bool(rng.integers(0, 2))
        if transposed:
            op = int(rng.integers(0, max(S, D) + 1))  # up to one past what torch takes
        yield H, W, FH, FW, P, S, D, transposed, op


def test_the_output_size_formula_is_pytorchs_including_what_it_refuses(client):
    """GET /api/conv-output-size (the playground's formula) against torch's conv2d and
    conv_transpose2d on 400 seeded small settings: the same (OH, OW) whenever torch makes an
    output, a 422 exactly when torch refuses (a filter that covers more than the padded input,
    output_padding not below S or D, padding that leaves no output)."""
    counts = {"same": 0, "refused": 0, "op between S and D": 0}
    for H, W, FH, FW, P, S, D, transposed, op in _configs():
        q = f"H={H}&W={W}&FH={FH}&FW={FW}&P={P}&S={S}&D={D}"
        if transposed:
            q += f"&transposed=true&output_padding={op}"
        r = client.get(f"/api/conv-output-size?{q}")
        want = _torch_size(H, W, FH, FW, P, S, D, transposed, op)
        if want is None:
            assert r.status_code == 422, (q, r.json())
            counts["refused"] += 1
        else:
            assert r.status_code == 200, (q, r.json(), want)
            assert (r.json()["OH"], r.json()["OW"]) == want, q
            counts["same"] += 1
            counts["op between S and D"] += transposed and S <= op < D
    # the sample reaches every branch, the refusals and PyTorch's op < D allowance included
    assert counts["same"] > 100 and counts["refused"] > 30 and counts["op between S and D"] > 3
