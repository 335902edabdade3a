"""The Variants and Backward views (issue 10): the numbers on screen are the API's."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.views.ui import TIMEOUT, example, shown


@pytest.fixture(autouse=True)
def patient_expect():
    """The cores are shared with training runs: give every expect() the views' timeout."""
    expect.set_options(timeout=TIMEOUT)
    yield
    expect.set_options(timeout=5_000)  # playwright's default, for the other modules


def sci(x: float) -> str:
    """A number as backward.js writes it: toExponential(2) with a real minus sign."""
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", "\u2212")


def _again(api, request) -> dict:
    """The request the page made, sent again by the test: the API's own answer."""
    r = api.post(
        request.url, content=request.post_data, headers={"content-type": "application/json"}
    )
    r.raise_for_status()
    return r.json()


def test_backward_ledger_sums_to_the_engines_gradient_as_the_api_says(laptop: Page, api):
    page = laptop
    with page.expect_response(lambda r: "/api/backward" in r.url, timeout=TIMEOUT) as resp:
        example(page, 3)
    expect(page.locator("#bw-total")).to_be_visible(timeout=TIMEOUT)
    answer = _again(api, resp.value.request)
    assert answer == resp.value.json()
    ledger = answer["ledger"]
    expect(page.locator("#bw-total")).to_have_text(sci(ledger["total"]))
    expect(page.locator("#bw-dx")).to_have_text(sci(ledger["gradient"]))
    rows = page.locator("#bw-ledger tbody tr")
    expect(rows).to_have_count(ledger["windows"])
    for k in (0, ledger["windows"] - 1):
        expect(rows.nth(k).locator("td").nth(2)).to_have_text(sci(ledger["entries"][k]["value"]))
    r, c = ledger["pixel"]
    expect(page.locator("#bw-overlap-note")).to_contain_text(
        f"read by {answer['overlap'][r][c]} of"
    )
    pool = answer["pool"]
    expect(page.locator("#bw-pool-tied")).to_contain_text(
        f"Tied windows in channel {pool['channel']}: {pool['tied_windows']} "
        f"({pool['tied_with_gradient']} with a maximum above 0)"
    )

    # click the pixel (25, 1) of the gradient picture: 3 window rows x 2 window columns read it
    page.locator("#bw-gradient").evaluate("el => el.scrollIntoView({block: 'center'})")
    box = page.locator("#bw-gradient").bounding_box()
    with page.expect_response(lambda r: "/api/backward" in r.url and "row=25" in r.url) as clicked:
        page.mouse.click(box["x"] + 1.5 * box["width"] / 28, box["y"] + 25.5 * box["height"] / 28)
    again = _again(api, clicked.value.request)
    assert again["ledger"]["pixel"] == [25, 1] and again["ledger"]["windows"] == 6
    expect(page.locator("#bw-ledger tbody tr")).to_have_count(6)
    expect(page.locator("#bw-total")).to_have_text(sci(again["ledger"]["total"]))


def test_gradient_check_shows_the_apis_largest_relative_error(laptop: Page, api):
    page = laptop
    example(page, 7)
    expect(page.locator("#bw-check")).to_be_enabled(timeout=TIMEOUT)
    with page.expect_response(lambda r: "/api/gradient-check" in r.url, timeout=TIMEOUT) as resp:
        page.click("#bw-check")
    answer = _again(api, resp.value.request)
    assert answer["max_relative_error"] <= 1e-6, (answer["worst"], answer["target"], answer["loss"])
    expect(page.locator("#bw-max-error")).to_have_text(sci(answer["max_relative_error"]))
    expect(page.locator("#bw-check-table tbody tr")).to_have_count(answer["checked"])
    before = answer["ties_before_jitter"][0]
    expect(page.locator("#bw-ties")).to_contain_text(
        f"{before['tied']} tied of {before['windows']}"
    )


