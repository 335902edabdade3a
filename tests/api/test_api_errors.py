"""Every kind of bad input gets a 4xx JSON {"detail": ...} that names the problem, and the
app keeps serving afterwards. In process, through FastAPI's TestClient."""

from __future__ import annotations

import io
import json
import struct
import zlib

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.settings import Settings
from tests.helpers.app import app_client
from tests.helpers.images import data_url, encode

SMALL_BODY = 100_000
SMALL_MACS = 2_000_000


def drawing() -> Image.Image:
    img = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(img).line([(110, 50), (122, 200)], fill="black", width=20)
    return img


GOOD_PNG = encode(drawing())


def zeros() -> list[list[float]]:
    return [[0.0] * 28 for _ in range(28)]


def with_value(value) -> list:
    px = zeros()
    px[3][4] = value
    return px


def png_claiming(width: int, height: int) -> bytes:
    """A small, valid-looking 1-bit PNG whose header claims width x height."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def detail_text(response: httpx.Response) -> str:
    """The error's message: a string, or FastAPI's validation list flattened to text."""
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert set(body) == {"detail"}, body
    detail = body["detail"]
    if isinstance(detail, str):
        return detail
    assert isinstance(detail, list) and detail
    return " ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)


def expect_error(response: httpx.Response, status: int, *words: str) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    text = detail_text(response)
    for word in words:
        assert word.lower() in text.lower(), f"{word!r} not in {text!r}"
    return text


@pytest.fixture(autouse=True)
def still_serving(client):
    """After every bad request the server still answers, and correctly."""
    yield
    r = client.post("/api/predict", json={"image": data_url(GOOD_PNG)})
    assert r.status_code == 200, r.text
    assert r.json()["label"] == 1


@pytest.fixture(scope="module")
def small_app():
    """A second app with a 100 KB body limit and a small convolution budget."""
    with app_client(max_body_bytes=SMALL_BODY, max_convolve_macs=SMALL_MACS) as small:
        yield small


# ------------------------------------------------------------------ broken or non-image uploads


@pytest.mark.parametrize("route", ["/api/predict", "/api/explore", "/api/convolve"])
def test_truncated_png_is_400_on_every_image_route(client, route):
    half = GOOD_PNG[: len(GOOD_PNG) // 2]
    r = client.post(route, files={"file": ("half.png", half, "image/png")})
    expect_error(r, 400, "PNG", "truncated")


def test_truncated_png_in_a_data_url_is_400(client):
    r = client.post("/api/predict", json={"image": data_url(GOOD_PNG[:-40])})
    expect_error(r, 400, "truncated")


def test_a_flipped_byte_in_the_image_data_is_400(client):
    data = bytearray(GOOD_PNG)
    at = data.index(b"IDAT") + 20
    data[at : at + 8] = b"\xff" * 8
    r = client.post("/api/predict", files={"file": ("bad.png", bytes(data), "image/png")})
    expect_error(r, 400, "corrupt")


def test_garbage_bytes_as_a_file_is_400(client):
    garbage = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    r = client.post("/api/predict", files={"file": ("photo.png", garbage, "image/png")})
    expect_error(r, 400, "not an image")


def test_a_header_alone_is_400(client):
    r = client.post("/api/predict", files={"file": ("x.png", GOOD_PNG[:30], "image/png")})
    assert r.status_code == 400
    assert "truncated" in detail_text(r) or "corrupt" in detail_text(r)


def test_an_empty_file_is_400(client):
    r = client.post("/api/predict", files={"file": ("empty.png", b"", "image/png")})
    expect_error(r, 400, "empty")
    r = client.post("/api/predict", content=b"", headers={"content-type": "image/png"})
    expect_error(r, 400, "empty")


def test_html_sent_as_an_image_is_415(client):
    html = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
    r = client.post("/api/predict", content=html, headers={"content-type": "image/png"})
    expect_error(r, 415, "HTML", "not a supported image")
    r = client.post("/api/explore", files={"file": ("page.png", html, "image/png")})
    expect_error(r, 415, "HTML")


def test_svg_is_415_as_a_file_and_as_a_data_url(client):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><circle r="9"/></svg>'
    r = client.post("/api/predict", files={"file": ("d.svg", svg, "image/svg+xml")})
    expect_error(r, 415, "SVG")
    r = client.post("/api/predict", content=svg, headers={"content-type": "image/svg+xml"})
    expect_error(r, 415, "SVG")
    r = client.post("/api/predict", json={"image": data_url(svg, "image/svg+xml")})
    expect_error(r, 415, "image/svg+xml", "media type")


def test_a_plain_text_file_is_415(client):
    r = client.post("/api/predict", files={"file": ("a.png", b"just some words\n", "image/png")})
    expect_error(r, 415, "text")


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [("text/plain", "text/plain"), ("application/xml", "application/xml"), (None, "none")],
)
def test_unsupported_content_types_are_415(client, content_type, shown):
    headers = {"content-type": content_type} if content_type else {}
    r = client.post("/api/predict", content=b"hello", headers=headers)
    text = expect_error(r, 415, "unsupported content type", shown)
    assert "multipart/form-data" in text and "pixels" in text  # says what to send instead


def test_unknown_routes_and_wrong_methods_are_json_4xx(client):
    expect_error(client.get("/api/nothing-here"), 404, "not found")
    expect_error(client.get("/api/predict"), 405, "method not allowed")
    expect_error(client.delete("/api/model"), 405, "method not allowed")


def test_a_form_without_a_file_is_422(client):
    r = client.post("/api/predict", data={"image": "x"}, files={"other": ("a.png", GOOD_PNG)})
    expect_error(r, 422, "no 'file'")


# ------------------------------------------------------------------ sizes


def test_an_over_size_body_is_413(small_app):
    big = encode(Image.effect_noise((300, 300), 80).convert("RGB"))
    assert len(big) > 2 * SMALL_BODY
    r = small_app.post("/api/predict", files={"file": ("big.png", big, "image/png")})
    expect_error(r, 413, "over the limit", str(SMALL_BODY))
    r = small_app.post("/api/predict", json={"image": data_url(big)})
    expect_error(r, 413, str(SMALL_BODY))
    r = small_app.post("/api/convolve", content=big, headers={"content-type": "image/png"})
    expect_error(r, 413, str(SMALL_BODY))
    assert small_app.get("/api/health").status_code == 200


def test_an_over_size_body_without_content_length_is_413(small_app):
    """A chunked body (no Content-Length) is counted as it streams in."""

    def chunks():
        for _ in range(20):
            yield b"\x00" * 10_000

    r = small_app.post("/api/predict", content=chunks(), headers={"content-type": "image/png"})
    expect_error(r, 413, "over the limit")
    assert small_app.get("/api/health").status_code == 200


def test_a_body_under_the_small_limit_still_works(small_app):
    r = small_app.post("/api/predict", json={"image": data_url(GOOD_PNG)})
    assert r.status_code == 200 and r.json()["label"] == 1


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (7000, 7000), (100_000, 500)])
def test_huge_image_dimensions_are_413_before_decoding(client, width, height):
    r = client.post("/api/predict", files={"file": ("bomb.png", png_claiming(width, height))})
    text = expect_error(r, 413, "pixels", "the limit is 40000000")
    assert "decompression bomb" in text or f"{width}x{height}" in text


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # in process
def test_a_real_1bit_bomb_png_is_413(client):
    bomb = Image.new("1", (12000, 12000))
    buf = io.BytesIO()
    bomb.save(buf, "PNG", optimize=True)
    assert len(buf.getvalue()) < 100_000
    r = client.post("/api/convolve", files={"file": ("bomb.png", buf.getvalue(), "image/png")})
    expect_error(r, 413, "12000x12000", "limit")


# ------------------------------------------------------------------ pixels


@pytest.mark.parametrize(
    ("pixels", "words"),
    [
        (zeros()[:27], ["27 rows", "expected 28"]),
        (zeros() + [[0.0] * 28], ["29 rows"]),
        ([[0.0] * 28 for _ in range(5)] + [[0.0] * 29] + zeros()[6:], ["pixels[5]", "29 values"]),
        ([[0.0] * 28 for _ in range(27)] + [[0.0] * 3], ["pixels[27]", "3 values"]),
        (with_value(1.5), ["pixels[3][4]", "1.5", "outside 0..1"]),
        (with_value(-0.1), ["pixels[3][4]", "-0.1", "outside 0..1"]),
        (with_value(255), ["pixels[3][4]", "255", "outside 0..1"]),
        (with_value("0.5"), ["pixels[3][4]", "string"]),
        (with_value(None), ["pixels[3][4]", "null"]),
        (with_value(True), ["pixels[3][4]", "boolean"]),
        (with_value([0.5]), ["pixels[3][4]", "wrong nesting"]),
        (with_value({"v": 1}), ["pixels[3][4]", "object"]),
        ([[[0.0] * 28] * 28], ["1 rows"]),  # 3-D: a list of one 28x28 image
        ([[[0.0]] * 28 for _ in range(3)], ["3 rows"]),
        ("0.5", ["must be a list", "string"]),
        ({"rows": zeros()}, ["must be a list", "object"]),
        (7, ["must be a list"]),
        ([], ["0 rows"]),
        ([0.0] * 28, ["pixels[0]", "expected a row"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) and v and isinstance(v[0], str) else "",
)
def test_bad_pixels_are_422_naming_the_place(client, pixels, words):
    r = client.post("/api/predict", json={"pixels": pixels})
    expect_error(r, 422, *words)


def test_deeply_nested_json_is_refused_before_parsing(client):
    body = b'{"pixels": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = client.post("/api/explore", content=body, headers={"content-type": "application/json"})
    expect_error(r, 422, "nests too many arrays")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_raw_json_are_refused(client, constant):
    text = json.dumps({"pixels": zeros()})
    text = text.replace("0.0", constant, 1)
    r = client.post("/api/predict", content=text, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    expect_error(r, r.status_code, constant.lstrip("-"))


def test_a_number_too_large_for_a_float_is_refused(client):
    text = json.dumps({"pixels": zeros()}).replace("0.0", "1e999", 1)
    r = client.post("/api/predict", content=text, headers={"content-type": "application/json"})
    expect_error(r, 422, "pixels[0][0]", "Infinity")


# ------------------------------------------------------------------ JSON bodies


def test_an_empty_json_body_is_422(client):
    r = client.post("/api/predict", content=b"", headers={"content-type": "application/json"})
    expect_error(r, 422, "empty")
    r = client.post("/api/predict", content=b"  \n", headers={"content-type": "application/json"})
    expect_error(r, 422, "empty")


@pytest.mark.parametrize("body", [b"[1, 2, 3]", b'"data:image/png;base64,AAAA"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(client, body):
    r = client.post("/api/explore", content=body, headers={"content-type": "application/json"})
    expect_error(r, 422, "must be an object")


def test_malformed_json_is_400(client):
    r = client.post(
        "/api/predict", content=b'{"pixels": [[0, 1', headers={"content-type": "application/json"}
    )
    expect_error(r, 400, "not valid JSON")


def test_both_image_and_pixels_or_neither_is_422(client):
    r = client.post("/api/predict", json={"image": data_url(GOOD_PNG), "pixels": zeros()})
    expect_error(r, 422, "exactly one", "image", "pixels")
    r = client.post("/api/predict", json={})
    expect_error(r, 422, "exactly one")
    r = client.post("/api/predict", json={"picture": data_url(GOOD_PNG)})
    expect_error(r, 422, "exactly one")


@pytest.mark.parametrize(
    ("image", "status", "words"),
    [
        ("data:image/png;base64,@@@not base64@@@", 400, ["base64", "invalid"]),
        ("data:image/png;base64,iVBORw0KGgo", 400, ["base64"]),  # bad padding
        ("iVBORw0KGgoAAAANSUhEUg", 400, ["not a data URL"]),
        ("data:image/png,rawbytes", 400, ["not base64"]),
        ("data:text/plain;base64,aGVsbG8=", 415, ["text/plain", "media type"]),
        ("data:image/png;base64,", 400, ["empty"]),
        (12345, 422, ["data URL string"]),
        (["data:image/png;base64,AAAA"], 422, ["data URL string"]),
    ],
)
def test_bad_data_urls(client, image, status, words):
    r = client.post("/api/predict", json={"image": image})
    expect_error(r, status, *words)


# ------------------------------------------------------------------ kernels, stride, pad


def test_an_unknown_kernel_name_is_422_listing_the_known_ones(client):
    r = client.post("/api/convolve", params={"kernels": "sobel_x,bogus"}, json={"pixels": zeros()})
    expect_error(r, 422, "unknown kernel 'bogus'", "learned", "sobel_x", "gaussian")


def test_no_kernel_at_all_is_422(client):
    r = client.post("/api/convolve", params={"kernels": ""}, json={"pixels": zeros()})
    expect_error(r, 422, "no kernels")


@pytest.mark.parametrize(
    ("kernel", "words"),
    [
        ([[1.0] * 16] * 16, ["16x16", "15x15 limit"]),
        ([[1.0] * 40], ["1x40", "limit"]),
        ([[1, 2, 3], [4, 5]], ["rectangular"]),
        ([["a", "b"], ["c", "d"]], ["numbers"]),
        ([[None, 1], [1, 1]], ["NaN"]),
        ([], ["dimensions"]),
        ([1, 2, 3], ["FH x FW", "1 dimensions"]),
        ([[[[1.0]]]], ["4 dimensions"]),
        ([[1e300, 1]], ["1e6"]),
        ([[[1.0]], [[1.0]], [[1.0]]], ["3 channels", "mode=rgb"]),
    ],
)
def test_bad_custom_kernels_are_422(client, kernel, words):
    r = client.post(
        "/api/convolve", params={"kernels": ""}, json={"pixels": zeros(), "kernel": kernel}
    )
    expect_error(r, 422, *words)


def test_a_kernel_with_the_wrong_channel_count_in_rgb_mode_is_422(client):
    kernel = [[[1.0]], [[1.0]]]
    r = client.post(
        "/api/convolve",
        params={"kernels": "", "mode": "rgb"},
        json={"image": data_url(GOOD_PNG), "kernel": kernel},
    )
    expect_error(r, 422, "2 channels", "the image has 3")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[1, 2", ["'kernel' form field is not valid JSON"]),
        ("[[1, NaN], [1, 1]]", ["NaN or infinite"]),
        ("[[1, 1], [1, 1]", ["not valid JSON"]),
    ],
)
def test_bad_kernel_form_fields_are_422(client, text, words):
    r = client.post(
        "/api/convolve",
        params={"kernels": ""},
        files={"file": ("d.png", GOOD_PNG, "image/png")},
        data={"kernel": text},
    )
    expect_error(r, 422, *words)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"stride": 0}, ["stride", "greater than or equal to 1"]),
        ({"stride": 17}, ["stride", "17 is over the limit of 16", "CONV_EXPLORER_MAX_STRIDE"]),
        ({"stride": "two"}, ["stride", "integer"]),
        ({"pad": -1}, ["pad", "greater than or equal to 0"]),
        ({"pad": 99}, ["pad", "99 is over the limit of 16", "CONV_EXPLORER_MAX_PAD"]),
        ({"mode": "hsv"}, ["mode", "gray", "rgb"]),
        ({"max_side": 4}, ["max_side", "greater than or equal to 8"]),
        ({"max_side": 5000}, ["max_side", "less than or equal to 1024"]),
        ({"relu": "perhaps"}, ["relu", "bool"]),
    ],
)
def test_bad_query_parameters_are_422(client, params, words):
    r = client.post("/api/convolve", params=params, json={"pixels": zeros()})
    expect_error(r, 422, *words)


@pytest.fixture(scope="module")
def strict_app():
    """An app whose settings allow stride 1..2 and pad 0..1 on /api/convolve."""
    with app_client(max_stride=2, max_pad=1) as strict:
        yield strict


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"stride": 3}, ["stride", "3 is over the limit of 2", "CONV_EXPLORER_MAX_STRIDE"]),
        ({"pad": 2}, ["pad", "2 is over the limit of 1", "CONV_EXPLORER_MAX_PAD"]),
    ],
)
def test_stride_and_pad_limits_come_from_the_settings(strict_app, params, words):
    r = strict_app.post("/api/convolve", params=params, json={"pixels": zeros()})
    expect_error(r, 422, *words)
    within = {"stride": 2, "pad": 1, "kernels": "sobel_x"}
    r = strict_app.post("/api/convolve", params=within, json={"pixels": zeros()})
    assert r.status_code == 200, r.text
    assert r.json()["maps"][0]["shape"] == [14, 14]  # (28 + 2*1 - 3) // 2 + 1


def test_the_stride_and_pad_limits_are_read_from_the_environment():
    env = {"CONV_EXPLORER_MAX_STRIDE": "4", "CONV_EXPLORER_MAX_PAD": "0"}
    assert (Settings.from_env(env).max_stride, Settings.from_env(env).max_pad) == (4, 0)


@pytest.mark.parametrize("params", [{"crop": "maybe"}, {"invert": "sometimes"}])
def test_bad_preprocessing_options_are_422(client, params):
    r = client.post("/api/predict", params=params, json={"image": data_url(GOOD_PNG)})
    expect_error(r, 422, next(iter(params)))


def test_a_filter_larger_than_the_padded_image_is_422(client):
    tiny = encode(Image.new("L", (8, 6), 128))
    r = client.post(
        "/api/convolve",
        params={"kernels": "", "pad": 0},
        json={"image": data_url(tiny), "kernel": [[1.0] * 7] * 7},
    )
    expect_error(r, 422, "FH=7", "larger than the padded input", "H+2P=6")
    r = client.post(
        "/api/convolve",
        params={"kernels": "", "pad": 1},
        json={"image": data_url(tiny), "kernel": [[1.0] * 11] * 5},
    )
    expect_error(r, 422, "FW=11", "W+2P=10")
    # the same kernel with enough padding works
    r = client.post(
        "/api/convolve",
        params={"kernels": "", "pad": 2},
        json={"image": data_url(tiny), "kernel": [[1.0] * 11] * 5},
    )
    assert r.status_code == 200, r.text
    assert r.json()["maps"][0]["shape"] == [6, 2]


def test_the_compute_budget_is_enforced(small_app):
    photo = Image.effect_noise((200, 150), 40).convert("RGB")
    data = encode(photo, "JPEG")
    r = small_app.post(
        "/api/convolve",
        params={"kernels": "learned,sobel_x,gaussian", "max_side": 1024, "mode": "rgb"},
        files={"file": ("photo.jpg", data, "image/jpeg")},
    )
    text = expect_error(r, 422, "multiply-adds", "limit", f"{SMALL_MACS:,}")
    assert "smaller image" in text
    # the same picture with a larger stride fits the budget, and reports its cost
    r = small_app.post(
        "/api/convolve",
        params={"kernels": "sobel_x", "max_side": 1024, "stride": 4},
        files={"file": ("photo.jpg", data, "image/jpeg")},
    )
    assert r.status_code == 200, r.text
    assert 0 < r.json()["macs"] <= SMALL_MACS


# ------------------------------------------------------------------ nothing to read


@pytest.mark.parametrize(
    "canvas",
    [
        Image.new("RGB", (280, 280), "white"),
        Image.new("RGBA", (280, 280), (0, 0, 0, 0)),  # a cleared canvas
        Image.new("L", (280, 280), 0),
        Image.new("L", (100, 60), 128),
    ],
    ids=["white", "transparent", "black", "grey"],
)
@pytest.mark.parametrize("route", ["/api/predict", "/api/explore"])
def test_an_empty_canvas_is_422(client, canvas, route):
    r = client.post(route, json={"image": data_url(encode(canvas))})
    expect_error(r, 422, "no ink")


def test_a_stray_dot_is_an_empty_canvas(client):
    img = Image.new("RGB", (280, 280), "white")
    img.putpixel((140, 140), (0, 0, 0))
    r = client.post("/api/predict", files={"file": ("dot.png", encode(img), "image/png")})
    expect_error(r, 422, "no ink")


def test_the_server_still_gives_the_same_answer_after_all_this(client):
    pixels = zeros()
    for row in range(4, 24):
        pixels[row][13:16] = [1.0, 1.0, 1.0]
    first = client.post("/api/explore", json={"pixels": pixels}).json()
    for bad in (b"", b"{", b"[]", b'{"pixels": 1}', b'{"image": "data:,"}'):
        r = client.post("/api/explore", content=bad, headers={"content-type": "application/json"})
        assert 400 <= r.status_code < 500
    assert client.post("/api/explore", json={"pixels": pixels}).json() == first
