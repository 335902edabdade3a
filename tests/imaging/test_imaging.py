"""Imaging: untrusted uploads are refused with the right status before any costly work, every
image mode reads as 0..1 brightness, drawings are preprocessed the way MNIST was, and arrays
come back as small PNGs on colour-blind-safe maps."""

from __future__ import annotations

import base64
import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from app.imaging.decode import decode_data_url, limit_size, open_image, to_gray, to_rgb
from app.imaging.errors import ImageInputError
from app.imaging.preprocess import (
    PreprocessOptions,
    digit_from_pixels,
    preprocess_digit,
)
from app.imaging.render import (
    PUOR,
    VIRIDIS,
    colormap_stops,
    data_url,
    png_bytes,
    render_gray,
    render_sequential,
    render_signed,
)
from tests.helpers.images import data_url as url_of
from tests.helpers.images import encode

LIMIT = 16_000_000  # pixels


def refused(status: int, fn, *args) -> str:
    """Call fn, expect ImageInputError with this status, return its detail."""
    with pytest.raises(ImageInputError) as info:
        fn(*args)
    assert info.value.status_code == status, info.value.detail
    assert str(info.value) == info.value.detail
    return info.value.detail


def with_size(png: bytes, width: int, height: int) -> bytes:
    """The same PNG with its IHDR claiming another size (CRC recomputed): a bomb's header."""
    ihdr = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return png[:16] + ihdr + crc + png[33:]


