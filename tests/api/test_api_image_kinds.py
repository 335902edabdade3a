"""Pictures of every awkward kind, sent to the app: each is read the way a person expects."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.helpers.images import encode
from tests.helpers.models import default_model_id, require_model


def _digit_one(size=(280, 280), mode="L", ink=0, paper=255) -> Image.Image:
    """A thick vertical stroke, the simplest '1', dark on light."""
    img = Image.new(mode, size, paper)
    w, h = size
    ImageDraw.Draw(img).line([(w // 2, h // 6), (w // 2, 5 * h // 6)], fill=ink, width=w // 12)
    return img


def _digit_seven(size=(280, 280)) -> Image.Image:
    img = Image.new("L", size, 255)
    ImageDraw.Draw(img).line([(60, 50), (210, 50), (110, 240)], fill=0, width=22)
    return img


def _label(client, data: bytes, name: str, mime: str) -> int:
    response = client.post("/api/predict", files={"file": (name, data, mime)})
    assert response.status_code == 200, response.text
    return response.json()["label"]


def test_an_animated_gif_is_read_from_its_first_frame(client):
    frames = [_digit_one().convert("P"), _digit_seven().convert("P")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert _label(client, data, "anim.gif", "image/gif") == 1
    reversed_data = encode(frames[1], "GIF", save_all=True, append_images=frames[:1])
    assert _label(client, reversed_data, "anim.gif", "image/gif") == 7


def test_a_16_bit_png_is_scaled_from_its_full_range(client):
    eight_bit = np.asarray(_digit_seven(), dtype=np.uint16)
    img = Image.fromarray(eight_bit * 257)  # 0..65535
    assert img.mode.startswith("I")
    assert _label(client, encode(img, "PNG"), "deep.png", "image/png") == 7


def test_a_palette_png_with_a_transparent_background_reads_as_ink_on_white(client):
    img = _digit_seven().convert("P")
    data = encode(img, "PNG", transparency=255)  # the white paper becomes transparent
    assert Image.open(io.BytesIO(data)).mode == "P"
    assert _label(client, data, "palette.png", "image/png") == 7


def test_a_cmyk_jpeg_is_converted_before_reading(client):
    img = _digit_seven().convert("CMYK")
    data = encode(img, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    assert _label(client, data, "print.jpg", "image/jpeg") == 7


@pytest.mark.parametrize("orientation", [6, 8])
def test_an_exif_rotated_photo_is_turned_upright_first(client, orientation):
    # A '1' lying on its side, stored sideways with an EXIF tag that says "rotate 90 degrees".
    lying = _digit_one(size=(280, 280)).rotate(90, expand=True).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(lying, "JPEG", exif=exif.tobytes(), quality=95)
    assert _label(client, data, "phone.jpg", "image/jpeg") == 1
    plain = encode(lying, "JPEG", quality=95)  # same pixels without the tag: not upright
    assert _label(client, plain, "phone.jpg", "image/jpeg") != 1


def test_white_ink_on_black_is_not_inverted(client):
    img = _digit_seven()
    inverted = Image.eval(img, lambda v: 255 - v)
    response = client.post(
        "/api/predict", files={"file": ("dark.png", encode(inverted, "PNG"), "image/png")}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["label"] == 7
    assert body["preprocessing"]["inverted"] is False


@pytest.mark.parametrize("model_id", [default_model_id(), "book-deep"])
def test_the_predict_command_reads_image_files_without_a_server(tmp_path, model_id):
    seven, blank = tmp_path / "seven.png", tmp_path / "blank.png"
    _digit_seven().save(seven)
    Image.new("L", (280, 280), 255).save(blank)
    model = require_model(model_id)
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "predict", str(seven), str(blank), "--model", str(model)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1  # one file could not be read
    assert result.stdout.startswith(f"{seven}: 7  (7: ")
    assert f"{blank}: error: the image has no ink" in result.stderr
