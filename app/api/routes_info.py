"""GET routes about the model: health, architecture and training, filters, output size."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from app.engine.shapes import conv_output_length
from app.explore import filter_bank
from app.service import layer_table

from .deps import ERRORS, model_of
from .schemas import Filters, Health, ModelInfo, OutputSize

router = APIRouter(tags=["model"])


@router.get("/api/health", response_model=Health, summary="Liveness and model identity")
def health(request: Request):
    model = model_of(request)
    return {"status": "ok", "model": model.path.name, "model_sha256": model.sha256}


@router.get("/api/model", response_model=ModelInfo, summary="Architecture and training record")
def model_info(request: Request):
    """Layers with shapes and parameter counts, the training configuration, per-epoch
    history and the final test accuracy."""
    model = model_of(request)
    meta, config = model.metadata, model.net.config
    layers = layer_table(config)
    return {
        "architecture": meta.get("architecture", ""),
        "layers": layers,
        "total_params": sum(layer["params"] for layer in layers),
        "config": config.to_dict(),
        "training": {
            "command": meta.get("command"),
            "seed": meta.get("seed"),
            "data_sha256": meta.get("data_sha256", {}),
            **meta.get("train", {}),
        },
        "test_accuracy": meta.get("test_accuracy"),
        "per_class_accuracy": meta.get("per_class_accuracy"),
        "history": meta.get("history", []),
        "sha256": model.sha256,
    }


@router.get("/api/filters", response_model=Filters, summary="Learned and initial filters")
def filters(request: Request):
    """The 30 learned 5x5 first-layer filters (weights, bias, PNG) and the random filters
    they started from, each set on one shared diverging colour scale."""
    model = model_of(request)
    return {
        "learned": filter_bank(model.net.params["W1"], model.net.params["b1"]),
        "initial": filter_bank(model.initial_W1, model.initial_b1),
    }


@router.get(
    "/api/conv-output-size",
    response_model=OutputSize,
    responses={422: ERRORS[422]},
    summary="OH = (H + 2P - FH) / S + 1",
)
def conv_output_size(
    H: int = Query(28, ge=1, le=100_000, description="input height"),
    W: int = Query(28, ge=1, le=100_000, description="input width"),
    FH: int = Query(5, ge=1, le=10_000, description="filter height"),
    FW: int = Query(5, ge=1, le=10_000, description="filter width"),
    P: int = Query(0, ge=0, le=10_000, description="padding"),
    S: int = Query(1, ge=1, le=10_000, description="stride"),
):
    """When (H + 2P - FH) is not divisible by S the floor is returned and `exact` is false
    (the last partial window is dropped). A filter larger than the padded input is a 422."""
    oh = conv_output_length(H, FH, P, S, "H")
    ow = conv_output_length(W, FW, P, S, "W")

    def formula(n, f, out):
        return f"({n} + 2*{P} - {f}) / {S} + 1 = {(n + 2 * P - f) / S + 1:g} -> {out}"

    return {
        "OH": oh.size,
        "OW": ow.size,
        "exact_h": oh.exact,
        "exact_w": ow.exact,
        "exact": oh.exact and ow.exact,
        "formula_h": formula(H, FH, oh.size),
        "formula_w": formula(W, FW, ow.size),
    }
