"""Small picture helpers shared by the API tests: encode a Pillow image, wrap it as a data URL."""

from __future__ import annotations

import base64
import io

from PIL import Image


def encode(img: Image.Image, fmt: str = "PNG", **save_args) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **save_args)
    return buf.getvalue()


def data_url(data: bytes, media: str = "image/png") -> str:
    return f"data:{media};base64," + base64.b64encode(data).decode()
