"""Every layer of chapter 7 against the definition, and every backward pass against a
central-difference numerical gradient (float64: the layers are dtype-generic)."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import layers
from app.engine.shapes import conv_output_shape
from tests.helpers.numgrad import assert_gradient_close, numerical_gradient

# ------------------------------------------------------------------ references, written as loops


def conv_loops(x, W, b, stride, pad):
    n, c, h, w = x.shape
    fn, _, fh, fw = W.shape
    oh, ow = conv_output_shape(h, w, fh, fw, pad, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, fn, oh, ow))
    for i_n in range(n):
        for f in range(fn):
            for i in range(oh):
                for j in range(ow):
                    window = xp[i_n, :, i * stride : i * stride + fh, j * stride : j * stride + fw]
                    out[i_n, f, i, j] = np.sum(window * W[f]) + b[f]
    return out


def pool_loops(x, ph, pw, stride, pad, reduce, pad_value):
    n, c, h, w = x.shape
    oh, ow = conv_output_shape(h, w, ph, pw, pad, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=pad_value)
    out = np.zeros((n, c, oh, ow))
    for i_n in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    window = xp[i_n, ch, i * stride : i * stride + ph, j * stride : j * stride + pw]
                    out[i_n, ch, i, j] = reduce(window)
    return out


def max_pool_loops(x, ph, pw, stride, pad=0):
    return pool_loops(x, ph, pw, stride, pad, np.max, -np.inf)


def avg_pool_loops(x, ph, pw, stride, pad=0):
    return pool_loops(x, ph, pw, stride, pad, np.mean, 0.0)  # padding counts in the mean


def channels_last(x):
    """The same (N, C, H, W) values stored as (N, H, W, C) memory, as conv_forward returns them."""
    out = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert out.transpose(0, 2, 3, 1).flags.c_contiguous
    return out


def separated(rng, shape, gap=1.0):
    """Distinct values `gap` apart, in random order: finite differences never flip a max."""
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) * gap - 7.0


def away_from_zero(rng, shape):
    """Normal values with none within 0.05 of ReLU's kink."""
    x = rng.standard_normal(shape)
    x[np.abs(x) < 0.05] += 0.2
    return x


# (N, C, H, W, FN, FH, FW, stride, pad)
CONV_CASES = [
    (1, 1, 5, 5, 1, 3, 3, 1, 0),
    (2, 3, 6, 6, 4, 3, 3, 1, 1),  # batch > 1, C > 1, pad 1
    (2, 2, 7, 7, 3, 3, 3, 2, 0),  # stride 2
    (3, 2, 6, 8, 2, 2, 4, 1, 0),  # non-square input and filter
    (2, 3, 7, 6, 2, 3, 2, 2, 1),  # stride 2, pad 1, non-square; (6 + 2 - 2) / 2 whole, 7 not
    (2, 1, 6, 6, 2, 3, 3, 2, 0),  # (6 - 3) / 2 not whole: windows that do not fit are dropped
]
CONV_IDS = ["N{}C{}H{}W{}_FN{}F{}x{}_S{}P{}".format(*c) for c in CONV_CASES]

# (N, C, H, W, PH, PW, stride, pad)
POOL_CASES = [
    (1, 1, 4, 4, 2, 2, 2, 0),  # the book's 2x2, stride 2
    (2, 3, 6, 6, 2, 2, 2, 0),  # batch > 1, C > 1
    (2, 2, 5, 7, 3, 3, 2, 0),  # overlapping windows (stride 2 < 3)
    (2, 2, 5, 5, 3, 3, 1, 1),  # overlapping, stride 1, pad 1
    (2, 3, 6, 8, 2, 3, 2, 0),  # non-square window, overlapping along W
    (1, 2, 7, 6, 3, 2, 2, 1),  # non-square, pad 1, non-divisible
    (2, 2, 5, 5, 2, 2, 2, 0),  # 5x5 with 2x2 / 2: last row and column belong to no window
]
POOL_IDS = ["N{}C{}H{}W{}_P{}x{}_S{}pad{}".format(*c) for c in POOL_CASES]