def test_variant_maps_on_the_digit_show_the_apis_shapes_ranges_and_code(laptop: Page, api):
    page = laptop
    example(page, 2)
    form = page.locator("#var-controls")
    expect(form.locator('input[value="digit"]')).to_be_checked(timeout=TIMEOUT)
    form.locator('select[name="kernel"]').select_option("emboss")
    form.locator('input[name="pad"]').fill("2")
    form.locator('input[value="reflect"]').check()
    with page.expect_response(
        lambda r: "/api/convolve" in r.url and "dilation=2" in r.url and "pad=2" in r.url
    ) as resp:
        form.locator('input[name="dilation"]').fill("2")
        form.locator('input[name="dilation"]').dispatch_event("change")
    answer = _again(api, resp.value.request)
    assert answer["padding"] == "reflect" and answer["dilation"] == 2
    m = answer["maps"][0]
    assert m["shape"] == [28, 28]  # (28 + 2*2 - 5) / 1 + 1: a 3x3 filter dilated by 2 covers 5
    fig = page.locator("#var-maps figure")
    expect(fig).to_have_count(1)
    expect(fig.locator(".var-shape")).to_have_text(" 28×28")
    expect(fig.locator(".var-range")).to_have_text(
        f"{shown(m['range'][0])} … {shown(m['range'][1])}"
    )
    expect(page.locator("#var-oh")).to_have_text("28×28")
    expect(page.locator("#var-code-text")).to_have_text(answer["code"]["numpy"])
    body = json.loads(resp.value.request.post_data)
    assert len(body["pixels"]) == 28  # the digit itself, as /api/explore gave it

    with page.expect_response(
        lambda r: "/api/convolve" in r.url and "transposed=true" in r.url
    ) as t:
        form.locator('input[value="zero"]').check()
        form.locator('input[name="transposed"]').check()
    back = _again(api, t.value.request)["transposed_maps"][0]
    figure = page.locator("#var-transposed figure")
    expect(figure).to_have_count(1)
    expect(figure.locator(".var-shape")).to_have_text(" 28×28")
    expect(figure.locator(".var-range")).to_have_text(
        f"{shown(back['range'][0])} … {shown(back['range'][1])}"
    )


def test_depthwise_on_the_rgb_sample_gives_one_map_per_channel(laptop: Page, api):
    page = laptop
    form = page.locator("#var-controls")
    expect(page.locator("#var-maps figure")).to_have_count(1, timeout=TIMEOUT)  # the sample
    with page.expect_response(lambda r: "/api/convolve" in r.url and "groups=3" in r.url) as resp:
        form.locator('input[name="groups"][value="3"]').check()
    answer = _again(api, resp.value.request)
    names = [m["name"] for m in answer["maps"]]
    assert names == ["sobel_x/g0", "sobel_x/g1", "sobel_x/g2"]
    figures = page.locator("#var-maps figure")
    expect(figures).to_have_count(3)
    for k, m in enumerate(answer["maps"]):
        expect(figures.nth(k).locator("b")).to_have_text(m["name"])
        expect(figures.nth(k).locator(".var-range")).to_have_text(
            f"{shown(m['range'][0])} … {shown(m['range'][1])}"
        )


def _kernel(page: Page, api, value: str) -> dict:
    """Choose a kernel in the Variants form; the API's answer to the request the page made."""
    with page.expect_response(
        lambda r: "/api/convolve" in r.url and f"kernels={value.replace(',', '%2C')}&" in r.url
    ) as resp:
        page.locator('#var-controls select[name="kernel"]').select_option(value)
    return _again(api, resp.value.request)


