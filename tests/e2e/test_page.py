"""The explorer page end to end: Debian's Chromium (Playwright) against the real server.

Each test drives the page like a person would (mouse, touch, file picker, keyboard) and checks
numbers the page shows against the API. Screenshots of every view go to test-artifacts/.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.helpers.paths import ARTIFACTS

TIMEOUT = 15_000
# Chromium logs every 4xx answer to fetch() as a console error; only the error test expects one.
HTTP_ERROR = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # reduced motion also turns off smooth scrolling, so element positions are final at once
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 800},
        "reduced_motion": "reduce",
    }


def watch(page: Page) -> list[str]:
    """Collect console errors and uncaught exceptions of a page."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return errors


@pytest.fixture
def site(page: Page, live_server):
    """The page, loaded, with its console watched: a test ends with no console errors."""
    errors = watch(page)
    page.goto(live_server + "/")
    page.wait_for_selector("body.ready")
    page.errors = errors  # the error test filters the expected 4xx lines
    yield page
    assert page.errors == []


def shot(page: Page, name: str, selector: str | None = None, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=full_page)


def pad_box(page: Page) -> dict:
    """The drawing pad's box in the viewport, after scrolling it into the middle."""
    page.evaluate("document.getElementById('pad').scrollIntoView({block: 'center'})")
    return page.locator("#pad").bounding_box()


def draw(page: Page, *strokes, steps: int = 8) -> None:
    """Mouse strokes, each a list of (x, y) in 0..1 of the drawing pad."""
    box = pad_box(page)
    for points in strokes:
        xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
        page.mouse.move(*xy[0])
        page.mouse.down()
        for p in xy[1:]:
            page.mouse.move(*p, steps=steps)
        page.mouse.up()


def settled(page: Page) -> None:
    """No explore request running or waiting, no drawing snapshot pending."""
    expect(page.locator("#draw")).to_have_attribute("data-busy", "false", timeout=TIMEOUT)


def label(page: Page) -> str:
    settled(page)
    return page.locator("#pred-label").text_content()


def centre_of_mass(page: Page) -> tuple[float, float, float]:
    """(row, column, total ink) of the 28x28 input canvas the page shows."""
    return page.evaluate(
        """() => {
          const c = document.getElementById('seen');
          const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
          let s = 0, sy = 0, sx = 0;
          for (let i = 0; i < 28 * 28; i++) {
            const v = d[4 * i] / 255;
            s += v; sy += v * Math.floor(i / 28); sx += v * (i % 28);
          }
          return [sy / s, sx / s, s];
        }"""
    )


def png(draw_fn, size=(160, 120), background=230) -> bytes:
    img = Image.new("RGB", size, (background,) * 3)
    draw_fn(ImageDraw.Draw(img))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def number(text: str) -> float:
    return float(text.replace("\u2212", "-"))


ONE = [(0.5, 0.15), (0.5, 0.85)]
SEVEN = [(0.28, 0.2), (0.72, 0.2), (0.45, 0.85)]


