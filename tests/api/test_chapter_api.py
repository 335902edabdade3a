"""/api/pooling and /api/im2col against the engine, on a digit."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import layers as L
from app.engine.im2col import im2col
from app.explorer.models import ModelRegistry
from app.explorer.pooling import shifted
from app.settings import Settings


def _digit() -> np.ndarray:
    d = np.zeros((28, 28), np.float32)
    d[6:22, 12:16] = 1
    d[6:9, 8:20] = 0.7
    return d


@pytest.fixture(scope="module")
def book():
    s = Settings.from_env()
    return ModelRegistry.from_dir(s.models_dir, "book", None).get("book").net


def test_a_pooled_pixel_is_the_max_of_its_2x2_window_in_every_channel(client, book):
    r = client.post(
        "/api/pooling?model=book&channel=3&row=5&col=6&im2col=true",
        json={"pixels": _digit().tolist()},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    relu = book.trace(_digit()[None, None])[1].value  # (1, 30, 24, 24): what pool1 reads
    pooled = L.max_pool(relu, 2, 2, 2)[0]
    np.testing.assert_allclose(got["output"], pooled[3], atol=1e-6)
    np.testing.assert_allclose(got["input"], relu[0, 3], atol=1e-6)
    assert len(got["windows"]) == 30 and got["pixel"] == [5, 6]
    for w in got["windows"]:
        window = relu[0, w["channel"], 10:12, 12:14]
        assert w["result"] == pytest.approx(window.max(), abs=1e-6)
        r0, c0 = w["winner"]
        assert relu[0, w["channel"], r0, c0] == window.max()
        assert w["tied"] == ((window == window.max()).sum() > 1)
    via = got["im2col"]
    assert via["shape"] == [12 * 12 * 30, 4] and via["equals_engine"]
    np.testing.assert_allclose(np.array(via["row_result"]).reshape(12, 12), pooled[3], atol=1e-6)


def test_shifting_the_digit_by_one_pixel_keeps_more_pooled_values_than_conv_values(client, book):
    got = client.post(
        "/api/pooling?model=book&shift=right", json={"pixels": _digit().tolist()}
    ).json()
    s = got["shift"]
    moved = book.trace(shifted(_digit(), "right")[None, None])[1].value
    np.testing.assert_allclose(s["output"], L.max_pool(moved, 2, 2, 2)[0, 0], atol=1e-6)
    same_share = s["same_pooled"] / s["lit_pooled"]
    before_share = s["same_before_pooling"] / s["lit_before_pooling"]
    assert same_share > before_share  # the robustness the chapter claims, measured
    assert 0 < s["same_pooled"] < s["lit_pooled"]  # some, not all


def test_mean_pooling_is_switchable(client, book):
    got = client.post(
        "/api/pooling?model=book&mode=avg&row=5&col=6", json={"pixels": _digit().tolist()}
    ).json()
    relu = book.trace(_digit()[None, None])[1].value
    np.testing.assert_allclose(got["output"], L.avg_pool_forward(relu, 2, 2, 2)[0][0, 0], atol=1e-6)
    assert got["windows"][0]["result"] == pytest.approx(relu[0, 0, 10:12, 12:14].mean(), abs=1e-6)


def test_im2col_rows_are_the_windows_and_col_times_col_w_is_the_convolution(client, book):
    got = client.post(
        "/api/im2col?model=book&filter=7&pad=1&stride=2", json={"pixels": _digit().tolist()}
    ).json()
    assert got["output_shape"] == [13, 13] and got["equals_engine"]  # (28 + 2 - 5) / 2 + 1
    col = np.array(got["col"])
    assert col.shape == (169, 25)
    np.testing.assert_allclose(col, im2col(_digit()[None, None], 5, 5, 2, 1), atol=1e-4)
    padded = np.array(got["padded"])
    assert padded.shape == (30, 30)
    np.testing.assert_allclose(
        col[13 * 3 + 4], padded[6:11, 8:13].ravel(), atol=1e-4
    )  # window (3, 4)
    W, b = book.weights_of(0)
    conv = L.conv_forward(_digit()[None, None], W, b, 2, 1)[0][0, 7]
    np.testing.assert_allclose(got["output"], conv, atol=1e-4)
    np.testing.assert_allclose(np.array(got["col_W"])[:, 7], W[7].ravel(), atol=1e-5)


def test_models_without_the_layer_say_so(client):
    body = {"pixels": _digit().tolist()}
    assert client.post("/api/im2col?model=mlp", json=body).status_code == 422
    r = client.post("/api/pooling?model=mlp", json=body)
    assert r.status_code == 422 and "pooling" in r.json()["detail"]


def test_a_batch_is_one_im2col_with_n_blocks_and_one_gemm_split_back(client, book):
    digits = [_digit(), shifted(_digit(), "right"), np.flipud(_digit()).copy()]
    r = client.post("/api/batch?model=book&filter=2", json={"digits": [d.tolist() for d in digits]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["col_shape"] == [3 * 24 * 24, 25] and got["product_shape"] == [1728, 30]
    assert got["output_shape"] == [3, 30, 24, 24]
    assert got["equals_engine"] and got["equals_one_by_one"]
    W, b = book.weights_of(0)
    x = np.stack(digits)[:, None]
    conv = L.conv_forward(x, W, b)[0]
    for item, want in zip(got["items"], conv[:, 2], strict=True):
        assert item["rows"] == [item["index"] * 576, (item["index"] + 1) * 576]
        np.testing.assert_allclose(item["map"], want, atol=1e-4)
        np.testing.assert_allclose(
            item["first_row"], x[item["index"], 0, :5, :5].ravel(), atol=1e-4
        )


def test_a_batch_has_one_to_six_digits(client):
    assert client.post("/api/batch", json={"digits": []}).status_code == 422
    seven = [_digit().tolist()] * 7
    assert client.post("/api/batch", json={"digits": seven}).status_code == 422


def test_3d_convolution_one_pixel_is_the_sum_of_its_channel_partial_sums_plus_the_bias(client):
    from app.engine.im2col import pad_images
    from app.explorer.kernels import classic_kernel

    rng = np.random.default_rng(4)
    kernel = rng.standard_normal((3, 3, 3)).round(3)
    r = client.post(
        "/api/conv3d?kernels=sobel_x,emboss&biases=0.5,-1,0.25&pad=1&row=10&col=7&filter=2",
        json={"pixels": _digit().tolist(), "kernel": kernel.tolist()},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["kernel_shape"] == [3, 3, 3, 3] and got["bias_shape"] == [3, 1, 1]
    assert got["output_shape"] == [3, 28, 28] and got["names"] == ["sobel_x", "emboss", "custom"]
    x = pad_images(np.repeat(_digit()[None, None], 3, axis=1), 1)[0]
    partials = [(x[c, 10:13, 7:10] * kernel[c]).sum() for c in range(3)]
    assert [t["partial"] for t in got["channels"]] == pytest.approx(partials, abs=1e-4)
    assert got["total"] == pytest.approx(sum(partials), abs=1e-4)
    assert got["value"] == pytest.approx(sum(partials) + 0.25, abs=1e-4)
    assert got["engine_value"] == pytest.approx(got["value"], abs=1e-4)
    W = np.stack([np.repeat(classic_kernel(n)[None] / 3, 3, axis=0) for n in ("sobel_x", "emboss")])
    W = np.concatenate([W, kernel[None]]).astype(np.float32)
    maps = L.conv_forward(x[None], W, np.array([0.5, -1, 0.25], np.float32))[0][0]
    for m, want in zip(got["maps"], maps, strict=True):
        assert m["range"] == pytest.approx([want.min(), want.max()], abs=1e-4)


def test_3d_convolution_needs_one_bias_per_filter(client):
    r = client.post("/api/conv3d?biases=1,2,3", json={"pixels": _digit().tolist()})
    assert r.status_code == 422 and "2 filters" in r.json()["detail"]
