"""Shared fixtures: a real uvicorn server on a free port, an HTTP client, Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"
SAMPLE_DIR = ROOT / "tests" / "data" / "mnist-sample"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(extra_env: dict | None = None, args: tuple = ()) -> tuple[subprocess.Popen, str]:
    """Start `uvicorn app.main:app` and wait until it answers /api/health."""
    port = free_port()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", **(extra_env or {})}
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", *args]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    url, deadline = f"http://127.0.0.1:{port}", time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=1)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"uvicorn did not start (exit code {proc.poll()})") from None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def live_server():
    proc, url = start_server()
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def api(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": CHROMIUM_ARGS}  # fmt: skip
