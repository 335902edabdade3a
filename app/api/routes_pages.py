"""The explorer page and its favicon."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from app.settings import ROOT

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=ROOT / "templates")


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    model = request.app.state.models.default
    settings = request.app.state.settings  # the photo form checks the API's own limits
    context = {
        "accuracy": model.metadata.get("test_accuracy"),
        "model_sha": model.sha256[:12],
        "max_stride": settings.max_stride,
        "max_pad": settings.max_pad,
    }
    return templates.TemplateResponse(request, "index.html", context)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request):
    """The OpenAPI page, served from static/vendor so it works offline under the strict CSP."""
    context = {"openapi_url": request.app.openapi_url}
    return templates.TemplateResponse(request, "docs.html", context)


@router.get("/favicon.ico")
def favicon():
    return FileResponse(ROOT / "static" / "favicon.svg", media_type="image/svg+xml")