def decoded(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


SMALL_PNG = encode(Image.new("L", (8, 8), 255))


# --- data URLs ---------------------------------------------------------------------------


def test_a_canvas_data_url_decodes_to_its_png_bytes():
    assert decode_data_url(url_of(SMALL_PNG), 10_000) == SMALL_PNG
    shouted = "  DATA:Image/PNG;BASE64," + url_of(SMALL_PNG)[22:]
    assert decode_data_url(shouted, 10_000) == SMALL_PNG


@pytest.mark.parametrize("media", ["image/svg+xml", "text/html", "application/pdf", ""])
def test_data_urls_of_other_media_types_are_415(media):
    detail = refused(415, decode_data_url, url_of(b"<svg/>", media), 10_000)
    assert "media type" in detail


@pytest.mark.parametrize(
    "url, words",
    [
        ("data:image/png;base64,iVBOR*w0KGgo=", "base64"),
        ("data:image/png;base64,iVBORw0KGgo", "base64"),
        ("data:image/png;base64,ïVBORw0K", "base64"),
        ("data:image/png,%89PNG", "not base64"),
        ("iVBORw0KGgoAAAANSUhEUg==", "not a data URL"),
        ("https://example.com/x.png", "not a data URL"),
    ],
)
def test_malformed_data_urls_are_400(url, words):
    assert words in refused(400, decode_data_url, url, 10_000)


def test_an_oversized_data_url_is_413_before_decoding():
    # not even valid base64: only the length is looked at
    detail = refused(413, decode_data_url, "data:image/png;base64," + "*" * 4000, 2999)
    assert detail == "the image is 3000 bytes; the limit is 2999"
    exact = url_of(bytes(3000))
    assert len(decode_data_url(exact, 3000)) == 3000
    refused(413, decode_data_url, exact, 2999)


# --- open_image: formats, limits, corrupt data ------------------------------------------


def marked(mode: str, background, first=None, second=None) -> Image.Image:
    """A 6x4 image of one colour, with the pixels at (row 1, col 1) and (row 2, col 1) set."""
    img = Image.new(mode, (6, 4), background)
    for xy, value in (((1, 1), first), ((1, 2), second)):
        if value is not None:
            img.putpixel(xy, value)
    return img


def palette_with_transparency() -> Image.Image:
    """Index 0 is a transparent red background, index 1 opaque black."""
    img = marked("P", 0, 1)
    img.putpalette([255, 0, 0, 0, 0, 0])
    img.info["transparency"] = 0
    return img


def sixteen_bit() -> Image.Image:
    a = np.zeros((4, 6), np.uint16)
    a[1, 1], a[2, 1] = 65535, 32768
    return Image.fromarray(a)


# image, format, mode after decoding, gray at (row 1, col 1), (row 2, col 1), (row 0, col 0)
MODES = {
    "1": (marked("1", 1, 0), "PNG", "1", 0.0, 1.0, 1.0),
    "L": (marked("L", 51), "PNG", "L", 0.2, 0.2, 0.2),
    "LA": (marked("LA", (0, 0), (0, 255), (0, 128)), "PNG", "LA", 0.0, 0.498, 1.0),
    "P": (marked("RGB", (0, 0, 255)).convert("P"), "GIF", "P", 0.114, 0.114, 0.114),
    "P transparency": (palette_with_transparency(), "PNG", "P", 0.0, 1.0, 1.0),
    "RGB": (marked("RGB", (255, 0, 0)), "PNG", "RGB", 0.298, 0.298, 0.298),
    "RGBA canvas": (
        marked("RGBA", (0, 0, 0, 0), (0, 0, 0, 255), (0, 0, 0, 128)),
        "PNG",
        "RGBA",
        0,
        0.498,
        1,
    ),
    "CMYK JPEG": (marked("CMYK", (0, 0, 0, 255)), "JPEG", "CMYK", 0.0, 0.0, 0.0),
    "I;16 PNG": (sixteen_bit(), "PNG", "I;16", 1.0, 0.5, 0.0),
    "F TIFF": (marked("F", 0.25), "TIFF", "F", 0.25, 0.25, 0.25),
    "BMP": (marked("RGB", (0, 255, 0)), "BMP", "RGB", 0.587, 0.587, 0.587),
    "WebP": (marked("RGB", (128, 128, 128)), "WEBP", "RGB", 0.5, 0.5, 0.5),
}


@pytest.mark.parametrize("name", MODES)
def test_every_mode_reads_as_brightness_with_transparency_on_white(name):
    img, fmt, mode, first, second, corner = MODES[name]
    opened = open_image(encode(img, fmt), LIMIT)
    assert opened.mode == mode
    gray = to_gray(opened)
    assert gray.shape == (4, 6) and gray.dtype == np.float32
    assert gray.min() >= 0 and gray.max() <= 1
    assert (gray[1, 1], gray[2, 1], gray[0, 0]) == pytest.approx((first, second, corner), abs=0.02)
    rgb = to_rgb(opened)
    assert rgb.shape == (3, 4, 6) and rgb.dtype == np.float32
    assert rgb.min() >= 0 and rgb.max() <= 1


def test_to_rgb_keeps_colour_and_composites_alpha_on_white():
    img = Image.new("RGBA", (2, 1), (255, 0, 0, 255))
    img.putpixel((1, 0), (0, 0, 255, 0))
    rgb = to_rgb(open_image(encode(img), LIMIT))
    assert rgb[:, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert rgb[:, 0, 1].tolist() == [1.0, 1.0, 1.0]


def test_float_images_outside_0_1_are_stretched_to_their_range():
    a = np.array([[-10.0, 0.0, 30.0]], np.float32)
    gray = to_gray(open_image(encode(Image.fromarray(a), "TIFF"), LIMIT))
    assert gray.tolist() == [[0.0, 0.25, 1.0]]


def test_exif_orientation_is_honoured():
    img = Image.new("RGB", (40, 20), "white")
    exif = img.getexif()
    exif[0x0112] = 6  # rotated 90 degrees: the phone was held upright
    opened = open_image(encode(img, "JPEG", exif=exif), LIMIT)
    assert opened.size == (20, 40)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_an_animation_gives_its_first_frame(fmt):
    frames = [Image.new("RGB", (8, 8), c) for c in ("black", "white", "gray")]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert to_gray(open_image(data, LIMIT)).max() < 0.05


def test_a_phones_multi_picture_jpeg_is_a_jpeg_and_gives_its_first_picture():
    pictures = [Image.new("RGB", (8, 8), "black"), Image.new("RGB", (8, 8), "white")]
    data = encode(pictures[0], "MPO", save_all=True, append_images=pictures[1:])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    assert to_gray(open_image(data, LIMIT)).max() < 0.05


def test_a_header_claiming_30000x30000_is_413_from_the_header_alone(monkeypatch):
    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(AssertionError, match="decoded"):  # a picture within limits is loaded
        open_image(SMALL_PNG, LIMIT)
    detail = refused(413, open_image, with_size(SMALL_PNG, 30000, 30000), LIMIT)
    assert "the limit is 16000000" in detail


def test_a_12000x12000_png_under_pillows_limit_is_413_before_decoding():
    # The pixel data is an 8x8 image's: decoding would fail as truncated (400), so a 413 shows
    # the size was refused from the header alone.
    bomb = with_size(SMALL_PNG, 12000, 12000)
    with pytest.warns(Image.DecompressionBombWarning):  # Pillow's own limit only warns here
        detail = refused(413, open_image, bomb, LIMIT)
    assert detail == "image is 12000x12000 = 144000000 pixels; the limit is 16000000"
    refused(413, open_image, with_size(SMALL_PNG, 5000, 5000), LIMIT)


@pytest.mark.parametrize(
    "data, words",
    [
        (SMALL_PNG[:-20], "truncated or corrupt"),
        (encode(Image.effect_noise((64, 64), 50))[:300], "truncated or corrupt"),
        (bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8)), "not an image"),
        (b"\x89PNG\r\n\x1a\n", "not an image or corrupt"),
        (with_size(SMALL_PNG, 0, 8), "not an image or corrupt"),
        (b"", "empty"),
    ],
    ids=["truncated", "truncated noise", "garbage", "signature only", "zero width", "empty"],
)
def test_broken_data_is_400_naming_the_problem(data, words):
    assert words in refused(400, open_image, data, LIMIT)


