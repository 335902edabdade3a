"""The chapter-6 optimisers minimise f(w) = ||w - 3||^2 and keep float32 parameters float32."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from app.engine.optimizers import OPTIMIZERS, SGD, AdaGrad, Adam, Momentum

OPTIMUM = 3.0


def quadratic_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of f(w) = ||w - 3||^2."""
    return 2 * (w - OPTIMUM)


def minimise(optimizer, steps: int) -> dict[str, np.ndarray]:
    params = {
        "W": np.array([[-5.0, 0.0], [10.0, 2.5]], dtype=np.float32),
        "b": np.array([100.0, -20.0, 3.0], dtype=np.float32),
    }
    for _ in range(steps):
        grads = {k: quadratic_grad(v) for k, v in params.items()}
        optimizer.update(params, grads)
    return params


@pytest.mark.parametrize(
    ("optimizer", "steps"),
    [
        (SGD(lr=0.1), 200),
        (Momentum(lr=0.02, momentum=0.9), 400),
        (AdaGrad(lr=10.0), 800),
        (Adam(lr=0.5), 800),
    ],
    ids=["SGD", "Momentum", "AdaGrad", "Adam"],
)
def test_each_optimiser_walks_to_the_bottom_of_a_quadratic_bowl(optimizer, steps):
    start = minimise(type(optimizer)(), 0)
    start_loss = sum(float(np.sum((v - OPTIMUM) ** 2)) for v in start.values())
    params = minimise(optimizer, steps)
    for name, value in params.items():
        assert value.dtype == np.float32, name
        np.testing.assert_allclose(value, OPTIMUM, atol=0.01, err_msg=name)
    end_loss = sum(float(np.sum((v - OPTIMUM) ** 2)) for v in params.values())
    assert end_loss < 1e-6 * start_loss


def test_every_optimiser_updates_the_parameter_arrays_in_place():
    for name, cls in OPTIMIZERS.items():
        params = {"W": np.zeros(3, np.float32)}
        before = params["W"]
        cls().update(params, {"W": np.ones(3, np.float32)})
        assert params["W"] is before, name
        assert (before < 0).all(), f"{name} did not step against the gradient"


@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
def test_adam_keeps_float32_parameters_float32(grad_dtype):
    adam = Adam(lr=0.001)
    params = {"W": np.ones((4, 3), np.float32), "b": np.zeros(3, np.float32)}
    for _ in range(5):
        grads = {k: np.full(v.shape, 0.5, dtype=grad_dtype) for k, v in params.items()}
        adam.update(params, grads)
    assert params["W"].dtype == np.float32
    assert params["b"].dtype == np.float32
    assert adam.m["W"].dtype == np.float32 and adam.v["W"].dtype == np.float32


def test_adams_first_step_has_the_size_of_the_learning_rate_whatever_the_gradient_scale():
    # bias correction: after one step m/sqrt(v) = g/|g|, so every weight moves by lr (eps aside:
    # the book adds eps before the correction, which shows for gradients below about 1e-3)
    for scale in (0.1, 1.0, 1e3):
        params = {"W": np.zeros(4, np.float32)}
        Adam(lr=0.01).update(params, {"W": np.array([1, -2, 3, -4], np.float32) * scale})
        np.testing.assert_allclose(params["W"], [-0.01, 0.01, -0.01, 0.01], rtol=1e-3)


def test_momentum_keeps_moving_when_the_gradient_vanishes():
    opt = Momentum(lr=0.1, momentum=0.9)
    params = {"w": np.zeros(1, np.float32)}
    opt.update(params, {"w": np.ones(1, np.float32)})
    after_push = params["w"].copy()
    opt.update(params, {"w": np.zeros(1, np.float32)})
    np.testing.assert_allclose(after_push, [-0.1])
    np.testing.assert_allclose(params["w"], [-0.19], rtol=1e-6)


def test_the_registry_names_all_four_optimisers():
    registry = dict(OPTIMIZERS)
    assert registry == {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "adam": Adam}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_update_spread_over_threads_gives_the_same_numbers(name):
    rng = np.random.default_rng(4)
    shapes = {"W1": (300, 171), "b1": (171,), "W2": (171, 10)}  # one big enough to split
    start = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    serial, spread = ({k: v.copy() for k, v in start.items()} for _ in range(2))
    one, many = OPTIMIZERS[name](), OPTIMIZERS[name]()
    with ThreadPoolExecutor(3) as pool:
        for _ in range(4):
            grads = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
            one.update(serial, {k: g.copy() for k, g in grads.items()})
            many.update(spread, grads, pool, 3)
    for k in shapes:
        np.testing.assert_array_equal(spread[k], serial[k], err_msg=k)
        assert not np.array_equal(spread[k], start[k])