def test_draw_a_one_and_a_seven(site: Page):
    page = site
    draw(page, ONE)
    assert label(page) == "1"
    # the 10 bars, the 28x28 input and every stage's 30 maps are on the page
    assert page.locator("#bars li").count() == 10
    top = page.locator("#bars li.top .pct .long").text_content()  # e.g. "97.3 %" or "> 99.9 %"
    assert top == "> 99.9 %" or float(top.split()[0]) > 50
    tiles = page.locator("#map-grid .map-tile img")
    expect(tiles).to_have_count(30)
    assert all(
        src.startswith("data:image/png") for src in tiles.evaluate_all("e => e.map(i => i.src)")
    )
    assert page.locator("#map-grid img").evaluate_all("e => e.every(i => i.naturalWidth === 24)")
    page.locator('#stage-tabs label:has(input[value="pool1"])').click()
    assert page.locator("#map-grid img").evaluate_all("e => e.every(i => i.naturalWidth === 12)")
    # the enlarged map's numbers, as a table for screen readers
    page.locator("#inspect-table summary").click()
    expect(page.locator("#inspect-table tbody tr")).to_have_count(12)
    expect(page.locator("#inspect-table tbody tr").first.locator("td")).to_have_count(12)
    expect(page.locator("#stage-legend .legend-ticks")).to_contain_text("0.00")
    expect(page.locator("#hidden-img")).to_have_attribute("src", re.compile("^data:image/png"))
    expect(page.locator("#logits li")).to_have_count(10)
    shot(page, "draw-1", "#draw")

    page.click("#clear")
    expect(page.locator("#pred-label")).to_have_text("–")
    # a slow 7: the verdict updates while drawing, with never more than one request in flight,
    # and the last request (the whole drawing, with the numbers) is the one that stays
    flight = {"now": 0, "max": 0, "urls": []}

    def sent(r):
        if "/api/explore" in r.url:
            flight["now"] += 1
            flight["max"] = max(flight["max"], flight["now"])
            flight["urls"].append(r.url)

    def done(r):
        if "/api/explore" in r.url:
            flight["now"] -= 1

    page.on("request", sent)
    page.on("requestfinished", done)
    page.on("requestfailed", done)
    # 300 ms of network latency: longer than the page waits between looks at a growing stroke
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    slow = {"offline": False, "latency": 300, "downloadThroughput": -1, "uploadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", slow)
    box = pad_box(page)
    page.mouse.move(box["x"] + 0.28 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for t in range(1, 41):
        x, y = (
            (0.28 + 0.011 * t, 0.2)
            if t <= 20
            else (0.5 - 0.0125 * (t - 20), 0.2 + 0.0325 * (t - 20))
        )
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.wait_for_timeout(15)
    page.mouse.up()
    assert label(page) == "7"
    assert flight["max"] == 1 and flight["now"] == 0
    assert len(flight["urls"]) >= 2
    assert "values=false" in flight["urls"][0] and "values=true" in flight["urls"][-1]
    cdp.send("Network.emulateNetworkConditions", {**slow, "latency": 0})
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "laptop")
    shot(page, "laptop-full", full_page=True)
    shot(page, "inside-7", "#inside")

    # undo removes the last stroke: the pad is empty again and the verdict is cleared
    page.click("#undo")
    expect(page.locator("#pred-label")).to_have_text("–")


def test_digit_in_a_corner_is_centred(site: Page):
    page = site
    draw(page, [(0.06, 0.06), (0.3, 0.06), (0.14, 0.34)])
    assert label(page) == "7"
    row, col, ink = centre_of_mass(page)
    assert ink > 20
    assert abs(row - 13.5) < 1.0 and abs(col - 13.5) < 1.0
    # the strip shows each stage the server made
    expect(page.locator("#strip img")).to_have_count(5)

    # without cropping and centring the 280x280 canvas is shrunk whole: the digit stays in
    # its corner, where the network never saw a digit
    page.uncheck("#opt-crop")
    page.uncheck("#opt-center")
    settled(page)
    row, col, _ = centre_of_mass(page)
    assert row < 10 and col < 10
    expect(page.locator("#strip .step.off")).to_have_count(2)
    expect(page.locator("#strip")).to_contain_text("step switched off")
    shot(page, "preprocess-off", "#preprocess")


def test_touch_drawing_on_a_phone(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        reduced_motion="reduce",
    )
    page = context.new_page()
    errors = watch(page)
    page.goto(live_server + "/")
    page.wait_for_selector("body.ready")
    page.evaluate("window.scrollTo(0, 120)")
    page.wait_for_function("window.scrollY === 120")
    box = page.locator("#pad").bounding_box()
    assert box["width"] <= 390 - 2 * 12  # the pad fits the phone's width
    # a "1" drawn upwards: a finger moving up would scroll the page down, unless touch-action
    cdp = context.new_cdp_session(page)
    x = box["x"] + box["width"] * 0.5

    def touch(kind, y=None):
        points = [] if y is None else [{"x": x, "y": box["y"] + box["height"] * y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 0.85)
    for i in range(1, 15):
        touch("touchMove", 0.85 - 0.05 * i)
    touch("touchEnd")
    assert label(page) == "1"
    assert page.evaluate("window.scrollY") == 120
    # HiDPI: the canvas has 3 device pixels per CSS pixel
    css, px = page.evaluate(
        "[document.getElementById('pad').clientWidth, document.getElementById('pad').width]"
    )
    assert px == round(css * 3)
    expect(page.locator("#map-grid .map-tile")).to_have_count(30)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "phone")
    shot(page, "phone-full", full_page=True)
    assert errors == []
    context.close()


