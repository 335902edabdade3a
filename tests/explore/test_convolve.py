"""convolve_image: kernels of one shape share one im2col + GEMM, yet every map is the one the
tap-by-tap loop (conv_single_by_taps, the previous way) and a float64 nested loop give, in the
order the kernels were asked for, for gray and RGB pictures, any stride and pad, rectangular
kernels, a lone kernel, and banks too big for an im2col matrix (applied tap by tap instead)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

import app.explorer.convolve as convolve_module
from app.engine.layers import conv_single_by_taps
from app.explorer.convolve import convolve_image
from app.explorer.kernels import Kernel, classic_kernel, to_channels

NO_LIMIT = 10**12  # multiply-adds: the budget is not what these tests are about


def photo(channels: int, h: int = 29, w: int = 41, seed: int = 0) -> np.ndarray:
    """(C, H, W) float32 in 0..1 with some structure: a gradient, a bright disc, a dark bar
    and noise, each channel a little different."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    planes = []
    for c in range(channels):
        p = 0.2 + 0.5 * xx / w + 0.1 * c * yy / h
        p[(yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (h / 4) ** 2] = 0.9 - 0.2 * c
        p[h // 5 : h // 5 + 3, w // 2 :] = 0.05
        planes.append(p + rng.normal(0, 0.05, (h, w)))
    return np.clip(np.array(planes), 0, 1).astype(np.float32)


def bank(channels: int, seed: int = 1) -> list[Kernel]:
    """30 learned-like 5x5 filters (small random weights and biases), three classic 3x3
    kernels, two 3x7, two 7x2 and one lone 1x4, shuffled so that one shape's kernels are
    scattered through the list."""
    rng = np.random.default_rng(seed)

    def random(name: str, fh: int, fw: int) -> Kernel:
        w = rng.normal(0, 0.15, (channels, fh, fw)).astype(np.float32)
        return Kernel(name, w, float(rng.normal(0, 0.05)))

    kernels = [random(f"learned_{i}", 5, 5) for i in range(30)]
    kernels += [Kernel(n, to_channels(classic_kernel(n), channels)) for n in
                ("sobel_x", "sobel_y", "laplacian")]  # fmt: skip
    kernels += [random("wide_0", 3, 7), random("wide_1", 3, 7)]
    kernels += [random("tall_0", 7, 2), random("tall_1", 7, 2)]
    kernels += [random("lone", 1, 4)]
    return [kernels[i] for i in rng.permutation(len(kernels))]


def nested_loop(x: np.ndarray, k: Kernel, stride: int, pad: int) -> np.ndarray:
    """The definition, in float64: one window at a time."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (pad, pad), (pad, pad)))
    w = k.weights.astype(np.float64)
    _, fh, fw = w.shape
    oh = (xp.shape[1] - fh) // stride + 1
    ow = (xp.shape[2] - fw) // stride + 1
    out = np.empty((oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * stride : i * stride + fh, j * stride : j * stride + fw]
            out[i, j] = (window * w).sum() + k.bias
    return out


def by_taps(x: np.ndarray, k: Kernel, stride: int, pad: int) -> np.ndarray:
    return conv_single_by_taps(x, k.weights, k.bias, stride, pad)


def png_levels(url: str) -> np.ndarray:
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)), dtype=np.int16)


def check_maps(result, image, kernels, stride, pad, relu, reference=by_taps, atol=1e-4):
    """Every map of `result` against `reference`: name and order, shape, values (rounded to 4
    decimals by convolve_image), range, and the PNG's gray levels (at most one level apart: a
    value on a rounding boundary may fall either way)."""
    assert [m.name for m in result.maps] == [k.name for k in kernels]
    for m, k in zip(result.maps, kernels, strict=True):
        want = reference(image, k, stride, pad)
        if relu:
            want = np.maximum(want, 0)
        got = np.array(m.values)
        assert got.shape == want.shape == tuple(m.shape), k.name
        np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=k.name)
        np.testing.assert_allclose(m.range, [want.min(), want.max()], rtol=0, atol=1e-5)
        low, high = want.min(), want.max()
        span = high - low if high > low else 1e-6  # a flat map (all 0 after ReLU) is black
        levels = np.clip(np.round((want - low) * 255 / span), 0, 255)
        assert np.abs(png_levels(m.png) - levels).max() <= 1, k.name


CASES = [(1, 0), (2, 0), (1, 1), (2, 1), (3, 2)]  # (stride, pad); (3, 2) drops partial windows


@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize(("stride", "pad"), CASES)
def test_maps_equal_the_tap_by_tap_loop(channels, stride, pad):
    image, kernels = photo(channels), bank(channels)
    result = convolve_image(image, kernels, stride, pad, False, True, NO_LIMIT)
    check_maps(result, image, kernels, stride, pad, relu=False)


@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize(("stride", "pad"), [(1, 0), (2, 1)])
def test_maps_equal_a_float64_nested_loop(channels, stride, pad):
    image, kernels = photo(channels, seed=2), bank(channels, seed=3)
    result = convolve_image(image, kernels, stride, pad, False, True, NO_LIMIT)
    check_maps(result, image, kernels, stride, pad, relu=False, reference=nested_loop)


@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
def test_relu_applies_to_every_map(channels):
    image, kernels = photo(channels), bank(channels)
    result = convolve_image(image, kernels, 2, 1, True, True, NO_LIMIT)
    check_maps(result, image, kernels, 2, 1, relu=True)
    assert all(m.range[0] >= 0 for m in result.maps)


def test_the_responses_themselves_match_to_float32_precision():
    """Without the 4-decimal rounding of `values`: the shared GEMM and the tap loop agree to
    float32 precision, and both with float64."""
    for channels in (1, 3):
        image, kernels = photo(channels), bank(channels)
        for stride, pad in CASES:
            got = convolve_module._responses(image, kernels, stride, pad)
            for m, k in zip(got, kernels, strict=True):
                assert m.dtype == np.float32
                np.testing.assert_allclose(m, by_taps(image, k, stride, pad), rtol=0, atol=2e-6)
                np.testing.assert_allclose(m, nested_loop(image, k, stride, pad), atol=4e-6)


def test_mixed_dtypes_and_a_single_kernel():
    """A float64 picture is convolved as float32 (as before); a lone kernel gives its map."""
    image = photo(1).astype(np.float64)
    (k,) = [k for k in bank(1) if k.name == "lone"]
    result = convolve_image(image, [k], 1, 0, False, True, NO_LIMIT)
    check_maps(result, image.astype(np.float32), [k], 1, 0, relu=False)


@pytest.fixture
def gemm_shapes(monkeypatch):
    """The (C, FH, FW) of every bank that went through conv_forward (one im2col + GEMM)."""
    seen: list[tuple[int, ...]] = []
    real = convolve_module.conv_forward

    def spy(x, W, b, stride, pad):
        seen.append(tuple(W.shape))
        return real(x, W, b, stride, pad)

    monkeypatch.setattr(convolve_module, "conv_forward", spy)
    return seen


@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
def test_each_shape_shares_one_gemm_and_a_lone_kernel_goes_tap_by_tap(channels, gemm_shapes):
    image, kernels = photo(channels), bank(channels)
    convolve_image(image, kernels, 1, 0, False, False, NO_LIMIT)
    assert sorted(gemm_shapes) == sorted(
        [(30, channels, 5, 5), (3, channels, 3, 3), (2, channels, 3, 7), (2, channels, 7, 2)]
    )


@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
def test_banks_above_the_im2col_threshold_go_tap_by_tap_with_the_same_maps(
    channels, monkeypatch, gemm_shapes
):
    image, kernels = photo(channels), bank(channels)
    stride, pad = 1, 1
    shared = convolve_image(image, kernels, stride, pad, False, True, NO_LIMIT)
    assert len(gemm_shapes) == 4

    # im2col bytes here: 5x5 -> C * 25 * 29 * 41 * 4, 3x7 -> C * 21 * 29 * 37 * 4,
    # 7x2 -> C * 14 * 25 * 42 * 4, 3x3 -> C * 9 * 29 * 41 * 4
    gemm_shapes.clear()
    monkeypatch.setattr(convolve_module, "IM2COL_BYTES", channels * 60_000)
    mixed = convolve_image(image, kernels, stride, pad, False, True, NO_LIMIT)
    assert sorted(s[2:] for s in gemm_shapes) == [(3, 3), (7, 2)]

    gemm_shapes.clear()
    monkeypatch.setattr(convolve_module, "IM2COL_BYTES", 1)
    taps = convolve_image(image, kernels, stride, pad, False, True, NO_LIMIT)
    assert gemm_shapes == []

    for result in (shared, mixed, taps):
        check_maps(result, image, kernels, stride, pad, relu=False)
    for a, b in zip(mixed.maps, taps.maps, strict=True):
        assert a.shape == b.shape and a.exact == b.exact


def test_the_rest_of_the_answer_is_unchanged():
    """Shapes, exact flags and the multiply-add count come from the formula, per kernel."""
    image, kernels = photo(3), bank(3)
    result = convolve_image(image, kernels, 3, 2, False, False, NO_LIMIT)
    total = 0
    for m, k in zip(result.maps, kernels, strict=True):
        c, fh, fw = k.weights.shape
        oh, ow = (29 + 4 - fh) // 3 + 1, (41 + 4 - fw) // 3 + 1
        assert m.shape == [oh, ow]
        assert m.exact == ((29 + 4 - fh) % 3 == 0 and (41 + 4 - fw) % 3 == 0)
        assert m.values is None
        total += oh * ow * c * fh * fw
    assert result.macs == total
    assert result.input_shape == [3, 29, 41]
