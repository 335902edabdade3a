"""A picture through the convolution variants (dilation, groups, padding modes, flipped kernel,
transposed, rectangular and 1x1 kernels), on the same kernels and with the same colour rule as
/api/convolve."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.shapes import ShapeError, conv_output_length, dilated_length
from app.engine.variants import PADDING_MODES, conv_general, conv_transpose, output_padding_for
from app.imaging.render import render_gray

from .code import numpy_snippet, pytorch_snippet
from .convolve import STRETCH_RULE, ComputeBudgetError
from .kernels import CLASSIC_KERNELS, Kernel, KernelError, resolve_kernels, to_channels
from .results import CodeSnippets, Convolution, ResponseMap
from .views import rounded

_BLUR = np.array([1, 4, 6, 4, 1], np.float32) / 16  # the Gaussian 5x5 is its outer product
_DIFF = np.array([-1, -2, 0, 2, 1], np.float32)  # a smoothed derivative: right minus left

# Rectangular kernels, FH x FW, applied like the classic ones (to the channel mean).
RECTANGULAR_KERNELS: dict[str, tuple[str, np.ndarray]] = {
    "diff_1x5": ("1x5 horizontal difference [-1 -2 0 2 1]: vertical edges", _DIFF[None]),
    "diff_5x1": ("5x1 vertical difference: horizontal edges", _DIFF[:, None]),
    "blur_1x5": ("1x5 horizontal blur [1 4 6 4 1] / 16", _BLUR[None]),
    "blur_5x1": ("5x1 vertical blur [1 4 6 4 1] / 16", _BLUR[:, None]),
}
# 1x1 kernels over the R, G, B channels (C x 1 x 1): each output pixel mixes one pixel's channels.
MIXING_KERNELS: dict[str, tuple[str, np.ndarray]] = {
    "luminance": ("1x1 luminance: 0.299 R + 0.587 G + 0.114 B", np.array([0.299, 0.587, 0.114])),
    "r_minus_b": ("1x1 R - B: red positive, blue negative", np.array([1.0, 0.0, -1.0])),
}
KERNEL_NAMES = ["learned", *CLASSIC_KERNELS, *RECTANGULAR_KERNELS, *MIXING_KERNELS]


def named_kernels(
    names: list[str], channels: int, learned: tuple[np.ndarray, np.ndarray] | None, bias: bool
) -> list[Kernel]:
    """The kernels /api/convolve knows by name, in the order asked: learned and classic
    (kernels.resolve_kernels), the rectangular ones and the 1x1 channel mixers (rgb only)."""
    out: list[Kernel] = []
    for name in names:
        if name in RECTANGULAR_KERNELS:
            out.append(Kernel(name, to_channels(RECTANGULAR_KERNELS[name][1], channels)))
        elif name in MIXING_KERNELS:
            if channels != 3:
                raise KernelError(
                    f"{name} is a 1x1 kernel that mixes the R, G, B channels: it needs mode=rgb "
                    f"(a 3-channel picture), the picture has {channels}"
                )
            weights = MIXING_KERNELS[name][1].astype(np.float32).reshape(3, 1, 1)
            out.append(Kernel(name, weights))
        elif name == "learned" or name in CLASSIC_KERNELS:
            out.extend(resolve_kernels([name], channels, learned, bias))
        else:
            raise KernelError(f"unknown kernel {name!r}; known kernels: {', '.join(KERNEL_NAMES)}")
    return out


@dataclass(frozen=True)
class Variant:
    """The options beyond stride and pad. The defaults are the chapter's convolution."""

    dilation: int = 1
    groups: int = 1
    padding: str = "zero"
    flip: bool = False
    transposed: bool = False

    @property
    def is_plain(self) -> bool:
        return self == Variant()

    def check(self, channels: int) -> None:
        if self.padding not in PADDING_MODES:
            raise ShapeError(f"padding must be one of {', '.join(PADDING_MODES)}")
        if self.groups < 1 or channels % self.groups:
            raise ShapeError(
                f"groups G={self.groups} must divide the image's C={channels} channels "
                "(gray: 1; rgb: 1 or 3, 3 being depthwise)"
            )
        if self.transposed and (self.padding != "zero" or self.flip or self.groups != 1):
            raise ShapeError(
                "transposed is the adjoint of the plain convolution: use it with zero "
                "padding, no flip and groups 1"
            )


def variant_cost(shape, kernels: list[Kernel], stride: int, pad: int, v: Variant):
    """(per-map (OH, OW) lengths, multiply-adds) before any work: a group's map reads C/G
    channels, and the transposed pass costs as much again as the forward."""
    c, h, w = shape
    total, shapes = 0, []
    for k in kernels:
        _, fh, fw = k.weights.shape
        oh = conv_output_length(h, fh, pad, stride, "H", v.dilation)
        ow = conv_output_length(w, fw, pad, stride, "W", v.dilation)
        shapes.append((oh, ow))
        total += oh.size * ow.size * c * fh * fw * (2 if v.transposed else 1)
    return shapes, total


