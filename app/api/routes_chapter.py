"""POST /api/pooling, /api/im2col, /api/batch and /api/conv3d: the chapter's pooling, im2col,
batches and 3-D convolution on the user's digits and pictures."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from starlette.exceptions import HTTPException

from app.engine.shapes import ShapeError
from app.explorer.batch import MAX_BATCH, digit_batch
from app.explorer.conv3d import conv3d_pixel
from app.explorer.convolve import ComputeBudgetError
from app.explorer.im2col_view import digit_im2col
from app.explorer.kernels import resolve_kernels
from app.explorer.models import LoadedModel
from app.explorer.pooling import SHIFTS, digit_pooling
from app.explorer.results import Batch, Conv3dPixel, Im2colView, Pooling
from app.imaging.preprocess import digit_from_pixels

from .deps import ERRORS, chosen_model, image_body, run_work, settings_of
from .inputs import parse_json_body, read_payload
from .routes_backward import digit_of
from .routes_convolve import _custom, _image_array
from .routes_digits import Options

router = APIRouter(tags=["chapter"])
Model = Annotated[LoadedModel, Depends(chosen_model)]


@router.post(
    "/api/pooling",
    response_model=Pooling,
    responses=ERRORS,
    openapi_extra=image_body(),
    summary="One pooled pixel's windows, the digit shifted by a pixel, pooling via im2col",
)
async def pooling(
    request: Request,
    model: Model,
    options: Options,
    channel: int = Query(0, ge=0, description="the channel whose maps are returned"),
    row: int = Query(0, ge=0, description="pooled pixel to explain"),
    col: int = Query(0, ge=0),
    mode: Literal["max", "avg"] = Query("max", description="the model pools with max"),
    shift: Literal[tuple(SHIFTS)] = Query("right", description="move the digit one pixel"),
    im2col: bool = Query(False, description="also pool the book's way: im2col, row max"),
):
    """The first pooling layer on this digit: the chosen pooled pixel's window in every
    channel with its max or mean, the winner and whether it is tied; which pooled values a
    one-pixel shift leaves unchanged, against the same count before pooling."""
    digit = await digit_of(request, options)

    return await run_work(
        request, lambda: digit_pooling(model, digit(), channel, row, col, mode, shift, im2col)
    )


@router.post(
    "/api/im2col",
    response_model=Im2colView,
    responses=ERRORS,
    openapi_extra=image_body(),
    summary="The first conv layer's im2col matrix for a digit, the filter matrix, the product",
)
async def im2col_route(
    request: Request,
    model: Model,
    options: Options,
    filter: int = Query(0, ge=0, description="whose output map to return"),
    stride: int | None = Query(None, ge=1, le=8, description="default: the layer's"),
    pad: int | None = Query(None, ge=0, le=8, description="default: the layer's"),
):
    """col (OH*OW, C*FH*FW), col_W (C*FH*FW, FN) and one filter's column of col @ col_W + b
    as an OH x OW map: the convolution as one matrix product (Fig. 7-19)."""
    digit = await digit_of(request, options)

    return await run_work(request, lambda: digit_im2col(model, digit(), filter, stride, pad))


_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["digits"],
                    "properties": {
                        "digits": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_BATCH,
                            "items": image_body()["requestBody"]["content"]["application/json"][
                                "schema"
                            ]["oneOf"][1]["properties"]["pixels"],
                        }
                    },
                },
                "example": {"digits": [[[0.0] * 28] * 28, [[0.5] * 28] * 28]},
            }
        },
    }
}


@router.post(
    "/api/batch",
    response_model=Batch,
    responses=ERRORS,
    openapi_extra=_BATCH_BODY,
    summary="N digits through one im2col and one GEMM (Fig. 7-13)",
)
async def batch(
    request: Request,
    model: Model,
    filter: int = Query(0, ge=0, description="whose maps to return"),
):
    """The first conv layer on a batch: col has N blocks of OH*OW rows, one product with the
    filter matrix gives (N*OH*OW, FN), reshaped and transposed to (N, FN, OH, OW); checked
    against the engine's conv_forward and against each digit alone."""
    data = parse_json_body(await request.body())
    raw = data.get("digits")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BATCH:
        raise HTTPException(422, f"'digits' must be a list of 1 to {MAX_BATCH} 28x28 digits")
    digits = np.stack([digit_from_pixels(d) for d in raw])

    return await run_work(request, lambda: digit_batch(model, digits, filter))


@router.post(
    "/api/conv3d",
    response_model=Conv3dPixel,
    responses=ERRORS,
    openapi_extra=image_body(with_kernel=True),
    summary="3-D convolution: one output pixel as C channel windows times C kernel slices",
)
async def conv3d(
    request: Request,
    kernels: str = Query("sobel_x,sobel_y", max_length=300, description="classic kernel names"),
    biases: str = Query("", max_length=300, description="comma-separated, one per filter"),
    stride: int = Query(1, ge=1, le=8),
    pad: int = Query(0, ge=0, le=8),
    row: int = Query(0, ge=0),
    col: int = Query(0, ge=0),
    filter: int = Query(0, ge=0, description="whose sum to take apart"),
    max_side: int = Query(64, ge=8, le=256, description="downscale the longer side to this"),
):
    """The picture as 3 channels (a 28x28 digit repeated); every classic kernel becomes a
    (3, FH, FW) filter, and a custom (3, FH, FW) kernel in the body joins them. The chosen
    output pixel's per-channel windows, slices, products and partial sums, their total, the
    bias and the engine's value there; every filter's map."""
    settings = settings_of(request)
    payload = await read_payload(request, settings)
    names = [n.strip() for n in kernels.split(",") if n.strip()]
    try:
        bias_values = [float(v) for v in biases.split(",") if v.strip()]
    except ValueError:
        raise HTTPException(422, "query biases: comma-separated numbers") from None

    def work():
        image = _image_array(
            payload, "rgb", max_side, settings.max_image_pixels, request.app.state.decoded
        )
        chosen = resolve_kernels(names, 3, None, False)
        extra = _custom(payload, 3, settings.max_kernel_side)
        if extra is not None:
            chosen.append(extra)
        if not chosen:
            raise HTTPException(422, "no kernels: name some in 'kernels' or send a 'kernel'")
        if bias_values and len(bias_values) != len(chosen):
            raise HTTPException(
                422, f"biases: {len(bias_values)} numbers for {len(chosen)} filters"
            )
        if bias_values:
            chosen = [replace(k, bias=v) for k, v in zip(chosen, bias_values, strict=True)]
        try:
            return conv3d_pixel(
                image, chosen, stride, pad, row, col, filter, settings.max_convolve_macs
            )
        except ValueError as err:
            if isinstance(err, (ShapeError, ComputeBudgetError)):
                raise
            raise HTTPException(422, str(err)) from None

    return await run_work(request, work)
