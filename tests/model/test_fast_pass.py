"""The fast training pass (layouts chosen per kernel) computes the same function as the
chapter-layout pass the explorer reads: logits, every parameter's gradient and dL/dx, for every
architecture of the zoo and odd shapes, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import channels_last as CL
from app.engine import layers as L
from app.model import fast_pass
from app.model.architecture import (
    Affine,
    Architecture,
    Conv,
    Pool,
    Relu,
    Softmax,
    deep_convnet,
    mlp,
    simple_convnet,
)
from app.model.network import Network
from tests.helpers.numgrad import assert_gradient_close, numerical_gradient

ODD = Architecture(  # 3 channels, rectangular kernels, stride 2, an avg pool, odd map sizes
    (3, 13, 11),
    (
        Conv(4, (3, 2), 1, 1),
        Relu(),
        Pool((2, 2), 2, "avg"),
        Conv(5, (2, 3), 2, 1),
        Relu(),
        Pool((3, 3), 3, "max"),
        Affine(7),
        Relu(),
        Affine(4),
        Softmax(),
    ),
    "he",
)

ARCHS = {
    "simple": simple_convnet(),
    "avgpool": simple_convnet(pool_mode="avg"),
    "deep": deep_convnet(),
    "mlp": mlp(),
    "odd": ODD,
}


def float64_net(arch: Architecture) -> Network:
    """Non-zero biases: with zero ones a blank margin sits exactly on ReLU's kink."""
    rng = np.random.default_rng(3)
    params = Network.initial(arch, seed=3).params
    for key in params:
        if key.startswith("b"):
            params[key] = 0.1 * rng.standard_normal(params[key].shape)
    return Network(arch, params, dtype=np.float64)


def batch(arch: Architecture, n: int = 3):
    rng = np.random.default_rng(11)
    x = rng.random((n, *arch.input_shape))
    x[:, :, : arch.input_shape[1] // 4] = 0  # a blank margin: tied pool windows
    return x, rng.integers(0, arch.num_classes, n)


@pytest.mark.parametrize("name", ARCHS)
def test_the_fast_pass_gives_the_chapter_pass_numbers(name):
    net = float64_net(ARCHS[name])
    assert fast_pass.supported(net.arch)
    x, t = batch(net.arch)
    logits, caches = net.forward(x)
    fast_logits, fast_caches, features = fast_pass.forward(net, x)
    np.testing.assert_allclose(fast_logits, logits, rtol=1e-12, atol=1e-12)
    _, dlogits = L.softmax_cross_entropy(logits, t)
    grads, dx = net.backward(dlogits, caches, need_dx=True)
    fast_grads, fast_dx = fast_pass.backward(net, dlogits, fast_caches, need_dx=True)
    assert fast_grads.keys() == grads.keys()
    for key, g in grads.items():
        np.testing.assert_allclose(fast_grads[key], g, rtol=1e-10, atol=1e-13, err_msg=key)
    np.testing.assert_allclose(fast_dx, dx, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(net.predict(x), logits, rtol=1e-12, atol=1e-12)
    assert features.shape == (
        len(x),
        net.arch.param_shapes()[f"W{net.param_index(net.last_affine)}"][0],
    )


def test_the_fast_pass_gradient_matches_central_differences():
    net = float64_net(ODD)
    x, t = batch(ODD, 2)

    def loss():
        return L.softmax_cross_entropy(fast_pass.forward(net, x)[0], t)[0]

    grads = net.gradient(x, t)[1]
    for key in ("W1", "b1", "W2", "W3"):
        assert_gradient_close(grads[key], numerical_gradient(loss, net.params[key]))


def test_dropout_uses_the_generator_in_both_passes_alike():
    net = float64_net(deep_convnet())
    x, t = batch(net.arch, 2)
    fast = fast_pass.forward(net, x, np.random.default_rng(5))[0]
    plain = net.forward(x, np.random.default_rng(5))[0]
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-12)


def test_overlapping_pools_fall_back_to_the_chapter_pass():
    arch = Architecture(
        (1, 9, 9), (Conv(2, (3, 3)), Relu(), Pool((3, 3), 2), Affine(3), Softmax()), "he"
    )
    assert not fast_pass.supported(arch)
    net = float64_net(arch)
    x, t = batch(arch)
    loss, grads = net.gradient(x, t)
    logits, caches = net.forward(x)
    _, dlogits = L.softmax_cross_entropy(logits, t)
    for key, g in net.backward(dlogits, caches)[0].items():
        np.testing.assert_array_equal(grads[key], g)


def test_channels_last_pooling_writes_zero_gradient_where_no_window_reads():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 5, 3))
    out, cache = CL.pool_forward(x, 2)
    dx = CL.pool_backward(np.ones_like(out), cache)
    assert out.shape == (2, 3, 2, 3)
    assert np.all(dx[:, 6] == 0) and np.all(dx[:, :, 4] == 0)
    assert dx.sum() == out.size  # each window's gradient went to exactly one winner
