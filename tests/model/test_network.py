"""A network described by its layers: shapes, initialisation, backprop, trace, thread safety.

SimpleConvNet (section 7.5) is one layer list among others; every test that holds for it is
also asked of deeper lists: two conv layers, C > 1 input channels, stride 2, pad 1, average
pooling, a fully connected net (Fig. 7-1) and the book's dropout.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from app.engine import layers as L
from app.model.architecture import (
    Affine,
    Architecture,
    ArchitectureError,
    Conv,
    Dropout,
    Pool,
    Relu,
    Softmax,
    deep_convnet,
    mlp,
    simple_convnet,
)
from app.model.network import Network, init_params
from app.model.storage import load_model
from app.model.train import ParallelGradient
from app.model.zoo import ZOO
from tests.helpers.models import MODELS_DIR
from tests.helpers.numgrad import assert_gradient_close, numerical_gradient

BOOK = simple_convnet()
SMALL = simple_convnet(filters=3, size=3, hidden=5, input_shape=(1, 10, 10))
# two channels, pad 1, stride 2, non-square input: conv 5x6, pool 2x3 (the 5th row is dropped)
ODD = simple_convnet(filters=2, size=3, pad=1, stride=2, hidden=4, input_shape=(2, 9, 11))
# two conv layers on a 2-channel input: stride 2 and pad 1, then max and average pooling
TWO_CONV = Architecture(
    (2, 8, 8),
    (
        Conv(3, (3, 3), stride=2, pad=1),  # (8 + 2 - 3) // 2 + 1 = 4
        Relu(),
        Pool((2, 2), 2, "max"),  # 2x2
        Conv(4, (2, 2), stride=1, pad=1),  # 2 + 2 - 2 + 1 = 3
        Relu(),
        Pool((2, 2), 1, "avg"),  # overlapping windows: 2x2
        Affine(5),
        Relu(),
        Affine(3),
        Softmax(),
    ),
)
AVG = simple_convnet(filters=3, size=3, hidden=5, pool_mode="avg", input_shape=(1, 10, 10))
MLP = mlp((6, 5))  # Fig. 7-1: the 28x28 image flattened, Affine-ReLU, Affine-ReLU, Affine
DROPOUT = Architecture(
    (1, 6, 6),
    (
        Conv(2, (3, 3)),
        Relu(),
        Pool((2, 2), 2, "max"),
        Affine(6),
        Relu(),
        Dropout(0.5),
        Affine(4),
        Dropout(0.3),  # the book's DeepConvNet also drops out its logits
        Softmax(),
    ),
)
CONFIGS = {"1x10x10": SMALL, "2x9x11-pad1-stride2": ODD, "two-conv-max-avg": TWO_CONV,
           "avg-pool": AVG, "mlp": MLP, "dropout": DROPOUT}  # fmt: skip


def digits_like(rng, n, arch=SMALL):
    """Float32-exact pixels in 0..1, so float32 and float64 passes see the same input."""
    return rng.random((n, *arch.input_shape), dtype=np.float32)


def float64_net(arch, seed):
    """The network in float64 (for numerical gradients), with non-zero biases so their
    gradients are tested too."""
    net = Network.initial(arch, seed)
    rng = np.random.default_rng(seed + 100)
    for name, value in net.params.items():
        value = value.astype(np.float64)
        if name.startswith("b"):
            value += 0.1 * rng.standard_normal(value.shape)
        net.params[name] = value
    return net


def with_random_biases(net, seed):
    rng = np.random.default_rng(seed)
    for name in net.params:
        if name.startswith("b"):
            net.params[name] += 0.1 * rng.standard_normal(net.params[name].shape, np.float32)
    return net


# ------------------------------------------------------------------ shapes and names


def test_parameter_shapes_are_the_books():
    net = Network.initial(BOOK, seed=0)
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
    assert BOOK.shapes[2] == (30, 12, 12) and 30 * 12 * 12 == 4320
    assert BOOK.param_count() == 433_890


def test_the_chapter_8_network_numbers_its_parameters_as_the_book_does():
    shapes = deep_convnet().param_shapes()
    assert shapes == {
        "W1": (16, 1, 3, 3), "b1": (16,), "W2": (16, 16, 3, 3), "b2": (16,),
        "W3": (32, 16, 3, 3), "b3": (32,), "W4": (32, 32, 3, 3), "b4": (32,),
        "W5": (64, 32, 3, 3), "b5": (64,), "W6": (64, 64, 3, 3), "b6": (64,),
        "W7": (1024, 50), "b7": (50,), "W8": (50, 10), "b8": (10,),
    }  # fmt: skip
    assert deep_convnet().param_count() == 123_552


def test_every_layer_output_is_named_as_the_book_counts_them():
    assert BOOK.names() == ["conv1", "relu1", "pool1", "affine1", "relu2", "affine2", "probs"]
    assert TWO_CONV.names() == [
        "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "affine1", "relu3", "affine2",
        "probs",
    ]  # fmt: skip
    assert MLP.names() == ["affine1", "relu1", "affine2", "relu2", "affine3", "probs"]


def test_each_layer_has_the_shape_the_output_size_formula_gives():
    assert BOOK.shapes == ((30, 24, 24), (30, 24, 24), (30, 12, 12), (100,), (100,), (10,), (10,))
    # stride 2, pad 1: (8 + 2*1 - 3) / 2 + 1 = 4 (floor); 2x2 pooling halves it
    assert TWO_CONV.shapes[:6] == ((3, 4, 4), (3, 4, 4), (3, 2, 2), (4, 3, 3), (4, 3, 3), (4, 2, 2))
    assert TWO_CONV.param_shapes()["W2"] == (4, 3, 2, 2)  # the second filters span 3 channels
    assert TWO_CONV.param_shapes()["W3"] == (4 * 2 * 2, 5)
    assert ODD.shapes[0] == (2, 5, 6) and ODD.shapes[2] == (2, 2, 3)
    assert MLP.param_shapes()["W1"] == (784, 6)


def test_padding_1_turns_a_4x4_input_and_a_3x3_filter_into_a_4x4_output():
    arch = Architecture((1, 4, 4), (Conv(1, (3, 3), 1, 1), Relu(), Affine(2), Softmax()))
    assert arch.shapes[0] == (1, 4, 4)


def test_a_7x7_input_and_a_3x3_filter_at_stride_2_give_a_3x3_output():
    arch = Architecture((1, 7, 7), (Conv(1, (3, 3), 2, 0), Affine(2), Softmax()))
    assert arch.shapes[0] == (1, 3, 3)


# ------------------------------------------------------------------ impossible layer lists


@pytest.mark.parametrize(
    ("input_shape", "layers", "words"),
    [
        ((1, 4, 4), (Conv(2, (5, 5)), Affine(2), Softmax()),
         ["layer 1", "conv 2 filters 5x5", "FH=5", "larger than the padded input", "H+2P=4"]),
        ((1, 4, 6), (Conv(2, (3, 7), 1, 0), Affine(2), Softmax()),
         ["layer 1", "FW=7", "W+2P=6"]),
        ((1, 6, 6), (Conv(2, (3, 3)), Relu(), Pool((5, 5), 5), Affine(2), Softmax()),
         ["layer 3", "max pool 5x5", "FH=5", "H+2P=4"]),
        ((1, 6, 6), (Affine(4), Conv(2, (3, 3)), Affine(2), Softmax()),
         ["layer 2", "conv needs a (C, H, W) input"]),
        ((1, 6, 6), (Affine(4), Pool(), Affine(2), Softmax()),
         ["layer 2", "pooling needs a (C, H, W) input"]),
        ((1, 6, 6), (Conv(2, (3, 3)), Softmax()), ["layer 2", "softmax needs a flat input"]),
        ((1, 6, 6), (Conv(0, (3, 3)), Affine(2), Softmax()),
         ["layer 1", "filters and filter size must be at least 1"]),
        ((1, 6, 6), (Conv(2, (3, 3)), Pool(mode="median"), Affine(2), Softmax()),
         ["layer 2", 'pool mode must be "max" or "avg"', "median"]),
        ((1, 6, 6), (Affine(4), Dropout(1.0), Affine(2), Softmax()),
         ["layer 2", "dropout rate must be in [0, 1)"]),
        ((1, 6, 6), (Affine(0), Softmax()), ["layer 1", "at least 1 unit"]),
        ((1, 6, 6), (Affine(4), Relu()), ["the last layer must be softmax"]),
    ],
    ids=["filter-taller-than-input", "filter-wider-than-input", "pool-larger-than-map",
         "conv-after-affine", "pool-after-affine", "softmax-on-maps", "no-filters",
         "unknown-pool-mode", "dropout-rate-1", "affine-no-units", "no-softmax"],
)  # fmt: skip
def test_an_impossible_layer_list_is_refused_naming_the_layer_and_the_reason(
    input_shape, layers, words
):
    with pytest.raises(ArchitectureError) as err:
        Architecture(input_shape, layers)
    for word in words:
        assert word in str(err.value), (word, str(err.value))


@pytest.mark.parametrize("init", ["xavier", -0.01, 0.0])
def test_init_is_he_or_a_positive_std(init):
    with pytest.raises(ArchitectureError, match='init must be "he" or a positive std'):
        simple_convnet(init=init)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"input_shape": [1, 4, 4], "layers": [{"type": "batchnorm"}, {"type": "softmax"}]},
         ["unknown layer type 'batchnorm'", "conv", "pool", "softmax"]),
        ({"input_shape": [1, 4, 4],
          "layers": [{"type": "conv", "filters": 1, "size": 3, "dilation": 2},
                     {"type": "affine", "units": 2}, {"type": "softmax"}]},
         ["conv layer has unknown fields", "dilation"]),
        ({"input_shape": [1, 4, 4]}, ["architecture is malformed", "layers"]),
    ],
    ids=["unknown-type", "unknown-field", "no-layers"],
)  # fmt: skip
def test_a_malformed_config_is_an_architecture_error(config, words):
    with pytest.raises(ArchitectureError) as err:
        Architecture.from_dict(config)
    for word in words:
        assert word in str(err.value), (word, str(err.value))


# ------------------------------------------------------------------ configs on disk


@pytest.mark.parametrize("model_id", list(ZOO))
def test_every_zoo_architecture_survives_a_trip_through_json(model_id):
    arch = ZOO[model_id].arch
    back = Architecture.from_dict(json.loads(json.dumps(arch.to_dict())))
    assert back == arch
    assert back.shapes == arch.shapes
    assert back.names() == arch.names()
    assert back.param_shapes() == arch.param_shapes()
    assert back.summary() == arch.summary()


def test_a_square_size_may_be_written_as_one_number():
    arch = Architecture.from_dict(
        {"input_shape": [1, 8, 8],
         "layers": [{"type": "conv", "filters": 2, "size": 3}, {"type": "pool", "size": 2},
                    {"type": "affine", "units": 2}, {"type": "softmax"}]}
    )  # fmt: skip
    assert arch.layers[0].size == (3, 3) and arch.layers[1].size == (2, 2)
    assert arch.shapes[1] == (2, 3, 3)


def test_the_first_releases_config_format_still_reads_as_simpleconvnet():
    """models/simple-he.json keeps the first release's {"filter_num": 30, ...} config."""
    meta = json.loads((MODELS_DIR / "simple-he.json").read_text())
    assert meta["config"]["filter_num"] == 30 and "layers" not in meta["config"]
    assert Architecture.from_dict(meta["config"]) == simple_convnet(init="he")
    net, _ = load_model(MODELS_DIR / "simple-he.npz")
    assert net.arch == simple_convnet(init="he")
    assert {k: v.shape for k, v in net.params.items()} == BOOK.param_shapes()


