"""Live training on a real uvicorn server: a client that goes away stops its run, the slot is
freed and the server keeps serving. The runs use the shipped sample (no data directory)."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlparse

import httpx
import pytest

from tests.helpers.server import start_server

LONG = {"steps": 6000, "batch_size": 50, "report_every": 1000}  # far longer than the test


@pytest.fixture(scope="module")
def trainer_url():
    # a body timeout of 1 s: a stream runs far longer than the body took to arrive
    env = {
        "CONV_EXPLORER_DATA_DIR": "/nonexistent/mnist",
        "CONV_EXPLORER_BODY_TIMEOUT_SECONDS": "1",
    }
    proc, url = start_server(env)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def wait_for(check, what: str, timeout: float = 60.0):
    """Poll until check() is truthy (a safety net, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)
    return value


def status(url: str) -> dict:
    return httpx.get(url + "/api/train/status").json()


def test_closing_the_socket_stops_the_training_and_frees_its_slot(trainer_url):
    u = urlparse(trainer_url)
    body = json.dumps(LONG).encode()
    head = (
        f"POST /api/train HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    before = status(trainer_url)
    with socket.create_connection((u.hostname, u.port), timeout=30) as s:
        s.sendall(head + body)
        received = b""
        while b'"type":"report"' not in received:  # the random start's report: it runs
            chunk = s.recv(65536)
            assert chunk, "the server closed the stream"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        assert status(trainer_url)["running"] == 1
    # the socket is closed: the run stops after the step in hand and frees its slot
    after = wait_for(lambda: (st := status(trainer_url))["running"] == 0 and st, "slot freed")
    assert after["stopped"] == before["stopped"] + 1
    assert after["last"]["stopped"] is True
    assert after["last"]["steps"] < LONG["steps"]
    # ... and the server goes on serving, trainings included
    assert httpx.get(trainer_url + "/api/health").status_code == 200
    tiny = {"steps": 4, "batch_size": 50, "report_every": 2}
    with httpx.stream("POST", trainer_url + "/api/train", json=tiny, timeout=60) as r:
        events = [json.loads(line) for line in r.iter_lines() if line]
    assert events[-1]["type"] == "done" and events[-1]["stopped"] is False
    assert status(trainer_url)["finished"] >= 1


def test_two_trainings_run_and_a_third_waits_its_turn(trainer_url):
    with httpx.Client(base_url=trainer_url, timeout=60) as c:
        with (
            c.stream("POST", "/api/train", json=LONG) as a,
            c.stream("POST", "/api/train", json=LONG) as b,
        ):
            lines = [r.iter_lines() for r in (a, b)]
            assert [json.loads(next(it))["type"] for it in lines] == ["start", "start"]
            third = c.post("/api/train", json={**LONG, "steps": 4})
            assert third.status_code == 429, (third.text[-300:], status(trainer_url))
            assert "retry-after" in third.headers
        wait_for(lambda: status(trainer_url)["running"] == 0, "both slots freed")
        assert c.get("/api/health").status_code == 200


def test_a_stream_outlives_the_body_timeout(trainer_url):
    """The body limit times the body's arrival only: the response of a run that takes longer
    than CONV_EXPLORER_BODY_TIMEOUT_SECONDS (1 s here) still ends with its done event."""
    body = {"steps": 600, "batch_size": 50, "report_every": 200}
    with httpx.stream("POST", trainer_url + "/api/train", json=body, timeout=120) as r:
        events = [json.loads(line) for line in r.iter_lines() if line]
    done = events[-1]
    assert done["type"] == "done" and done["steps"] == 600
    if done["seconds"] <= 1:
        pytest.skip("this machine trained 600 steps within the 1 s body timeout")
