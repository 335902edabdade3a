"""What the view tests do to the page: draw, wait for the verdict, upload, read numbers."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

TIMEOUT = 15_000
SEVEN = [(0.28, 0.2), (0.72, 0.2), (0.45, 0.85)]


def draw(page: Page, *strokes) -> None:
    """Mouse strokes, each a list of (x, y) in 0..1 of the drawing pad."""
    page.evaluate("document.getElementById('pad').scrollIntoView({block: 'center'})")
    box = page.locator("#pad").bounding_box()
    for points in strokes:
        xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
        page.mouse.move(*xy[0])
        page.mouse.down()
        for p in xy[1:]:
            page.mouse.move(*p, steps=8)
        page.mouse.up()
    settled(page)


def settled(page: Page) -> None:
    """No explore request running or waiting, no drawing snapshot pending."""
    expect(page.locator("#draw")).to_have_attribute("data-busy", "false", timeout=TIMEOUT)


def example(page: Page, digit: int) -> None:
    """Load an example digit (the keyboard route) and wait for its numbers."""
    with page.expect_response(lambda r: "/api/explore" in r.url and "values=true" in r.url):
        page.select_option("#example", str(digit))
    settled(page)


def picture(draw_fn, size=(160, 120), background=(230, 230, 230)) -> bytes:
    img = Image.new("RGB", size, background)
    draw_fn(ImageDraw.Draw(img))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def scene(d) -> None:
    """A dark square and a red disc on light grey."""
    d.rectangle([20, 30, 70, 90], fill=(60, 60, 60))
    d.ellipse([95, 20, 145, 70], fill=(200, 40, 40))


def upload(page: Page, data: bytes, name: str = "scene.png") -> None:
    page.set_input_files("#file", files=[{"name": name, "mimeType": "image/png", "buffer": data}])


def number(text: str) -> float:
    return float(text.strip().replace("\u2212", "-"))


def in_view(page: Page, selector: str) -> bool:
    """Whether some of the element is inside the viewport (below the sticky nav)."""
    return page.evaluate(
        """(sel) => {
          const r = document.querySelector(sel).getBoundingClientRect();
          const nav = document.querySelector('.sections').getBoundingClientRect().bottom;
          return r.height > 0 && r.top < innerHeight - 40 && r.bottom > nav + 40;
        }""",
        selector,
    )


def shown(x: float, digits: int = 4) -> str:
    """A number as the page's fmt() writes it: fixed decimals, a real minus sign, no -0."""
    s = f"{x:.{digits}f}"
    return (s[1:] if float(s) == 0 and s.startswith("-") else s).replace("-", "\u2212")


def click_map_pixel(page: Page, i: int, j: int) -> None:
    """Click pixel (i, j) of the enlarged map, which sits at the bottom of the window."""
    zoom = page.locator("#map-zoom")
    zoom.evaluate("e => e.scrollIntoView({block: 'end'})")
    n = page.evaluate("document.getElementById('inspect-map').naturalWidth")
    box = zoom.bounding_box()
    page.mouse.click(
        box["x"] + (j + 0.5) / n * box["width"], box["y"] + (i + 0.5) / n * box["height"]
    )
