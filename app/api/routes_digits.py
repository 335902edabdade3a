"""POST /api/predict and /api/explore: a drawn or uploaded digit through the network."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from app.explorer.digits import DIGIT_WORK_SIDE, digit_report, read_digit
from app.explorer.models import LoadedModel
from app.explorer.results import Exploration, Prediction
from app.imaging.preprocess import PreprocessOptions

from .deps import ERRORS, chosen_model, image_body, run_work, settings_of
from .inputs import read_payload

router = APIRouter(tags=["digits"])

Invert = Query("auto", description="auto-detect dark ink on light paper, or force yes / no")
STEP = "MNIST-style preprocessing step; false switches it off"


def preprocess_options(
    invert: Literal["auto", "yes", "no"] = Invert,
    crop: bool = Query(True, description=STEP),
    scale: bool = Query(True, description=STEP),
    center: bool = Query(True, description=STEP),
) -> PreprocessOptions:
    """The MNIST-style preprocessing switches, shared by /api/predict and /api/explore."""
    return PreprocessOptions(invert=invert, crop=crop, scale=scale, center=center)


Options = Annotated[PreprocessOptions, Depends(preprocess_options)]
Model = Annotated[LoadedModel, Depends(chosen_model)]


async def _report(
    request: Request, model: LoadedModel, options: PreprocessOptions, explore: bool, values: bool
):
    settings = settings_of(request)
    payload = await read_payload(request, settings)

    def work():
        gray = payload.image_array(settings.max_image_pixels, DIGIT_WORK_SIDE)
        pre = read_digit(gray, payload.pixels, options)
        return digit_report(model, pre, explore, values)

    return await run_work(request, work)


@router.post(
    "/api/predict",
    response_model=Prediction,
    responses=ERRORS,
    openapi_extra=image_body(),
    summary="Classify a digit",
)
async def predict(request: Request, model: Model, options: Options):
    """Label, the 10 probabilities, the 28x28 input actually classified, and every
    preprocessing stage as a small image."""
    return await _report(request, model, options, explore=False, values=False)


@router.post(
    "/api/explore",
    response_model=Exploration,
    responses=ERRORS,
    openapi_extra=image_body(),
    summary="Look inside the network for one digit",
)
async def explore(
    request: Request,
    model: Model,
    options: Options,
    values: bool = Query(False, description="include the raw numbers of every map"),
):
    """The prediction plus every map stage of the model in order (conv, ReLU, pooling; one
    colour scale per stage), every flat layer (affine, ReLU) and the logits."""
    return await _report(request, model, options, explore=True, values=values)
