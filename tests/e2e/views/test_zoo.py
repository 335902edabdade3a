"""The model zoo on the page: the switcher keeps the digit and re-reads it through another model,
every architecture fact comes from GET /api/models, a deeper conv pixel is one ledger per input
channel, and the Filters view shows any conv layer with its units' top test digits."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Page, expect

from tests.e2e.views.ui import TIMEOUT, click_map_pixel, example, number, settled, shown


def models(api) -> dict:
    return {m["id"]: m for m in api.get("/api/models").json()}


def switch(page: Page, model: str) -> dict:
    """Choose a model in the switcher; the digit on the pad is read again through it."""
    with page.expect_response(
        lambda r: "/api/explore" in r.url and f"model={model}" in r.url and "values=true" in r.url,
        timeout=TIMEOUT,
    ) as answer:
        page.select_option("#model-select", model)
    settled(page)
    return answer.value.json()


def stage(page: Page, name: str) -> None:
    page.locator(f'#stage-tabs label:has(input[value="{name}"])').click()


def test_switching_models_changes_the_maps_and_the_pixel_ledger(laptop: Page, api):
    page = laptop
    zoo = models(api)
    default = next(m for m in zoo.values() if m["default"])
    example(page, 3)
    before = page.locator("#stage-tabs input").evaluate_all("rs => rs.map(r => r.value)")
    assert before == [s["name"] for s in api.post("/api/explore", json={"pixels": [[0] * 28] * 28}, params={"model": default["id"]}).json()["stages"]]
    expect(page.locator("#model-facts")).to_contain_text(default["title"])

    body = switch(page, "book-deep")
    deep = zoo["book-deep"]
    # the same digit, now through the deep network: every map stage of it, in order
    assert page.locator("#stage-tabs input").evaluate_all("rs => rs.map(r => r.value)") == [
        s["name"] for s in body["stages"]
    ]
    assert len(body["stages"]) > len(before)
    expect(page.locator("#pred-source")).to_have_text("from your drawing")
    expect(page.locator("#pred-label")).to_have_text(str(body["label"]))
    expect(page.locator("#model-facts")).to_contain_text(deep["title"])
    expect(page.locator("#model-accuracy")).to_have_text(f"{deep['test_accuracy'] * 100:.2f} %")
    assert "model=book-deep" in page.url

    # a layer-2+ conv pixel: one ledger per input channel, and their total is the server's value
    stage(page, "conv3")
    k = 5
    page.locator(f'#map-grid .map-tile[data-k="{k}"]').click()
    conv3 = next(s for s in body["stages"] if s["name"] == "conv3")
    server = np.array(conv3["maps"][k]["values"])
    i, j = (int(v) for v in np.unravel_index(np.abs(server).argmax(), server.shape))
    click_map_pixel(page, i, j)
    expect(page.locator("#pixel-title")).to_contain_text(f"Filter {k} of conv3, output pixel row {i}, column {j}")
    layer = next(ly for ly in deep["layers"] if ly["name"] == "conv3")
    f = api.get("/api/filters", params={"model": "book-deep", "layer": "conv3"}).json()
    C = f["learned"]["shape"][1]
    assert C > 1
    ledgers = page.locator("#pixel-tables .channel-ledger")
    expect(ledgers).to_have_count(C)
    partials = [number(t) for t in ledgers.locator(".partial").all_text_contents()]
    total = number(page.locator("#pixel-sum").text_content())
    assert abs(sum(partials) - total) < C * 5e-5 + 1e-4
    # the same sum from the previous stage's numbers (zero padding, stride) and the API's filter
    prev = next(s for s in body["stages"] if s["layer"] == layer["index"] - 1)
    x = np.pad(np.array([m["values"] for m in prev["maps"]]), ((0, 0), (layer["pad"],) * 2, (layer["pad"],) * 2))
    s, (fh, fw) = layer["stride"], layer["size"]
    W = np.array(f["learned"]["filters"][k]["weights"])
    mine = float((x[:, i * s : i * s + fh, j * s : j * s + fw] * W).sum())
    assert abs(mine - total) < 2e-4
    value = number(page.locator("#pixel-value").text_content())
    assert abs(total + f["learned"]["filters"][k]["bias"] - value) < 2e-4
    expect(page.locator("#pixel-server")).to_have_text(shown(server[i, j]))
    expect(page.locator("#pixel-check")).to_contain_text("✓")
    # the digit pixels this one depends on: the receptive field the server gives conv3's units
    field = api.get("/api/units", params={"model": "book-deep", "layer": "conv3"}).json()["field"]
    top, left = field["offset"] + i * field["jump"], field["offset"] + j * field["jump"]
    box = [max(top, 0), max(left, 0), min(top + field["size"] - 1, 27), min(left + field["size"] - 1, 27)]
    expect(page.locator("figure.pixel-field")).to_have_attribute("data-box", ",".join(map(str, box)))
    expect(page.locator("#pixel-field-caption")).to_contain_text(f"rows {box[0]}–{box[2]}, columns {box[1]}–{box[3]}")
    # the im2col row is C*FH*FW long and gives the same sum
    expect(page.locator("#im2col-caption")).to_have_text(f"col: {server.size}×{C * fh * fw}")
    assert abs(number(page.locator("#im2col-dot").text_content()) - total) < 2e-4

    # back to the small network: three stages again, one channel
    body = switch(page, default["id"])
    assert page.locator("#stage-tabs input").count() == len(body["stages"]) == len(before)


def test_the_flow_chips_and_the_sections_hold_no_hard_wired_architecture(laptop: Page, api):
    page = laptop
    zoo = models(api)
    page.select_option("#model-select", "book-deep")
    chips = page.locator("#flow li b")
    expect(chips).to_have_count(len(zoo["book-deep"]["layers"]))
    names = chips.all_text_contents()
    assert [n for n in names if n.startswith("conv")] == [f"conv{n}" for n in range(1, 7)]
    expect(page.locator('#flow li[data-name="conv4"]')).to_contain_text("32 filters 3×3, stride 1, pad 2 → 32×16×16")
    expect(page.locator('#flow li[data-name="affine1"]')).to_contain_text("1024 → 50")
    # the size playground offers the chosen model's own layers
    expect(page.locator("#size-presets")).to_contain_text("book-deep conv4")

    # the served HTML of the architecture views names no size, count or setting of its own
    html = api.get("/").text
    for section in ("inside", "filters"):
        text = re.search(rf'<section id="{section}".*?</section>', html, re.S).group(0)
        for fact in ("30", "5×5", "24", "12", "4320", "100", "W1", "stride 1", "pad 0", "SimpleConvNet"):
            assert fact not in text, f"{fact!r} is hard-wired in #{section}"
    header = re.search(r"<header.*?</header>", html, re.S).group(0)
    assert "SimpleConvNet" not in header


def test_filters_of_any_layer_with_their_units_top_patches(laptop: Page, api):
    page = laptop
    zoo = models(api)
    default = next(m for m in zoo.values() if m["default"])
    # the structure figures are stated with a reading that fits them
    f = api.get("/api/filters", params={"model": default["id"]}).json()["structure"]
    expect(page.locator("#neighbour-corr")).to_have_text(f"{f['median_neighbour_correlation']:.2f}")
    reading = page.locator("#filters-structure").text_content()
    if f["median_start_correlation"] is not None and f["median_start_correlation"] >= 0.8:
        assert "still mostly the random noise" in reading
    if f["median_neighbour_correlation"] < 0.25:
        assert "edge" not in (reading + page.locator("#filters-lead").text_content())

    page.select_option("#model-select", "book-deep")
    layers = page.locator("#filter-layers input")
    expect(layers).to_have_count(6)
    assert layers.evaluate_all("rs => rs.map(r => r.value)") == [f"conv{n}" for n in range(1, 7)]
    page.locator('#filter-layers label:has(input[value="conv3"])').click()
    conv3 = api.get("/api/filters", params={"model": "book-deep", "layer": "conv3"}).json()
    FN, C, FH, FW = conv3["learned"]["shape"]
    expect(page.locator("#filters-h")).to_have_text(f"The {FN} filters of conv3 ({C}×{FH}×{FW} each), as published")
    expect(page.locator("#grid-learned .filter-tile")).to_have_count(FN)
    expect(page.locator("#grid-initial")).to_be_hidden()  # the book publishes no start
    expect(page.locator("#start-corr")).to_have_text("unknown")
    expect(page.locator("#filter-channel option")).to_have_count(C)
    # a filter's channels: tap one and its weights are the API's
    page.locator('#grid-learned .filter-tile[data-k="4"]').click()
    expect(page.locator("#filter-detail .channel-tile")).to_have_count(C)
    page.locator('#filter-detail .channel-tile[data-c="9"]').click()
    cells = [number(t) for t in page.locator("#filter-detail table td").all_text_contents()]
    weights = np.array(conv3["learned"]["filters"][4]["weights"][9]).ravel()
    assert np.allclose(cells, weights, atol=5e-3)
    expect(page.locator("#filter-channel")).to_have_value("9")

    # Fig. 7-26: each unit's 9 strongest test digits, the window it sees boxed
    def patches(layer):
        page.locator(f'#filter-layers label:has(input[value="{layer}"])').click()
        expect(page.locator("#units-h")).to_have_text(f"What each {layer} unit responds to most")
        load = page.locator("#units-load")
        if load.count():
            load.click()
        units = api.get("/api/units", params={"model": "book-deep", "layer": layer}).json()
        expect(page.locator("#units-grid .unit")).to_have_count(len(units["units"]))
        expect(page.locator("#units-grid .patch")).to_have_count(9 * len(units["units"]))
        box = page.locator("#units-grid .patch .box").first.evaluate("b => [b.style.width, b.style.height]")
        return units, [float(v.rstrip("%")) for v in box]

    units1, box1 = patches("conv1")
    _, left, _, right = (min(27, max(0, v)) for v in units1["units"][0]["patches"][0]["box"])
    assert abs(box1[0] - (right - left + 1) / 28 * 100) < 1e-3  # % of the 28x28 digit
    units5, box5 = patches("conv5")
    assert units5["field"]["size"] > units1["field"]["size"]
    assert box5[0] > box1[0]  # deeper units see more of the digit


def test_mlp_has_no_maps_and_says_so(laptop: Page, api):
    page = laptop
    example(page, 7)
    body = switch(page, "mlp")
    assert body["stages"] == []
    expect(page.locator("#no-maps")).to_be_visible()
    expect(page.locator("#no-maps")).to_contain_text("no feature maps")
    expect(page.locator("#no-maps")).to_contain_text("784")
    expect(page.locator("#flat-layers figure")).to_have_count(len(body["hidden"]))
    expect(page.locator("#map-grid")).to_be_hidden()
    expect(page.locator("#pixel")).to_be_hidden()
    expect(page.locator("#filters-h")).to_have_text("mlp has no filters")
    expect(page.locator('input[name="kernel"][value="learned"]')).to_be_disabled()
    # the chapter views that need conv or pool layers say why they are empty, and ask nothing
    for view in ("#backward", "#im2col-full", "#batch"):
        expect(page.locator(f"{view} .empty-note")).to_contain_text("mlp has no conv layer")
    expect(page.locator("#pooling .empty-note")).to_contain_text("mlp has no pooling layer")


def test_the_switcher_on_a_phone(phone: Page):
    page = phone
    example(page, 3)
    expect(page.locator("#model-select")).to_be_visible()
    switch(page, "book-deep")
    expect(page.locator("#stage-tabs")).to_be_visible()
    # a layer chip opens its maps
    page.locator('#flow .stage-link[data-stage="conv5"]').click()
    expect(page.locator('#stage-tabs input[value="conv5"]')).to_be_checked()
    expect(page.locator("#map-grid .map-tile")).to_have_count(64)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator('#map-grid .map-tile[data-k="3"]').click()
    click_map_pixel(page, 2, 2)
    expect(page.locator("#pixel-check")).to_contain_text("✓")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
