"""Shared pieces of the routes: the loaded model, settings, the documented request body."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import Query, Request
from pydantic import BaseModel, Field

from app.explorer.models import LoadedModel, ModelRegistry
from app.settings import Settings

T = TypeVar("T")


class Error(BaseModel):
    detail: str | list = Field(examples=["the image has no ink to read: draw a digit"])


async def run_work(request: Request, fn: Callable[[], T]) -> T:
    """Run CPU work on a worker thread, at most `max_concurrent_work` at once.

    The bound keeps the memory of many simultaneous large uploads in check; requests beyond
    it wait their turn instead of all decoding at the same time.
    """
    return await anyio.to_thread.run_sync(fn, limiter=request.app.state.work_limiter)


def registry_of(request: Request) -> ModelRegistry:
    return request.app.state.models


def chosen_model(
    request: Request,
    model: str | None = Query(
        None,
        max_length=40,
        description="zoo id from GET /api/models; the default model when left out",
    ),
) -> LoadedModel:
    """The `model=` every network route takes; an unknown id is a 404 listing the known."""
    return registry_of(request).get(model)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


ERRORS = {
    400: {"model": Error, "description": "corrupt image, bad base64 or malformed body"},
    404: {"model": Error, "description": "unknown model (the message lists the known ids)"},
    408: {"model": Error, "description": "the body did not arrive in time"},
    413: {"model": Error, "description": "body or image over the size limit"},
    415: {"model": Error, "description": "unsupported content or image type"},
    422: {"model": Error, "description": "unusable input, e.g. an empty canvas or bad pixels"},
}

_PIXELS = {
    "type": "array",
    "minItems": 28,
    "maxItems": 28,
    "items": {
        "type": "array",
        "minItems": 28,
        "maxItems": 28,
        "items": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
_KERNEL = {
    "description": "custom kernel (convolve only): FH x FW, or C x FH x FW numbers",
    "type": "array",
    "items": {"type": "array"},
}


def image_body(with_kernel: bool = False) -> dict:
    """OpenAPI request body for the image routes: multipart file, data URL or pixels."""
    extra = {"kernel": _KERNEL} if with_kernel else {}
    form_extra = {"kernel": {"type": "string", "description": "JSON text"}} if with_kernel else {}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            **form_extra,
                        },
                    }
                },
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {
                                "type": "object",
                                "required": ["image"],
                                "properties": {
                                    "image": {
                                        "type": "string",
                                        "description": "data URL, e.g. canvas.toDataURL()",
                                    },
                                    **extra,
                                },
                            },
                            {
                                "type": "object",
                                "required": ["pixels"],
                                "properties": {"pixels": _PIXELS, **extra},
                            },
                        ]
                    },
                    "examples": {
                        "data_url": {
                            "summary": "a canvas drawing",
                            "value": {"image": "data:image/png;base64,iVBORw0KGgo..."},
                        },
                        "pixels": {
                            "summary": "28x28 numbers, 1 = ink",
                            "value": {
                                "pixels": [[0.0] * 28] * 12
                                + [[0.0] * 12 + [1.0] * 4 + [0.0] * 12] * 4
                                + [[0.0] * 28] * 12
                            },
                        },
                    },
                },
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