# ------------------------------------------------------------------ convolution


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_forward_equals_the_sum_over_each_window_of_input_times_filter_plus_bias(case):
    n, c, h, w, fn, fh, fw, stride, pad = case
    rng = np.random.default_rng(10)
    x = rng.standard_normal((n, c, h, w))
    W = rng.standard_normal((fn, c, fh, fw))
    b = rng.standard_normal(fn)
    out, _ = layers.conv_forward(x, W, b, stride, pad)
    assert out.shape == (n, fn, *conv_output_shape(h, w, fh, fw, pad, stride))
    np.testing.assert_allclose(out, conv_loops(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_backward_matches_the_numerical_gradient_for_x_w_and_b(case):
    n, c, h, w, fn, fh, fw, stride, pad = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, c, h, w))
    W = rng.standard_normal((fn, c, fh, fw))
    b = rng.standard_normal(fn)
    out, cache = layers.conv_forward(x, W, b, stride, pad)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = layers.conv_backward(dout, cache)

    def f():
        return float(np.sum(layers.conv_forward(x, W, b, stride, pad)[0] * dout))

    assert_gradient_close(dx, numerical_gradient(f, x))
    assert_gradient_close(dW, numerical_gradient(f, W))
    assert_gradient_close(db, numerical_gradient(f, b))


def test_conv_backward_can_skip_dx_for_the_first_layer():
    rng = np.random.default_rng(12)
    x, W, b = rng.standard_normal((2, 1, 6, 6)), rng.standard_normal((3, 1, 3, 3)), np.zeros(3)
    out, cache = layers.conv_forward(x, W, b)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = layers.conv_backward(dout, cache, need_dx=False)
    assert dx is None
    full = layers.conv_backward(dout, cache)
    np.testing.assert_array_equal(dW, full[1])
    np.testing.assert_array_equal(db, full[2])


def test_conv_of_the_books_example_turns_10_by_3x7x7_into_10_by_30x3x3():
    rng = np.random.default_rng(13)
    x = rng.random((10, 3, 7, 7), dtype=np.float32)
    W = rng.random((30, 3, 5, 5), dtype=np.float32)
    out, _ = layers.conv_forward(x, W, np.zeros(30, np.float32), stride=2)
    assert out.shape == (10, 30, 2, 2)
    out, _ = layers.conv_forward(x, W, np.zeros(30, np.float32), stride=1)
    assert out.shape == (10, 30, 3, 3)


def test_conv_refuses_filters_with_the_wrong_number_of_channels():
    x = np.zeros((1, 3, 5, 5))
    with pytest.raises(ValueError, match="3 channels.*2"):
        layers.conv_forward(x, np.zeros((4, 2, 3, 3)), np.zeros(4))


def test_conv_keeps_float32_forward_and_backward():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    W = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    out, cache = layers.conv_forward(x, W, np.zeros(3, np.float32), 1, 1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layers.conv_backward(np.ones_like(out), cache))


# ------------------------------------------------------------------ pooling


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_max_pool_forward_takes_the_largest_value_of_each_window(case):
    n, c, h, w, ph, pw, stride, pad = case
    x = np.random.default_rng(20).standard_normal((n, c, h, w))
    out, _ = layers.max_pool_forward(x, ph, pw, stride, pad)
    np.testing.assert_array_equal(out, max_pool_loops(x, ph, pw, stride, pad))


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_avg_pool_forward_takes_the_mean_of_each_window(case):
    n, c, h, w, ph, pw, stride, pad = case
    x = np.random.default_rng(21).standard_normal((n, c, h, w))
    out, _ = layers.avg_pool_forward(x, ph, pw, stride, pad)
    np.testing.assert_allclose(out, avg_pool_loops(x, ph, pw, stride, pad), rtol=1e-12)