def test_rectangular_and_1x1_kernels_show_the_apis_maps_and_code(laptop: Page, api):
    page = laptop
    expect(page.locator("#var-maps figure")).to_have_count(1, timeout=TIMEOUT)  # the sample
    figures = page.locator("#var-maps figure")

    # 1x5 and 5x1: the window is 1 high and 5 wide (or the other way), so OH and OW differ
    for value, shape in [("diff_1x5", [48, 60]), ("diff_5x1", [44, 64])]:
        answer = _kernel(page, api, value)
        m = answer["maps"][0]
        assert answer["input_shape"] == [3, 48, 64] and m["shape"] == shape
        assert answer["effective_filter"] == ([1, 5] if value == "diff_1x5" else [5, 1])
        expect(figures).to_have_count(1)
        expect(figures.locator("b")).to_have_text(value)
        expect(figures.locator(".var-shape")).to_have_text(f" {shape[0]}×{shape[1]}")
        expect(figures.locator(".var-range")).to_have_text(
            f"{shown(m['range'][0])} … {shown(m['range'][1])}"
        )
        expect(page.locator("#var-oh")).to_have_text(f"{shape[0]}×{shape[1]}")
        fh, fw = answer["effective_filter"]
        expect(page.locator("#var-status")).to_contain_text(
            f"OH = (48 + 2·0 − {fh}) / 1 + 1 → {shape[0]} and OW = (64 + 2·0 − {fw}) / 1 + 1 → "
            f"{shape[1]}"
        )
        expect(page.locator("#var-code-text")).to_have_text(answer["code"]["numpy"])
    expect(page.locator("#var-kernel-note")).to_contain_text("5 rows × 1 column")

    # 1x1 channel mixing: luminance and R - B, each the picture's size
    answer = _kernel(page, api, "luminance,r_minus_b")
    assert [m["name"] for m in answer["maps"]] == ["luminance", "r_minus_b"]
    expect(figures).to_have_count(2)
    for k, m in enumerate(answer["maps"]):
        assert m["shape"] == [48, 64]
        expect(figures.nth(k).locator("b")).to_have_text(m["name"])
        expect(figures.nth(k).locator(".var-range")).to_have_text(
            f"{shown(m['range'][0])} … {shown(m['range'][1])}"
        )
    assert answer["maps"][1]["range"][0] < 0 < answer["maps"][1]["range"][1]  # blue < 0 < red
    expect(page.locator("#var-status")).to_contain_text(
        "1×1: each output pixel is a weighted sum of one input pixel's 3 channels"
    )
    expect(page.locator("#var-input figure")).to_contain_text("input 48×64, RGB")
    page.locator('[data-lang-btn="pytorch"]').click()
    expect(page.locator("#var-code-text")).to_have_text(answer["code"]["pytorch"])
    page.locator('[data-lang-btn="numpy"]').click()

    # a value the form cannot use: the message at the field, nothing derived left on screen
    stride = page.locator('#var-controls input[name="stride"]')
    stride.fill("9")
    stride.dispatch_event("change")
    message = page.locator("#var-stride-error")
    expect(message).to_have_text("Not 9: a whole number, 1 to 4.")
    box, at = stride.bounding_box(), message.bounding_box()
    assert 0 <= at["y"] - (box["y"] + box["height"]) < 20  # right under the field
    for sel in ("#var-maps", "#var-input", "#var-transposed", "#var-code-text"):
        expect(page.locator(sel)).to_be_empty()
    expect(page.locator("#var-code")).to_be_hidden()
    expect(page.locator("#var-status")).to_have_text(
        "Nothing to show until the field marked in red is fixed."
    )
    with page.expect_response(lambda r: "/api/convolve" in r.url and "stride=2" in r.url):
        stride.fill("2")
        stride.dispatch_event("change")
    expect(message).to_be_hidden()
    expect(figures).to_have_count(2)
    expect(page.locator("#var-oh")).to_have_text("24×32")  # 1x1, stride 2: (48 - 1) // 2 + 1


def test_1x1_mixing_on_the_one_channel_digit_is_marked_at_the_kernel(laptop: Page, api):
    page = laptop
    form = page.locator("#var-controls")
    expect(page.locator("#var-maps figure")).to_have_count(1, timeout=TIMEOUT)
    _kernel(page, api, "luminance,r_minus_b")
    example(page, 4)  # the digit becomes the input: one channel, nothing to mix
    expect(form.locator('input[value="digit"]')).to_be_checked(timeout=TIMEOUT)
    expect(page.locator("#var-kernel-error")).to_have_text(
        "1×1 channel mixing needs the 3 channels of the RGB sample; your digit has 1. "
        "Choose the RGB sample above."
    )
    expect(page.locator("#var-maps")).to_be_empty()
    expect(page.locator("#var-code")).to_be_hidden()
    r = api.post("/api/convolve?kernels=luminance,r_minus_b", json={"pixels": [[0.0] * 28] * 28})
    assert r.status_code == 422 and "mode=rgb" in r.json()["detail"]  # the API refuses it too
    with page.expect_response(lambda r: "/api/convolve" in r.url and "mode=rgb" in r.url):
        form.locator('input[value="photo"]').check()
    expect(page.locator("#var-kernel-error")).to_be_hidden()
    expect(page.locator("#var-maps figure")).to_have_count(2)


def test_pooling_window_and_shift_show_the_apis_numbers(laptop: Page, api):
    page = laptop
    with page.expect_response(lambda r: "/api/pooling" in r.url, timeout=TIMEOUT):
        example(page, 7)
    page.locator("#pool-output").evaluate("el => el.scrollIntoView({block: 'center'})")
    box = page.locator("#pool-output").bounding_box()
    with page.expect_response(lambda r: "/api/pooling" in r.url and "row=3" in r.url) as resp:
        page.mouse.click(box["x"] + 5.5 * box["width"] / 12, box["y"] + 3.5 * box["height"] / 12)
    answer = _again(api, resp.value.request)
    assert answer["pixel"] == [3, 5]
    rows = page.locator("#pool-windows tbody tr")
    expect(rows).to_have_count(len(answer["windows"]))
    for k in (0, len(answer["windows"]) - 1):
        w = answer["windows"][k]
        expect(rows.nth(k).locator("td").nth(2)).to_have_text(shown(w["result"]))
        expect(rows.nth(k).locator("td").nth(4)).to_have_text("tied" if w["tied"] else "")
    with page.expect_response(lambda r: "/api/pooling" in r.url) as shifted:
        page.check("#pool-shift")
    s = _again(api, shifted.value.request)["shift"]
    expect(page.locator("#pool-same")).to_contain_text(f"{s['same_pooled']} of {s['lit_pooled']}")
    expect(page.locator("#pool-same-before")).to_contain_text(
        f"{s['same_before_pooling']} of {s['lit_before_pooling']}"
    )


