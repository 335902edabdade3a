"""Shared fixtures: the app in process, behind FastAPI's TestClient (no socket, no server).

The tests that need a real server (a socket, a browser, the uvicorn process) are in tests/e2e,
which has its own conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """The app with the environment's settings, as `uvicorn app.main:app` would build it."""
    from tests.helpers.app import app_client  # here: the engine's tests never import the app

    with app_client() as c:
        yield c
