"""GET routes about the model: health, architecture and training, filters, output size."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.explorer.architecture_view import describe_model, model_record
from app.explorer.filter_history import filter_history, filter_history_frame
from app.explorer.filters import layer_filters
from app.explorer.models import LoadedModel
from app.explorer.output_size import output_size
from app.explorer.results import (
    FilterHistory,
    FilterHistoryFrame,
    Filters,
    Health,
    ModelInfo,
    ModelSummary,
    OutputSize,
    Units,
)
from app.explorer.units import layer_units

from .deps import ERRORS, chosen_model, registry_of

router = APIRouter(tags=["model"])


Model = Annotated[LoadedModel, Depends(chosen_model)]
NOT_FOUND = {404: {**ERRORS[404], "description": "unknown model or layer"}, 422: ERRORS[422]}


@router.get("/api/health", response_model=Health, summary="Liveness and model identity")
def health(request: Request):
    models = registry_of(request)
    model = models.default
    every = {m.id: m.sha256 for m in models.models.values()}
    return Health(status="ok", model=model.id, model_sha256=model.sha256, models=every)


@router.get("/api/models", response_model=list[ModelSummary], summary="The model zoo")
def models_list(request: Request):
    """Every model the server holds: id, title, what it shows, its layers with shapes and
    settings, parameter count, test accuracy (overall and per class), the file's SHA-256, the
    structure figures of its first-layer filters, and which one is the default."""
    models = registry_of(request)
    return [describe_model(m, models.default_id) for m in models.models.values()]


@router.get(
    "/api/model",
    response_model=ModelInfo,
    responses=NOT_FOUND,
    summary="Architecture and training record",
)
def model_info(model: Model):
    """Layers with shapes and parameter counts, the training configuration, per-epoch
    history and the final test accuracy (the default model unless `model=` names another)."""
    return model_record(model)


@router.get(
    "/api/filters",
    response_model=Filters,
    responses=NOT_FOUND,
    summary="Learned and initial filters of a conv layer",
)
def filters(
    model: Model,
    layer: str | None = Query(
        None, max_length=20, description="conv layer name (conv1, conv2, ...); default the first"
    ),
):
    """The learned filters of one conv layer (weights (C, FH, FW), bias, one PNG per input
    channel), the random filters they started from (null for the book's imported weights),
    each set on one shared diverging colour scale, and how structured they are: each
    filter's neighbour correlation and correlation with its start."""
    return layer_filters(model, layer)


HISTORY_ERRORS = {
    404: {**ERRORS[404], "description": "unknown model, no timeline in its file, or no such step"},
    422: ERRORS[422],
}


@router.get(
    "/api/filters/history",
    response_model=FilterHistory,
    responses=HISTORY_ERRORS,
    summary="How the first-layer filters formed during training",
)
def filters_history(model: Model):
    """The snapshots training recorded (`conv-explorer train --snapshot-every N`): for each,
    the step, epoch, accuracy on the first 1 000 test digits, and the structure figures of
    /api/filters (median neighbour correlation; median correlation with the random start).
    404 for a model whose file has no snapshots (imported or untrained weights)."""
    return filter_history(model)


@router.get(
    "/api/filters/history/{index}",
    response_model=FilterHistoryFrame,
    responses=HISTORY_ERRORS,
    summary="The first-layer filters at one snapshot",
)
def filters_history_frame(model: Model, index: int):
    """Snapshot `index` (0 = the random start) of /api/filters/history: its figures and its
    filters, drawn on their own diverging colour scale (the book's random start is so much
    fainter than the learned filters that one shared scale would show it blank)."""
    return filter_history_frame(model, index)


@router.get(
    "/api/units",
    response_model=Units,
    responses=NOT_FOUND,
    summary="What each conv unit responds to most (Fig. 7-26)",
)
def units(
    model: Model,
    layer: str | None = Query(
        None, max_length=20, description="conv layer name (conv1, conv2, ...); default the first"
    ),
):
    """For every channel of one conv layer, the 9 test digits on which it responds most,
    with the box of input pixels its unit sees there (its receptive field, which grows with
    depth), the response and the digit's label."""
    return layer_units(model, layer)


@router.get(
    "/api/conv-output-size",
    response_model=OutputSize,
    responses={422: ERRORS[422]},
    summary="OH = (H + 2P - FH) / S + 1, with dilation, and transposed",
)
def conv_output_size(
    H: int = Query(28, ge=1, le=100_000, description="input height"),
    W: int = Query(28, ge=1, le=100_000, description="input width"),
    FH: int = Query(5, ge=1, le=10_000, description="filter height"),
    FW: int = Query(5, ge=1, le=10_000, description="filter width"),
    P: int = Query(0, ge=0, le=10_000, description="padding"),
    S: int = Query(1, ge=1, le=10_000, description="stride"),
    D: int = Query(1, ge=1, le=1_000, description="dilation: filter taps D pixels apart"),
    transposed: bool = Query(False, description="the transposed convolution's output size"),
    output_padding: int = Query(
        0, ge=0, le=10_000, description="transposed only; below S or below D (PyTorch's rule)"
    ),
):
    """When (H + 2P - FH) is not divisible by S the floor is returned and `exact` is false
    (the last partial window is dropped). A filter larger than the padded input is a 422.
    Dilation puts D(FH - 1) + 1 in FH's place: OH = floor((H + 2P - D(FH - 1) - 1) / S) + 1.
    transposed=true gives OH = (H - 1)S - 2P + D(FH - 1) + output_padding + 1, taking H, W as
    the transposed convolution's input; output_padding must be below S or below D, and a
    padding that leaves no output is a 422. Both are PyTorch's conv2d / conv_transpose2d
    sizes, refusals included."""
    return output_size(H, W, FH, FW, P, S, D, transposed, output_padding)
