"""The server as a process: what only a real uvicorn on a real socket can show. A bad model file
stops it with one line, a client that stalls its body gets a 408 and frees the worker, and one
big convolution does not blow up the server's memory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.helpers.images import data_url, encode
from tests.helpers.paths import ROOT
from tests.helpers.server import start_server


def _drawn_one() -> bytes:
    img = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(img).line([(110, 50), (122, 200)], fill="black", width=20)
    return encode(img)


GOOD_PNG = _drawn_one()


def _run_server_expecting_exit(model_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONV_EXPLORER_MODEL_PATH": str(model_path)}
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", "0"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("problem", ["missing", "corrupt", "mismatched"])
def test_a_bad_model_file_stops_the_server_with_one_clear_line(tmp_path, problem):
    weights = tmp_path / "model.npz"
    meta = (ROOT / "models" / "simple-he.json").read_text()
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
    """The server gives up on a body that stops arriving. Only that it does is asserted, not how
    fast: the socket timeout is there so a broken server fails the test instead of hanging it."""
    proc, url = start_server({"CONV_EXPLORER_BODY_TIMEOUT_SECONDS": "1"})
    try:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(
                b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"pixels": ['
            )
            reply = b""
            while b"did not arrive" not in reply:
                chunk = sock.recv(4096)  # headers and body may come in separate packets
                if not chunk:
                    break
                reply += chunk
        reply = reply.decode()
        assert reply.startswith("HTTP/1.1 408"), reply
        assert "did not arrive" in reply
        r = httpx.post(url + "/api/predict", json={"image": data_url(GOOD_PNG)}, timeout=60)
        assert r.status_code == 200 and r.json()["label"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def test_a_convolution_within_the_budget_does_not_take_hundreds_of_megabytes():
    """One 15x15x3 kernel on a 470x470 colour picture is about 140 M multiply-adds, inside the
    default budget of 150 M. The budget bounds the work; the memory must stay bounded too, or a
    few concurrent requests exhaust the machine. A convolution needs O(OH*OW) memory: an
    im2col matrix of OH*OW x C*FH*FW float32 (4 bytes per multiply-add, here 560 MB) is not."""
    proc, url = start_server()
    try:
        yy, xx = np.mgrid[0:470, 0:470]
        photo = np.stack([xx % 256, yy % 256, (xx + yy) % 256], axis=-1).astype(np.uint8)
        data = encode(Image.fromarray(photo))
        kernel = json.dumps(np.full((3, 15, 15), 1 / 675).round(6).tolist())
        with httpx.Client(base_url=url, timeout=60) as client:
            warm = client.post("/api/predict", json={"image": data_url(GOOD_PNG)})
            assert warm.status_code == 200
            before = _peak_rss_mb(proc.pid)
            r = client.post(
                "/api/convolve",
                params={"kernels": "", "mode": "rgb", "max_side": 1024},
                files={"file": ("photo.png", data, "image/png")},
                data={"kernel": kernel},
            )
            assert r.status_code == 200, r.text
            assert r.json()["macs"] == 456 * 456 * 675
            grown = _peak_rss_mb(proc.pid) - before
            assert client.get("/api/health").status_code == 200
        assert grown < 150, f"one convolution raised the server's peak memory by {grown:.0f} MB"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
