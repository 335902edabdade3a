"""POST /api/attribute: why the network gave a digit its score, with the numbers that test it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.exceptions import HTTPException

from app.explorer.attribution import (
    LIMITS,
    AttributionError,
    AttributionOptions,
    attribute,
    check,
    check_cost,
)
from app.explorer.attribution_results import Attribution
from app.explorer.digits import DIGIT_WORK_SIDE, read_digit

from .deps import ERRORS, image_body, registry_of, run_work, settings_of
from .inputs import read_payload
from .routes_digits import Model, Options

router = APIRouter(tags=["attribution"])

Method = Literal[
    "gradient", "gradient_x_input", "smoothgrad", "integrated_gradients", "occlusion", "grad_cam"
]


def _limit(name: str) -> str:
    limit, what = LIMITS[name]
    return f"at most {limit} {what} per call"


@router.post(
    "/api/attribute",
    response_model=Attribution,
    responses=ERRORS,
    openapi_extra=image_body(),
    summary="Attribute a digit's score to its pixels, with the proof beside the map",
)
async def attribute_digit(
    request: Request,
    model: Model,
    options: Options,
    method: Annotated[Method, Query(description="the attribution method")],
    target: int | None = Query(None, ge=0, description="class to explain; default: predicted"),
    steps: int = Query(64, ge=1, description="Integrated Gradients: " + _limit("steps")),
    baseline: Literal["black", "mean"] = Query(
        "black", description="Integrated Gradients: all-zero image or the mean training digit"
    ),
    samples: int = Query(32, ge=1, description="SmoothGrad: " + _limit("samples")),
    noise: float = Query(0.15, ge=0, le=1, description="SmoothGrad: std / the input's range"),
    seed: int = Query(0, ge=0, le=2**32 - 1, description="SmoothGrad noise, curves' random order"),
    patch: int = Query(4, ge=1, description="occlusion: square side in pixels"),
    stride: int = Query(2, ge=1, description="occlusion: " + _limit("windows")),
    ink: Literal["erase", "add"] = Query("erase", description="occlusion: set the patch to 0 or 1"),
    curve_pixels: int = Query(
        100, ge=1, description="deletion/insertion over 0..curve_pixels; " + _limit("curve_pixels")
    ),
    curves: bool = Query(False, description="include the deletion and insertion curves' points"),
    sanity: bool = Query(True, description="the untrained network's map and Spearman's rho"),
):
    """The map of `method` for the digit and the `target` class (the predicted one by
    default), on the input grid in logit units (positive raises the target's logit), with:
    Integrated Gradients' completeness error; the deletion and insertion areas against a seeded
    random order, with a one-line reading; and the same map from an untrained network of the
    same layers with the Spearman rank correlation of the two |maps|. Grad-CAM gives one map
    per conv and pooling stage; a model without conv layers gets none and a `note` saying so.
    A cost over a limit (integration steps, samples, occlusion windows, curve pixels, or 20
    billion multiply-adds for the whole call on this model) is a 422 naming it."""
    chosen = AttributionOptions(
        method=method, target=target, steps=steps, baseline=baseline, samples=samples,
        noise=noise, seed=seed, patch=patch, stride=stride, ink=ink, curve_pixels=curve_pixels,
        curves=curves, sanity=sanity,
    )  # fmt: skip
    settings = settings_of(request)
    budget = settings.max_attribution_macs
    try:  # before the body is read: a request over a limit costs nothing
        check(chosen, model)
        check_cost(chosen, model, 0, budget)  # a blank digit's cost: the least it can be
    except AttributionError as err:
        raise HTTPException(422, str(err)) from None
    registry = registry_of(request)
    untrained = registry.models.get("untrained")
    payload = await read_payload(request, settings)

    def work():
        gray = payload.image_array(settings.max_image_pixels, DIGIT_WORK_SIDE)
        digit = read_digit(gray, payload.pixels, options).digit
        try:
            return attribute(model, digit, chosen, untrained, budget)
        except AttributionError as err:
            raise HTTPException(422, str(err)) from None

    return await run_work(request, work)
