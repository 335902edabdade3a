"""Arrays shaped for the API: rounded numbers, colour scales and PNG data URLs.

One colour rule for feature maps, written once: a diverging scale with each sign stretched to
its own extreme, so neither sign washes the other out.
"""

from __future__ import annotations

import numpy as np

from app.imaging.render import render_gray, render_signed

from .results import FeatureMap, InputImage, Stage, TopClass


def rounded(a: np.ndarray, digits: int = 5) -> list:
    return np.round(a.astype(np.float64), digits).tolist()


def split_range(a: np.ndarray) -> tuple[float, float]:
    """[low <= 0, high >= 0] of a diverging scale with each sign scaled to its own extreme.

    A symmetric limit lets the larger sign wash the other out: conv maps of a drawn digit run
    to -5.2 but only to +1.9, so every positive response was a pale orange.
    """
    return min(float(a.min(initial=0.0)), 0.0), max(float(a.max(initial=0.0)), 0.0)


def render_split(a: np.ndarray, low: float, high: float) -> str:
    """PNG of a on the split diverging scale: negatives / -low, positives / high."""
    return render_signed(np.where(a < 0, a / -min(low, -1e-6), a / max(high, 1e-6)), 1.0)


def prediction(probs: np.ndarray, logits: np.ndarray) -> dict:
    """The fields every digit answer starts with: label, probabilities, logits, top 3."""
    order = np.argsort(-probs)
    top = [TopClass(digit=int(d), probability=round(float(probs[d]), 6)) for d in order[:3]]
    return {
        "label": int(order[0]),
        "probabilities": rounded(probs, 6),
        "logits": rounded(logits, 5),
        "top": top,
    }


def stage_view(name: str, title: str, kind: str, layer: int, maps: np.ndarray, values: bool):
    """Every filter's map at one stage, on one colour scale so the maps compare.

    Every stage uses the split diverging scale (range = [low, high], see split_range): ReLU
    and pooling keep the conv's positive values, so those keep their colours; the purple goes.
    """
    low, high = split_range(maps)
    return Stage(
        name=name,
        title=title,
        kind=kind,
        layer=layer,
        shape=list(maps.shape),
        scale="diverging",
        range=[round(low, 6), round(high, 6)],
        min=round(float(maps.min()), 6),
        max=round(float(maps.max()), 6),
        maps=[
            FeatureMap(
                index=i, png=render_split(m, low, high), values=rounded(m) if values else None
            )
            for i, m in enumerate(maps)
        ],
    )


def input_view(digit: np.ndarray) -> InputImage:
    """The 28x28 image the network actually classified: numbers and picture."""
    return InputImage(pixels=rounded(digit, 4), png=render_gray(digit, 0.0, 1.0, ink_white=True))
