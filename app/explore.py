"""The network opened up: one forward pass that keeps every intermediate map, shaped for the API.

Functions here take arrays and return plain dicts of numbers and PNG data URLs; the web layer
only validates input and wraps these in response schemas.
"""

from __future__ import annotations

import numpy as np

from app.engine.layers import conv_single_by_taps
from app.engine.shapes import conv_output_length
from app.imaging.decode import limit_size, to_gray
from app.imaging.preprocess import Preprocessed, PreprocessOptions, Stage, preprocess_digit
from app.imaging.render import render_gray, render_sequential, render_signed
from app.kernels import Kernel
from app.model.network import SimpleConvNet

DIGIT_WORK_SIDE = 1024  # uploads are shrunk to this longer side before digit preprocessing

STAGES = (
    ("conv", "Convolution: W1 * x + b1", "diverging"),
    ("relu", "ReLU: max(0, conv)", "diverging"),
    ("pool", "Max pooling 2x2, stride 2", "diverging"),
)
# How /api/convolve colours its maps, stated once per response (the page's legend repeats it).
STRETCH_RULE = (
    "gray, each map stretched from its own minimum (black) to its own maximum (white); "
    "a map's range is that [minimum, maximum]"
)


class ComputeBudgetError(ValueError):
    """A convolution request that would hold a core for too long."""


def _rounded(a: np.ndarray, digits: int = 5) -> list:
    return np.round(a.astype(np.float64), digits).tolist()


def _symmetric_limit(a: np.ndarray) -> float:
    """Half-width of a diverging scale centred on 0 (never 0, so blank maps still render)."""
    return float(max(np.abs(a).max(initial=0.0), 1e-6))


def _split_range(a: np.ndarray) -> tuple[float, float]:
    """[low <= 0, high >= 0] of a diverging scale with each sign scaled to its own extreme.

    A symmetric limit lets the larger sign wash the other out: conv maps of a drawn digit run
    to -5.2 but only to +1.9, so every positive response was a pale orange.
    """
    return min(float(a.min(initial=0.0)), 0.0), max(float(a.max(initial=0.0)), 0.0)


def _render_split(a: np.ndarray, low: float, high: float) -> str:
    """PNG of a on the split diverging scale: negatives / -low, positives / high."""
    return render_signed(np.where(a < 0, a / -min(low, -1e-6), a / max(high, 1e-6)), 1.0)


def prediction(probs: np.ndarray, logits: np.ndarray) -> dict:
    order = np.argsort(-probs)
    return {
        "label": int(order[0]),
        "probabilities": _rounded(probs, 6),
        "logits": _rounded(logits, 5),
        "top": [{"digit": int(d), "probability": round(float(probs[d]), 6)} for d in order[:3]],
    }


def predict_digit(net: SimpleConvNet, digit: np.ndarray) -> dict:
    """digit (28, 28) 0..1, 1 = ink -> label, probabilities, logits."""
    acts = net.trace(digit[None, None])
    return prediction(acts["probs"][0], acts["logits"][0])


def stage_view(name: str, title: str, maps: np.ndarray, scale: str, values: bool) -> dict:
    """Every filter's map at one stage, on one colour scale so the maps compare.

    Every stage uses the split diverging scale (range = [low, high], see _split_range): ReLU
    and pooling keep the conv's positive values, so those keep their colours; the purple goes.
    """
    low, high = _split_range(maps)
    return {
        "name": name,
        "title": title,
        "shape": list(maps.shape),
        "scale": scale,
        "range": [round(low, 6), round(high, 6)],
        "min": round(float(maps.min()), 6),
        "max": round(float(maps.max()), 6),
        "maps": [
            {
                "index": i,
                "png": _render_split(m, low, high),
                "values": _rounded(m) if values else None,
            }
            for i, m in enumerate(maps)
        ],
    }


def explore_digit(net: SimpleConvNet, digit: np.ndarray, values: bool = False) -> dict:
    """Prediction plus every stage (conv, relu, pool), hidden activations and logits."""
    acts = net.trace(digit[None, None])
    hidden = acts["hidden"][0]
    return {
        **prediction(acts["probs"][0], acts["logits"][0]),
        "stages": [
            stage_view(name, title, acts[name][0], scale, values) for name, title, scale in STAGES
        ],
        "hidden": {
            "values": _rounded(hidden),
            "png": render_sequential(hidden.reshape(10, 10), float(max(hidden.max(), 1e-6))),
        },
    }


