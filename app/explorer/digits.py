"""A digit through any model of the zoo: the prediction, and every intermediate on request."""

from __future__ import annotations

import numpy as np

from app.engine.layers import softmax
from app.imaging.preprocess import Preprocessed, PreprocessOptions, Step, preprocess_digit
from app.imaging.render import render_gray, render_sequential, render_signed
from app.novelty import VERSION as NOVELTY_VERSION
from app.novelty import warnings_for

from .architecture_view import grid_for, layer_titles
from .models import LoadedModel
from .results import Exploration, FlatLayer, Prediction, Preprocessing, StageImage
from .views import input_view, prediction, rounded, stage_view

DIGIT_WORK_SIDE = 1024  # uploads are shrunk to this longer side before digit preprocessing;
# it bounds the memory of the float copy, and preprocessing works smaller anyway


def predict_digit(model: LoadedModel, digit: np.ndarray) -> dict:
    """digit (28, 28) 0..1, 1 = ink -> label, probabilities, logits, top 3."""
    return _predict_with_features(model, digit)[0]


def _predict_with_features(model: LoadedModel, digit: np.ndarray) -> tuple[dict, np.ndarray]:
    """predict_digit, and the last affine layer's input that the not-a-digit check reads, from
    the one forward pass a request needs."""
    logits, features = model.net.logits_and_features(digit[None, None])
    return prediction(softmax(logits[0]), logits[0]), features


def flat_view(name: str, title: str, kind: str, values: np.ndarray) -> FlatLayer:
    """A flat layer (affine, its ReLU): the numbers and a near-square picture of them."""
    rows, cols = grid_for(values.size)
    padded = np.zeros(rows * cols, np.float32)
    padded[: values.size] = values
    grid = padded.reshape(rows, cols)
    low, high = float(values.min()), float(values.max())
    if low < 0:
        png = render_signed(grid, max(abs(low), high, 1e-6))
    else:
        png = render_sequential(grid, max(high, 1e-6))
    return FlatLayer(
        name=name,
        title=title,
        kind=kind,
        size=int(values.size),
        grid=[rows, cols],
        range=[round(low, 6), round(high, 6)],
        values=rounded(values),
        png=png,
    )


def explore_digit(model: LoadedModel, digit: np.ndarray, values: bool = False):
    """Prediction plus every map stage (conv, relu, pool, in order) and every flat layer,
    and the last affine layer's input (the not-a-digit check reads it) -> (dict, features)."""
    x = digit[None, None]
    acts = model.net.trace(x)
    last = model.net.last_affine
    features = (acts[last - 1].value if last else x).reshape(1, -1)
    titles = layer_titles(model.net.arch)
    probs, logits = acts[-1].value[0], acts[-2].value[0]
    stages, flat = [], []
    for act in acts[:-2]:
        kind = model.net.arch.layers[act.index].kind
        v = act.value[0]
        if v.ndim == 3:
            stages.append(stage_view(act.name, titles[act.index], kind, act.index, v, values))
        else:
            flat.append(flat_view(act.name, titles[act.index], kind, v))
    return {**prediction(probs, logits), "stages": stages, "hidden": flat}, features


def read_digit(
    gray: np.ndarray | None, pixels: np.ndarray | None, options: PreprocessOptions
) -> Preprocessed:
    """A 28x28 digit from an uploaded picture's brightness (H, W) through MNIST-style
    preprocessing, or from raw pixels, which are taken as already MNIST-like, as sent."""
    if pixels is not None:
        step = Step("pixels", "28x28 pixels as sent", pixels)
        return Preprocessed(digit=pixels, stages=[step], inverted=False, warnings=[])
    return preprocess_digit(gray, options)


def digit_report(
    model: LoadedModel, pre: Preprocessed, explore: bool, values: bool
) -> Prediction | Exploration:
    """What /api/predict (explore=False) and /api/explore return for one digit."""
    digit = pre.digit
    if explore:
        answer, features = explore_digit(model, digit, values)
    else:
        answer, features = _predict_with_features(model, digit)
    preprocessing = Preprocessing(
        inverted=pre.inverted,
        stages=[
            StageImage(
                name=s.name,
                title=s.title,
                height=int(s.image.shape[0]),
                width=int(s.image.shape[1]),
                png=render_gray(s.image, 0.0, 1.0, ink_white=True),
            )
            for s in pre.stages
        ],
    )
    result = Exploration if explore else Prediction
    return result(
        **answer,
        model=model.id,
        input=input_view(digit),
        preprocessing=preprocessing,
        warnings=[*pre.warnings, *_novelty_warnings(model, pre, features)],
    )


def _novelty_warnings(model: LoadedModel, pre: Preprocessed, features: np.ndarray) -> list[str]:
    """The not-a-digit warnings. A calibration written by another version of the check is
    not used (only the tiny-mark rule runs) until `conv-explorer calibrate` renews it."""
    calibration = model.metadata.get("novelty")
    if calibration is not None and calibration.get("version") != NOVELTY_VERSION:
        calibration = None
    return warnings_for(model.net, pre, calibration, features)