def test_pooling_stride_defaults_to_the_window_height():
    x = np.random.default_rng(22).standard_normal((1, 1, 6, 6))
    assert layers.max_pool_forward(x, 3, 3)[0].shape == (1, 1, 2, 2)
    assert layers.avg_pool_forward(x, 2, 2)[0].shape == (1, 1, 3, 3)


def test_max_pooling_keeps_each_channel_separate():
    # section 7.3: pooling works channel by channel; the number of channels does not change
    x = np.zeros((1, 3, 4, 4))
    x[0, 0, 0, 0], x[0, 1, 3, 3], x[0, 2, 1, 2] = 1, 2, 3
    out, _ = layers.max_pool_forward(x, 2, 2, 2)
    assert out.shape == (1, 3, 2, 2)
    assert out[0, 0].tolist() == [[1, 0], [0, 0]]
    assert out[0, 1].tolist() == [[0, 0], [0, 2]]
    assert out[0, 2].tolist() == [[0, 3], [0, 0]]


def test_a_max_pool_pad_never_wins_even_when_every_value_is_negative():
    x = -np.arange(1, 10, dtype=np.float64).reshape(1, 1, 3, 3)
    out, _ = layers.max_pool_forward(x, 2, 2, stride=2, pad=1)
    assert out[0, 0].tolist() == [[-1, -2], [-4, -5]]


@pytest.mark.parametrize(
    ("window", "winner"),
    [
        ([[1, 5], [5, 5]], (0, 1)),
        ([[5, 1], [5, 5]], (0, 0)),
        ([[1, 5], [5, 1]], (0, 1)),  # row-major: row 0 before row 1, not column 0 first
        ([[1, 2], [5, 5]], (1, 0)),
        ([[3, 3], [3, 3]], (0, 0)),
        ([[0, 0, 7], [7, 0, 7], [0, 7, 0]], (0, 2)),
        ([[0, 0, 0], [0, 7, 7], [7, 0, 0]], (1, 1)),
    ],
)
def test_max_pool_ties_send_the_gradient_to_the_first_maximum_in_row_major_order(window, winner):
    window = np.array(window, dtype=np.float64)
    k = window.shape[0]
    out, cache = layers.max_pool_forward(window[None, None], k, k, stride=k)
    assert out.item() == window.max()
    dx = layers.max_pool_backward(np.full_like(out, 2.5), cache)[0, 0]
    expected = np.zeros_like(window)
    expected[winner] = 2.5
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_ties_in_overlapping_windows_each_pick_their_own_first_maximum():
    # two 2x2 windows at stride 1 over a row of equal values: the first window's winner is
    # column 0, the second window's is column 1
    x = np.full((1, 1, 2, 3), 4.0)
    out, cache = layers.max_pool_forward(x, 2, 2, stride=1)
    dx = layers.max_pool_backward(np.array([[[[1.0, 10.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 10, 0], [0, 0, 0]])


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_max_pool_backward_matches_the_numerical_gradient(case):
    n, c, h, w, ph, pw, stride, pad = case
    rng = np.random.default_rng(23)
    x = separated(rng, (n, c, h, w))
    out, cache = layers.max_pool_forward(x, ph, pw, stride, pad)
    dout = rng.standard_normal(out.shape)
    dx = layers.max_pool_backward(dout, cache)

    def f():
        return float(np.sum(layers.max_pool_forward(x, ph, pw, stride, pad)[0] * dout))

    assert_gradient_close(dx, numerical_gradient(f, x, h=1e-3))


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_avg_pool_backward_matches_the_numerical_gradient(case):
    n, c, h, w, ph, pw, stride, pad = case
    rng = np.random.default_rng(24)
    x = rng.standard_normal((n, c, h, w))
    out, cache = layers.avg_pool_forward(x, ph, pw, stride, pad)
    dout = rng.standard_normal(out.shape)
    dx = layers.avg_pool_backward(dout, cache)

    def f():
        return float(np.sum(layers.avg_pool_forward(x, ph, pw, stride, pad)[0] * dout))

    assert_gradient_close(dx, numerical_gradient(f, x))


def test_pooling_keeps_float32_forward_and_backward():
    x = np.random.default_rng(25).standard_normal((2, 3, 6, 6)).astype(np.float32)
    for forward, backward in [
        (layers.max_pool_forward, layers.max_pool_backward),
        (layers.avg_pool_forward, layers.avg_pool_backward),
    ]:
        out, cache = forward(x, 2, 2, 2)
        assert out.dtype == np.float32
        assert backward(np.ones_like(out), cache).dtype == np.float32


# ------------------------------------------------------------------ ReLU and affine


def test_relu_passes_positive_values_and_zeroes_the_rest():
    x = np.array([[-2.0, -0.0, 0.0, 0.5, 3.0]])
    out, mask = layers.relu_forward(x)
    np.testing.assert_array_equal(out, [[0, 0, 0, 0.5, 3]])
    np.testing.assert_array_equal(
        layers.relu_backward(np.full_like(x, 7.0), mask), [[0, 0, 0, 7, 7]]
    )


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 4, 5)])
def test_relu_backward_matches_the_numerical_gradient(shape):
    rng = np.random.default_rng(30)
    x = away_from_zero(rng, shape)
    out, mask = layers.relu_forward(x)
    dout = rng.standard_normal(out.shape)

    def f():
        return float(np.sum(layers.relu_forward(x)[0] * dout))

    assert_gradient_close(layers.relu_backward(dout, mask), numerical_gradient(f, x))