def filter_bank(W: np.ndarray, b: np.ndarray, limit: float | None = None) -> dict:
    """First-layer filters (FN, 1, FH, FW) on one shared diverging scale."""
    limit = limit or _symmetric_limit(W)
    return {
        "shape": list(W.shape),
        "range": [-round(limit, 6), round(limit, 6)],
        "filters": [
            {
                "index": i,
                "weights": _rounded(w[0]),
                "bias": round(float(bias), 6),
                "png": render_signed(w[0], limit),
            }
            for i, (w, bias) in enumerate(zip(W, b, strict=True))
        ],
    }


def input_view(digit: np.ndarray) -> dict:
    """The 28x28 image the network actually classified: numbers and picture."""
    return {"pixels": _rounded(digit, 4), "png": render_gray(digit, 0.0, 1.0, ink_white=True)}


def convolution_cost(shape: tuple[int, int, int], kernels: list[Kernel], stride: int, pad: int):
    """(output shape per kernel, multiply-adds) before any work is done."""
    _, h, w = shape
    total, shapes = 0, []
    for k in kernels:
        c, fh, fw = k.weights.shape
        oh = conv_output_length(h, fh, pad, stride, "H")
        ow = conv_output_length(w, fw, pad, stride, "W")
        shapes.append((oh, ow))
        total += oh.size * ow.size * c * fh * fw
    return shapes, total


def convolve_image(
    image: np.ndarray,
    kernels: list[Kernel],
    stride: int,
    pad: int,
    relu: bool,
    values: bool,
    max_macs: int,
) -> dict:
    """image (C, H, W) 0..1 through each kernel.

    One colour rule for every map (STRETCH_RULE): gray from each map's minimum to its maximum,
    so a blur or the identity kernel looks like the photo and an edge map like an embossed one.
    """
    shapes, macs = convolution_cost(image.shape, kernels, stride, pad)
    if macs > max_macs:
        raise ComputeBudgetError(
            f"this convolution needs {macs:,} multiply-adds; the limit is {max_macs:,}. "
            "Use a smaller image, fewer kernels or a larger stride."
        )
    x = image.astype(np.float32, copy=False)
    maps = []
    for k, (oh, ow) in zip(kernels, shapes, strict=True):
        m = conv_single_by_taps(x, k.weights, k.bias, stride, pad)
        if relu:
            m = np.maximum(m, 0)
        low, high = float(m.min()), float(m.max())
        maps.append(
            {
                "name": k.name,
                "shape": [oh.size, ow.size],
                "exact": oh.exact and ow.exact,
                "range": [round(low, 6), round(high, 6)],
                "png": render_gray(m, low, high if high > low else low + 1e-6, ink_white=True),
                "values": _rounded(m, 4) if values else None,
            }
        )
    shown = image.mean(axis=0)  # brightness, for the page to show beside the maps
    return {
        "input_shape": list(image.shape),
        "input_png": render_gray(shown, 0.0, 1.0, ink_white=True),
        "stride": stride,
        "pad": pad,
        "macs": macs,
        "scale": "gray",
        "scale_rule": STRETCH_RULE,
        "maps": maps,
    }


def read_digit(image, pixels: np.ndarray | None, options: PreprocessOptions) -> Preprocessed:
    """A 28x28 digit from an uploaded image (MNIST-style preprocessing) or from raw pixels.

    Pixels are taken as already MNIST-like and classified as sent.
    """
    if pixels is not None:
        stage = Stage("pixels", "28x28 pixels as sent", pixels)
        return Preprocessed(digit=pixels, stages=[stage], inverted=False, warnings=[])
    # shrinking first bounds the memory of the float copy; preprocessing works smaller anyway
    return preprocess_digit(to_gray(limit_size(image, DIGIT_WORK_SIDE)), options)


def digit_report(net: SimpleConvNet, pre: Preprocessed, explore: bool, values: bool) -> dict:
    """What /api/predict (explore=False) and /api/explore return for one digit."""
    report = explore_digit(net, pre.digit, values) if explore else predict_digit(net, pre.digit)
    report["input"] = input_view(pre.digit)
    report["preprocessing"] = {
        "inverted": pre.inverted,
        "stages": [
            {
                "name": s.name,
                "title": s.title,
                "height": int(s.image.shape[0]),
                "width": int(s.image.shape[1]),
                "png": render_gray(s.image, 0.0, 1.0, ink_white=True),
            }
            for s in pre.stages
        ],
    }
    report["warnings"] = list(pre.warnings)
    return report
