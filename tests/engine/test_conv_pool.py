"""The fused conv + max pool of training against the two layers it replaces, and against a
central-difference gradient (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import layers
from app.engine.conv_pool import conv_max_pool_backward, conv_max_pool_forward
from tests.helpers.numgrad import assert_gradient_close, numerical_gradient


def unfused(x, W, b, stride, pad, k, dout):
    conv, c1 = layers.conv_forward(x, W, b, stride, pad)
    pooled, c2 = layers.max_pool_forward(conv, k, k, k)
    dx, dW, db = layers.conv_backward(layers.max_pool_backward(dout, c2), c1)
    return pooled, dx, dW, db


def random_config(rng):
    n, c, fn = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 5)
    fh, fw = rng.integers(1, 4, size=2)
    stride, pad, k = rng.integers(1, 3), rng.integers(0, 2), rng.integers(1, 4)
    h, w = rng.integers(stride * k + max(fh, fw), 15, size=2)  # maps at least K wide
    x = rng.standard_normal((n, c, h, w))
    x[:, :, : h // 3] = 0  # blank rows: every pixel of a window equal, as on a digit's margin
    W = rng.standard_normal((fn, c, fh, fw))
    return x, W, rng.standard_normal(fn), int(stride), int(pad), int(k)


@pytest.mark.parametrize("seed", range(60))
def test_the_fused_pass_gives_the_unfused_layers_numbers(seed):
    rng = np.random.default_rng(seed)
    x, W, b, stride, pad, k = random_config(rng)
    pooled, cache = conv_max_pool_forward(x, W, b, stride, pad, k)
    dout = rng.standard_normal(pooled.shape)
    expected, dx, dW, db = unfused(x, W, b, stride, pad, k, dout)
    np.testing.assert_allclose(pooled, expected, rtol=1e-12, atol=1e-12)
    got_dx, got_dW, got_db = conv_max_pool_backward(dout, cache)
    # on a tie the first tap in row-major order wins in both, so the routing is the same
    np.testing.assert_allclose(got_dx, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_dW, dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_db, db, rtol=1e-12, atol=1e-12)


def test_a_tied_window_sends_its_gradient_to_its_first_pixel_only():
    x = np.zeros((1, 1, 4, 4))
    W, b = np.ones((1, 1, 1, 1)), np.array([0.5])
    pooled, cache = conv_max_pool_forward(x, W, b, 1, 0, 2)
    assert pooled.tolist() == [[[[0.5, 0.5], [0.5, 0.5]]]]
    dx, _, _ = conv_max_pool_backward(np.ones_like(pooled), cache)
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_pixels_no_window_reads_get_no_gradient_and_the_gradient_is_right():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 8, 7))  # conv maps 6 x 5: the last column is never pooled
    W, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 3, 2))

    def loss():
        return float((conv_max_pool_forward(x, W, b, 1, 0, 2)[0] * dout).sum())

    dx, dW, db = conv_max_pool_backward(dout, conv_max_pool_forward(x, W, b, 1, 0, 2)[1])
    assert_gradient_close(dx, numerical_gradient(loss, x))
    assert_gradient_close(dW, numerical_gradient(loss, W))
    assert_gradient_close(db, numerical_gradient(loss, b))
    assert np.all(dx[:, :, :, 6] == 0)  # input column 6 only feeds conv column 4, never pooled
