"""The convolution variants against a direct nested-loop reference, in float64.

The reference reads every output pixel as the chapter's Fig. 7-3 does: the window under the
filter, tap by tap, with its own index rule for each padding mode (no np.pad, no im2col).
"""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.shapes import ShapeError, conv_output_shape, transposed_output_length
from app.engine.variants import conv_general, conv_transpose, output_padding_for, pad_with

CONFIGS = 240


def source_index(i: int, n: int, mode: str) -> int | None:
    """Which input index a padded coordinate i (may be < 0 or >= n) reads, or None for a 0."""
    if 0 <= i < n:
        return i
    if mode == "zero":
        return None
    if mode == "circular":
        return i % n
    return -i if i < 0 else 2 * (n - 1) - i  # reflect: mirror without repeating the edge


def reference_conv(x, W, b, stride, pad, dilation, groups, padding, flip):
    n, c, h, w = x.shape
    fn, cg, fh, fw = W.shape
    oh = (h + 2 * pad - dilation * (fh - 1) - 1) // stride + 1
    ow = (w + 2 * pad - dilation * (fw - 1) - 1) // stride + 1
    fg = fn // groups
    out = np.zeros((n, fn, oh, ow))
    for s in range(n):
        for f in range(fn):
            g = f // fg
            for i in range(oh):
                for j in range(ow):
                    total = b[f]
                    for ci in range(cg):
                        for a in range(fh):
                            for d in range(fw):
                                r = source_index(i * stride - pad + a * dilation, h, padding)
                                q = source_index(j * stride - pad + d * dilation, w, padding)
                                if r is None or q is None:
                                    continue
                                wa, wd = (fh - 1 - a, fw - 1 - d) if flip else (a, d)
                                total += W[f, ci, wa, wd] * x[s, g * cg + ci, r, q]
                    out[s, f, i, j] = total
    return out


def reference_transpose(y, W, stride, pad, dilation, groups, h, w):
    """Scatter: every y value adds W times itself onto the window it came from."""
    n, fn, oh, ow = y.shape
    _, cg, fh, fw = W.shape
    fg = fn // groups
    x = np.zeros((n, cg * groups, h, w))
    for s in range(n):
        for f in range(fn):
            g = f // fg
            for i in range(oh):
                for j in range(ow):
                    for ci in range(cg):
                        for a in range(fh):
                            for d in range(fw):
                                r = i * stride - pad + a * dilation
                                q = j * stride - pad + d * dilation
                                if 0 <= r < h and 0 <= q < w:
                                    x[s, g * cg + ci, r, q] += W[f, ci, a, d] * y[s, f, i, j]
    return x


def random_config(rng):
    """A small random convolution that fits: shapes, S, P, D, G, padding mode, flip."""
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        cg, fg = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        fh, fw = int(rng.integers(1, 4)), int(rng.integers(1, 4))  # rectangular and 1x1 too
        h, w = int(rng.integers(3, 8)), int(rng.integers(3, 8))
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        dilation = int(rng.integers(1, 3))
        padding = str(rng.choice(["zero", "reflect", "circular"]))
        flip = bool(rng.integers(0, 2))
        if padding == "reflect" and pad >= min(h, w):
            continue
        try:
            conv_output_shape(h, w, fh, fw, pad, stride, dilation)
        except ShapeError:
            continue
        n = int(rng.integers(1, 3))
        x = rng.standard_normal((n, cg * groups, h, w))
        W = rng.standard_normal((fg * groups, cg, fh, fw))
        b = rng.standard_normal(fg * groups)
        options = dict(stride=stride, pad=pad, dilation=dilation, groups=groups)
        return x, W, b, {**options, "padding": padding, "flip": flip}


def test_every_variant_equals_the_nested_loop_reference_on_240_random_configurations():
    rng = np.random.default_rng(7)
    seen = set()
    for _ in range(CONFIGS):
        x, W, b, p = random_config(rng)
        out = conv_general(x, W, b, **p)
        ref = reference_conv(x, W, b, **p)
        assert out.shape == ref.shape, p
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12, err_msg=str(p))
        seen.add((p["padding"], p["groups"] > 1, p["dilation"] > 1, p["flip"], p["stride"] > 1))
    assert len(seen) >= 40  # the configurations really mix the options


