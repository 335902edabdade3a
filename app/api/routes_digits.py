"""POST /api/predict and /api/explore: a drawn or uploaded digit through the network."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from app.explore import digit_report, read_digit
from app.imaging.preprocess import PreprocessOptions

from .deps import ERRORS, image_body, model_of, run_work, settings_of
from .inputs import read_payload
from .schemas import Exploration, Prediction

router = APIRouter(tags=["digits"])

Invert = Query("auto", description="auto-detect dark ink on light paper, or force yes / no")
STEP = "MNIST-style preprocessing step; false switches it off"


async def _report(request: Request, options: PreprocessOptions, explore: bool, values: bool):
    settings = settings_of(request)
    payload = await read_payload(request, settings)
    net = model_of(request).net

    def work():
        image = payload.load_image(settings.max_image_pixels)
        pre = read_digit(image, payload.pixels, options)
        return digit_report(net, pre, explore, values)

    return await run_work(request, work)


@router.post(
    "/api/predict",
    response_model=Prediction,
    responses=ERRORS,
    openapi_extra=image_body(),
    summary="Classify a digit",
)
async def predict(
    request: Request,
    invert: Literal["auto", "yes", "no"] = Invert,
    crop: bool = Query(True, description=STEP),
    scale: bool = Query(True, description=STEP),
    center: bool = Query(True, description=STEP),
):
    """Label, the 10 probabilities, the 28x28 input actually classified, and every
    preprocessing stage as a small image."""
    options = PreprocessOptions(invert=invert, crop=crop, scale=scale, center=center)
    return await _report(request, options, explore=False, values=False)


@router.post(
    "/api/explore",
    response_model=Exploration,
    responses=ERRORS,
    openapi_extra=image_body(),
    summary="Look inside the network for one digit",
)
async def explore(
    request: Request,
    invert: Literal["auto", "yes", "no"] = Invert,
    crop: bool = Query(True, description=STEP),
    scale: bool = Query(True, description=STEP),
    center: bool = Query(True, description=STEP),
    values: bool = Query(False, description="include the raw numbers of every map"),
):
    """The prediction plus every filter's map after conv, ReLU and pooling (one colour scale
    per stage), the 100 hidden activations and the logits."""
    options = PreprocessOptions(invert=invert, crop=crop, scale=scale, center=center)
    return await _report(request, options, explore=True, values=values)
