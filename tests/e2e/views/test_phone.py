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


def test_training_charts_keep_titles_off_the_ticks_and_show_0_and_100(phone: Page):
    page = phone
    for chart, ends in (("#chart-loss", ["0"]), ("#chart-acc", ["0 %", "100 %"])):
        svg = page.locator(f"{chart} svg.chart")
        expect(svg).to_be_visible(timeout=TIMEOUT)
        svg.scroll_into_view_if_needed()
        overlaps = svg.evaluate(
            """svg => {
              const box = (e) => e.getBoundingClientRect();
              const hit = (a, b) => a.left < b.right && b.left < a.right
                                    && a.top < b.bottom && b.top < a.bottom;
              const texts = [...svg.querySelectorAll('text')];
              const titles = texts.filter((t) => t.classList.contains('axis-label'));
              const ticks = texts.filter((t) => !t.classList.contains('axis-label'));
              return titles.flatMap((t) => ticks.filter((k) => hit(box(t), box(k)))
                                                .map((k) => `${t.textContent} / ${k.textContent}`));
            }"""
        )
        assert overlaps == []
        ticks = svg.locator("text.y-tick").all_text_contents()
        for end in ends:
            assert end in ticks
