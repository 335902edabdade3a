"""The app in process: a TestClient over create_app(), optionally with some settings changed."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from app.api.app import create_app
from app.settings import Settings


def app_client(**changes) -> TestClient:
    """A TestClient of an app built from the environment's settings with `changes` applied,
    e.g. app_client(max_stride=2). Use it as a context manager."""
    return TestClient(create_app(replace(Settings.from_env(), **changes)))
