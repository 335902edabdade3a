"""Requests served at the same time get exactly the answers they get one by one: the app shares
no mutable state between requests. In process: TestClient calls from 8 threads run concurrently
on the app's event loop and worker threads. (Slow bodies and startup checks: tests/e2e.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from app.model.mnist import load_split
from tests.helpers.paths import SAMPLE_DIR


def test_concurrent_requests_get_exactly_the_sequential_answers(client):
    images, _, _ = load_split(SAMPLE_DIR, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    digits = [images[i, 0].round(4).tolist() for i in range(24)]

    def ask(pixels):
        response = client.post("/api/explore", json={"pixels": pixels}, params={"values": "true"})
        assert response.status_code == 200, response.text
        body = response.json()
        return body["probabilities"], body["hidden"][-1]["values"], body["stages"][2]["maps"][7]

    sequential = [ask(d) for d in digits]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(ask, digits * 2))
    assert concurrent == sequential * 2
    assert len({tuple(s[0]) for s in sequential}) == len(digits)  # the digits really differ