def test_a_flipped_byte_in_the_pixel_data_is_400():
    data = bytearray(encode(Image.effect_noise((64, 64), 50)))
    data[60] ^= 0xFF
    refused(400, open_image, bytes(data), LIMIT)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9"></svg>',
        b"\xef\xbb\xbf\n  <!DOCTYPE html><html><body>hi</body></html>",
    ],
)
def test_svg_or_html_text_is_415_saying_what_is_supported(body):
    detail = refused(415, open_image, body, LIMIT)
    assert "not a supported image (PNG, JPEG, GIF, BMP, WebP, TIFF)" in detail


@pytest.mark.parametrize("fmt", ["ICO", "PPM", "TGA"])
def test_formats_pillow_knows_but_we_do_not_accept_are_415(fmt):
    detail = refused(415, open_image, encode(Image.new("RGB", (16, 16)), fmt), LIMIT)
    assert detail.startswith(f"{fmt} images are not supported")


def test_limit_size_shrinks_only_large_images_keeping_aspect():
    small = Image.new("L", (100, 50))
    assert limit_size(small, 256) is small
    big = Image.new("P", (600, 300))
    big.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    ImageDraw.Draw(big).rectangle([0, 0, 299, 299], fill=1)
    shrunk = limit_size(big, 256)
    assert shrunk.size == (256, 128)
    edge = to_gray(shrunk)[64, 126:130]  # the 300 px edge, now anti-aliased: not just 0 and 1
    assert edge.max() == pytest.approx(1, abs=0.05) and 0.05 < np.sort(edge)[1] < 0.95


# --- MNIST-style preprocessing -----------------------------------------------------------


def canvas(dark_ink: bool = True, corner: bool = True, width: int = 16) -> np.ndarray:
    """A 280x280 drawing of a '7' (anti-aliased by drawing at 4x), as to_gray gives it."""
    x0, y0 = (20, 20) if corner else (100, 90)
    img = Image.new("L", (1120, 1120), 255 if dark_ink else 0)
    pts = [(x0 * 4, y0 * 4), ((x0 + 60) * 4, y0 * 4), ((x0 + 25) * 4, (y0 + 90) * 4)]
    ImageDraw.Draw(img).line(pts, fill=0 if dark_ink else 255, width=width * 4, joint="curve")
    return np.asarray(img.resize((280, 280), Image.Resampling.BOX), np.float32) / 255


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(a.shape)
    return float((rows * a).sum() / a.sum()), float((cols * a).sum() / a.sum())


def ink_box(a: np.ndarray, threshold: float = 0.3) -> tuple[int, int]:
    rows, cols = np.nonzero(a > threshold)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_a_small_digit_in_a_corner_ends_up_mnist_like():
    pre = preprocess_digit(canvas())
    digit = pre.digit
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() <= 1
    cy, cx = centre_of_mass(digit)
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1
    assert max(ink_box(digit)) in (19, 20, 21)
    assert digit[0].max() == digit[-1].max() == digit[:, 0].max() == digit[:, -1].max() == 0
    assert pre.inverted is True
    assert [s.name for s in pre.stages] == ["input", "polarity", "cropped", "scaled", "centered"]
    assert all(max(s.image.shape) <= 112 and s.image.dtype == np.float32 for s in pre.stages)
    assert pre.stages[-1].image is digit
    assert pre.warnings == []


