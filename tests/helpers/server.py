"""A real uvicorn server on a free port, for the tests that need a socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from tests.helpers.paths import ROOT


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