def test_the_first_releases_config_with_other_settings():
    old = {"input_dim": [3, 32, 32], "filter_num": 8, "filter_size": 3, "pad": 1, "stride": 1,
           "pool_size": 2, "hidden_size": 50, "output_size": 5, "weight_init": 0.01}  # fmt: skip
    arch = Architecture.from_dict(old)
    assert arch.param_shapes()["W1"] == (8, 3, 3, 3)
    assert arch.shapes[2] == (8, 16, 16)
    assert arch.param_shapes()["W3"] == (50, 5)
    assert arch.init == 0.01


# ------------------------------------------------------------------ initialisation


def test_the_same_seed_gives_the_same_initial_weights():
    a, b = init_params(BOOK, 42), init_params(BOOK, 42)
    assert set(a) == set(BOOK.param_shapes())
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    np.testing.assert_array_equal(Network.initial(BOOK, 42).params["W1"], a["W1"])


def test_different_seeds_give_different_initial_weights():
    a, b = init_params(BOOK, 1), init_params(BOOK, 2)
    for name in ("W1", "W2", "W3"):
        assert not np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize(
    ("arch", "fan_in"),
    [
        (BOOK, {"W1": 1 * 5 * 5, "W2": 4320, "W3": 100}),
        # more filters (a larger sample of W1) and 3 channels: W1's fan-in is C * FH * FW
        (
            simple_convnet(filters=200, input_shape=(3, 28, 28)),
            {"W1": 3 * 5 * 5, "W2": 200 * 12 * 12, "W3": 100},
        ),
        # deeper filters see every channel of the layer before: fan-in C * 3 * 3
        (
            deep_convnet(),
            {"W1": 9, "W2": 16 * 9, "W3": 16 * 9, "W4": 32 * 9, "W5": 32 * 9, "W6": 64 * 9,
             "W7": 64 * 4 * 4, "W8": 50},
        ),
    ],
    ids=["book", "3 channels 200 filters", "chapter 8"],
)  # fmt: skip
def test_he_initialisation_has_std_sqrt_2_over_fan_in_and_zero_biases(arch, fan_in):
    params = init_params(arch, 3)
    for name, n_in in fan_in.items():
        std, n = np.sqrt(2 / n_in), params[name].size
        rel = max(0.05, 4 / np.sqrt(2 * n))  # the sample std of n draws varies by 1/sqrt(2n)
        assert params[name].std() == pytest.approx(std, rel=rel), name
        assert abs(params[name].mean()) < 5 * std / np.sqrt(n), name
    for name in params:
        if name.startswith("b"):
            assert not params[name].any(), name


