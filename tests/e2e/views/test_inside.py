"""The Inside view: the maps' colour scale, and what stands behind a pixel of each stage."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page, expect

from tests.e2e.views.ui import click_map_pixel, example, in_view, number, shown


def explore_three(page: Page) -> dict:
    with page.expect_response(lambda r: "values=true" in r.url) as answer:
        example(page, 3)
    return answer.value.json()


def stage(page: Page, name: str) -> None:
    page.locator(f'#stage-tabs label:has(input[value="{name}"])').click()


def test_conv_legend_gives_each_sign_its_own_end(laptop: Page):
    page = laptop
    conv = explore_three(page)["stages"][0]
    ticks = page.locator("#stage-legend .legend-ticks span").all_text_contents()
    assert [number(t) for t in ticks] == [round(conv["min"], 2), 0, round(conv["max"], 2)]
    assert conv["min"] != -conv["max"]  # not a symmetric ±max scale
    expect(page.locator("#stage-legend")).to_contain_text("Each sign has its own end")
    stage(page, "relu1")
    ticks = page.locator("#stage-legend .legend-ticks span").all_text_contents()
    assert [number(t) for t in ticks] == [0, round(conv["max"], 2)]


def test_a_relu_pixel_is_max_of_0_and_its_conv_value(laptop: Page):
    page = laptop
    body = explore_three(page)
    conv = np.array(body["stages"][0]["maps"][5]["values"])
    page.locator('#map-grid .map-tile[data-k="5"]').click()
    stage(page, "relu1")
    explain = page.locator("#pixel-explain")
    for i, j in (np.argwhere(conv < -0.1)[0], np.argwhere(conv > 0.1)[0]):
        click_map_pixel(page, i, j)
        expect(explain).to_contain_text(f"ReLU pixel ({i}, {j}) = max(0, conv value)")
        expect(explain).to_contain_text(
            f"max(0, {shown(conv[i, j])}) = {shown(max(0.0, conv[i, j]))}"
        )
        assert in_view(page, "#pixel-explain")  # at 1280x800 it comes into view
    # the sum below is the one of the conv pixel behind it
    expect(page.locator("#pixel-title")).to_contain_text(f"row {i}, column {j}")


def test_a_pool_pixel_shows_its_window_the_winner_and_ties(laptop: Page):
    page = laptop
    body = explore_three(page)
    relu = np.array(body["stages"][1]["maps"][5]["values"])
    pool = np.array(body["stages"][2]["maps"][5]["values"])
    windows = relu.reshape(12, 2, 12, 2).transpose(0, 2, 1, 3).reshape(12, 12, 4)
    assert (windows.max(axis=2) == pool).all()
    page.locator('#map-grid .map-tile[data-k="5"]').click()
    stage(page, "pool1")
    explain = page.locator("#pixel-explain")

    ties = (windows == windows.max(axis=2, keepdims=True)).sum(axis=2)
    one = np.argwhere((ties == 1) & (pool > 0.1))[0]
    click_map_pixel(page, *one)
    window = windows[tuple(one)]
    expect(explain).to_contain_text(f"Pool pixel ({one[0]}, {one[1]}) = the largest of its 2×2")
    assert explain.locator("td").all_text_contents() == [shown(v) for v in window]
    expect(explain.locator("td.winner")).to_have_text(shown(window.max()))
    expect(explain).to_contain_text("keeps the largest value")
    assert in_view(page, "#pixel-explain")
    # the sum below is the winner's
    a, b = divmod(int(window.argmax()), 2)
    expect(page.locator("#pixel-title")).to_contain_text(
        f"row {2 * one[0] + a}, column {2 * one[1] + b}"
    )

    tied = np.argwhere(ties == 4)[0]  # background: ReLU made all four 0
    click_map_pixel(page, *tied)
    expect(explain).to_contain_text("4 values tie at 0.0000")
    expect(explain.locator("td.winner")).to_have_count(1)
    assert explain.locator("td").nth(0).get_attribute("class") == "winner"  # first in order


def test_the_check_compares_at_the_precision_it_shows(laptop: Page, api):
    page = laptop
    body = explore_three(page)
    k = 5
    f = api.get("/api/filters").json()["learned"]["filters"][k]
    x, W = np.array(body["input"]["pixels"]), f["weights"][0]  # its one input channel
    server = np.array(body["stages"][0]["maps"][k]["values"])

    def page_sum(i, j):  # the page's own sum, in its order
        total = 0.0
        for a in range(5):
            for b in range(5):
                total += x[i + a, j + b] * W[a][b]
        return total + f["bias"]

    same = differ = None
    for i, j in np.ndindex(24, 24):
        mine, theirs = shown(page_sum(i, j)), shown(server[i, j])
        # a value well away from 0 (half the map's largest), whatever the default model's scale
        if mine == theirs and same is None and abs(server[i, j]) > 0.5 * np.abs(server).max():
            same = (i, j)
        if mine != theirs and differ is None:
            differ = (i, j)
    assert same and differ  # both happen: the page works from numbers rounded for sending
    page.locator(f'#map-grid .map-tile[data-k="{k}"]').click()
    check = page.locator("#pixel-check")
    click_map_pixel(page, *same)
    expect(check).to_contain_text("✓ the same")
    assert page.locator("#pixel-value").text_content() == check.locator("b").text_content()

    click_map_pixel(page, *differ)
    expect(page.locator("#pixel-title")).to_contain_text(f"row {differ[0]}, column {differ[1]}")
    mine = number(page.locator("#pixel-value").text_content())
    theirs = number(check.locator("b").text_content())
    assert mine != theirs
    expect(check).not_to_contain_text("same")
    expect(check).not_to_contain_text("agrees")
    expect(check).to_contain_text(f"{abs(mine - theirs):.4f} apart")
