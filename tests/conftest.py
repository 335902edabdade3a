"""Shared fixtures: the app in process, behind FastAPI's TestClient (no socket, no server).

The tests that need a real server (a socket, a browser, the uvicorn process) are in tests/e2e,
which has its own conftest.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient


def pytest_configure(config):
    """Until models/simple.npz is trained, the app's default model is simple-he: set here, once,
    so every app the tests build (in process, `app.main`, uvicorn in tests/e2e) agrees."""
    from tests.helpers.models import DEFAULT_MODEL_ID, ENV_DEFAULT, default_model_id

    chosen = default_model_id()
    if chosen != DEFAULT_MODEL_ID:
        os.environ.setdefault(ENV_DEFAULT, chosen)


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """The app with the environment's settings, as `uvicorn app.main:app` would build it."""
    from tests.helpers.app import app_client  # here: the engine's tests never import the app

    with app_client() as c:
        yield c