def test_the_books_fixed_std_init_is_available():
    params = init_params(simple_convnet(init=0.01), 3)
    for name in ("W1", "W2", "W3"):
        assert params[name].std() == pytest.approx(0.01, rel=0.1), name


def test_parameters_of_the_wrong_shape_are_refused_with_the_name_and_both_shapes():
    params = init_params(BOOK, 0)
    params["W2"] = np.zeros((4320, 50), np.float32)
    with pytest.raises(ValueError, match=r"W2.*\(4320, 50\).*\(4320, 100\)"):
        Network(BOOK, params)


def test_a_missing_parameter_is_refused_by_name():
    params = init_params(deep_convnet(), 0)
    del params["b6"]
    with pytest.raises(ValueError, match="parameter b6 is missing"):
        Network(deep_convnet(), params)


def test_weights_of_gives_each_conv_and_affine_layer_its_own_parameters():
    net = Network.initial(TWO_CONV, 0)
    assert net.conv_layers() == [0, 3]
    assert net.weights_of(3)[0] is net.params["W2"]
    assert net.weights_of(6)[1] is net.params["b3"]
    assert Network.initial(MLP, 0).conv_layers() == []


# ------------------------------------------------------------------ backpropagation


@pytest.mark.parametrize("arch", list(CONFIGS.values()), ids=list(CONFIGS))
def test_gradient_by_backpropagation_matches_the_numerical_gradient(arch):
    """For dropout, both passes draw the same masks: the same rng seed for each."""
    rng = np.random.default_rng(7)
    net = float64_net(arch, seed=5)
    x = digits_like(rng, 4, arch).astype(np.float64)
    t = np.array([0, 2, 1, 2])

    def masks():  # a fresh generator with the same seed: the same dropout masks every pass
        return np.random.default_rng(99)

    def f():
        return L.softmax_cross_entropy(net.forward(x, masks())[0], t)[0]

    loss, grads = net.gradient(x, t, masks())
    assert loss == pytest.approx(f(), rel=1e-12)
    assert set(grads) == set(arch.param_shapes())
    for name in grads:
        assert grads[name].shape == net.params[name].shape, name
        assert_gradient_close(grads[name], numerical_gradient(f, net.params[name]))
    if any(layer.kind == "dropout" for layer in arch.layers):
        assert loss != pytest.approx(net.loss(x, t), rel=1e-6), "no value was dropped"
    else:
        assert loss == pytest.approx(net.loss(x, t), rel=1e-12)


