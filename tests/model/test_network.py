"""SimpleConvNet of section 7.5: shapes, initialisation, backprop, trace, thread safety."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from app.engine import layers
from app.model.network import PARAM_NAMES, ConvNetConfig, SimpleConvNet, init_params
from app.model.train import ParallelGradient
from tests.helpers.numgrad import assert_gradient_close, numerical_gradient

SMALL = ConvNetConfig(input_dim=(1, 10, 10), filter_num=3, filter_size=3, hidden_size=5)
# two channels, pad 1, stride 2, non-square input: conv 5x6, pool 2x3 (the 5th row is dropped)
ODD = ConvNetConfig(
    input_dim=(2, 9, 11), filter_num=2, filter_size=3, pad=1, stride=2, hidden_size=4
)


def digits_like(rng, n, config=SMALL):
    """Float32-exact pixels in 0..1, so float32 and float64 passes see the same input."""
    return rng.random((n, *config.input_dim), dtype=np.float32)


def float64_net(config, seed):
    net = SimpleConvNet.initial(config, seed)
    rng = np.random.default_rng(seed + 100)
    net.params = {k: v.astype(np.float64) for k, v in net.params.items()}
    for k in ("b1", "b2", "b3"):  # non-zero biases, so their gradients are tested too
        net.params[k] += 0.1 * rng.standard_normal(net.params[k].shape)
    return net


def book_order(net, x):
    """conv -> relu -> pool -> affine -> relu -> affine -> softmax, written out as in the book."""
    p, cfg = net.params, net.config
    conv, _ = layers.conv_forward(x, p["W1"], p["b1"], cfg.stride, cfg.pad)
    relu, _ = layers.relu_forward(conv)
    pool, _ = layers.max_pool_forward(relu, cfg.pool_size, cfg.pool_size, cfg.pool_size)
    hidden, _ = layers.relu_forward(layers.affine_forward(pool, p["W2"], p["b2"])[0])
    logits, _ = layers.affine_forward(hidden, p["W3"], p["b3"])
    return {
        "conv": conv,
        "relu": relu,
        "pool": pool,
        "hidden": hidden,
        "logits": logits,
        "probs": layers.softmax(logits),
    }


# ------------------------------------------------------------------ shapes and initialisation


def test_parameter_shapes_are_the_books():
    net = SimpleConvNet.initial(seed=0)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {
        "W1": (30, 1, 5, 5),
        "b1": (30,),
        "W2": (4320, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert all(v.dtype == np.float32 for v in net.params.values())
    assert ConvNetConfig().flat_size == 30 * 12 * 12


def test_the_same_seed_gives_the_same_initial_weights():
    a, b = init_params(ConvNetConfig(), 42), init_params(ConvNetConfig(), 42)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(a[name], b[name])


def test_different_seeds_give_different_initial_weights():
    a, b = init_params(ConvNetConfig(), 1), init_params(ConvNetConfig(), 2)
    for name in ("W1", "W2", "W3"):
        assert not np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize(
    ("config", "fan_in"),
    [
        (ConvNetConfig(), {"W1": 1 * 5 * 5, "W2": 4320, "W3": 100}),
        # more filters (a larger sample of W1) and 3 channels: W1's fan-in is C * FH * FW
        (
            ConvNetConfig(input_dim=(3, 28, 28), filter_num=200),
            {"W1": 3 * 5 * 5, "W2": 200 * 12 * 12, "W3": 100},
        ),
    ],
    ids=["book", "3 channels 200 filters"],
)
def test_he_initialisation_has_std_sqrt_2_over_fan_in_and_zero_biases(config, fan_in):
    params = init_params(config, 3)
    for name, n_in in fan_in.items():
        assert params[name].std() == pytest.approx(np.sqrt(2 / n_in), rel=0.05), name
        assert abs(params[name].mean()) < 0.2 * np.sqrt(2 / n_in), name
    for name in ("b1", "b2", "b3"):
        assert not params[name].any()


def test_the_books_fixed_std_init_is_available():
    params = init_params(ConvNetConfig(weight_init=0.01), 3)
    for name in ("W1", "W2", "W3"):
        assert params[name].std() == pytest.approx(0.01, rel=0.1), name


def test_parameters_of_the_wrong_shape_are_refused_with_the_name_and_both_shapes():
    params = init_params(ConvNetConfig(), 0)
    params["W2"] = np.zeros((4320, 50), np.float32)
    with pytest.raises(ValueError, match=r"W2.*\(4320, 50\).*\(4320, 100\)"):
        SimpleConvNet(ConvNetConfig(), params)


# ------------------------------------------------------------------ backpropagation


@pytest.mark.parametrize("config", [SMALL, ODD], ids=["1x10x10", "2x9x11-pad1-stride2"])
def test_gradient_by_backpropagation_matches_the_numerical_gradient(config):
    rng = np.random.default_rng(7)
    net = float64_net(config, seed=5)
    x = digits_like(rng, 4, config).astype(np.float64)
    t = np.array([0, 3, 9, 3])
    loss, grads = net.gradient(x, t)
    assert loss == pytest.approx(net.loss(x, t), rel=1e-12)
    assert set(grads) == set(PARAM_NAMES)
    for name in PARAM_NAMES:

        def f():
            return net.loss(x, t)

        assert grads[name].shape == net.params[name].shape, name
        assert_gradient_close(grads[name], numerical_gradient(f, net.params[name]))


def test_gradient_accepts_one_hot_labels_too():
    rng = np.random.default_rng(8)
    net = SimpleConvNet.initial(SMALL, seed=1)
    x, t = digits_like(rng, 6), rng.integers(0, 10, 6)
    loss_a, grads_a = net.gradient(x, t)
    loss_b, grads_b = net.gradient(x, np.eye(10, dtype=np.float32)[t])
    assert loss_a == pytest.approx(loss_b, rel=1e-6)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(grads_a[name], grads_b[name], rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------ trace


def test_trace_pool_is_the_max_pool_of_trace_relu():
    # the network pools before its ReLU; max and ReLU commute, so the maps are the book's
    rng = np.random.default_rng(9)
    net = SimpleConvNet.initial(seed=0)
    net.params["b1"][:] = rng.standard_normal(30).astype(np.float32) * 0.1
    tr = net.trace(digits_like(rng, 3, ConvNetConfig()))
    assert (tr["conv"] < 0).any(), "the check needs negative conv outputs"
    pooled, _ = layers.max_pool_forward(tr["relu"], 2, 2, 2)
    np.testing.assert_array_equal(tr["pool"], pooled)
    assert tr["pool"].shape == (3, 30, 12, 12)


@pytest.mark.parametrize("config", [ConvNetConfig(), ODD], ids=["book", "2x9x11-pad1-stride2"])
def test_trace_equals_the_plain_book_order_computation(config):
    rng = np.random.default_rng(10)
    net = SimpleConvNet.initial(config, seed=4)
    for k in ("b1", "b2", "b3"):
        net.params[k] += 0.1 * rng.standard_normal(net.params[k].shape).astype(np.float32)
    x = digits_like(rng, 5, config)
    tr, ref = net.trace(x), book_order(net, x)
    assert set(tr) == set(ref)
    for name in ("conv", "relu", "pool"):
        np.testing.assert_array_equal(tr[name], ref[name], err_msg=name)
    for name in ("hidden", "logits", "probs"):
        np.testing.assert_allclose(tr[name], ref[name], rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(tr["probs"].sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(net.predict(x), tr["logits"])


# ------------------------------------------------------------------ threads


def test_parallel_gradient_on_two_threads_equals_one_gradient_over_the_whole_batch():
    rng = np.random.default_rng(11)
    net = SimpleConvNet.initial(seed=2)
    x = digits_like(rng, 41, ConvNetConfig())  # odd size: halves of 21 and 20 are weighted
    t = rng.integers(0, 10, 41)
    loss, grads = net.gradient(x, t)
    parallel = ParallelGradient(net, threads=2)
    try:
        assert parallel.pool is not None
        p_loss, p_grads = parallel(x, t)
    finally:
        parallel.close()
    assert p_loss == pytest.approx(loss, rel=1e-5)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(p_grads[name], grads[name], rtol=1e-4, atol=1e-6, err_msg=name)
        assert p_grads[name].dtype == np.float32, name


def test_predict_from_several_threads_at_once_equals_sequential_results():
    rng = np.random.default_rng(12)
    net = SimpleConvNet.initial(seed=3)
    batches = [digits_like(rng, n, ConvNetConfig()) for n in (1, 7, 1, 3, 16, 2, 1, 5) * 3]
    sequential = [net.predict(x) for x in batches]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(net.predict, batches))
    for seq, con in zip(sequential, concurrent, strict=True):
        assert seq.shape == con.shape
        np.testing.assert_allclose(con, seq, rtol=1e-5, atol=1e-6)
