"""The first conv layer's filters as training formed them, from random start to learned.

`conv-explorer train --snapshot-every N` stores the layer's weights every N steps, with the
accuracy on 1 000 test digits at that moment, in models/snapshots/ID.npz; the model's JSON says
where. Each point of the timeline carries the same structure figures as the Filters view, so
"the filters formed from noise" is a number on screen, not a caption.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from app.model.filter_stats import filter_structure

from .filters import filter_bank
from .models import LoadedModel, snapshots_path
from .results import FilterHistory, FilterHistoryFrame, FilterHistoryPoint


class NoHistoryError(LookupError):
    """The model's file has no filter snapshots (imported, untrained, or trained without)."""


class NoSuchSnapshotError(LookupError):
    """A snapshot index outside the model's timeline."""


@lru_cache(maxsize=16)
def _load(path: Path, mtime: float) -> dict[str, np.ndarray]:
    """Read once per file version; read-only afterwards, so requests may share it."""
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in ("W", "step", "test_acc")}


@lru_cache(maxsize=16)
def _points(path: Path, mtime: float, epochs: tuple[float, ...]) -> tuple[FilterHistoryPoint, ...]:
    data = _load(path, mtime)
    start = data["W"][0]
    points = []
    for i, (W, step, acc) in enumerate(zip(data["W"], data["step"], data["test_acc"], strict=True)):
        stats = filter_structure(W, start)
        points.append(
            FilterHistoryPoint(
                index=i,
                step=int(step),
                epoch=round(epochs[i], 4) if i < len(epochs) else None,
                test_acc=round(float(acc), 4),
                median_neighbour_correlation=round(stats["median_neighbour"], 4),
                median_start_correlation=round(stats["median_start"], 4),
                max_abs_weight=round(float(np.abs(W).max()), 6),
            )
        )
    return tuple(points)


def _snapshots(model: LoadedModel) -> tuple[Path, dict]:
    path = snapshots_path(model)
    if path is None:
        raise NoHistoryError(
            f"model {model.id!r} has no filter timeline: its file was not trained with "
            "`conv-explorer train --snapshot-every N`"
        )
    if not path.is_file():
        raise NoHistoryError(f"model {model.id!r}: its snapshot file {path.name} is missing")
    return path, model.metadata["snapshots"]


def filter_history(model: LoadedModel) -> FilterHistory:
    """Every snapshot's step, epoch, test accuracy and structure figures."""
    path, record = _snapshots(model)
    points = _points(path, path.stat().st_mtime, tuple(record.get("epochs", ())))
    first = model.net.arch.names()[model.net.conv_layers()[0]]
    return FilterHistory(
        model=model.id,
        layer=first,
        every=int(record["every"]),
        test_digits=int(record.get("test_digits", 1000)),
        points=list(points),
    )


def filter_history_frame(model: LoadedModel, index: int) -> FilterHistoryFrame:
    """One snapshot's filters, drawn on their own colour scale, with its figures."""
    path, record = _snapshots(model)
    mtime = path.stat().st_mtime
    data = _load(path, mtime)
    count = len(data["step"])
    if not 0 <= index < count:
        raise NoSuchSnapshotError(
            f"model {model.id!r} has snapshots 0..{count - 1}; there is no snapshot {index}"
        )
    point = _points(path, mtime, tuple(record.get("epochs", ())))[index]
    W = data["W"][index]
    return FilterHistoryFrame(
        **point.model_dump(), filters=filter_bank(W, np.zeros(len(W), W.dtype))
    )
