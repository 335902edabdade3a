"""Untrusted bytes to a Pillow image, and images to float32 arrays.

Every limit is checked before the expensive step it guards: the data URL's length before base64
decoding, the header's width x height before any pixel is decoded.
"""

from __future__ import annotations

import base64
import codecs
import io
import math
import struct

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageInputError

# Pillow's format names. MPO is a JPEG with extra pictures appended, as many phones write.
FORMATS = ("PNG", "JPEG", "MPO", "GIF", "BMP", "WEBP", "TIFF")
SUPPORTED = "PNG, JPEG, GIF, BMP, WebP, TIFF"
DATA_URL_TYPES = tuple("image/" + t for t in ("png", "jpeg", "gif", "webp", "bmp", "tiff"))
# What Pillow's decoders raise on broken files besides OSError (struct.error: short headers).
_CORRUPT = (OSError, SyntaxError, ValueError, EOFError, struct.error)
# 16-bit, 32-bit integer and float modes: more than 8 bits, so not divided by 255.
_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def decode_data_url(url: str, max_bytes: int) -> bytes:
    """The bytes of a base64 image data URL such as a canvas toDataURL() makes.

    The decoded size is computed from the encoded length, so an oversized image is refused
    (413) before any decoding work.
    """
    header, comma, payload = url.strip().partition(",")
    if not comma or header[:5].lower() != "data:":
        raise ImageInputError(400, "the image is not a data URL like 'data:image/png;base64,...'")
    media, *params = header[5:].split(";")
    media = media.strip().lower()
    if media not in DATA_URL_TYPES:
        allowed = ", ".join(DATA_URL_TYPES)
        raise ImageInputError(
            415, f"the data URL's media type {media[:40] or 'none'!r} is not one of {allowed}"
        )
    if "base64" not in (p.strip().lower() for p in params):
        raise ImageInputError(400, "the data URL is not base64-encoded (no ';base64,')")
    size = len(payload) * 3 // 4 - payload[-2:].count("=")
    if size > max_bytes:
        raise ImageInputError(413, f"the image is {size} bytes; the limit is {max_bytes}")
    if "\n" in payload or "\r" in payload:  # MIME-style line-wrapped base64 is still base64
        payload = payload.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(payload, validate=True)
    except ValueError as err:  # binascii.Error, or non-ASCII text
        raise ImageInputError(400, f"the data URL's base64 is invalid: {err}") from None


def open_image(data: bytes, max_pixels: int, max_side: int | None = None) -> Image.Image:
    """Decode PNG, JPEG, GIF, BMP, WebP or TIFF bytes into a loaded, upright Pillow image.

    width x height is checked against max_pixels from the header, before any pixel is decoded
    (Pillow's own bomb limit is far higher). Animated GIF, WebP and APNG give their FIRST
    frame, a multi-page TIFF or a phone's multi-picture JPEG (MPO) its first picture. The EXIF
    orientation is applied, so a phone photo comes out the way it was taken.

    max_side: the caller will shrink the image to this longer side anyway, so a JPEG is
    decoded straight at a reduced scale (DCT scaling): a 12 MP photo then takes a quarter or
    less of the memory. The result may still be larger than max_side.
    """
    if not data:
        raise ImageInputError(400, "the image is empty (0 bytes)")
    img = _identify(data, max_pixels)
    width, height = img.size
    if width < 1 or height < 1:  # Pillow 13 refuses these in open; later steps need pixels
        raise ImageInputError(400, f"the image is {width}x{height} pixels: it has no pixels")
    if width * height > max_pixels:
        raise ImageInputError(
            413,
            f"image is {width}x{height} = {width * height} pixels; the limit is {max_pixels}",
        )
    if max_side and img.format in ("JPEG", "MPO") and max(width, height) > max_side:
        scale = max_side / max(width, height)
        img.draft(img.mode, (math.ceil(width * scale), math.ceil(height * scale)))
    try:
        img.load()
        return ImageOps.exif_transpose(img)
    except _CORRUPT as err:
        raise ImageInputError(
            400, f"the {img.format} image is truncated or corrupt: {_reason(err)}"
        ) from None


def decode_to_array(data: bytes, max_pixels: int, max_side: int, mode: str) -> np.ndarray:
    """The one way an upload becomes numbers: decode (checked), shrink once to max_side, and
    convert -> (H, W) brightness for mode "gray", (3, H, W) for "rgb"; 0..1, 1 = white."""
    image = limit_size(open_image(data, max_pixels, max_side), max_side)
    return to_rgb(image) if mode == "rgb" else to_gray(image)