def test_upload_a_photo(site: Page, api):
    page = site

    def scene_of(d):  # a dark square and a red disc on light grey, 160x120
        d.rectangle([20, 30, 70, 90], fill=(60, 60, 60))
        d.ellipse([95, 20, 145, 70], fill=(200, 40, 40))

    scene = png(scene_of)
    page.set_input_files(
        "#file", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": scene}]
    )
    figures = page.locator("#responses figure")
    expect(figures).to_have_count(33, timeout=TIMEOUT)  # 30 learned + Sobel x, Sobel y, Laplacian
    assert figures.locator("img").evaluate_all(
        "e => e.every(i => i.src.startsWith('data:image/png') && i.naturalWidth > 0)"
    )
    sobel = figures.filter(has_text="sobel x")
    expect(sobel).to_contain_text("118×158")  # (120 - 3)/1 + 1 by (160 - 3)/1 + 1
    expect(page.locator("#photo-shape")).to_contain_text("1 channel, 120×160")

    # stride 2 does not divide 120 - 3: the floor is taken and said so
    page.fill("#stride", "2")
    expect(sobel).to_contain_text("59×79", timeout=TIMEOUT)
    expect(page.locator("#photo-floor")).to_contain_text("Floor taken")  # once, not per map
    page.check('input[name="mode"][value="rgb"]')
    expect(page.locator("#photo-shape")).to_contain_text("3 channels", timeout=TIMEOUT)
    page.uncheck('input[name="kernel"][value="learned"]')
    expect(figures).to_have_count(3, timeout=TIMEOUT)
    # a 3-channel kernel, red minus blue: it sees the red disc, which gray kernels cannot tell
    page.locator("#kernel-presets button", has_text="red − blue").click()
    custom = figures.filter(has_text="custom")
    expect(custom).to_contain_text("60×80", timeout=TIMEOUT)  # 1x1 kernel, stride 2
    assert number(custom.locator(".small").first.text_content().split("…")[1]) > 0.5
    shot(page, "photo", "#photo")

    # a photo of a handwritten 7 (dark ink on grey paper) read as a digit
    def seven_of(d):
        d.line([(50, 40), (150, 40), (90, 170)], fill=(25, 25, 30), width=14)

    seven = png(seven_of, size=(200, 200), background=205)
    page.set_input_files(
        "#file", files=[{"name": "seven.png", "mimeType": "image/png", "buffer": seven}]
    )
    page.click("#photo-digit")
    assert label(page) == "7"
    expect(page.locator("#pred-source")).to_have_text("from seven.png")


def test_the_sum_behind_one_conv_pixel(site: Page, api):
    page = site
    with page.expect_response(lambda r: "/api/explore" in r.url) as answer:
        page.select_option("#example", "3")  # the keyboard route to a digit
    assert label(page) == "3"
    pixels = answer.value.json()["input"]["pixels"]

    page.locator('#map-grid .map-tile[data-k="5"]').click()
    zoom = page.locator("#map-zoom").bounding_box()
    i, j = 10, 12
    page.mouse.click(
        zoom["x"] + (j + 0.5) / 24 * zoom["width"], zoom["y"] + (i + 0.5) / 24 * zoom["height"]
    )
    expect(page.locator("#pixel-title")).to_contain_text(
        f"Filter 5 of conv1, output pixel row {i}, column {j}"
    )

    shown = number(page.locator("#pixel-value").text_content())
    server = number(page.locator("#pixel-server").text_content())
    assert abs(shown - server) < 1e-3
    expect(page.locator("#pixel-check")).to_contain_text("✓")
    # the kernel shown is filter 5 of the API, and the products add up to the sum shown
    tables = page.locator("#pixel-tables table")
    kernel = [number(t) for t in tables.nth(1).locator("td").all_text_contents()]
    weights = api.get("/api/filters").json()["learned"]["filters"][5]
    assert kernel == pytest.approx([w for row in weights["weights"][0] for w in row], abs=5e-4)
    products = [number(t) for t in tables.nth(2).locator("td").all_text_contents()]
    total = number(page.locator("#pixel-sum").text_content())
    assert sum(products) == pytest.approx(total, abs=25 * 5e-5 + 1e-4)
    assert total + weights["bias"] == pytest.approx(shown, abs=2e-4)
    # the im2col row times the filter's column gives the same sum
    assert number(page.locator("#im2col-dot").text_content()) == pytest.approx(total, abs=1e-4)
    expect(page.locator("#im2col-text")).to_contain_text(f"{i}·24 + {j} = {i * 24 + j}")
    # and it is the value the API computes for that map, row and column (no transposition)
    conv = api.post("/api/explore", json={"pixels": pixels}, params={"values": "true"}).json()
    assert conv["stages"][0]["maps"][5]["values"][i][j] == pytest.approx(server, abs=1e-3)

    # the arrow keys move the pixel
    page.focus("#map-zoom")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#pixel-title")).to_contain_text(f"row {i}, column {j + 1}")
    expect(page.locator("#pixel-check")).to_contain_text("✓")
    shot(page, "pixel", "#pixel")