@pytest.mark.parametrize(
    "arch", [ODD, TWO_CONV, MLP, DROPOUT], ids=["2x9x11-pad1-stride2", "two-conv", "mlp", "dropout"]
)
def test_the_input_gradient_matches_the_numerical_gradient_of_the_logits(arch):
    """d(sum(dlogits * logits)) / dx: how each pixel moves a read-out of the logits.

    The network reads its input in float32, so the pixels sit on a 1/64 grid and the step is
    2^-12: both exact in float32. The logits are piecewise linear in x, so the central
    difference is exact between the kinks of ReLU and max."""
    rng = np.random.default_rng(3)
    net = float64_net(arch, seed=8)
    x = rng.integers(0, 65, (3, *arch.input_shape)) / 64.0
    dlogits = rng.standard_normal((3, arch.num_classes)).astype(np.float32).astype(np.float64)
    dx = net.input_gradient(x, dlogits)
    assert dx.shape == x.shape

    def readout():
        return float((net.predict(x) * dlogits).sum())

    assert_gradient_close(dx, numerical_gradient(readout, x, h=2.0**-12))


def test_gradient_accepts_one_hot_labels_too():
    rng = np.random.default_rng(8)
    net = Network.initial(SMALL, seed=1)
    x, t = digits_like(rng, 6), rng.integers(0, 10, 6)
    loss_a, grads_a = net.gradient(x, t)
    loss_b, grads_b = net.gradient(x, np.eye(10, dtype=np.float32)[t])
    assert loss_a == pytest.approx(loss_b, rel=1e-6)
    for name in grads_a:
        np.testing.assert_allclose(grads_a[name], grads_b[name], rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------ dropout, the book's way


def test_in_training_dropout_zeroes_values_and_leaves_the_rest_unscaled():
    """The book's Dropout.forward(train_flg=True): x * mask, no 1 / (1 - rate)."""
    rng = np.random.default_rng(4)
    arch = Architecture((1, 6, 6), (Affine(6), Relu(), Affine(4), Dropout(0.3), Softmax()))
    net = with_random_biases(Network.initial(arch, 2), 5)
    x = digits_like(rng, 200, arch)
    before = net.trace(x)[2].value  # affine2: the logits before the dropout
    trained, _ = net.forward(x, np.random.default_rng(0))
    kept = trained != 0
    assert 0.6 < kept.mean() < 0.8  # rate 0.3
    np.testing.assert_allclose(trained[kept], before[kept], rtol=1e-5, atol=1e-6)


def test_at_inference_dropout_multiplies_by_1_minus_rate():
    rng = np.random.default_rng(5)
    net = with_random_biases(Network.initial(DROPOUT, 2), 6)
    x = digits_like(rng, 5, DROPOUT)
    trace = net.trace(x)
    relu2, dropout1, affine2, dropout2 = (trace[i].value for i in (4, 5, 6, 7))
    assert [trace[i].name for i in (4, 5, 6, 7)] == ["relu2", "dropout1", "affine2", "dropout2"]
    np.testing.assert_allclose(dropout1, 0.5 * relu2, rtol=1e-6)
    np.testing.assert_allclose(dropout2, 0.7 * affine2, rtol=1e-6)
    np.testing.assert_allclose(net.predict(x), dropout2, rtol=1e-5, atol=1e-6)
    # the training pass without a generator is the inference pass
    np.testing.assert_allclose(net.forward(x)[0], net.predict(x), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ trace


def book_order(net, x):
    """conv -> relu -> pool -> affine -> relu -> affine -> softmax, written out as in the book."""
    (conv, _, pool, *_), p = net.arch.layers, net.params
    out = {}
    out["conv1"], _ = L.conv_forward(x, p["W1"], p["b1"], conv.stride, conv.pad)
    out["relu1"], _ = L.relu_forward(out["conv1"])
    out["pool1"], _ = L.max_pool_forward(out["relu1"], *pool.size, pool.stride)
    out["affine1"], _ = L.affine_forward(out["pool1"], p["W2"], p["b2"])
    out["relu2"], _ = L.relu_forward(out["affine1"])
    out["affine2"], _ = L.affine_forward(out["relu2"], p["W3"], p["b3"])
    out["probs"] = L.softmax(out["affine2"])
    return out


def layer_by_layer(net, x):
    """Any layer list, one layer at a time through the engine's plain layer functions."""
    out = []
    for i, layer in enumerate(net.arch.layers):
        if layer.kind == "conv":
            x = L.conv_forward(x, *net.weights_of(i), layer.stride, layer.pad)[0]
        elif layer.kind == "relu":
            x = L.relu_forward(x)[0]
        elif layer.kind == "pool" and layer.mode == "max":
            x = L.max_pool_forward(x, *layer.size, layer.stride)[0]
        elif layer.kind == "pool":
            x = L.avg_pool_forward(x, *layer.size, layer.stride)[0]
        elif layer.kind == "affine":
            x = L.affine_forward(x, *net.weights_of(i))[0]
        elif layer.kind == "dropout":
            x = x * (1 - layer.rate)
        else:
            x = L.softmax(x)
        out.append(x)
    return out


@pytest.mark.parametrize("arch", [BOOK, ODD], ids=["book", "2x9x11-pad1-stride2"])
def test_trace_equals_the_plain_book_order_computation(arch):
    rng = np.random.default_rng(10)
    net = with_random_biases(Network.initial(arch, seed=4), 11)
    x = digits_like(rng, 5, arch)
    trace, ref = net.trace(x), book_order(net, x)
    assert [a.name for a in trace] == list(ref)
    assert [a.index for a in trace] == list(range(7))
    for act in trace[:3]:
        np.testing.assert_array_equal(act.value, ref[act.name], err_msg=act.name)
    for act in trace[3:]:
        np.testing.assert_allclose(act.value, ref[act.name], rtol=1e-5, atol=1e-6, err_msg=act.name)
    np.testing.assert_allclose(trace[-1].value.sum(axis=1), 1, rtol=1e-6)
    # predict runs the fast pass (other memory layouts, other GEMMs): equal to rounding
    np.testing.assert_allclose(net.predict(x), trace[-2].value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "arch", [TWO_CONV, AVG, MLP, DROPOUT, deep_convnet(final_dropout=True)],
    ids=["two-conv-max-avg", "avg-pool", "mlp", "dropout", "chapter-8"],
)  # fmt: skip
def test_trace_of_any_layer_list_equals_the_layers_run_one_by_one(arch):
    rng = np.random.default_rng(12)
    net = with_random_biases(Network.initial(arch, seed=6), 13)
    x = digits_like(rng, 3, arch)
    trace, ref = net.trace(x), layer_by_layer(net, x)
    assert [a.name for a in trace] == arch.names()
    for act, want in zip(trace, ref, strict=True):
        assert act.value.shape == (3, *arch.shapes[act.index]), act.name
        np.testing.assert_allclose(act.value, want, rtol=1e-5, atol=1e-6, err_msg=act.name)
    # predict (which pools before a ReLU when it may) gives the trace's logits
    np.testing.assert_allclose(net.predict(x), trace[-2].value, rtol=1e-5, atol=1e-6)
    last_affine = max(i for i, layer in enumerate(arch.layers) if layer.kind == "affine")
    before = trace[last_affine - 1].value.reshape(3, -1)
    np.testing.assert_allclose(net.features(x), before, rtol=1e-5, atol=1e-6)


def test_trace_pool_is_the_max_pool_of_trace_relu():
    # predict pools before its ReLU; max and ReLU commute, so the maps are the book's
    rng = np.random.default_rng(9)
    net = Network.initial(BOOK, seed=0)
    net.params["b1"][:] = rng.standard_normal(30).astype(np.float32) * 0.1
    conv, relu, pool = (a.value for a in net.trace(digits_like(rng, 3, BOOK))[:3])
    assert (conv < 0).any(), "the check needs negative conv outputs"
    np.testing.assert_array_equal(pool, L.max_pool_forward(relu, 2, 2, 2)[0])
    assert pool.shape == (3, 30, 12, 12)


def test_average_pooling_is_taken_after_the_relu_never_before():
    """ReLU and max commute, ReLU and mean do not: the fast path must not swap them."""
    rng = np.random.default_rng(14)
    net = Network.initial(AVG, seed=0)
    net.params["b1"][:] = [-0.3, 0.0, 0.3]
    x = digits_like(rng, 4, AVG)
    conv, relu, pool = (a.value for a in net.trace(x)[:3])
    np.testing.assert_allclose(pool, L.avg_pool_forward(relu, 2, 2, 2)[0], rtol=1e-6)
    swapped = np.maximum(L.avg_pool_forward(conv, 2, 2, 2)[0], 0)
    assert not np.allclose(pool, swapped, atol=1e-4), "the check needs windows of mixed sign"
    np.testing.assert_allclose(net.predict(x), net.trace(x)[-2].value, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ threads


def test_parallel_gradient_on_two_threads_equals_one_gradient_over_the_whole_batch():
    rng = np.random.default_rng(11)
    net = Network.initial(BOOK, seed=2)
    x = digits_like(rng, 41, BOOK)  # odd size: halves of 21 and 20 are weighted
    t = rng.integers(0, 10, 41)
    loss, grads = net.gradient(x, t)
    parallel = ParallelGradient(net, threads=2)
    try:
        assert parallel.pool is not None
        p_loss, p_grads = parallel(x, t)
    finally:
        parallel.close()
    assert p_loss == pytest.approx(loss, rel=1e-5)
    for name in grads:
        np.testing.assert_allclose(p_grads[name], grads[name], rtol=1e-4, atol=1e-6, err_msg=name)
        assert p_grads[name].dtype == np.float32, name


def test_parallel_gradient_with_dropout_gives_each_thread_its_own_seeded_masks():
    rng = np.random.default_rng(15)
    net = Network.initial(DROPOUT, seed=2)
    x, t = digits_like(rng, 9, DROPOUT), rng.integers(0, 4, 9)
    first, second = np.arange(5), np.arange(5, 9)  # array_split of 9 in two
    loss_a, grads_a = net.gradient(x[first], t[first], np.random.default_rng(21))
    loss_b, grads_b = net.gradient(x[second], t[second], np.random.default_rng(22))
    parallel = ParallelGradient(net, threads=2)
    try:
        loss, grads = parallel(x, t, seeds=[21, 22])
        again = parallel(x, t, seeds=[21, 22])
    finally:
        parallel.close()
    assert loss == pytest.approx((5 * loss_a + 4 * loss_b) / 9, rel=1e-6)
    for name in grads:
        want = (5 * grads_a[name] + 4 * grads_b[name]) / 9
        np.testing.assert_allclose(grads[name], want, rtol=1e-4, atol=1e-7, err_msg=name)
        np.testing.assert_array_equal(again[1][name], grads[name])


def test_predict_from_several_threads_at_once_equals_sequential_results():
    rng = np.random.default_rng(12)
    net = Network.initial(BOOK, seed=3)
    batches = [digits_like(rng, n, BOOK) for n in (1, 7, 1, 3, 16, 2, 1, 5) * 3]
    sequential = [net.predict(x) for x in batches]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(net.predict, batches))
    for seq, con in zip(sequential, concurrent, strict=True):
        assert seq.shape == con.shape
        np.testing.assert_allclose(con, seq, rtol=1e-5, atol=1e-6)