def _identify(data: bytes, max_pixels: int) -> Image.Image:
    """Image.open reads the header only; here a refused format is named (415)."""
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # not an OSError; Pillow's limit is 2 x MAX_IMAGE_PIXELS
        raise ImageInputError(
            413,
            f"image has more than {2 * Image.MAX_IMAGE_PIXELS} pixels (a decompression bomb?); "
            f"the limit is {max_pixels}",
        ) from None
    except UnidentifiedImageError:
        raise _unidentified(data) from None
    except _CORRUPT as err:
        raise ImageInputError(400, f"the image header is corrupt: {_reason(err)}") from None
    if img.format not in FORMATS:
        raise ImageInputError(415, f"{img.format} images are not supported; send {SUPPORTED}")
    return img


def _unidentified(data: bytes) -> ImageInputError:
    """Text (an SVG or HTML page) is the wrong type (415); unknown binary is corrupt (400)."""
    text = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(data[:256])
    if "\ufffd" in text or not all(c.isprintable() or c.isspace() for c in text):
        return ImageInputError(400, f"not an image or corrupt: no {SUPPORTED} data found")
    kind = "SVG, HTML or XML" if text.lstrip().startswith("<") else "plain"
    return ImageInputError(415, f"the data is {kind} text, not a supported image ({SUPPORTED})")


def _reason(err: Exception) -> str:
    return str(err) or type(err).__name__


def to_gray(img: Image.Image) -> np.ndarray:
    """(H, W) float32 in 0..1, 1 = white. Colour becomes luma (ITU-R 601, as Pillow's "L").

    Transparent pixels are composited onto WHITE, so ink drawn on a transparent canvas reads as
    ink on paper. 16-bit images are divided by 65535; 32-bit integer and float images are kept
    when already inside 0..1, else stretched from their min..max. These wide modes are taken as
    opaque.
    """
    if img.mode in _WIDE_MODES:
        return _wide_to_unit(img)
    if img.has_transparency_data:
        la = _unit(img.convert("RGBA").convert("LA"))
        return _on_white(la[..., 0], la[..., 1])
    return _unit(_opaque(img, "L"))


def to_rgb(img: Image.Image) -> np.ndarray:
    """(3, H, W) float32 in 0..1, with the same rules as to_gray (gray images repeat 3 times)."""
    if img.mode in _WIDE_MODES:
        return np.repeat(_wide_to_unit(img)[None], 3, axis=0)
    if img.has_transparency_data:
        rgba = _unit(img.convert("RGBA"))
        rgb = _on_white(rgba[..., :3], rgba[..., 3:])
    else:
        rgb = _unit(_opaque(img, "RGB"))
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))


def limit_size(img: Image.Image, max_side: int) -> Image.Image:
    """Shrink (aspect kept, anti-aliased) so the longer side is at most max_side.

    Smaller images come back unchanged: the convolve route works on a photo at its own size,
    up to this limit.
    """
    width, height = img.size
    if max(width, height) <= max_side:
        return img
    ratio = max_side / max(width, height)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return _resizable(img).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _resizable(img: Image.Image) -> Image.Image:
    """A mode Pillow filters when resizing: it uses nearest neighbour for 1 and P, and would
    blend palette indices or colour keys; transparency becomes an alpha channel."""
    if img.mode in _WIDE_MODES:  # taken as opaque, as in to_gray
        return img
    if img.has_transparency_data:
        return img if img.mode in ("LA", "RGBA") else img.convert("RGBA")
    return _opaque(img, "L" if img.mode in ("1", "L") else "RGB")


def _opaque(img: Image.Image, mode: str) -> Image.Image:
    """img in mode "L" or "RGB"; modes without a direct path (CMYK, YCbCr, LAB) go via RGB."""
    if img.mode not in ("1", "L", "P", "RGB"):
        img = img.convert("RGB")
    return img if img.mode == mode else img.convert(mode)


def _unit(img: Image.Image) -> np.ndarray:
    a = np.asarray(img, dtype=np.float32)
    a *= np.float32(1 / 255)
    return a


def _on_white(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Alpha-composite onto white: color * alpha + 1 * (1 - alpha)."""
    return 1 - alpha * (1 - color)


def _wide_to_unit(img: Image.Image) -> np.ndarray:
    a = np.nan_to_num(np.asarray(img, dtype=np.float32), nan=0, posinf=0, neginf=0)
    if img.mode.startswith("I;16"):
        return a / np.float32(65535)
    low, high = float(a.min()), float(a.max())
    if low >= 0 and high <= 1:
        return a
    if high == low:
        return np.zeros_like(a)
    return (a - low) / np.float32(high - low)