def test_polarity_is_detected_both_ways_with_the_same_result():
    dark_on_light = preprocess_digit(canvas(dark_ink=True))
    light_on_dark = preprocess_digit(canvas(dark_ink=False))
    assert dark_on_light.inverted and not light_on_dark.inverted
    assert np.abs(dark_on_light.digit - light_on_dark.digit).max() < 0.02


def test_a_transparent_canvas_with_black_ink_reads_as_ink():
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(80, 40), (200, 40), (120, 240)], fill=(0, 0, 0, 255), width=18)
    pre = preprocess_digit(to_gray(open_image(encode(img), LIMIT)))
    assert pre.inverted and pre.digit.max() == pytest.approx(1, abs=0.05)


def test_forcing_the_wrong_polarity_is_allowed_but_warned():
    pre = preprocess_digit(canvas(), PreprocessOptions(invert="no"))
    assert not pre.inverted
    assert ink_box(pre.digit) == (20, 20)  # the whole sheet of paper became the "ink"
    assert any("background is light" in w for w in pre.warnings)


def test_a_grey_photo_of_paper_is_levelled_to_a_black_background():
    paper = 0.5 + 0.35 * canvas(corner=False)  # grey ink on grey paper, low contrast
    pre = preprocess_digit(paper)
    assert pre.digit.max() == pytest.approx(1, abs=0.05)
    assert (pre.digit == 0).mean() > 0.6  # the paper is black, not a grey floor
    assert any("low contrast" in w for w in pre.warnings)


def test_crop_off_scales_the_whole_image_so_the_digit_is_smaller():
    pre = preprocess_digit(canvas(corner=False), PreprocessOptions(crop=False))
    assert [s.name for s in pre.stages] == ["input", "polarity", "scaled", "centered"]
    assert pre.stages[2].image.shape == (20, 20)
    assert max(ink_box(pre.digit)) < 10


def test_scale_off_cuts_a_28x28_window_around_the_centre_of_mass():
    pre = preprocess_digit(canvas(corner=False), PreprocessOptions(scale=False))
    assert [s.name for s in pre.stages] == ["input", "polarity", "cropped", "centered"]
    assert pre.digit.shape == (28, 28) and pre.digit.max() > 0.9  # a close-up of a stroke


def test_everything_off_cuts_the_middle_of_the_image():
    options = PreprocessOptions(invert="auto", crop=False, scale=False, center=False)
    pre = preprocess_digit(canvas(corner=False), options)
    assert [s.name for s in pre.stages] == ["input", "polarity", "placed"]
    assert pre.digit.shape == (28, 28)


def test_center_off_puts_the_box_in_the_middle():
    pre = preprocess_digit(canvas(), PreprocessOptions(center=False))
    assert pre.stages[-1].name == "placed"
    rows, cols = np.nonzero(pre.digit > 0.3)
    assert abs((rows.min() + rows.max()) / 2 - 13.5) <= 1
    assert abs((cols.min() + cols.max()) / 2 - 13.5) <= 1


def test_a_digit_already_in_mnist_form_comes_back_nearly_unchanged():
    digit = preprocess_digit(canvas()).digit
    big = np.asarray(Image.fromarray(digit, "F").resize((280, 280), Image.Resampling.BILINEAR))
    again = preprocess_digit(1 - big).digit
    assert np.abs(again - digit).mean() < 0.05


@pytest.mark.parametrize(
    "gray",
    [
        np.ones((280, 280), np.float32),
        np.zeros((280, 280), np.float32),
        np.full((100, 80), 0.5, np.float32),
    ],
    ids=["white", "black", "grey"],
)
def test_an_empty_canvas_is_422(gray):
    assert "no ink to read" in refused(422, preprocess_digit, gray, PreprocessOptions())


def test_a_stray_dot_is_still_an_empty_canvas():
    gray = np.ones((280, 280), np.float32)
    gray[100:103, 100:103] = 0
    refused(422, preprocess_digit, gray, PreprocessOptions())


def test_a_photo_like_picture_is_read_with_a_warning():
    yy, xx = np.mgrid[0:160, 0:200]
    photo = ((np.sin(xx / 9) + np.cos(yy / 13)) * 0.23 + 0.5).astype(np.float32)
    pre = preprocess_digit(photo)
    assert pre.digit.shape == (28, 28)
    assert any("photo" in w for w in pre.warnings)