@pytest.mark.parametrize("shape", [(3, 7), (2, 3, 4, 5), (3, 2, 3, 2)])
def test_affine_backward_matches_the_numerical_gradient_also_for_4d_maps(shape):
    rng = np.random.default_rng(31)
    x = rng.standard_normal(shape)
    W = rng.standard_normal((int(np.prod(shape[1:])), 4))
    b = rng.standard_normal(4)
    out, cache = layers.affine_forward(x, W, b)
    assert out.shape == (shape[0], 4)
    np.testing.assert_allclose(out, x.reshape(shape[0], -1) @ W + b, rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = layers.affine_backward(dout, cache)
    assert dx.shape == x.shape

    def f():
        return float(np.sum(layers.affine_forward(x, W, b)[0] * dout))

    assert_gradient_close(dx, numerical_gradient(f, x))
    assert_gradient_close(dW, numerical_gradient(f, W))
    assert_gradient_close(db, numerical_gradient(f, b))


def test_affine_flattens_maps_in_c_h_w_order_like_the_book():
    x = np.arange(2 * 2 * 2 * 3, dtype=np.float64).reshape(2, 2, 2, 3)
    W = np.eye(12)
    out, _ = layers.affine_forward(x, W, np.zeros(12))
    np.testing.assert_array_equal(out, x.reshape(2, 12))


# ------------------------------------------------------------------ softmax with cross-entropy


def cross_entropy_by_definition(logits, labels):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(labels)), labels]))


@pytest.mark.parametrize("one_hot", [False, True], ids=["integer labels", "one-hot"])
def test_softmax_cross_entropy_matches_the_definition_and_the_numerical_gradient(one_hot):
    rng = np.random.default_rng(40)
    logits = rng.standard_normal((5, 10)) * 3
    labels = rng.integers(0, 10, 5)
    t = np.eye(10)[labels] if one_hot else labels
    loss, dlogits = layers.softmax_cross_entropy(logits, t)
    assert loss == pytest.approx(cross_entropy_by_definition(logits, labels), rel=1e-12)
    # the book's shortcut: (y - t) / N
    p = layers.softmax(logits)
    np.testing.assert_allclose(dlogits, (p - np.eye(10)[labels]) / 5, rtol=1e-12, atol=1e-15)

    def f():
        return layers.softmax_cross_entropy(logits, t)[0]

    assert_gradient_close(dlogits, numerical_gradient(f, logits))


