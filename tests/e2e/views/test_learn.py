"""Watch it learn, in Chromium: start a short run, see the curves grow and the filters change,
scrub back, stop it, and the server's slot is free again. On the shipped sample (a server of its
own with no data directory), on a laptop and on a phone."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.paths import ARTIFACTS
from tests.helpers.server import start_server

from .conftest import LAPTOP, PHONE

TIMEOUT = 60_000  # a safety net for a busy machine, not a speed requirement


@pytest.fixture(scope="module")
def sample_server():
    proc, url = start_server({"CONV_EXPLORER_DATA_DIR": "/nonexistent/mnist"})
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def open_learn(browser: Browser, url: str, device: dict):
    context = browser.new_context(**device, reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.goto(url + "/#learn")
    expect(page.locator("#learn-status")).to_contain_text("shipped 1000-digit sample")
    return context, page, errors


def setup_run(page: Page, steps: int) -> None:
    for sel, value in (
        ("#lt-steps", steps),
        ("#lt-batch", 50),
        ("#lt-every", 4),
        ("#lt-size", 1000),
    ):
        page.fill(sel, str(value))


def reports(page: Page) -> int:
    """Reports received so far: the scrubber has one position per report."""
    return int(page.get_attribute("#learn-scrub", "max")) + 1


def wait_reports(page: Page, n: int) -> None:
    deadline = time.monotonic() + TIMEOUT / 1000
    while reports(page) < n:
        assert time.monotonic() < deadline, f"fewer than {n} reports arrived"
        page.wait_for_timeout(100)


def running(url: str) -> int:
    return httpx.get(url + "/api/train/status").json()["running"]


def test_start_see_curves_and_filters_change_scrub_and_stop(browser: Browser, sample_server):
    context, page, errors = open_learn(browser, sample_server, LAPTOP)
    page.locator("#learn-presets").get_by_role("button", name="He init").click()  # a preset
    expect(page.locator("#lt-arch")).to_have_value("simple-he")
    expect(page.locator("#lt-init")).to_have_value("he")
    setup_run(page, 2000)  # far more than the test waits for: it is stopped by hand
    page.click("#learn-start")
    expect(page.locator("#learn-stop")).to_be_enabled()
    wait_reports(page, 2)
    tile = page.locator("#learn-filters .learn-tile img").first
    first_png = tile.get_attribute("src")
    loss_path = page.locator("#learn-loss path.series").first
    first_curve = loss_path.get_attribute("d")
    wait_reports(page, 4)
    # the curves grew, the filters changed, the status counts steps
    assert len(loss_path.get_attribute("d")) > len(first_curve)
    assert page.locator("#learn-acc path.series").count() == 2
    assert tile.get_attribute("src") != first_png
    expect(page.locator("#learn-status")).to_contain_text("step")
    expect(page.locator("#learn-inspect table")).to_have_count(5)  # old W, dW, m, v, new W
    # stop: the page says so, and the server's training slot frees
    page.click("#learn-stop")
    expect(page.locator("#learn-status")).to_contain_text("Stopped at step")
    expect(page.locator("#learn-start")).to_be_enabled()
    deadline = time.monotonic() + TIMEOUT / 1000
    while running(sample_server):
        assert time.monotonic() < deadline, "the stopped training kept its slot"
        time.sleep(0.05)
    last = httpx.get(sample_server + "/api/train/status").json()["last"]
    assert last["stopped"] is True and last["steps"] < 2000
    # the snapshots stay: scrub back to the random start and forward to the last report
    latest, count = tile.get_attribute("src"), reports(page)
    page.locator("#learn-scrub").fill("0")
    expect(page.locator("#learn-at")).to_contain_text("at step 0 ")
    expect(page.locator("#learn-live")).to_have_attribute("aria-pressed", "false")
    assert tile.get_attribute("src") != latest
    page.click("#learn-live")
    expect(page.locator("#learn-scrub")).to_have_value(str(count - 1))
    assert tile.get_attribute("src") == latest
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#learn").screenshot(path=ARTIFACTS / "learn-laptop.png")
    context.close()
    assert errors == []


def test_a_short_run_finishes_on_a_phone_without_sideways_scrolling(browser, sample_server):
    context, page, errors = open_learn(browser, sample_server, PHONE)
    setup_run(page, 12)
    page.locator("#learn-start").tap()
    expect(page.locator("#learn-status")).to_contain_text("Done", timeout=TIMEOUT)
    assert reports(page) == 4  # steps 0, 4, 8, 12
    expect(page.locator("#learn-maps img")).to_have_count(30)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.locator("#learn").screenshot(path=ARTIFACTS / "learn-phone.png")
    context.close()
    assert errors == []
