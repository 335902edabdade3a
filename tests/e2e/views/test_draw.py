"""The Draw view: the verdict with its runner-up, and the preprocessing strip."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.views.ui import SEVEN, TIMEOUT, draw, picture, upload


def percent(p: float) -> str:
    """What the page should write for a probability."""
    if p < 0.0005:
        return "< 0.1 %"
    if p > 0.9995:
        return "> 99.9 %"
    return f"{p * 100:.1f} %"


def test_the_runner_up_its_margin_and_small_probabilities(laptop: Page):
    page = laptop
    with page.expect_response(lambda r: "values=true" in r.url) as answer:
        draw(page, SEVEN)
    p = answer.value.json()["probabilities"]
    top, second = sorted(range(10), key=lambda d: -p[d])[:2]
    assert top == 7
    runner = page.locator("#pred-runner-up")
    expect(runner).to_contain_text(f"Runner-up: {second} at {percent(p[second])}")
    points = (p[top] - p[second]) * 100
    expect(runner).to_contain_text(
        f"{'> 99.9' if points > 99.9 else f'{points:.1f}'} percentage points behind"
    )
    logit = answer.value.json()["logits"]
    ratio = math.exp(logit[top] - logit[second])
    text = runner.text_content().replace("\u00a0", " ")
    assert f"odds {top} : {second} = " in text
    said = text.split(" = ")[-1].removesuffix(" : 1").replace(",", "")
    if " × 10" in said:  # 2.4 × 10¹⁷
        m, e = said.split(" × 10")
        said = f"{m}e{e.translate(str.maketrans('⁰¹²³⁴⁵⁶⁷⁸⁹', '0123456789'))}"
    assert float(said) == pytest.approx(ratio, rel=0.06)
    bars = page.locator("#bars .pct .long").all_text_contents()
    assert bars == [percent(x) for x in p]
    assert "0.0 %" not in bars and any(b == "< 0.1 %" for b in bars)
    logits = page.locator("#logits li .num.muted").all_text_contents()
    assert logits == [percent(x) for x in p]


def corner_and_stroke(page: Page) -> tuple[int, int]:
    """Brightness of the top-left corner and of the darkest pixel of step 1's picture."""
    return (
        page.locator("#strip .step")
        .first.locator("img")
        .evaluate(
            """img => {
          const c = document.createElement('canvas');
          c.width = img.naturalWidth; c.height = img.naturalHeight;
          const ctx = c.getContext('2d');
          ctx.drawImage(img, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let darkest = 255;
          for (let i = 0; i < d.length; i += 4) darkest = Math.min(darkest, d[i]);
          return [d[0], darkest];
        }"""
        )
    )


def test_step_one_is_the_picture_as_given_and_sizes_are_real(laptop: Page):
    page = laptop
    with page.expect_response(lambda r: "values=true" in r.url) as answer:
        draw(page, SEVEN)
    first = page.locator("#strip .step").first
    expect(first.locator("h4")).to_have_text("1 · Your drawing")
    corner, stroke = corner_and_stroke(page)
    assert corner > 240 and stroke < 60  # dark ink on white paper, as drawn: not inverted
    expect(first.locator(".dims")).to_have_text("280×280 px, as sent")
    # every other label is the server's title, whose sizes are the real ones
    titles = {s["name"]: s["title"] for s in answer.value.json()["preprocessing"]["stages"]}
    dims = page.locator("#strip .step .dims").all_text_contents()[1:]
    assert dims[0].startswith(titles["polarity"])
    assert dims[1:] == [titles["cropped"], titles["scaled"], titles["centered"]]

    def seven_of(d):
        d.line([(50, 40), (150, 40), (90, 170)], fill=(25, 25, 30), width=14)

    upload(page, picture(seven_of, size=(200, 160), background=(205, 205, 205)), "seven.png")
    expect(page.locator("#responses figure").first).to_be_visible(timeout=TIMEOUT)
    page.click("#photo-digit")
    expect(first.locator("h4")).to_have_text("1 · Your picture", timeout=TIMEOUT)
    expect(first.locator(".dims")).to_have_text("200×160 px, seven.png")
    corner, stroke = corner_and_stroke(page)
    assert corner > 190 and stroke < 60