def test_integer_labels_and_one_hot_give_the_same_loss_and_gradient():
    rng = np.random.default_rng(41)
    logits = rng.standard_normal((8, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 8)
    loss_a, grad_a = layers.softmax_cross_entropy(logits, labels)
    loss_b, grad_b = layers.softmax_cross_entropy(logits, np.eye(10, dtype=np.float32)[labels])
    assert loss_a == pytest.approx(loss_b, rel=1e-6)
    np.testing.assert_allclose(grad_a, grad_b, rtol=1e-6, atol=1e-8)
    assert grad_a.dtype == np.float32


def test_softmax_cross_entropy_stays_finite_for_huge_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]], dtype=np.float32)
    right, d_right = layers.softmax_cross_entropy(logits, np.array([0, 1]))
    wrong, d_wrong = layers.softmax_cross_entropy(logits, np.array([1, 0]))
    assert np.isfinite(right) and right == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(wrong) and wrong == pytest.approx(2000.0, rel=1e-6)  # confident and wrong
    assert np.isfinite(d_right).all() and np.isfinite(d_wrong).all()
    np.testing.assert_allclose(d_wrong[0], [0.5, -0.5, 0.0], atol=1e-6)


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    p = layers.softmax(np.array([[1000.0, 999.0, -1000.0], [0.0, 0.0, 0.0]]))
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], 1 / 3)
    assert p[0, 0] == pytest.approx(1 / (1 + np.exp(-1)))


# ------------------------------------------------------------------ memory layouts