def test_output_size_playground(site: Page, api):
    page = site
    expect(page.locator("#size-OH")).to_have_text(" OH = 24")
    page.fill("#ps-P", "1")
    page.fill("#ps-S", "2")
    expect(page.locator("#size-OH")).to_have_text(" OH = 13")
    expect(page.locator("#size-work")).to_contain_text("= 13.5 not an integer")
    expect(page.locator("#size-server-value")).to_have_text("13 × 13", timeout=TIMEOUT)
    expect(page.locator("#size-server")).to_contain_text("✓")
    assert api.get("/api/conv-output-size", params={"P": 1, "S": 2}).json()["OH"] == 13

    page.fill("#ps-P", "2")
    page.fill("#ps-S", "1")
    expect(page.locator("#size-OH")).to_have_text(" OH = 28")
    expect(page.locator("#size-server-value")).to_have_text("28 × 28", timeout=TIMEOUT)
    expect(page.locator("#size")).to_have_attribute("data-exact", "true")
    expect(page.locator("#size-window")).to_have_attribute("max", str(28 * 28 - 1))

    page.locator("#size-presets button", has_text="Book: 7×7").click()
    expect(page.locator("#size-OW")).to_have_text(" OW = 3")
    expect(page.locator("#size-server-value")).to_have_text("3 × 3", timeout=TIMEOUT)
    shot(page, "size", "#size")


def test_api_errors_are_shown(site: Page, api):
    page = site
    junk = b"\x89PNG\r\n\x1a\nthis is not really a picture"
    detail = api.post("/api/convolve", files={"file": ("broken.png", junk, "image/png")}).json()[
        "detail"
    ]
    page.set_input_files(
        "#file", files=[{"name": "broken.png", "mimeType": "image/png", "buffer": junk}]
    )
    error = page.locator("#photo-error")
    expect(error).to_be_visible(timeout=TIMEOUT)
    expect(error).to_contain_text(detail)
    expect(error).to_contain_text("HTTP 4")
    expected = [e for e in page.errors if HTTP_ERROR.search(e)]
    assert len(expected) == 1
    page.errors[:] = [e for e in page.errors if not HTTP_ERROR.search(e)]


def test_filters_training_and_labels(site: Page, api):
    page = site
    expect(page.locator("#grid-learned .filter-tile")).to_have_count(30)
    expect(page.locator("#grid-initial .filter-tile")).to_have_count(30)
    page.locator('#grid-learned .filter-tile[data-k="7"]').hover()
    expect(page.locator("#filter-detail h3")).to_have_text("Filter 7")
    after = page.locator("#filter-detail table").nth(1).locator("td").all_text_contents()
    filters = api.get("/api/filters").json()
    weights = [w for row in filters["learned"]["filters"][7]["weights"][0] for w in row]
    assert [number(t) for t in after] == pytest.approx(weights, abs=5e-3)
    shot(page, "filters", "#filters")

    model = api.get("/api/model").json()
    epochs = len(model["history"])
    for chart in ("#chart-loss", "#chart-acc"):
        expect(page.locator(f"{chart} path.series")).to_have_count(2)
        expect(page.locator(f"{chart} circle")).to_have_count(2 * epochs)
    expect(page.locator("#training-summary")).to_contain_text(
        f"{model['test_accuracy'] * 100:.2f} %"
    )
    expect(page.locator("#history-table")).to_contain_text("Every epoch")
    shot(page, "training", "#training")

    # every control has a name a screen reader can read
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, a, [tabindex="0"]')]
          .filter(e => !((e.labels && e.labels.length) || e.getAttribute('aria-label')
                          || e.getAttribute('aria-labelledby') || e.textContent.trim()))
          .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []


def test_keyboard_reaches_the_maps_and_the_pixel(site: Page):
    page = site
    page.focus("#example")
    page.keyboard.press("ArrowDown")  # Chromium changes a focused <select> with the arrow keys
    assert label(page) == "0"
    # the 30 maps are one tab stop; arrow keys move between them and Enter chooses one
    page.focus("#map-grid .map-tile[tabindex='0']")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")  # 10 columns on a laptop: map 11
    expect(page.locator("#inspect-title")).to_have_text("Map 11 of conv1 (preview)")
    page.keyboard.press("Enter")
    expect(page.locator("#inspect-title")).to_have_text("Map 11 of conv1")
    expect(page.locator("#pixel-title")).to_contain_text("Filter 11 of conv1,")
    page.keyboard.press("Tab")  # out of the grid
    expect(page.locator("#map-grid .map-tile[tabindex='0']")).to_have_attribute("data-k", "11")
