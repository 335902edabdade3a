"""What the page and scripts learn about a model's layers: names, shapes, settings, counts.

Every fact the page shows about an architecture (layer strip, stage titles, pool window,
hidden grid, stride and pad of the pixel view) comes from here, not from HTML or JS literals.
"""

from __future__ import annotations

import math

from app.model.architecture import Architecture
from app.model.filter_stats import filter_structure

from .models import LoadedModel, snapshots_path, units_path
from .results import Layer, ModelInfo, ModelSummary, StructureSummary


def grid_for(n: int) -> list[int]:
    """[rows, cols] to lay n flat units out as a near-square picture (100 -> 10 x 10)."""
    cols = math.ceil(math.sqrt(n))
    return [math.ceil(n / cols), cols]


def layer_titles(arch: Architecture) -> list[str]:
    """'conv1: 30 filters 5x5, stride 1, pad 0', 'relu1: max(0, conv1)', ... per layer."""
    names = arch.names()
    titles = []
    for i, (name, layer) in enumerate(zip(names, arch.layers, strict=True)):
        before = names[i - 1] if i else "input"
        if layer.kind == "relu":
            titles.append(f"{name}: max(0, {before})")
        elif layer.kind == "softmax":
            titles.append(f"{name}: softmax({before})")
        else:
            titles.append(f"{name}: {layer.describe()}")
    return titles


def layer_table(arch: Architecture) -> list[Layer]:
    """One row per layer: name, kind, settings, output shape, parameter count."""
    names, titles = arch.names(), layer_titles(arch)
    params = arch.param_shapes()
    rows = [
        Layer(
            index=-1,
            name="input",
            kind="input",
            title=f"input {'x'.join(map(str, arch.input_shape))}",
            output_shape=list(arch.input_shape),
            params=0,
        )
    ]
    numbers = dict(arch.param_layers())
    for i, layer in enumerate(arch.layers):
        row = {
            "index": i,
            "name": names[i],
            "kind": layer.kind,
            "title": titles[i],
            "output_shape": list(arch.shapes[i]),
            "params": 0,
        }
        if layer.kind in ("conv", "pool"):
            row.update(size=list(layer.size), stride=layer.stride)
        if layer.kind == "conv":
            row.update(filters=layer.filters, pad=layer.pad)
        if layer.kind == "pool":
            row.update(mode=layer.mode, pad=0)
        if layer.kind == "affine":
            row["units"] = layer.units
        if layer.kind == "dropout":
            row["rate"] = layer.rate
        if i in numbers:
            k = numbers[i]
            row["param_names"] = [f"W{k}", f"b{k}"]
            row["params"] = sum(math.prod(params[n]) for n in row["param_names"])
        rows.append(Layer(**row))
    return rows


def describe_model(model: LoadedModel, default_id: str) -> ModelSummary:
    """A model as GET /api/models lists it."""
    meta, arch = model.metadata, model.net.arch
    structure = None
    conv = model.net.conv_layers()
    if conv:
        W = model.net.weights_of(conv[0])[0]
        first = param_name_of(model, conv[0])
        W0 = model.initial[first] if model.initial is not None else None
        stats = filter_structure(W, W0)
        structure = StructureSummary(
            layer=arch.names()[conv[0]],
            median_neighbour_correlation=round(stats["median_neighbour"], 4),
            median_start_correlation=(
                round(stats["median_start"], 4) if "median_start" in stats else None
            ),
        )
    history = snapshots_path(model)
    return ModelSummary(
        id=model.id,
        title=model.title,
        shows=meta.get("shows", ""),
        default=model.id == default_id,
        architecture=arch.summary(),
        layers=layer_table(arch),
        param_count=arch.param_count(),
        test_accuracy=meta.get("test_accuracy"),
        per_class_accuracy=meta.get("per_class_accuracy"),
        sha256=model.sha256,
        file=model.path.name,
        has_initial=model.initial is not None,
        has_units=units_path(model).is_file(),
        has_filter_history=history is not None and history.is_file(),
        filter_structure=structure,
    )


def model_record(model: LoadedModel) -> ModelInfo:
    """How a model was made and how it did: layers, config, training, history, accuracy."""
    meta, arch = model.metadata, model.net.arch
    return ModelInfo(
        id=model.id,
        architecture=arch.summary(),
        layers=layer_table(arch),
        total_params=arch.param_count(),
        config=arch.to_dict(),
        training={
            "command": meta.get("command"),
            "seed": meta.get("seed"),
            "data_sha256": meta.get("data_sha256", {}),
            **meta.get("train", {}),
        },
        test_accuracy=meta.get("test_accuracy"),
        per_class_accuracy=meta.get("per_class_accuracy"),
        history=meta.get("history", []),
        sha256=model.sha256,
    )


def param_name_of(model: LoadedModel, index: int) -> str:
    """'W1' for the first conv or affine layer, 'W2' for the next, ..."""
    return f"W{dict(model.net.arch.param_layers())[index]}"
