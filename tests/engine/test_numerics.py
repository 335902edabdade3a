"""Subnormal numbers are made zero where the engine keeps weights: on load and while training."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.numerics import flush_subnormals
from app.engine.optimizers import FLUSH_EVERY, Adam
from app.model.architecture import simple_convnet
from app.model.network import Network

TINY = np.finfo(np.float32).tiny


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_only_subnormals_become_zero(dtype):
    tiny = np.finfo(dtype).tiny
    a = np.array([0.0, tiny, -tiny, tiny / 4, -tiny / 1024, 1.5, -2e-30, np.inf], dtype)
    flushed = flush_subnormals(a.copy())
    np.testing.assert_array_equal(
        flushed, np.array([0, tiny, -tiny, 0, 0, 1.5, -2e-30, np.inf], dtype)
    )


def test_a_network_drops_subnormal_weights_and_leaves_the_callers_arrays_alone():
    arch = simple_convnet()
    params = Network.initial(arch, seed=0).params
    params["W2"][0, :10] = TINY / 8
    net = Network(arch, params)
    assert np.all(net.params["W2"][0, :10] == 0)
    assert np.all(params["W2"][0, :10] == TINY / 8)  # the caller's copy is not touched
    np.testing.assert_array_equal(net.params["W2"][1:], params["W2"][1:])


def test_adam_flushes_weights_and_moments_every_few_updates():
    param = {"W": np.full(100, 1e-3, np.float32)}
    zero = {"W": np.zeros(100, np.float32)}
    adam = Adam(lr=1e-3)
    adam.update(param, {"W": np.ones(100, np.float32)})
    adam.m["W"][:50] = TINY / 16  # as a moment that decays by beta1 each step becomes
    param["W"][50:] = TINY / 16
    for _ in range(FLUSH_EVERY - 2):
        adam.update(param, zero)
    m = adam.m["W"]
    assert np.any((m != 0) & (np.abs(m) < TINY))  # not yet: subnormal moments are still there
    adam.update(param, zero)  # the FLUSH_EVERY-th update
    for a in (param["W"], adam.m["W"], adam.v["W"]):
        assert not np.any((a != 0) & (np.abs(a) < TINY))
