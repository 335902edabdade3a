"""The Why view in Chromium: the methods side by side, each map's proof numbers exactly as
POST /api/attribute gives them, the target chooser, the sanity toggle, and a phone's width."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.views.ui import example

WAIT = 60_000  # eight calls, on cores shared with training


def explain(page: Page, digit: int) -> list:
    """Load an example digit, bring the Why view into view, wait for every map; returns the
    /api/attribute requests the page made, in order."""
    calls = []
    page.on("request", lambda r: calls.append(r) if "/api/attribute" in r.url else None)
    example(page, digit)
    page.locator("#why").scroll_into_view_if_needed()
    settle(page)
    return calls


def settle(page: Page) -> None:
    expect(page.locator("#why .why-card").first).to_be_visible(timeout=WAIT)
    expect(page.locator("#why .why-card.pending")).to_have_count(0, timeout=WAIT)
    expect(page.locator("#why")).to_have_attribute("data-busy", "false", timeout=WAIT)


def fmt(x: float, digits: int) -> str:
    """As the page's fmt() writes a number: fixed decimals, a real minus sign, no -0."""
    s = f"{x:.{digits}f}"
    return (s[1:] if float(s) == 0 and s.startswith("-") else s).replace("-", "\u2212")


def error_percent(error: float) -> str:
    pct = error * 100
    return f"{pct:.2f} %" if pct >= 0.1 or pct == 0 else f"{float(f'{pct:.2g}'):g} %"


def test_every_proof_number_on_the_page_is_the_apis(laptop: Page, api: httpx.Client):
    page = laptop
    calls = explain(page, 7)
    methods = [dict(httpx.QueryParams(urlsplit(r.url).query))["method"] for r in calls]
    assert methods == [
        "gradient", "gradient_x_input", "smoothgrad", "integrated_gradients",
        "integrated_gradients", "occlusion", "occlusion", "grad_cam",
    ]  # fmt: skip
    cards = page.locator("#why .why-card")
    shown = 0
    for request in calls:
        url = urlsplit(request.url)
        answer = api.post(
            f"{url.path}?{url.query}",
            content=request.post_data,
            headers={"Content-Type": "application/json"},
        ).json()
        key = cards.nth(shown).get_attribute("data-key")
        for m in answer["maps"]:
            card = page.locator(f'#why .why-card[data-key="{key}"][data-name="{m["name"]}"]')
            expect(card.locator("h3")).to_have_text(m["title"])
            for proof in ("deletion", "insertion"):
                row = card.locator(f".proof-{proof}")
                expect(row.locator(".area")).to_have_text(fmt(m[proof]["area"], 3))
                expect(row.locator(".random")).to_have_text(fmt(m[proof]["random_area"], 3))
                expect(row.locator(".reading")).to_have_text(m[proof]["reading"])
            rho = m["sanity"]["spearman"]
            sanity = card.locator(".proof-sanity")
            expect(sanity.locator(".num")).to_have_text("–" if rho is None else fmt(rho, 2))
            expect(sanity.locator(".reading")).to_have_text(m["sanity"]["reading"])
            if m["completeness"]:
                row = card.locator(".proof-completeness")
                expect(row.locator(".num")).to_have_text(error_percent(m["completeness"]["error"]))
                expect(row.locator(".reading")).to_have_text(m["completeness"]["reading"])
            # the curves drawn are the API's: one polyline point per pixel count
            line = card.locator('polyline[data-line="deletion"]')
            assert len(line.get_attribute("points").split()) == len(m["curves"]["deletion"])
            shown += 1
    assert cards.count() == shown
    expect(page.locator("#why-status")).to_contain_text("Explaining 7")


def test_the_target_chooser_explains_another_class(laptop: Page):
    page = laptop
    explain(page, 7)
    expect(page.locator('#why-target label.predicted input[value="7"]')).to_be_checked()
    page.locator('#why-target label:has(input[value="3"])').click()
    expect(page.locator("#why-status")).to_contain_text("Explaining 3", timeout=WAIT)
    settle(page)
    for reading in page.locator("#why .proof-deletion .reading").all_text_contents():
        assert "P(3)" in reading


def test_the_sanity_toggle_shows_the_untrained_maps(laptop: Page):
    page = laptop
    explain(page, 7)
    untrained = page.locator("#why .why-sane").first
    expect(untrained).to_be_hidden()
    page.locator("#why-sanity").check()
    expect(untrained).to_be_visible()
    expect(untrained.locator("figcaption")).to_contain_text("untrained")


def test_on_a_phone_the_view_fits_the_width(phone: Page):
    page = phone
    explain(page, 7)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for box in page.locator("#why .why-card").evaluate_all(
        "cards => cards.map(c => c.getBoundingClientRect().right)"
    ):
        assert box <= 390