def test_sliding_window_step_is_the_im2col_row_and_the_apis_output(laptop: Page, api):
    page = laptop
    with page.expect_response(lambda r: "/api/im2col" in r.url, timeout=TIMEOUT) as resp:
        example(page, 4)
    answer = _again(api, resp.value.request)
    expect(page.locator("#i2c-sum")).to_be_visible(timeout=TIMEOUT)
    page.locator("#i2c-step").evaluate(
        "(el) => { el.value = 300; el.dispatchEvent(new Event('input')); }"
    )
    ow = answer["output_shape"][1]
    value = answer["output"][300 // ow][300 % ow]
    expect(page.locator("#i2c-api")).to_have_text(shown(value))
    expect(page.locator("#i2c-sum")).to_have_text(shown(value))  # the page's own sum agrees
    expect(page.locator("#i2c-col tr.current th")).to_have_text("300")
    page.locator('#i2c-col tr[data-t="17"]').click()
    expect(page.locator("#i2c-api")).to_have_text(shown(answer["output"][0][17]))
    with page.expect_response(lambda r: "/api/im2col" in r.url and "stride=2" in r.url) as again:
        page.fill('#i2c-controls input[name="stride"]', "2")
        page.locator('#i2c-controls input[name="stride"]').dispatch_event("change")
    strided = _again(api, again.value.request)
    assert strided["output_shape"] == [12, 12]
    expect(page.locator("#i2c-status")).to_contain_text("→ 12×12")


def test_a_batch_of_the_digits_read_shows_the_apis_shapes(laptop: Page, api):
    page = laptop
    example(page, 3)
    two = lambda r: "/api/batch" in r.url and r.request.post_data.count("]],[[") == 1  # noqa: E731
    with page.expect_response(two, timeout=TIMEOUT) as resp:
        example(page, 7)
    # expect, not a string wait_for_function: the page's CSP forbids eval
    expect(page.locator("#batch-items figure")).to_have_count(2)
    answer = _again(api, resp.value.request)
    assert answer["n"] == 2 and answer["equals_engine"] and answer["equals_one_by_one"]
    rows, taps = answer["col_shape"]
    expect(page.locator("#batch-col")).to_have_text(f"{rows}×{taps}")
    expect(page.locator("#batch-product")).to_have_text("×".join(map(str, answer["product_shape"])))
    expect(page.locator("#batch-output")).to_have_text(
        f"({', '.join(map(str, answer['output_shape']))})"
    )
    blocks = page.locator("#batch-blocks .batch-block")
    expect(blocks).to_have_count(2)
    second = answer["items"][1]["rows"]
    expect(blocks.nth(1)).to_have_text(f"digit 1: rows {second[0]}…{second[1] - 1}")


def test_3d_convolution_partial_sums_total_and_bias_are_the_apis(laptop: Page, api):
    page = laptop
    with page.expect_response(lambda r: "/api/conv3d" in r.url, timeout=TIMEOUT) as resp:
        page.locator("#conv3d").scroll_into_view_if_needed()
    expect(page.locator("#c3-engine")).to_be_visible(timeout=TIMEOUT)
    answer = _again(api, resp.value.request)
    assert answer["bias_shape"] == [3, 1, 1] and answer["output_shape"][0] == 3
    partials = page.locator(".c3-partial")
    expect(partials).to_have_count(3)
    for k, t in enumerate(answer["channels"]):
        expect(partials.nth(k)).to_have_text(shown(t["partial"]))
    expect(page.locator("#c3-total")).to_have_text(shown(answer["total"]))
    expect(page.locator("#c3-value")).to_have_text(shown(answer["value"]))
    expect(page.locator("#c3-engine")).to_have_text(shown(answer["engine_value"]))
    assert (
        answer["value"] == answer["engine_value"]
        or abs(answer["value"] - answer["engine_value"]) < 1e-4
    )
    img = page.locator('#c3-maps figure[data-f="0"] img')
    box = img.bounding_box()
    with page.expect_response(lambda r: "/api/conv3d" in r.url and "filter=0" in r.url) as clicked:
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    again = _again(api, clicked.value.request)
    assert again["filter"] == 0
    expect(page.locator("#c3-value")).to_have_text(shown(again["value"]))