def test_transposed_equals_the_scatter_reference_and_is_the_adjoint_on_240_configurations():
    rng = np.random.default_rng(8)
    for _ in range(CONFIGS):
        x, W, _, p = random_config(rng)
        s, pad, d, g = p["stride"], p["pad"], p["dilation"], p["groups"]
        h, w = x.shape[2:]
        y = conv_general(x, W, None, s, pad, d, g)  # zero padding, cross-correlation
        op_h = output_padding_for(h, W.shape[2], pad, s, d)
        op_w = output_padding_for(w, W.shape[3], pad, s, d)
        ry = rng.standard_normal(y.shape)
        xt = conv_transpose(ry, W, s, pad, d, g, output_padding=(op_h, op_w))
        assert xt.shape == x.shape
        np.testing.assert_allclose(xt, reference_transpose(ry, W, s, pad, d, g, h, w), atol=1e-12)
        # <conv(x), y> = <x, conv^T(y)>
        assert np.isclose(np.vdot(y, ry), np.vdot(x, xt), rtol=1e-12, atol=1e-12)


def test_standard_conv_is_groups_1_and_the_group_maps_sum_to_it():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 3, 6, 6))
    W = rng.standard_normal((2, 3, 3, 3))
    standard = conv_general(x, W)
    # depthwise: filter k's slice for channel c alone, on channel c alone
    depthwise_W = np.concatenate([W[:, c : c + 1] for c in range(3)])  # (6, 1, 3, 3), group-major
    depthwise = conv_general(x, depthwise_W, groups=3)
    np.testing.assert_allclose(depthwise.reshape(1, 3, 2, 4, 4).sum(axis=1), standard, atol=1e-12)


def test_flipped_kernel_is_true_convolution_and_symmetric_kernels_do_not_care():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    sobel = np.array([[[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]], float)
    assert np.allclose(conv_general(x, sobel, flip=True), -conv_general(x, sobel))
    box = np.ones((1, 1, 3, 3))
    assert np.allclose(conv_general(x, box, flip=True), conv_general(x, box))


def test_dilation_2_makes_a_3x3_filter_cover_5x5():
    x = np.zeros((1, 1, 9, 9))
    x[0, 0, 4, 4] = 1
    out = conv_general(x, np.ones((1, 1, 3, 3)), dilation=2)
    assert out.shape == (1, 1, 5, 5)
    assert out[0, 0].sum() == 9 and out[0, 0, ::2, ::2].sum() == 9  # a sparse 3x3 stamp


def test_one_by_one_mixes_channels_only():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 4, 5, 5))
    W = rng.standard_normal((3, 4, 1, 1))
    np.testing.assert_allclose(
        conv_general(x, W)[0], np.einsum("fc,chw->fhw", W[:, :, 0, 0], x[0]), atol=1e-12
    )


def test_padding_modes_fill_the_border_as_named():
    x = np.array([[[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    assert pad_with(x, 1, "zero")[0, 0, 0].tolist() == [0, 0, 0, 0, 0]
    assert pad_with(x, 1, "reflect")[0, 0, 1].tolist() == [2, 1, 2, 3, 2]
    assert pad_with(x, 1, "circular")[0, 0, 1].tolist() == [3, 1, 2, 3, 1]
    with pytest.raises(ShapeError, match="reflect padding needs P < H"):
        pad_with(x, 3, "reflect")


def test_transposed_shape_runs_the_formula_backwards():
    # a 4x4 map through a 3x3 filter, stride 2, pad 1: a 7x7 or (output_padding 1) 8x8 picture
    assert transposed_output_length(4, 3, pad=1, stride=2) == 7
    assert transposed_output_length(4, 3, pad=1, stride=2, output_padding=1) == 8
    y = np.ones((1, 1, 4, 4))
    assert conv_transpose(y, np.ones((1, 1, 3, 3)), 2, 1, output_padding=1).shape == (1, 1, 8, 8)


def test_groups_that_do_not_divide_are_named():
    with pytest.raises(ShapeError, match="groups G=2 must divide"):
        conv_general(np.zeros((1, 3, 5, 5)), np.zeros((2, 1, 3, 3)), groups=2)