def test_thin_strokes_are_warned_as_faint():
    pre = preprocess_digit(canvas(corner=False, width=1))
    assert any("faint" in w for w in pre.warnings)


def test_a_huge_photo_is_worked_on_at_a_bounded_size():
    big = np.asarray(Image.fromarray(canvas(), "F").resize((3000, 3000)))
    pre = preprocess_digit(big)
    cropped = pre.stages[2]
    assert max(cropped.image.shape) <= 112  # stage images are for display
    # the '7' is ~960 px tall in the 3000 px image, ~320 px at the 1000 px working size
    width, height = map(int, re.search(r"(\d+)x(\d+)", cropped.title).groups())
    assert max(width, height) < 400
    assert np.abs(pre.digit - preprocess_digit(canvas()).digit).mean() < 0.05


def test_invert_must_be_auto_yes_or_no():
    with pytest.raises(ValueError, match="invert"):
        PreprocessOptions(invert="maybe")


# --- 28x28 pixels sent as JSON -----------------------------------------------------------


def grid(value=0.5) -> list:
    return [[value] * 28 for _ in range(28)]


def test_a_valid_pixel_grid_becomes_a_float32_digit():
    pixels = grid(0)
    pixels[3][4] = 1
    digit = digit_from_pixels(pixels)
    assert digit.shape == (28, 28) and digit.dtype == np.float32 and digit[3, 4] == 1


def with_cell(value):
    pixels = grid()
    pixels[3][5] = value
    return pixels


def with_row(row):
    pixels = grid()
    pixels[3] = row
    return pixels


@pytest.mark.parametrize(
    "pixels, message",
    [
        ({"a": 1}, "pixels must be a list of 28 rows, not an object"),
        (grid()[:27], "pixels has 27 rows; expected 28"),
        (with_row([0.5] * 29), "pixels[3] has 29 values; expected 28"),
        (with_row(0.5), "pixels[3] is a number; expected a row of 28 numbers (wrong nesting)"),
        (with_cell(float("nan")), "pixels[3][5] is NaN"),
        (with_cell(float("inf")), "pixels[3][5] is Infinity"),
        (with_cell(-float("inf")), "pixels[3][5] is -Infinity"),
        (with_cell(1.5), "pixels[3][5] is 1.5, outside 0..1"),
        (with_cell(-1), "pixels[3][5] is -1, outside 0..1"),
        (with_cell(10**400), "pixels[3][5] is a huge number, outside 0..1"),
        (with_row("0" * 28), "pixels[3] is a string; expected a row of 28 numbers"),
        (with_cell("0.5"), "pixels[3][5] is a string"),
        (with_cell(True), "pixels[3][5] is true (a boolean)"),
        (with_cell(None), "pixels[3][5] is null"),
        (with_cell([0.5]), "pixels[3][5] is a list (wrong nesting)"),
    ],
)
def test_bad_pixel_grids_are_422_naming_the_place(pixels, message):
    assert message in refused(422, digit_from_pixels, pixels)


# --- rendering ---------------------------------------------------------------------------


def test_png_bytes_round_trip_through_pillow():
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (7, 5), dtype=np.uint8)
    rgb = rng.integers(0, 256, (4, 9, 3), dtype=np.uint8)
    for pixels in (gray, rgb):
        back = Image.open(io.BytesIO(png_bytes(pixels)))
        back.load()  # checks every CRC and the zlib stream
        assert np.array_equal(np.asarray(back), pixels)
    assert data_url(b"\x89PNG").startswith("data:image/png;base64,iVBO")


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4)), np.zeros((4, 4, 4), np.uint8), np.zeros((0, 3), np.uint8)]
)
def test_png_bytes_refuses_what_it_cannot_write(bad):
    with pytest.raises(ValueError):
        png_bytes(bad)


def test_render_gray_is_white_ink_on_black_or_the_reverse():
    digit = np.zeros((28, 28), np.float32)
    digit[10, 12] = 1
    shown = decoded(render_gray(digit))
    assert shown.shape == (28, 28) and shown[10, 12] == 255 and shown[0, 0] == 0
    assert decoded(render_gray(digit, ink_white=False))[10, 12] == 0
    assert decoded(render_gray(digit, -1.0, 1.0))[0, 0] == 128


