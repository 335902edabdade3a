"""im2col and col2im (section 7.4.3) against a plain loop over output pixels."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.im2col import col2im, col2im_by_image, im2col, im2col_by_image
from app.engine.shapes import conv_output_shape

# (N, C, H, W, FH, FW, stride, pad)
CASES = [
    (1, 1, 4, 4, 3, 3, 1, 0),
    (2, 3, 5, 5, 3, 3, 1, 1),  # batch > 1, C > 1, pad 1
    (2, 2, 7, 7, 3, 3, 2, 0),  # stride 2
    (3, 2, 6, 9, 2, 4, 1, 0),  # non-square input and filter
    (2, 3, 6, 7, 3, 2, 2, 1),  # stride 2 and pad 1, non-square
    (2, 1, 6, 6, 3, 3, 2, 0),  # (6 - 3) / 2 not whole: the last column of windows is dropped
    (1, 2, 5, 8, 5, 1, 3, 2),  # tall thin filter, stride 3, pad 2
]
IDS = ["N{}C{}H{}W{}_F{}x{}_S{}P{}".format(*case) for case in CASES]


def im2col_loops(x, fh, fw, stride, pad):
    """The definition: one row per output pixel in (n, oh, ow) order, the window in (c, fh, fw)."""
    n, c, h, w = x.shape
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows = []
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                window = xp[b, :, i * stride : i * stride + fh, j * stride : j * stride + fw]
                rows.append(window.ravel())
    return np.array(rows)


def window_counts(shape, fh, fw, stride, pad):
    """How many filter windows cover each input pixel (0 for pixels no window reaches)."""
    _, _, h, w = shape
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    counts = np.zeros((h + 2 * pad, w + 2 * pad))
    for i in range(oh):
        for j in range(ow):
            counts[i * stride : i * stride + fh, j * stride : j * stride + fw] += 1
    return counts[pad : pad + h, pad : pad + w]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_im2col_lays_every_window_out_as_one_row_in_the_books_order(case):
    n, c, h, w, fh, fw, stride, pad = case
    x = np.random.default_rng(1).standard_normal((n, c, h, w)).astype(np.float32)
    col = im2col(x, fh, fw, stride, pad)
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    assert col.shape == (n * oh * ow, c * fh * fw)
    assert col.dtype == np.float32
    np.testing.assert_array_equal(col, im2col_loops(x, fh, fw, stride, pad))


def test_im2col_of_the_books_example_has_shape_9_by_75():
    # section 7.4.3: x1 (1, 3, 7, 7), 5x5 filter, stride 1, pad 0 -> col (9, 75)
    x = np.random.default_rng(0).random((1, 3, 7, 7))
    assert im2col(x, 5, 5, stride=1, pad=0).shape == (9, 75)
    x = np.random.default_rng(0).random((10, 3, 7, 7))
    assert im2col(x, 5, 5, stride=1, pad=0).shape == (90, 75)


def test_im2col_reads_a_channels_last_view_correctly():
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 5))
    channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert not channels_last.flags.c_contiguous
    for stride, pad in [(1, 0), (2, 1)]:
        np.testing.assert_array_equal(
            im2col(channels_last, 3, 2, stride, pad), im2col_loops(x, 3, 2, stride, pad)
        )


def test_im2col_returns_a_copy_not_a_view_of_the_input():
    x = np.random.default_rng(3).standard_normal((1, 1, 4, 4))
    col = im2col(x, 2, 2, stride=2)
    col[:] = 0
    assert np.count_nonzero(x) == 16


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_col2im_is_the_adjoint_of_im2col(case):
    # <im2col(x), y> == <x, col2im(y)> for all x, y: exactly what the backward pass relies on
    n, c, h, w, fh, fw, stride, pad = case
    rng = np.random.default_rng(4)
    x = rng.standard_normal((n, c, h, w))
    col = im2col(x, fh, fw, stride, pad)
    y = rng.standard_normal(col.shape)
    back = col2im(y, x.shape, fh, fw, stride, pad)
    assert back.shape == x.shape
    assert np.vdot(col, y) == pytest.approx(np.vdot(x, back), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_col2im_of_im2col_multiplies_each_pixel_by_the_number_of_windows_covering_it(case):
    n, c, h, w, fh, fw, stride, pad = case
    x = np.random.default_rng(5).standard_normal((n, c, h, w))
    back = col2im(im2col(x, fh, fw, stride, pad), x.shape, fh, fw, stride, pad)
    np.testing.assert_allclose(back, x * window_counts(x.shape, fh, fw, stride, pad), rtol=1e-12)


@pytest.mark.parametrize(("h", "w", "f"), [(4, 4, 2), (6, 9, 3), (7, 7, 2)])
def test_when_stride_equals_the_filter_col2im_undoes_im2col(h, w, f):
    # Non-overlapping windows: every pixel is in one window, except the rows and columns that
    # a non-divisible size drops (7x7 with 2x2 windows), which come back as 0.
    x = np.random.default_rng(6).standard_normal((2, 3, h, w))
    back = col2im(im2col(x, f, f, stride=f), x.shape, f, f, stride=f)
    oh, ow = (h // f) * f, (w // f) * f
    np.testing.assert_array_equal(back[:, :, :oh, :ow], x[:, :, :oh, :ow])
    assert not back[:, :, oh:, :].any() and not back[:, :, :, ow:].any()


def test_col2im_keeps_float32():
    col = np.ones((4, 4), np.float32)
    assert col2im(col, (1, 1, 3, 3), 2, 2).dtype == np.float32


@pytest.mark.parametrize(
    "shape,fh,fw,stride,pad", [((2, 3, 7, 6), 3, 2, 2, 1), ((3, 1, 9, 9), 5, 5, 1, 0)]
)
def test_im2col_by_image_holds_im2cols_numbers_one_block_per_image(shape, fh, fw, stride, pad):
    x = np.random.default_rng(3).standard_normal(shape)
    by_image = im2col_by_image(x, fh, fw, stride, pad)
    n, ck, ohw = by_image.shape
    np.testing.assert_array_equal(
        by_image.transpose(0, 2, 1).reshape(n * ohw, ck), im2col(x, fh, fw, stride, pad)
    )
    y = np.random.default_rng(4).standard_normal(by_image.shape)
    back = col2im_by_image(y, shape, fh, fw, stride, pad)
    assert np.isclose(np.vdot(by_image, y), np.vdot(x, back))
