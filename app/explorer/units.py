"""Each conv unit's strongest test-set responses, drawn as the digit and the window it saw."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from app.imaging.render import render_gray
from app.model.receptive import load_units, receptive_fields

from .filters import conv_layer_index
from .models import LoadedModel, units_path
from .results import Patch, ReceptiveField, Unit, Units


class UnitsMissingError(LookupError):
    """The model has no precomputed top patches (`conv-explorer units` makes them)."""


@lru_cache(maxsize=16)
def _load(path: Path, mtime: float) -> dict:
    """Read once per file version; read-only afterwards, so requests may share it."""
    return load_units(path)


def layer_units(model: LoadedModel, layer: str | None = None) -> Units:
    """For every channel of one conv layer: its top patches (digit PNG, the receptive-field
    box in input pixels, the response, the digit's label), strongest first."""
    index = conv_layer_index(model, layer)
    name = model.net.arch.names()[index]
    path = units_path(model)
    if not path.is_file():
        raise UnitsMissingError(
            f"no top patches for model {model.id!r}: run `conv-explorer units --model {model.path}`"
        )
    data = _load(path, path.stat().st_mtime)
    top = data["layers"][name]
    field = receptive_fields(model.net.arch)[index]
    _, height, width = model.net.arch.input_shape
    pngs: dict[int, str] = {}

    def digit_png(i: int) -> str:
        if i not in pngs:
            pngs[i] = render_gray(data["digits"][i], 0, 255, ink_white=True)
        return pngs[i]

    units = []
    for channel in range(top["value"].shape[0]):
        patches = []
        for k in range(top["value"].shape[1]):
            i = int(top["index"][channel, k])
            y, x = int(top["y"][channel, k]), int(top["x"][channel, k])
            patches.append(
                Patch(
                    png=digit_png(i),
                    box=list(field.box(y, x, height, width)),
                    value=round(float(top["value"][channel, k]), 4),
                    label=int(data["labels"][i]),
                )
            )
        units.append(Unit(index=channel, patches=patches))
    return Units(
        model=model.id,
        layer=name,
        field=ReceptiveField(size=field.size, jump=field.jump, offset=field.offset),
        units=units,
    )
