"""Attribution maps and their proofs (issue 11), in process on the shipped weights.

The maps' gradients are the engine's backward pass, checked here against central differences;
Integrated Gradients keeps completeness; the gradient map's top pixels matter more than random
ones; an untrained network is the sanity reference; the same call gives the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.layers import softmax
from app.explorer import attribution_checks as checks
from app.explorer import attribution_methods as methods
from app.explorer.attribution import (
    LIMITS,
    AttributionError,
    AttributionOptions,
    attribute,
    cost,
    macs_per_image,
    sanity_reference,
)
from app.explorer.mean_digit import MEAN_DIGIT_PATH, load_mean_digit
from app.explorer.models import load_one
from app.model.mnist import FILES, load_mnist, load_split
from app.model.network import Network
from tests.helpers.models import default_model_id, model_file, require_model
from tests.helpers.paths import MNIST_DIR, SAMPLE_DIR


@pytest.fixture(scope="module")
def model():
    return load_one(require_model(default_model_id()))


@pytest.fixture(scope="module")
def untrained():
    return load_one(require_model("untrained"))


@pytest.fixture(scope="module")
def digits():
    """The first 100 test digits of the shipped sample (the first 100 of MNIST's test set)."""
    data = load_mnist(SAMPLE_DIR)
    return data.test_images[:100], data.test_labels[:100]


def predicted(net: Network, x: np.ndarray) -> int:
    return int(net.predict(x[None]).argmax())


# ------------------------------------------------------------------ the gradient is the engine's


def float64_copy(net: Network) -> Network:
    """The same layers and weights on the engine's float64 path."""
    return Network(net.arch, net.params, dtype=np.float64)


STEP = 2.0**-20  # the central difference's h


def jittered(digit: np.ndarray, seed: int = 0) -> np.ndarray:
    """The digit plus 1..15 thousandths of noise, on a 2^-20 grid: no two conv outputs of a
    max-pool window tie (blank windows would) and none sits within h of a ReLU's kink; x +- h
    is exact."""
    rng = np.random.default_rng(seed)
    noisy = digit + rng.integers(1, 16, digit.shape) / 1024
    return (np.round(noisy / STEP) * STEP).astype(np.float64)


@pytest.mark.parametrize("model_id", [default_model_id(), "mlp", "book-deep"])
def test_the_gradient_map_is_the_central_difference_of_the_logit(model_id, digits):
    """d logit_7 / d pixel from the backward pass against (f(x + h) - f(x - h)) / 2h for all
    784 pixels at once (1568 perturbed images in one batch), in float64.

    The deep net has so many ReLU and max units that for a few pixels one of them switches
    within +-h: the logit has a kink there and the one-sided differences disagree. Those
    pixels are left out (at most 5 %: 31 of 784 for book-deep); every other one must match."""
    net = float64_copy(load_one(require_model(model_id)).net)
    x = jittered(digits[0][0])  # a 7
    target, h = 7, STEP
    analytic = methods.gradient(net, x, target).ravel()
    eye = np.eye(784).reshape(784, 1, 28, 28) * h
    logits = net.predict(np.concatenate([x + eye, x - eye, x[None]]))[:, target]
    up, down, at = logits[:784], logits[784:1568], logits[-1]
    numeric = (up - down) / (2 * h)
    smooth = np.abs((up - at) - (at - down)) / h <= 1e-6 + 1e-5 * np.abs(numeric)
    assert smooth.mean() >= 0.95, f"{(~smooth).sum()} pixels sit on a kink"
    error = np.abs(analytic - numeric)[smooth] / (1e-7 + 1e-5 * np.abs(numeric[smooth]))
    assert error.max() <= 1, f"backward and central differences differ (ratio {error.max():.3g})"


def test_gradient_x_input_is_the_gradient_times_the_ink(model, digits):
    x = digits[0][3]
    g = methods.gradient(model.net, x, 0)
    assert np.allclose(methods.gradient_x_input(model.net, x, 0), g * x[0], atol=1e-7)


# ------------------------------------------------------------------ Integrated Gradients


@pytest.mark.parametrize("baseline, steps", [("black", 64), ("mean", 128)])
def test_integrated_gradients_keep_completeness_within_1_percent_on_100_test_digits(
    model, digits, baseline, steps
):
    """The map sums to logit(x) - logit(baseline) within 1 % for every one of 100 digits:
    Gauss-Legendre with 64 nodes from black; the mean digit's path crosses more ReLU kinks, so
    it gets 128."""
    x = digits[0]
    base = np.zeros_like(x[0]) if baseline == "black" else load_mean_digit()[None]
    errors = []
    for xi in x:
        ig = methods.integrated_gradients(model.net, xi, predicted(model.net, xi), base, steps)
        errors.append(checks.completeness_error(ig.total, ig.gap))
    errors = np.array(errors)
    summary = f"median {np.median(errors):.4%}, max {errors.max():.4%}"
    assert errors.max() <= 0.01, summary


def test_integrated_gradients_from_the_input_itself_are_zero(model, digits):
    x = digits[0][1]
    ig = methods.integrated_gradients(model.net, x, 2, x.copy(), 8)
    assert ig.gap == 0 and not ig.map.any()


def test_the_mean_digit_is_plain_numbers_of_the_training_set():
    digit = np.load(MEAN_DIGIT_PATH, allow_pickle=False)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() <= 1
    if not MNIST_DIR.is_dir():
        pytest.skip(f"full MNIST set not found at {MNIST_DIR}")
    images, _, _ = load_split(MNIST_DIR, FILES["train_images"], FILES["train_labels"])
    assert np.allclose(digit, images[:, 0].mean(axis=0, dtype=np.float64), atol=1e-6)


# ------------------------------------------------------------------ occlusion and Grad-CAM


def test_occlusion_windows_cover_every_pixel_up_to_the_edge():
    assert methods.window_starts(28, 4, 2) == list(range(0, 25, 2))
    assert methods.window_starts(28, 5, 2) == [*range(0, 24, 2), 23]  # the flush last window
    assert methods.occlusion_windows((28, 28), 4, 2) == 13 * 13


def test_erasing_one_pixel_at_a_time_is_the_logit_drop_of_each_pixel(model, digits):
    x = digits[0][0]
    target = 7
    m = methods.occlusion(model.net, x, target, 1, 1, "erase")
    rows, cols = np.nonzero(x[0])
    for r, c in zip(rows[:5], cols[:5], strict=True):
        erased = x.copy()
        erased[0, r, c] = 0
        logits = model.net.predict(np.stack([x, erased]))[:, target]
        assert m[r, c] == pytest.approx(logits[0] - logits[1], abs=1e-4)
    assert not m[x[0] == 0].any()  # erasing what is already blank changes nothing


def test_grad_cam_reads_the_conv_and_pool_stages_of_each_model():
    names = lambda model_id: [  # noqa: E731
        load_one(model_file(model_id)).net.arch.names()[i]
        for i in methods.cam_stages(load_one(model_file(model_id)).net.arch)
    ]
    assert names("untrained") == ["relu1", "pool1"]  # 24x24 conv after ReLU, 12x12 pooled
    assert names("mlp") == []
    if model_file("book-deep").is_file():
        assert names("book-deep") == [
            "relu1", "relu2", "pool1", "relu3", "relu4", "pool2", "relu5", "relu6", "pool3"
        ]  # fmt: skip


def test_the_rest_of_the_network_after_a_stage_gives_the_same_logits(model, digits):
    x = digits[0][:3]
    trace = model.net.trace(x)
    for i in methods.cam_stages(model.net.arch):
        tail = methods.tail_network(model.net, i)
        assert np.allclose(tail.predict(trace[i].value), model.net.predict(x), atol=1e-4)


def test_a_stage_map_lands_on_the_receptive_fields_of_its_units(untrained):
    arch = untrained.net.arch
    relu1 = 1  # 24x24, each unit sees 5x5
    assert np.allclose(methods.project_to_input(arch, relu1, np.ones((24, 24))), 1)
    one = np.zeros((24, 24))
    one[10, 3] = 25.0
    spread = methods.project_to_input(arch, relu1, one)
    inside = np.zeros((28, 28), bool)
    inside[10:15, 3:8] = True
    assert not spread[~inside].any() and (spread[inside] > 0).all()


def test_grad_cam_maps_are_positive_and_sized_by_stage(model, digits):
    stages = methods.grad_cam(model.net, digits[0][0], 7)
    for s in stages:
        assert s.on_input.shape == (28, 28)
        assert (s.cam >= 0).all() and s.cam.shape == model.net.arch.shapes[s.index][1:]


# ------------------------------------------------------------------ deletion and insertion


def test_the_gradient_maps_top_pixels_beat_random_ones_on_90_of_100_test_digits(model, digits):
    """Deletion area of the gradient map (mean probability of the class over the first 100
    erased pixels) below the seeded random order's on at least 90 of 100 digits."""
    below = []
    for xi in digits[0]:
        t = predicted(model.net, xi)
        random = checks.order_curves(model.net, xi, t, checks.random_order((28, 28), 0), 100)
        c = checks.curves(model.net, xi, t, methods.gradient(model.net, xi, t), 100, random)
        below.append(checks.Curves.area(c.deletion) < checks.Curves.area(c.deletion_random))
    assert sum(below) >= 90, f"{sum(below)} of 100"


def test_the_curves_skip_only_images_that_did_not_change(model, digits):
    """Erasing a pixel that is already 0 leaves the image as it was: the curves computed from
    the distinct images equal the ones computed from every image."""
    x = digits[0][5]
    t = predicted(model.net, x)
    order = checks.random_order((28, 28), 3)
    deletion, insertion = checks.order_curves(model.net, x, t, order, 60)
    flat = x.reshape(1, 784)
    gone = np.arange(784)[None] < 0
    every_del, every_ins = [], []
    for k in range(61):
        gone = np.isin(np.arange(784), order[:k])
        every_del.append(flat * ~gone)
        every_ins.append(flat * gone)
    images = np.concatenate([every_del, every_ins]).reshape(-1, 1, 28, 28)
    probs = softmax(model.net.predict(images).astype(np.float64))[:, t]
    assert np.allclose(deletion, probs[:61]) and np.allclose(insertion, probs[61:])


def test_the_area_is_the_mean_probability_under_the_curve():
    assert checks.Curves.area(np.array([1.0, 1.0, 1.0])) == 1
    assert checks.Curves.area(np.array([1.0, 0.0, 0.0])) == 0.25
    assert checks.verdict(0.30, 0.90, lower_is_better=True) == "better"
    assert checks.verdict(0.89, 0.90, lower_is_better=True) == "same"
    assert checks.verdict(0.10, 0.20, lower_is_better=False) == "worse"


# ------------------------------------------------------------------ sanity


def test_spearman_averages_tied_ranks():
    assert list(checks.average_ranks(np.array([3.0, 1.0, 3.0, 2.0]))) == [2.5, 0, 2.5, 1]
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert checks.spearman(a, a**3) == pytest.approx(1)
    assert checks.spearman(a, -a) == pytest.approx(-1)
    # by hand: ranks (0, 1.5, 1.5, 3) and (0, 1, 3, 2) -> Pearson 3 / sqrt(4.5 * 5)
    b = np.array([0.0, 5.0, 5.0, 9.0])
    assert checks.spearman(b, np.array([1.0, 2.0, 4.0, 3.0])) == pytest.approx(3 / 22.5**0.5)
    assert checks.spearman(np.zeros(4), a) is None


def test_the_sanity_reference_is_an_untrained_network_of_the_same_layers(model, untrained):
    name, net = sanity_reference(model, untrained)
    if model.net.arch.layers == untrained.net.arch.layers:
        assert name == "untrained" and net is untrained.net
    mlp = load_one(require_model("mlp"))
    name, net = sanity_reference(mlp, untrained)
    assert name == "mlp before training"
    assert np.array_equal(net.params["W1"], mlp.initial["W1"])
    assert sanity_reference(untrained, untrained) is None


# ------------------------------------------------------------------ the whole answer


ALL = [
    AttributionOptions("gradient"),
    AttributionOptions("gradient_x_input"),
    AttributionOptions("smoothgrad", samples=8),
    AttributionOptions("integrated_gradients", steps=16),
    AttributionOptions("integrated_gradients", steps=16, baseline="mean"),
    AttributionOptions("occlusion", patch=4, stride=4),
    AttributionOptions("occlusion", patch=4, stride=4, ink="add"),
    AttributionOptions("grad_cam"),
]


@pytest.mark.parametrize("options", ALL, ids=lambda o: f"{o.method}-{o.baseline}-{o.ink}")
def test_the_same_call_gives_the_same_numbers(model, untrained, digits, options):
    x = digits[0][0, 0]
    first = attribute(model, x, options, untrained).model_dump_json()
    assert attribute(model, x, options, untrained).model_dump_json() == first


def test_smoothgrad_and_the_random_order_follow_the_seed(model, untrained, digits):
    x = digits[0][0, 0]
    a = attribute(model, x, AttributionOptions("smoothgrad", samples=8, seed=1), untrained)
    b = attribute(model, x, AttributionOptions("smoothgrad", samples=8, seed=2), untrained)
    assert a.maps[0].values != b.maps[0].values
    assert a.maps[0].deletion.random_area != b.maps[0].deletion.random_area


def test_every_map_carries_its_proof(model, untrained, digits):
    x = digits[0][0, 0]
    answer = attribute(model, x, AttributionOptions("integrated_gradients", curves=True), untrained)
    assert answer.target == answer.predicted == 7
    (m,) = answer.maps
    assert m.completeness.error <= 0.01
    assert m.completeness.total == pytest.approx(np.sum(m.values), abs=1e-3)
    assert len(m.curves.deletion) == 101 and m.curves.deletion[0] == pytest.approx(
        answer.probability, abs=1e-6
    )
    assert m.deletion.value_at == m.curves.deletion[30]
    assert m.sanity.reference == sanity_reference(model, untrained)[0]
    assert -1 <= m.sanity.spearman <= 1
    assert f"P(7) from {checks.percent(m.curves.deletion[0])}" in m.deletion.reading


def test_a_model_without_conv_layers_has_no_grad_cam_and_says_so(digits):
    mlp = load_one(require_model("mlp"))
    answer = attribute(mlp, digits[0][0, 0], AttributionOptions("grad_cam"))
    assert answer.maps == [] and "no conv layers" in answer.note


@pytest.mark.parametrize(
    "options, words",
    [
        (AttributionOptions("integrated_gradients", steps=513), "steps: 513 integration steps"),
        (AttributionOptions("smoothgrad", samples=257), "samples: 257 SmoothGrad samples"),
        (AttributionOptions("occlusion", patch=1, stride=1), "windows: 784 occlusion windows"),
        (AttributionOptions("gradient", curve_pixels=785), "curve_pixels: 785 curve pixels"),
        (AttributionOptions("gradient", target=10), "target 10"),
        (AttributionOptions("occlusion", patch=29), "patch 29"),
    ],
)
def test_a_cost_over_a_limit_is_refused_by_name(model, digits, options, words):
    with pytest.raises(AttributionError, match=words):
        attribute(model, digits[0][0, 0], options)


def test_a_call_is_costed_in_multiply_adds_before_any_work(digits):
    simple = load_one(require_model("untrained")).net.arch  # the chapter's layers
    # conv 30 x 1 x 5 x 5 over 24 x 24, affine 4320 x 100, affine 100 x 10
    assert macs_per_image(simple) == 30 * 25 * 576 + 4320 * 100 + 100 * 10
    ink = int(np.count_nonzero(digits[0][0]))
    gradient = AttributionOptions("gradient", sanity=False)
    # 1 forward + backward (3 passes); 2 curves each for the map and the random order
    assert cost(gradient, simple, ink) == macs_per_image(simple) * (3 + 2 * 2 * (1 + 100))
    # patch and stride are occlusion's: another method ignores them, even impossible ones
    assert cost(AttributionOptions("grad_cam", patch=29), simple, ink) > 0
    deep = require_model("book-deep")
    with pytest.raises(AttributionError, match="billion multiply-adds on book-deep"):
        attribute(
            load_one(deep), digits[0][0, 0], AttributionOptions("integrated_gradients", steps=512)
        )


def test_the_limits_bound_every_batch():
    assert {name: limit for name, (limit, _) in LIMITS.items()} == {
        "steps": 512, "samples": 256, "windows": 400, "curve_pixels": 784
    }  # fmt: skip