def response_map(name: str, m: np.ndarray, exact: bool, values: bool) -> ResponseMap:
    low, high = float(m.min()), float(m.max())
    return ResponseMap(
        name=name,
        shape=list(m.shape),
        exact=exact,
        range=[round(low, 6), round(high, 6)],
        png=render_gray(m, low, high if high > low else low + 1e-6, ink_white=True),
        values=rounded(m, 4) if values else None,
    )


def grouped_weights(kernels: list[Kernel], groups: int) -> np.ndarray:
    """(G*K, C/G, FH, FW), group-major: group g's K filters are kernel k's channels of group g.
    With G = 1 the bank itself; with G = C each kernel is cut into one slice per channel."""
    W = np.stack([k.weights for k in kernels])  # (K, C, FH, FW)
    cg = W.shape[1] // groups
    return np.concatenate([W[:, g * cg : (g + 1) * cg] for g in range(groups)])


def convolve_variant(
    image: np.ndarray,
    kernels: list[Kernel],
    stride: int,
    pad: int,
    v: Variant,
    relu: bool,
    values: bool,
    max_macs: int,
    code: bool = False,
) -> Convolution:
    """image (C, H, W) 0..1 through each kernel with the variant's options.

    Maps come group-major: for groups G > 1, 'name/g0' (channels 0..C/G-1) for every kernel,
    then 'name/g1', ... Their sum over g is the standard map. transposed adds, per kernel, the
    transposed convolution of the map shown: conv's backward with respect to its input."""
    c, h, w = image.shape
    v.check(c)
    if len({k.weights.shape for k in kernels}) > 1 and (v.groups > 1 or code):
        raise ShapeError("groups and code need kernels of one shape: ask for one kind at a time")
    shapes, macs = variant_cost(image.shape, kernels, stride, pad, v)
    if macs > max_macs:
        raise ComputeBudgetError(
            f"this convolution needs {macs:,} multiply-adds; the limit is {max_macs:,}. "
            "Use a smaller image, fewer kernels or a larger stride."
        )
    x = image.astype(np.float32, copy=False)[None]
    maps, back = [], []
    if v.groups > 1:
        W = grouped_weights(kernels, v.groups)
        b = np.tile(np.array([k.bias for k in kernels], np.float32), v.groups)
        out = conv_general(x, W, b, stride, pad, v.dilation, v.groups, v.padding, v.flip)[0]
        names = [f"{k.name}/g{g}" for g in range(v.groups) for k in kernels]
        exact = [oh.exact and ow.exact for oh, ow in shapes] * v.groups
        shown = [np.maximum(m, 0) if relu else m for m in out]
    else:
        shown, names, exact = [], [k.name for k in kernels], []
        for k, (oh, ow) in zip(kernels, shapes, strict=True):
            b = np.array([k.bias], np.float32)
            m = conv_general(x, k.weights[None], b, stride, pad, v.dilation, 1, v.padding, v.flip)
            shown.append(np.maximum(m[0, 0], 0) if relu else m[0, 0])
            exact.append(oh.exact and ow.exact)
    for name, m, ex in zip(names, shown, exact, strict=True):
        maps.append(response_map(name, m, ex, values))
    if v.transposed:
        for k, m in zip(kernels, shown, strict=True):
            fh, fw = k.weights.shape[1:]
            op = (
                output_padding_for(h, fh, pad, stride, v.dilation),
                output_padding_for(w, fw, pad, stride, v.dilation),
            )
            t = conv_transpose(m[None, None], k.weights[None], stride, pad, v.dilation, 1, op)
            back.append(response_map(f"{k.name}:transposed", t[0].mean(axis=0), True, values))
    snippets = None
    if code:
        settings = dict(stride=stride, pad=pad, variant=v, relu=relu)
        snippets = CodeSnippets(
            numpy=numpy_snippet(image, kernels, **settings),
            pytorch=pytorch_snippet(image, kernels, **settings),
        )
    return Convolution(
        input_shape=list(image.shape),
        input_png=render_gray(image.mean(axis=0), 0.0, 1.0, ink_white=True),
        stride=stride,
        pad=pad,
        macs=macs,
        scale="gray",
        scale_rule=STRETCH_RULE,
        maps=maps,
        dilation=v.dilation,
        groups=v.groups,
        padding=v.padding,
        flip=v.flip,
        transposed_maps=back if v.transposed else None,
        effective_filter=[dilated_length(f, v.dilation) for f in kernels[0].weights.shape[1:]],
        code=snippets,
        input_values=rounded(image, 7) if code and values else None,
    )
