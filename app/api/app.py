"""The app factory: load the model once, wire middleware, routes and error handlers."""

from __future__ import annotations

import logging
import sys

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from threadpoolctl import threadpool_limits

from app.engine.shapes import ShapeError
from app.explorer.backward import NoConvLayerError
from app.explorer.convolve import ComputeBudgetError
from app.explorer.filter_history import NoHistoryError, NoSuchSnapshotError
from app.explorer.filters import NoSuchLayerError
from app.explorer.kernels import KernelError
from app.explorer.models import ModelRegistry, UnknownModelError
from app.explorer.pooling import NoPoolLayerError
from app.explorer.units import UnitsMissingError
from app.imaging.cache import DecodedCache
from app.imaging.errors import ImageInputError
from app.model.storage import ModelFileError
from app.settings import ROOT, Settings

from . import (
    routes_backward,
    routes_chapter,
    routes_convolve,
    routes_digits,
    routes_info,
    routes_pages,
    routes_training,
)
from .limits import BodyLimitMiddleware, SecurityHeadersMiddleware
from .routes_attribution import router as attribution_router

log = logging.getLogger("conv_explorer")

DESCRIPTION = """
Look inside the SimpleConvNet of *Deep Learning from Scratch*, chapter 7, trained on MNIST and
running on this project's own NumPy im2col engine.

Every image route takes a multipart `file`, JSON `{"image": "data:image/png;base64,..."}`, JSON
`{"pixels": [[...28x28 numbers in 0..1, 1 = ink...]]}` or a raw `image/*` body. Errors are JSON
`{"detail": "..."}` with a 4xx status that names the problem.
"""


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. A missing or broken model file stops here with one clear line."""
    settings = settings or Settings.from_env()
    # Requests run concurrently on a thread pool; multi-threaded BLAS would oversubscribe.
    threadpool_limits(1)
    try:
        registry = ModelRegistry.from_dir(
            settings.models_dir, settings.default_model, settings.model_path
        )
    except ModelFileError as err:
        print(f"conv-explorer: cannot start: {err}", file=sys.stderr)
        raise SystemExit(1) from None

    app = FastAPI(
        title="Conv Explorer",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,  # routes_pages serves /docs from local files
        redoc_url=None,
    )
    app.state.settings, app.state.models = settings, registry
    app.state.work_limiter = anyio.CapacityLimiter(settings.max_concurrent_work)
    app.state.decoded = DecodedCache()  # the Photo view resends the same upload
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout=settings.body_timeout_seconds,
    )
    app.add_middleware(SecurityHeadersMiddleware)

    @app.exception_handler(ImageInputError)
    async def image_error(_: Request, err: ImageInputError):
        return _error(err.status_code, err.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, err: RequestValidationError):
        """One readable sentence instead of pydantic's list: 'query stride: ...'."""
        parts = []
        for e in err.errors():
            where = " ".join(str(p) for p in e.get("loc", ()))
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return _error(422, "; ".join(parts) or "invalid request")

    @app.exception_handler(UnknownModelError)
    @app.exception_handler(NoSuchLayerError)
    @app.exception_handler(UnitsMissingError)
    @app.exception_handler(NoHistoryError)
    @app.exception_handler(NoSuchSnapshotError)
    async def not_found(_: Request, err: LookupError):
        return _error(404, str(err.args[0]))

    @app.exception_handler(ShapeError)
    @app.exception_handler(NoConvLayerError)
    @app.exception_handler(NoPoolLayerError)
    async def shape_error(_: Request, err: ValueError):
        """The request cannot be computed for this model or shape: the message says why."""
        return _error(422, str(err))

    @app.exception_handler(KernelError)
    async def kernel_error(_: Request, err: KernelError):
        return _error(422, str(err))

    @app.exception_handler(ComputeBudgetError)
    async def budget_error(_: Request, err: ComputeBudgetError):
        return _error(422, str(err))

    for module in (
        routes_digits,
        routes_convolve,
        routes_info,
        routes_pages,
        routes_training,
        routes_backward,
        routes_chapter,
    ):
        app.include_router(module.router)
    app.include_router(attribution_router)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    return app
