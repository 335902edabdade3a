"""The output-size playground: input it cannot use clears everything derived from it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, Route, expect

from tests.e2e.views.ui import TIMEOUT


def asked(page: Page) -> list[dict]:
    """Record the questions the page sends to the output-size route."""
    seen: list[dict] = []
    page.on(
        "request",
        lambda r: (
            seen.append({k: v[0] for k, v in parse_qs(urlparse(r.url).query).items()})
            if "/api/conv-output-size" in r.url
            else None
        ),
    )
    return seen


def nothing_derived(page: Page) -> None:
    expect(page.locator("#size-work")).to_be_empty()
    expect(page.locator("#size-server")).to_be_empty()
    expect(page.locator("#size-canvas")).to_be_hidden()
    expect(page.locator("#size-window-label")).to_be_empty()
    expect(page.locator("#size-picture-note")).to_be_empty()
    expect(page.locator("#size-window")).to_be_disabled()


def test_invalid_input_clears_every_derived_output(laptop: Page):
    page = laptop
    seen = asked(page)
    expect(page.locator("#size-server-value")).to_have_text("24 × 24", timeout=TIMEOUT)
    for field, value, says in [
        ("S", "0", "Not 0: a whole number, 1 to 1000."),
        ("P", "-1", "Not -1: a whole number, 0 to 1000."),
        ("H", "", "Needed: a whole number, 1 to 10000."),
    ]:
        page.fill(f"#ps-{field}", value)
        message = page.locator(f"#ps-{field}-error")
        expect(message).to_have_text(says)
        # the message is at the field: right under it
        box, at = page.locator(f"#ps-{field}").bounding_box(), message.bounding_box()
        assert 0 <= at["y"] - (box["y"] + box["height"]) < 20
        nothing_derived(page)
        page.fill(f"#ps-{field}", {"S": "1", "P": "0", "H": "28"}[field])
        expect(message).to_be_hidden()
        expect(page.locator("#size-server-value")).to_have_text("24 × 24", timeout=TIMEOUT)
    assert all(q["S"] != "0" and q["P"] != "-1" and q["H"] != "" for q in seen)

    # too large to draw: no picture, and no slider text left from the last picture
    page.fill("#ps-H", "5000")
    expect(page.locator("#size-server-value")).to_have_text("4996 × 24", timeout=TIMEOUT)
    expect(page.locator("#size-canvas")).to_be_hidden()
    expect(page.locator("#size-picture-note")).to_contain_text("too large to draw")
    expect(page.locator("#size-window-label")).to_be_empty()
    expect(page.locator("#size-window")).to_be_disabled()


def test_an_answer_for_input_that_changed_since_is_dropped(laptop: Page):
    page = laptop
    expect(page.locator("#size-server-value")).to_have_text("24 × 24", timeout=TIMEOUT)
    held: list[Route] = []
    page.route("**/api/conv-output-size?*", lambda route: held.append(route))
    with page.expect_request("**/api/conv-output-size?*"):
        page.fill("#ps-S", "2")
    while not held:  # the route handler runs just after the request event
        page.wait_for_timeout(10)
    page.fill("#ps-S", "0")  # the question for S = 2 is still out
    with page.expect_response("**/api/conv-output-size?*"):
        held[0].continue_()
    nothing_derived(page)
