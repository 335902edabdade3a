"""Training's random affine distortions: the identity leaves a digit as it is, and any draw keeps
pixels in range and the ink near its amount."""

from __future__ import annotations

import numpy as np

from app.model.augment import apply_affine, draw_affine, random_affine


def digits(n=8):
    rng = np.random.default_rng(0)
    x = np.zeros((n, 1, 28, 28), np.float32)
    x[:, :, 6:22, 10:18] = rng.random((n, 1, 16, 8))
    return x


def test_no_rotation_scaling_or_shift_gives_the_digit_back():
    x = digits()
    out = random_affine(x, np.random.default_rng(1), 0.0, 0.0, (1.0, 1.0))
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out, x, atol=1e-5)


def test_a_draw_keeps_values_in_range_and_ink_near_its_amount():
    x = digits(64)
    out = random_affine(x, np.random.default_rng(2))
    assert out.min() >= 0 and out.max() <= x.max() + 1e-6
    ratio = out.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert np.all((ratio > 0.6) & (ratio < 1.5))  # scaled by 0.85..1.15 per side, bilinear
    assert not np.allclose(out, x)


def test_resampling_in_parts_gives_the_whole_batchs_numbers():
    # training draws a batch's distortions once, then each gradient thread resamples its rows
    x = digits(10)
    draw = draw_affine(np.random.default_rng(3), len(x))
    whole = apply_affine(x, draw)
    rows = np.array_split(np.arange(len(x)), 3)
    parts = np.concatenate([apply_affine(x[r], draw.rows(r)) for r in rows])
    np.testing.assert_array_equal(parts, whole)
    np.testing.assert_array_equal(random_affine(x, np.random.default_rng(3)), whole)