def test_conv_forward_output_feeds_the_next_layers_in_whatever_layout_it_has():
    rng = np.random.default_rng(50)
    x = rng.standard_normal((3, 2, 8, 8))
    W, b = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    conv, _ = layers.conv_forward(x, W, b)
    reference = conv_loops(x, W, b, 1, 0)
    np.testing.assert_allclose(conv, reference, rtol=1e-12, atol=1e-12)
    contiguous = np.ascontiguousarray(conv)
    for op in (
        lambda a: layers.max_pool_forward(a, 2, 2, 2)[0],
        lambda a: layers.max_pool_forward(a, 3, 3, 1, 1)[0],
        lambda a: layers.avg_pool_forward(a, 2, 3, 1)[0],
        lambda a: layers.relu_forward(a)[0],
        lambda a: layers.affine_forward(a, np.eye(4 * 6 * 6), np.zeros(4 * 6 * 6))[0],
    ):
        # equal up to summation order (a mean over a strided view adds in memory order)
        np.testing.assert_allclose(op(conv), op(contiguous), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("layout", ["C-contiguous", "channels-last"])
@pytest.mark.parametrize("dout_layout", ["C-contiguous", "channels-last"])
def test_every_layer_gives_the_same_numbers_for_either_memory_layout(layout, dout_layout):
    rng = np.random.default_rng(51)
    x0 = separated(rng, (2, 3, 6, 7), gap=0.1)
    x = channels_last(x0) if layout == "channels-last" else x0
    relayout = channels_last if dout_layout == "channels-last" else np.ascontiguousarray
    W, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)

    out, cache = layers.conv_forward(x, W, b, 2, 1)
    np.testing.assert_allclose(out, conv_loops(x0, W, b, 2, 1), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = layers.conv_backward(relayout(dout), cache)
    dx0, dW0, db0 = layers.conv_backward(dout, layers.conv_forward(x0, W, b, 2, 1)[1])
    np.testing.assert_allclose(dx, dx0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dW, dW0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, db0, rtol=1e-12, atol=1e-12)

    for ph, pw, stride, pad in [(2, 2, 2, 0), (3, 2, 1, 1), (3, 3, 2, 0)]:
        out, cache = layers.max_pool_forward(x, ph, pw, stride, pad)
        np.testing.assert_array_equal(out, max_pool_loops(x0, ph, pw, stride, pad))
        dout = rng.standard_normal(out.shape)
        ref_cache = layers.max_pool_forward(x0, ph, pw, stride, pad)[1]
        np.testing.assert_array_equal(
            layers.max_pool_backward(relayout(dout), cache),
            layers.max_pool_backward(dout, ref_cache),
        )
        out, cache = layers.avg_pool_forward(x, ph, pw, stride, pad)
        np.testing.assert_allclose(out, avg_pool_loops(x0, ph, pw, stride, pad), rtol=1e-12)
        np.testing.assert_allclose(
            layers.avg_pool_backward(relayout(dout), cache),
            layers.avg_pool_backward(dout, layers.avg_pool_forward(x0, ph, pw, stride, pad)[1]),
            rtol=1e-12,
        )

    out, mask = layers.relu_forward(x)
    np.testing.assert_array_equal(out, np.maximum(x0, 0))
    dout = rng.standard_normal(x0.shape)
    np.testing.assert_array_equal(layers.relu_backward(relayout(dout), mask), dout * (x0 > 0))

    Wa = rng.standard_normal((3 * 6 * 7, 5))
    out, cache = layers.affine_forward(x, Wa, np.zeros(5))
    np.testing.assert_allclose(out, x0.reshape(2, -1) @ Wa, rtol=1e-12)
    dx, dWa, _ = layers.affine_backward(np.ones((2, 5)), cache)
    np.testing.assert_allclose(dx, np.broadcast_to(Wa.sum(axis=1).reshape(3, 6, 7), x0.shape))
    np.testing.assert_allclose(dWa, np.repeat(x0.reshape(2, -1).sum(axis=0)[:, None], 5, 1))


def test_the_conv_pool_relu_affine_chain_backpropagates_correctly_through_layout_changes():
    # conv_forward hands the pool a channels-last view; the pool's backward gets a
    # C-contiguous gradient from affine: the mix the network really runs
    rng = np.random.default_rng(52)
    x = rng.standard_normal((2, 2, 7, 7))
    W, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    Wa, ba = rng.standard_normal((3 * 2 * 2, 4)), rng.standard_normal(4)
    t = np.array([1, 3])

    def forward():
        conv, c1 = layers.conv_forward(x, W, b)
        pool, c2 = layers.max_pool_forward(conv, 2, 2, 2)
        act, c3 = layers.relu_forward(pool)
        logits, c4 = layers.affine_forward(act, Wa, ba)
        loss, dlogits = layers.softmax_cross_entropy(logits, t)
        return loss, dlogits, (c1, c2, c3, c4)

    _, d, (c1, c2, c3, c4) = forward()
    d, dWa, _ = layers.affine_backward(d, c4)
    d = layers.relu_backward(d, c3)
    d = layers.max_pool_backward(d, c2)
    dx, dW, db = layers.conv_backward(d, c1)

    def f():
        return forward()[0]

    assert_gradient_close(dx, numerical_gradient(f, x))
    assert_gradient_close(dW, numerical_gradient(f, W))
    assert_gradient_close(db, numerical_gradient(f, b))
    assert_gradient_close(dWa, numerical_gradient(f, Wa))


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (3, 2)])
def test_convolution_by_taps_gives_conv_forwards_numbers_without_an_im2col_matrix(stride, pad):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 11, 9)).astype(np.float32)
    w = rng.standard_normal((3, 4, 3)).astype(np.float32)
    expected, _ = layers.conv_forward(x[None], w[None], np.float32([0.5]), stride, pad)
    got = layers.conv_single_by_taps(x, w, 0.5, stride, pad)
    assert got.shape == expected.shape[2:]
    np.testing.assert_allclose(got, expected[0, 0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("ph,pw,stride,pad", [(2, 2, 2, 0), (3, 2, 1, 1), (3, 3, 2, 1)])
def test_inference_max_pool_gives_the_training_pools_numbers(ph, pw, stride, pad):
    x = np.random.default_rng(5).standard_normal((2, 3, 8, 7)).astype(np.float32)
    expected, _ = layers.max_pool_forward(x, ph, pw, stride, pad)
    np.testing.assert_array_equal(layers.max_pool(x, ph, pw, stride, pad), expected)
