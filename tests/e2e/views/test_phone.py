"""On a 390x844 phone: what a tap changes comes into view; the training charts stay legible."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.views.ui import TIMEOUT, in_view, picture, scene, upload


def test_a_photo_control_change_brings_the_responses_into_view(phone: Page):
    page = phone
    upload(page, picture(scene))
    figures = page.locator("#responses figure")
    expect(figures).to_have_count(33, timeout=TIMEOUT)
    box = page.locator('input[name="kernel"][value="gaussian"]')
    box.scroll_into_view_if_needed()
    assert not in_view(page, "#responses")  # the responses are below the fold
    box.tap()
    expect(figures).to_have_count(34, timeout=TIMEOUT)
    page.wait_for_function("document.getElementById('photo').dataset.busy === 'false'")
    assert in_view(page, "#responses")
    # and a way back up
    expect(page.locator(".back-link a")).to_be_visible()


def test_tapping_a_filter_shows_its_weights(phone: Page):
    page = phone
    tile = page.locator('#grid-initial .filter-tile[data-k="12"]')
    tile.evaluate("e => e.scrollIntoView({block: 'center'})")
    assert not in_view(page, "#filter-detail h3")  # the weights are below the fold
    tile.tap()
    expect(page.locator("#filter-detail h3")).to_have_text("Filter 12")
    assert in_view(page, "#filter-detail h3")
