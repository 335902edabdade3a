"""The output-size playground: input it cannot use clears everything derived from it, and with
dilation and the transposed convolution its numbers are the API's."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.views.ui import TIMEOUT

FIELDS = ["H", "W", "FH", "FW", "P", "S", "D"]


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
        ("S", "0", "Not 0: a whole number, 1 to 10000."),
        ("P", "-1", "Not -1: a whole number, 0 to 10000."),
        ("H", "", "Needed: a whole number, 1 to 100000."),
        ("D", "0", "Not 0: a whole number, 1 to 1000."),
    ]:
        page.fill(f"#ps-{field}", value)
        message = page.locator(f"#ps-{field}-error")
        expect(message).to_have_text(says)
        # the message is at the field: right under it
        box, at = page.locator(f"#ps-{field}").bounding_box(), message.bounding_box()
        assert 0 <= at["y"] - (box["y"] + box["height"]) < 20
        nothing_derived(page)
        page.fill(f"#ps-{field}", {"S": "1", "P": "0", "H": "28", "D": "1"}[field])
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


def fill(page: Page, values: dict) -> None:
    """Set the form as a user would: type each number, tick or untick transposed."""
    if "transposed" in values:
        page.locator("#ps-transposed").set_checked(values["transposed"])
    for k, v in values.items():
        if k != "transposed":
            page.fill(f"#ps-{k}", str(v))


def the_apis(api, values: dict):
    """GET /api/conv-output-size for the same values, as a script would send them."""
    q = {k: values[k] for k in FIELDS}
    if values.get("transposed"):
        q |= {"transposed": "true", "output_padding": values["op"]}
    return api.get("/api/conv-output-size", params=q)


def shows_the_apis_numbers(page: Page, api, values: dict) -> dict:
    r = the_apis(api, values)
    assert r.status_code == 200, r.text
    got = r.json()
    expect(page.locator("#size-OH")).to_have_text(f" OH = {got['OH']}")
    expect(page.locator("#size-OW")).to_have_text(f" OW = {got['OW']}")
    expect(page.locator("#size-server-value")).to_have_text(
        f"{got['OH']} × {got['OW']}", timeout=TIMEOUT
    )
    expect(page.locator("#size-server")).to_contain_text("✓ same as above")
    return got


def test_dilation_and_transposed_show_the_formula_in_use_and_the_apis_numbers(laptop: Page, api):
    page = laptop
    seen = asked(page)
    expect(page.locator("#size-server-value")).to_have_text("24 × 24", timeout=TIMEOUT)
    expect(page.locator("#ps-op")).to_be_disabled()  # output_padding is the transposed one's

    # dilation: a 3x5 filter with taps 2 apart covers 5x9 pixels of a 30x26 padded input
    forward = {"H": 28, "W": 24, "FH": 3, "FW": 5, "P": 1, "S": 2, "D": 2}
    fill(page, forward)
    got = shows_the_apis_numbers(page, api, forward)
    assert (got["OH"], got["OW"]) == (13, 9)  # (30 - 5) // 2 + 1, (26 - 9) // 2 + 1
    expect(page.locator("#size-rule")).to_contain_text("OH = ⌊(H + 2P − D·(FH − 1) − 1) / S⌋ + 1")
    work = page.locator("#size-work")
    expect(work).to_contain_text("OH = (28 + 2·1 − 2·(3 − 1) − 1) / 2 + 1 = 25 / 2 + 1 = 13.5")
    expect(work).to_contain_text("not an integer → floor 13")
    expect(work).to_contain_text("OW = (24 + 2·1 − 2·(5 − 1) − 1) / 2 + 1 = 17 / 2 + 1 = 9.5")
    expect(page.locator("#size-window-label")).to_have_text(
        "window 1 of 117: output (0, 0) reads rows 0, 2, 4, columns 0, 2, 4, 6, 8 of the padded input"
    )
    expect(page.locator("#size")).to_have_attribute("data-exact", "false")

    # transposed: 4x4 -> 8x8 with stride 2, pad 1, output_padding 1 (the book's 7x7 case and one)
    back = {"H": 4, "W": 4, "FH": 3, "FW": 3, "P": 1, "S": 2, "D": 1, "transposed": True, "op": 1}
    fill(page, back)
    expect(page.locator("#ps-op")).to_be_enabled()
    got = shows_the_apis_numbers(page, api, back)
    assert (got["OH"], got["OW"]) == (8, 8)
    expect(page.locator("#size-rule")).to_contain_text("OH = (H − 1)·S − 2P + D·(FH − 1) + op + 1")
    expect(work).to_contain_text("OH = (4 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 8")
    expect(page.locator("#size-window-title")).to_have_text("Input pixel")
    expect(page.locator("#size-window-label")).to_contain_text("input pixel 1 of 16: (0, 0)")
    expect(page.locator("#size-picture-note")).to_contain_text("White = the 8×8 output")
    expect(page.locator("#size-canvas")).to_be_visible()
    assert seen[-1]["transposed"] == "true" and seen[-1]["output_padding"] == "1"

    # PyTorch's rule: output_padding below S or below D; with S = 1, D = 3 it may be 2
    dilated = back | {"S": 1, "D": 3, "op": 2}
    fill(page, dilated)
    got = shows_the_apis_numbers(page, api, dilated)
    assert (got["OH"], got["OW"]) == (10, 10)  # 3 - 2 + 3*2 + 2 + 1
    expect(work).to_contain_text("OH = (4 − 1)·1 − 2·1 + 3·(3 − 1) + 2 + 1 = 10")


@pytest.mark.parametrize(
    "values, field, says",
    [
        # forward: the dilated filter covers more than the padded input
        (
            {"H": 8, "FH": 3, "D": 4},
            "FH",
            "Not 3: the filter (3) with its taps 4 apart covers 9 pixels, more than the padded "
            "input (8 + 2·0 = 8).",
        ),
        (
            {"W": 4, "FW": 6},
            "FW",
            "Not 6: the filter (6) is larger than the padded input (4 + 2·0 = 4).",
        ),
        # transposed: output_padding neither below S nor below D; a padding that leaves nothing
        (
            {"transposed": True, "S": 2, "D": 2, "op": 2},
            "op",
            "Not 2: output_padding 2 must be below S = 2 or below D = 2.",
        ),
        (
            {"transposed": True, "H": 2, "W": 2, "FH": 3, "FW": 3, "S": 2, "P": 3},
            "P",
            "Not 3: the padding P = 3 cuts away the whole output (−1 left).",
        ),
    ],
)
def test_what_the_api_refuses_the_page_marks_at_the_field(laptop: Page, api, values, field, says):
    page = laptop
    expect(page.locator("#size-server-value")).to_have_text("24 × 24", timeout=TIMEOUT)
    all_values = {"H": 28, "W": 28, "FH": 5, "FW": 5, "P": 0, "S": 1, "D": 1, "op": 0} | values
    seen = asked(page)
    fill(page, values)
    message = page.locator(f"#ps-{field}-error")
    expect(message).to_have_text(says.replace("−1", "−1"))
    expect(page.locator(f"#ps-{field}")).to_have_attribute("aria-invalid", "true")
    nothing_derived(page)
    r = the_apis(api, all_values)  # the same question, asked by a script: refused too
    assert r.status_code == 422, r.text
    page.wait_for_timeout(400)  # past the page's debounce: it never asked this question
    final = {k: str(all_values[k]) for k in FIELDS}
    if all_values.get("transposed"):
        final |= {"transposed": "true", "output_padding": str(all_values["op"])}
    assert final not in seen
