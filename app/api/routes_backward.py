"""POST /api/backward and /api/gradient-check: the backward pass on the user's digit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.exceptions import HTTPException

from app.explorer.backward import digit_backward
from app.explorer.digits import DIGIT_WORK_SIDE, read_digit
from app.explorer.gradient_check import gradient_check
from app.explorer.models import LoadedModel
from app.explorer.results import Backward, GradientCheck

from .deps import ERRORS, chosen_model, image_body, run_work, settings_of
from .inputs import read_payload
from .routes_digits import Options

router = APIRouter(tags=["backward"])
Model = Annotated[LoadedModel, Depends(chosen_model)]

# Real answers of the app (model=book, the request body's "pixels" example), trimmed to their
# scalar fields; tests/api/test_backward.py checks them against the running app.
EXAMPLES = json.loads((Path(__file__).parent / "examples_backward.json").read_text())


def _documented(name: str) -> dict:
    body = image_body()
    body["requestBody"]["content"]["application/json"]["examples"]["pixels"]["description"] = (
        f"the answer below is this body with {EXAMPLES[name]['query']}"
    )
    return body


def _answer(name: str) -> dict:
    return {
        200: {"content": {"application/json": {"example": EXAMPLES[name]["response"]}}},
        **ERRORS,
    }


Target = Query(None, ge=0, le=9, description="the class of the loss; default: the predicted one")


async def digit_of(request: Request, options):
    settings = settings_of(request)
    payload = await read_payload(request, settings)

    def digit():
        gray = payload.image_array(settings.max_image_pixels, DIGIT_WORK_SIDE)
        return read_digit(gray, payload.pixels, options).digit

    return digit


@router.post(
    "/api/backward",
    response_model=Backward,
    responses=_answer("backward"),
    openapi_extra=_documented("backward"),
    summary="dL/dx of a digit, one pixel's col2im ledger, max-pool gradient routing",
)
async def backward(
    request: Request,
    model: Model,
    options: Options,
    target: int | None = Target,
    row: int | None = Query(None, ge=0, le=27, description="ledger pixel; default: max |dL/dx|"),
    col: int | None = Query(None, ge=0, le=27),
    channel: int | None = Query(None, ge=0, description="pool channel; default: most gradient"),
):
    """The engine's backward pass for the cross-entropy against `target`: dL/dx (28x28), the
    chosen pixel's gradient as the sum of the up-to-FH*FW window contributions col2im adds,
    the overlap counts col2im(im2col(ones)), and the first max pool's gradient routing (only
    winners receive gradient; tied windows listed)."""
    digit = await digit_of(request, options)

    return await run_work(
        request, lambda: digit_backward(model, digit(), target, row, col, channel)
    )


@router.post(
    "/api/gradient-check",
    response_model=GradientCheck,
    responses=_answer("gradient_check"),
    openapi_extra=_documented("gradient_check"),
    summary="Backward pass vs central differences in float64, on a digit",
)
async def gradient_check_route(
    request: Request,
    model: Model,
    options: Options,
    target: int | None = Target,
    pixels: int = Query(12, ge=0, le=64, description="input pixels to check"),
    weights: int = Query(12, ge=0, le=64, description="parameters to check (W1, b1, W2, ...)"),
    seed: int = Query(0, ge=0, le=2**31 - 1, description="sampling and jitter seed"),
    jitter: bool = Query(True, description="break max-pool ties with tiny seeded noise"),
):
    """Analytic vs numerical gradient for sampled pixels and weights, max-pool ties counted
    before and after the jitter, entries straddling a kink flagged, the largest relative
    error over the rest."""
    if pixels + weights == 0:
        raise HTTPException(422, "nothing to check: pixels and weights are both 0")
    digit = await digit_of(request, options)

    def work():
        return gradient_check(model, digit(), target, pixels, weights, seed, jitter)

    return await run_work(request, work)
