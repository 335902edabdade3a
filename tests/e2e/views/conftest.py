"""Pages for the view tests: the explorer in Chromium on a laptop (1280x800) and on a phone
(390x844, touch), each failing its test if the page logs a console error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

LAPTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


def _open(browser: Browser, url: str, device: dict):
    # reduced motion turns smooth scrolling off, so positions are final when a click returns
    context = browser.new_context(**device, reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    # which request failed: the console only says "Failed to load resource"
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.request.method} {r.url} {r.request.post_data}"[:300])
            if r.status >= 400
            else None
        ),
    )
    page.goto(url + "/")
    page.wait_for_selector("body.ready")
    return context, page, errors


@pytest.fixture
def laptop(browser: Browser, live_server) -> Page:
    context, page, errors = _open(browser, live_server, LAPTOP)
    yield page
    context.close()
    assert errors == []


@pytest.fixture
def phone(browser: Browser, live_server) -> Page:
    context, page, errors = _open(browser, live_server, PHONE)
    yield page
    context.close()
    assert errors == []
