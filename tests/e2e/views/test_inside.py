"""The Inside view: the maps' colour scale, and the computation behind a pixel of each stage."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.views.ui import example, number


def test_conv_legend_gives_each_sign_its_own_end(laptop: Page, api):
    page = laptop
    with page.expect_response(lambda r: "values=true" in r.url) as answer:
        example(page, 3)
    conv = answer.value.json()["stages"][0]
    ticks = page.locator("#stage-legend .legend-ticks span").all_text_contents()
    assert [number(t) for t in ticks] == [round(conv["min"], 2), 0, round(conv["max"], 2)]
    assert conv["min"] != -conv["max"]  # not a symmetric ±max scale
    expect(page.locator("#stage-legend")).to_contain_text("Each sign has its own end")
    page.locator('label:has(input[value="relu"])').click()
    ticks = page.locator("#stage-legend .legend-ticks span").all_text_contents()
    assert [number(t) for t in ticks] == [0, round(conv["max"], 2)]
