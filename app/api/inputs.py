"""Turning a request into an image or a 28x28 digit, the same way for every image route.

Accepted bodies: multipart/form-data with a `file`; JSON {"image": "data:image/png;base64,..."};
JSON {"pixels": [[...28 rows of 28 numbers in 0..1...]]}; or the raw bytes of an image with an
image/* content type (handy with curl --data-binary).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from app.imaging.decode import decode_data_url, decode_to_array
from app.imaging.preprocess import digit_from_pixels
from app.settings import Settings

HOW_TO_SEND = (
    "send multipart/form-data with a 'file' field, JSON with 'image' (a data URL) or "
    "'pixels' (28x28 numbers in 0..1), or an image body with an image/* content type"
)
MAX_JSON_ARRAYS = 200  # a 28x28 digit needs 29, a 3x15x15 kernel 49
MAX_JSON_COMMAS = 5000  # a 28x28 digit needs ~810; a data URL has one


@dataclass
class Payload:
    image_bytes: bytes | None = None  # an encoded picture, decoded later on a worker thread
    pixels: np.ndarray | None = None  # (28, 28) float32, 1 = ink
    fields: dict[str, Any] = field(default_factory=dict)  # other JSON / form fields

    def image_array(self, max_pixels: int, max_side: int, mode: str = "gray", cache=None):
        """The picture as numbers, shrunk to max_side (CPU work: call it off the event loop);
        None when the body held pixels instead. See decode_to_array; `cache` (a
        DecodedCache) skips the work for bytes seen before."""
        if self.image_bytes is None:
            return None
        if cache is not None:
            return cache.array(self.image_bytes, max_pixels, max_side, mode)
        return decode_to_array(self.image_bytes, max_pixels, max_side, mode)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json_body(body: bytes) -> dict:
    """Strict JSON object: no NaN/Infinity, bounded nesting and size checked before parsing."""
    if not body.strip():
        raise HTTPException(422, f"the request body is empty: {HOW_TO_SEND}")
    if body.count(b"[") > MAX_JSON_ARRAYS or body.count(b"{") > 20:
        raise HTTPException(422, "the JSON body nests too many arrays or objects")
    if body.count(b",") > MAX_JSON_COMMAS:
        raise HTTPException(422, "the JSON body holds too many values")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise HTTPException(422, "the JSON body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise HTTPException(400, f"the body is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise HTTPException(422, f"the JSON body must be an object: {HOW_TO_SEND}")
    return data


async def read_payload(request: Request, settings: Settings) -> Payload:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        data = parse_json_body(await request.body())
        return _payload_from_json(data, settings)
    if media == "multipart/form-data":
        return await _payload_from_form(request, settings)
    if media.startswith("image/"):
        body = await request.body()
        return Payload(image_bytes=body)
    shown = media or "none"
    raise HTTPException(415, f"unsupported content type {shown!r}: {HOW_TO_SEND}")


def _payload_from_json(data: dict, settings: Settings) -> Payload:
    image, pixels = data.pop("image", None), data.pop("pixels", None)
    if (image is None) == (pixels is None):
        raise HTTPException(422, f"give exactly one of 'image' or 'pixels': {HOW_TO_SEND}")
    if image is not None:
        if not isinstance(image, str):
            raise HTTPException(422, "'image' must be a data URL string")
        raw = decode_data_url(image, settings.max_body_bytes)
        return Payload(image_bytes=raw, fields=data)
    return Payload(pixels=digit_from_pixels(pixels), fields=data)


async def _payload_from_form(request: Request, settings: Settings) -> Payload:
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=64 * 1024)
    except HTTPException:
        raise
    except Exception as err:  # python-multipart's parse errors have no common base class
        raise HTTPException(400, f"the multipart body could not be parsed: {err}") from None
    upload = form.get("file")
    if isinstance(upload, str):
        raise HTTPException(
            422,
            "the form's 'file' part has no filename, so it is not a file upload: "
            "send it with a filename (curl -F file=@digit.png)",
        )
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, f"the form has no 'file' upload: {HOW_TO_SEND}")
    data = await upload.read()
    fields = {k: v for k, v in form.items() if k != "file" and isinstance(v, str)}
    await form.close()
    return Payload(image_bytes=data, fields=fields)
