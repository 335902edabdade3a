"""The Filters view's training timeline: the default model's first-layer filters from random
start to learned, with the numbers of GET /api/filters/history on screen."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.e2e.views.ui import TIMEOUT


def goto_filters(page: Page) -> None:
    page.click('nav a[href="#filters"]')
    page.wait_for_selector("#timeline-grid .filter-tile img", timeout=TIMEOUT)


def test_the_timeline_scrubs_from_random_start_to_learned(laptop: Page, api):
    page = laptop
    history = api.get("/api/filters/history", params={"model": "simple"}).json()
    points = history["points"]
    goto_filters(page)
    card = page.locator("#filter-timeline")
    expect(card).to_be_visible()
    expect(page.locator("#timeline-h")).to_contain_text(
        f"{len(points)} snapshots, one every {history['every']} steps"
    )
    # it opens on the learned end, whose figures are the Filters view's own
    last = points[-1]
    expect(page.locator("#timeline-readout")).to_contain_text(f"Step {last['step']} ")
    expect(page.locator("#timeline-readout")).to_contain_text(
        f"neighbour correlation {last['median_neighbour_correlation']:.2f}"
    )
    expect(page.locator("#neighbour-corr")).to_have_text(
        f"{last['median_neighbour_correlation']:.2f}"
    )
    expect(page.locator("#timeline-grid .filter-tile")).to_have_count(30)
    expect(page.locator("#timeline-scale-note")).to_contain_text(
        f"from {points[0]['max_abs_weight']:.3f} at the start to {last['max_abs_weight']:.2f} at step {last['step']}"
    )

    # the random start: the page says noise, and the numbers are the API's
    with page.expect_response(lambda r: "/api/filters/history/0" in r.url) as answer:
        page.locator("#timeline-slider").fill("0")
    frame = answer.value.json()
    first = points[0]
    expect(page.locator("#timeline-readout")).to_contain_text("Step 0")
    expect(page.locator("#timeline-readout")).to_contain_text(
        f"test accuracy {first['test_acc'] * 100:.1f} %"
    )
    expect(page.locator("#timeline-readout")).to_contain_text(
        f"correlation with the start {first['median_start_correlation']:.2f}"
    )
    expect(page.locator("#timeline-reading")).to_contain_text("the filters are noise")
    src = page.locator("#timeline-grid .filter-tile img").first.get_attribute("src")
    assert src == frame["filters"]["filters"][0]["channels"][0]

    # a middle step: its own frame and numbers
    middle = len(points) // 3
    with page.expect_response(lambda r: f"/api/filters/history/{middle}" in r.url):
        page.locator("#timeline-slider").fill(str(middle))
    expect(page.locator("#timeline-readout")).to_contain_text(f"Step {points[middle]['step']} ")
    expect(page.locator("#timeline-readout")).to_contain_text(
        f"neighbour correlation {points[middle]['median_neighbour_correlation']:.2f}"
    )

    # Play runs forward from there and Pause stops it
    page.click("#timeline-play")
    expect(page.locator("#timeline-play")).to_have_attribute("aria-pressed", "true")
    slider = page.locator("#timeline-slider")
    deadline = time.monotonic() + TIMEOUT / 1000  # the page's CSP forbids wait_for_function's eval
    while int(slider.input_value()) <= middle + 2:
        assert time.monotonic() < deadline, "Play did not advance the timeline"
        page.wait_for_timeout(100)
    page.click("#timeline-play")
    expect(page.locator("#timeline-play")).to_have_attribute("aria-pressed", "false")


def test_a_model_without_snapshots_hides_the_timeline(laptop: Page, api):
    zoo = {m["id"]: m for m in api.get("/api/models").json()}
    without = next(m for m in zoo if not zoo[m]["has_filter_history"] and m != "mlp")
    page = laptop
    goto_filters(page)
    page.select_option("#model-select", without)
    expect(page.locator("#filter-timeline")).to_be_hidden()


def test_the_start_correlation_is_read_truthfully_for_a_trained_and_an_untrained_model(laptop: Page, api):
    """deep's conv1 is 0.99 correlated with its start but was trained; untrained's is exactly 1."""
    zoo = {m["id"]: m for m in api.get("/api/models").json()}
    page = laptop
    goto_filters(page)
    for model, says, never in (
        ("deep", "training barely moved this layer", "nothing was trained"),
        ("untrained", "nothing was trained", "barely moved"),
    ):
        if model not in zoo:
            continue
        page.select_option("#model-select", model)
        start = api.get("/api/filters", params={"model": model}).json()["structure"]["median_start_correlation"]
        expect(page.locator("#start-corr")).to_have_text(f"{start:.2f}")
        expect(page.locator("#filters-structure")).to_contain_text(says)
        assert never not in page.locator("#filters-structure").text_content()