def test_the_diverging_map_puts_zero_on_the_middle_and_is_symmetric():
    values = np.linspace(-2, 2, 41, dtype=np.float32)[None]  # includes exactly 0
    shown = decoded(render_signed(values, 2.0))[0]
    middle = PUOR[127]
    assert shown[20].tolist() == middle.tolist()
    entries = [int(np.flatnonzero((PUOR[:255] == c).all(axis=1))[0]) for c in shown]
    assert entries[0] == 0 and entries[-1] == 254
    assert all(a + b == 254 for a, b in zip(entries, entries[::-1], strict=True))
    lightness = PUOR[:255].astype(int).sum(axis=1)
    assert lightness[127] == lightness.max()  # zero is the lightest: it reads as "nothing"
    beyond = decoded(render_signed(np.array([[-5.0, -2.0, 2.0, 5.0]]), 2.0))[0]
    assert beyond[0].tolist() == beyond[1].tolist() == PUOR[0].tolist()
    assert beyond[2].tolist() == beyond[3].tolist() == PUOR[254].tolist()


def test_the_sequential_map_spans_viridis_and_clips_negatives():
    shown = decoded(render_sequential(np.array([[-1.0, 0.0, 0.5, 1.0, 3.0]]), 1.0))[0]
    assert shown[0].tolist() == shown[1].tolist() == VIRIDIS[0].tolist()
    assert shown[3].tolist() == shown[4].tolist() == VIRIDIS[255].tolist()


def test_bad_colour_scale_limits_are_refused():
    with pytest.raises(ValueError):
        render_signed(np.zeros((2, 2)), 0.0)
    with pytest.raises(ValueError):
        render_sequential(np.zeros((2, 2)), float("nan"))
    with pytest.raises(ValueError):
        render_gray(np.zeros((2, 2)), 1.0, 1.0)


@pytest.mark.filterwarnings("error")
def test_nan_and_infinity_render_without_numpy_warnings():
    shown = decoded(render_sequential(np.array([[np.nan, np.inf, -np.inf]]), 1.0))[0]
    assert shown.tolist() == [VIRIDIS[0].tolist(), VIRIDIS[255].tolist(), VIRIDIS[0].tolist()]


def test_colormap_stops_are_hex_colours_for_a_legend():
    for name in ("gray", "viridis", "puor"):
        stops = colormap_stops(name)
        assert len(stops) == 11
        assert all(re.fullmatch(r"#[0-9a-f]{6}", s) for s in stops)
    assert colormap_stops("gray", 2) == ["#000000", "#ffffff"]
    assert colormap_stops("puor")[5] == "#f7f7f7"  # the legend's middle is 0
    with pytest.raises(ValueError, match="viridis"):
        colormap_stops("jet")


def test_the_91_maps_of_one_exploration_decode_to_their_colours():
    """30 conv maps on the diverging scale, 30 ReLU and 30 pool maps and the hidden layer on
    viridis: each PNG is the map, value by value, through its colour table. (Their speed:
    benchmarks/bench_render.py.)"""
    rng = np.random.default_rng(3)
    conv = rng.normal(size=(30, 24, 24)).astype(np.float32)
    relu, pool = np.maximum(conv, 0), rng.random((30, 12, 12), dtype=np.float32)
    hidden = rng.random((10, 10), dtype=np.float32)
    for m in conv:
        entries = np.clip(np.rint(m * (127 / 3.0)), -127, 127).astype(int) + 127
        assert np.array_equal(decoded(render_signed(m, 3.0)), PUOR[entries])
    for m, top in [*((m, 3.0) for m in relu), *((m, 1.0) for m in pool), (hidden, 1.0)]:
        entries = np.clip(np.rint(m * (255 / top)), 0, 255).astype(int)
        assert np.array_equal(decoded(render_sequential(m, top)), VIRIDIS[entries])


def test_a_big_jpeg_is_decoded_at_reduced_scale_when_it_will_be_shrunk_anyway():
    big = Image.new("RGB", (4000, 3000), "white")
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=80)
    full = open_image(buf.getvalue(), 40_000_000)
    reduced = open_image(buf.getvalue(), 40_000_000, max_side=1024)
    assert full.size == (4000, 3000)
    assert reduced.size == (2000, 1500)  # DCT scaling by 1/2, still >= the 1024 asked for
    assert max(limit_size(reduced, 1024).size) == 1024
