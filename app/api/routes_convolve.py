"""POST /api/convolve: any picture through learned, classic or custom kernels."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from starlette.exceptions import HTTPException

from app.explorer.convolve import convolve_image
from app.explorer.kernels import CLASSIC_KERNELS, custom_kernel
from app.explorer.models import LoadedModel
from app.explorer.results import Convolution, KernelInfo
from app.explorer.variants import (
    MIXING_KERNELS,
    RECTANGULAR_KERNELS,
    Variant,
    convolve_variant,
    named_kernels,
)
from app.imaging.cache import DecodedCache

from .deps import ERRORS, chosen_model, image_body, run_work, settings_of
from .inputs import Payload, read_payload

router = APIRouter(tags=["convolution"])

# A real 8x6 RGB picture (red left half, blue right half, a white bar), for the examples below.
_RGB_EXAMPLE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAGCAIAAABxZ0isAAAAL0lEQVR42mM8oaHBAAMJIgvg"
    "bCYGHIAFQmmcOMHAwHCCgYGBgcHC5wY+HYwk2wEA4vYIQW3BrToAAAAASUVORK5CYII="
)
_KERNELS_EXAMPLES = {
    "classic": {"summary": "two classic 3x3 kernels", "value": "sobel_x,sobel_y"},
    "learned": {"summary": "every first-layer filter of the model", "value": "learned"},
    "rectangular": {
        "summary": "rectangular: a 1x5 horizontal and a 5x1 vertical difference",
        "value": "diff_1x5,diff_5x1",
    },
    "one_by_one": {
        "summary": "1x1 channel mixing (with mode=rgb): luminance and R - B",
        "value": "luminance,r_minus_b",
    },
    "custom_only": {"summary": "none by name: only the body's custom 'kernel'", "value": ""},
}


def _body_with_kernel_examples() -> dict:
    """image_body(with_kernel=True) plus request examples with rectangular and 1x1 kernels."""
    extra = image_body(with_kernel=True)
    examples = extra["requestBody"]["content"]["application/json"]["examples"]
    examples["custom_1x5"] = {
        "summary": "a custom 1x5 kernel, FH x FW (with kernels= left empty)",
        "value": {"image": _RGB_EXAMPLE, "kernel": [[-1, -2, 0, 2, 1]]},
    }
    examples["custom_1x1_rgb"] = {
        "summary": "a custom 1x1 kernel over R, G, B, C x FH x FW = 3x1x1 (with mode=rgb)",
        "value": {"image": _RGB_EXAMPLE, "kernel": [[[0.5]], [[0.5]], [[-1.0]]]},
    }
    return extra


def _image_array(
    payload: Payload, mode: str, max_side: int, max_pixels: int, cache: DecodedCache
) -> np.ndarray:
    """(C, H, W) in 0..1: brightness for photos (1 = white), ink for pixel digits (1 = ink)."""
    if payload.pixels is not None:
        digit = payload.pixels[None]
        return np.repeat(digit, 3, axis=0) if mode == "rgb" else digit
    image = payload.image_array(max_pixels, max_side, mode, cache)
    return image if mode == "rgb" else image[None]


def _custom(payload: Payload, channels: int, max_side: int):
    if "kernel" not in payload.fields:
        return None
    raw = payload.fields["kernel"]
    if isinstance(raw, str):  # a multipart form field carries JSON text
        try:
            raw = json.loads(raw, parse_constant=lambda c: float("nan"))
        except ValueError:
            raise HTTPException(422, "'kernel' form field is not valid JSON") from None
    return custom_kernel(raw, channels, max_side)


def _check_limit(name: str, value: int, limit: int) -> None:
    """Stride and pad limits are settings (CONV_EXPLORER_MAX_STRIDE, ..._MAX_PAD), so they are
    checked here rather than as Query bounds, which are fixed when the module is imported."""
    if value > limit:
        variable = f"CONV_EXPLORER_MAX_{name.upper()}"
        raise HTTPException(422, f"query {name}: {value} is over the limit of {limit} ({variable})")


@router.post(
    "/api/convolve",
    response_model=Convolution,
    responses=ERRORS,
    openapi_extra=_body_with_kernel_examples(),
    summary="Convolve a picture with the learned filters or classic kernels",
)
async def convolve(
    request: Request,
    model: Annotated[LoadedModel, Depends(chosen_model)],
    kernels: str = Query(
        "learned",
        max_length=300,
        description="comma-separated: 'learned' (every first-layer filter of the model) and/or "
        + ", ".join(CLASSIC_KERNELS)
        + "; rectangular: "
        + ", ".join(RECTANGULAR_KERNELS)
        + "; 1x1 channel mixing (mode=rgb): "
        + ", ".join(MIXING_KERNELS)
        + "; a custom kernel (any FH x FW, or C x FH x FW) goes in the body as 'kernel'",
        openapi_examples=_KERNELS_EXAMPLES,
    ),
    mode: Literal["gray", "rgb"] = Query(
        "gray", description="rgb: 3-channel convolution, the chapter's 3-D case"
    ),
    stride: int = Query(1, ge=1, description="at most the server's max_stride (16 by default)"),
    pad: int = Query(0, ge=0, description="at most the server's max_pad (16 by default)"),
    bias: bool = Query(False, description="add the learned biases (the book's figure has none)"),
    relu: bool = Query(False, description="apply ReLU to every response"),
    values: bool = Query(False, description="include the raw numbers of every map"),
    max_side: int = Query(256, ge=8, le=1024, description="downscale the longer side to this"),
    dilation: int = Query(1, ge=1, le=8, description="taps D pixels apart (1: the chapter's)"),
    groups: int = Query(1, ge=1, le=3, description="split C into G groups; rgb + 3: depthwise"),
    padding: Literal["zero", "reflect", "circular"] = Query("zero", description="pad values"),
    flip: bool = Query(False, description="turn the kernel 180 degrees: true convolution"),
    transposed: bool = Query(
        False, description="add each map's transposed convolution (conv's backward w.r.t. x)"
    ),
    code: bool = Query(False, description="include NumPy and PyTorch programs for the maps"),
):
    """Each response map as a PNG with its value range and output shape from the formula
    OH = (H + 2P - D(FH - 1) - 1) / S + 1 (floor when not exact, flagged per map)."""
    settings = settings_of(request)
    _check_limit("stride", stride, settings.max_stride)
    _check_limit("pad", pad, settings.max_pad)
    payload = await read_payload(request, settings)
    names = [n.strip() for n in kernels.split(",") if n.strip()]

    def work():
        side = min(max_side, settings.max_convolve_side)
        cache = request.app.state.decoded
        image = _image_array(payload, mode, side, settings.max_image_pixels, cache)
        channels = image.shape[0]
        convs = model.net.conv_layers()
        learned = model.net.weights_of(convs[0]) if convs else None
        chosen = named_kernels(names, channels, learned, bias)
        extra = _custom(payload, channels, settings.max_kernel_side)
        if extra is not None:
            chosen.append(extra)
        if not chosen:
            raise HTTPException(422, "no kernels: name some in 'kernels' or send a 'kernel'")
        budget = settings.max_convolve_macs
        variant = Variant(dilation, groups, padding, flip, transposed)
        if variant.is_plain and not code:
            return convolve_image(image, chosen, stride, pad, relu, values, budget)
        return convolve_variant(image, chosen, stride, pad, variant, relu, values, budget, code)

    return await run_work(request, work)


@router.get("/api/kernels", response_model=list[KernelInfo], summary="The classic kernels")
def kernels_list():
    """Name, description and weights of every classic kernel /api/convolve knows."""
    return [
        {"name": name, "title": title, "weights": np.asarray(w, float).round(6).tolist()}
        for name, (title, w) in CLASSIC_KERNELS.items()
    ]
