"""/api/convolve and its cache of decoded uploads: the Photo view sends the same photo again for
every control change; the answer is the one a first upload gets, and the photo is decoded once
per mode."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

import app.imaging.cache as cache_module
from app.imaging.decode import decode_to_array
from tests.helpers.images import data_url, encode

DEFAULT_KERNELS = "learned,sobel_x,sobel_y,laplacian"  # what the Photo view ticks at first


def photo_bytes(seed: int) -> bytes:
    """A 300x200 JPEG with a gradient, shapes and noise; the seed makes the bytes unique, so a
    cache shared with other tests of the session cannot already hold it."""
    rng = np.random.default_rng(seed)
    xx = np.linspace(0, 255, 300)[None, :, None]
    pixels = np.clip(xx * np.array([1.0, 0.6, 0.3]) + rng.normal(0, 20, (200, 300, 3)), 0, 255)
    img = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse([40, 30, 140, 130], fill=(250, 240, 200))
    draw.rectangle([180, 60, 260, 170], fill=(20, 40, 90))
    return encode(img, "JPEG", quality=90)


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """The mode of every decode the server's cache had to do."""
    modes: list[str] = []

    def counting(data, max_pixels, max_side, mode):
        modes.append(mode)
        return decode_to_array(data, max_pixels, max_side, mode)

    monkeypatch.setattr(cache_module, "decode_to_array", counting)
    return modes


def convolve(client, jpeg: bytes, **params):
    query = {"kernels": DEFAULT_KERNELS, "max_side": 64, "values": "true", **params}
    r = client.post("/api/convolve", params=query, files={"file": ("p.jpg", jpeg, "image/jpeg")})
    assert r.status_code == 200, r.text
    return r.json()


def test_two_identical_uploads_give_identical_json(client, decodes):
    jpeg = photo_bytes(9001)
    first = convolve(client, jpeg)
    second = convolve(client, jpeg)
    assert second == first
    assert decodes == ["gray"]  # the second one was not decoded again
    assert first["input_shape"] == [1, 43, 64]
    assert len(first["maps"]) == 33


def test_a_resent_photo_with_changed_controls_is_answered_from_the_same_pixels(client, decodes):
    jpeg = photo_bytes(9002)
    gray = convolve(client, jpeg)
    relu = convolve(client, jpeg, relu="true", stride=2, pad=2)
    rgb = convolve(client, jpeg, mode="rgb")
    rgb_again = convolve(client, jpeg, mode="rgb")
    gray_again = convolve(client, jpeg)
    as_data_url = client.post(
        "/api/convolve",
        params={"kernels": DEFAULT_KERNELS, "max_side": 64, "values": "true"},
        json={"image": data_url(jpeg, "image/jpeg")},
    ).json()
    assert decodes == ["gray", "rgb"]
    assert gray_again == as_data_url == gray
    assert rgb_again == rgb and rgb["input_shape"] == [3, 43, 64]
    assert relu["input_png"] == gray["input_png"]
    assert (relu["stride"], relu["pad"]) == (2, 2)
    for m in relu["maps"]:
        assert np.array(m["values"]).min() >= 0


def test_the_cached_answer_equals_a_fresh_servers(client):
    """The same upload to an app that never saw it gives the same JSON as a resend here."""
    from tests.helpers.app import app_client

    jpeg = photo_bytes(9003)
    convolve(client, jpeg, stride=2)
    resent = convolve(client, jpeg, stride=2)
    with app_client() as fresh:
        assert convolve(fresh, jpeg, stride=2) == resent
