"""Nothing a client sends can hurt the server: startup checks, slow bodies, concurrency."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from app.model.mnist import load_split
from tests.helpers.paths import ROOT, SAMPLE_DIR
from tests.helpers.server import start_server


def _run_server_expecting_exit(model_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONV_EXPLORER_MODEL_PATH": str(model_path)}
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", "0"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("problem", ["missing", "corrupt", "mismatched"])
def test_a_bad_model_file_stops_the_server_with_one_clear_line(tmp_path, problem):
    weights = tmp_path / "model.npz"
    meta = (ROOT / "models" / "simple_convnet.json").read_text()
    if problem == "corrupt":
        weights.write_bytes(b"this is not a zip file")
        (tmp_path / "model.json").write_text(meta)
    elif problem == "mismatched":
        np.savez(weights, W1=np.zeros((3, 1, 5, 5), np.float32))
        (tmp_path / "model.json").write_text(meta)
    result = _run_server_expecting_exit(weights)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("conv-explorer: cannot start:")
    assert str(weights) in lines[0]
    expected = {"missing": "not found", "corrupt": "corrupt", "mismatched": "lacks"}[problem]
    assert expected in lines[0]


def test_a_client_that_never_finishes_its_body_gets_408_and_the_worker_is_freed():
    proc, url = start_server({"CONV_EXPLORER_BODY_TIMEOUT_SECONDS": "1"})
    try:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"pixels": ['
            )
            started = time.monotonic()
            reply = b""
            while b"did not arrive" not in reply and time.monotonic() - started < 10:
                chunk = sock.recv(4096)  # headers and body may come in separate packets
                if not chunk:
                    break
                reply += chunk
            reply = reply.decode()
            waited = time.monotonic() - started
        assert reply.startswith("HTTP/1.1 408"), reply
        assert "did not arrive" in reply
        assert waited < 9
        assert httpx.get(url + "/api/health").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_concurrent_requests_get_exactly_the_sequential_answers(api):
    images, _, _ = load_split(SAMPLE_DIR, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    digits = [images[i, 0].round(4).tolist() for i in range(24)]

    def ask(pixels):
        response = api.post("/api/explore", json={"pixels": pixels}, params={"values": "true"})
        assert response.status_code == 200, response.text
        body = response.json()
        return body["probabilities"], body["hidden"]["values"], body["stages"][2]["maps"][7]

    sequential = [ask(d) for d in digits]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(ask, digits * 2))
    assert concurrent == sequential * 2
    assert len({tuple(s[0]) for s in sequential}) == len(digits)  # the digits really differ
