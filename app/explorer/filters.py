"""The filters of any conv layer of any model, learned and initial, drawn per input channel."""

from __future__ import annotations

import numpy as np

from app.imaging.render import render_signed
from app.model.filter_stats import filter_structure

from .architecture_view import param_name_of
from .models import LoadedModel
from .results import Filter, FilterBank, Filters, FilterStructure
from .views import rounded


class NoSuchLayerError(LookupError):
    """A layer name that is not a conv layer of the chosen model."""


def conv_layer_index(model: LoadedModel, layer: str | None) -> int:
    """Index of the named conv layer ('conv1', 'conv2', ...); None means the first."""
    names = model.net.arch.names()
    convs = model.net.conv_layers()
    if not convs:
        raise NoSuchLayerError(f"model {model.id!r} has no conv layers (it is fully connected)")
    if layer is None:
        return convs[0]
    for i in convs:
        if names[i] == layer:
            return i
    known = ", ".join(names[i] for i in convs)
    raise NoSuchLayerError(
        f"model {model.id!r} has no conv layer {layer!r}; its conv layers: {known}"
    )


def filter_bank(W: np.ndarray, b: np.ndarray) -> FilterBank:
    """Filters W (FN, C, FH, FW) on one shared diverging scale, one picture per channel."""
    limit = float(max(np.abs(W).max(initial=0.0), 1e-6))
    return FilterBank(
        shape=list(W.shape),
        range=[-round(limit, 6), round(limit, 6)],
        filters=[
            Filter(
                index=i,
                weights=rounded(w, 6),
                bias=round(float(bias), 6),
                channels=[render_signed(wc, limit) for wc in w],
            )
            for i, (w, bias) in enumerate(zip(W, b, strict=True))
        ],
    )


def layer_filters(model: LoadedModel, layer: str | None = None) -> Filters:
    """The learned filters of one conv layer, the ones they started from (when known), and
    the numbers that say whether they have structure."""
    index = conv_layer_index(model, layer)
    W, b = model.net.weights_of(index)
    name = param_name_of(model, index)
    initial = None
    W0 = None
    if model.initial is not None:
        W0, b0 = model.initial[name], model.initial["b" + name[1:]]
        initial = filter_bank(W0, b0)
    stats = filter_structure(W, W0)
    known = W0 is not None
    return Filters(
        model=model.id,
        layer=model.net.arch.names()[index],
        conv_layers=[model.net.arch.names()[i] for i in model.net.conv_layers()],
        learned=filter_bank(W, b),
        initial=initial,
        structure=FilterStructure(
            neighbour_correlation=[round(v, 4) for v in stats["neighbour_correlation"]],
            median_neighbour_correlation=round(stats["median_neighbour"], 4),
            start_correlation=[round(v, 4) for v in stats["start_correlation"]] if known else None,
            median_start_correlation=round(stats["median_start"], 4) if known else None,
        ),
    )
