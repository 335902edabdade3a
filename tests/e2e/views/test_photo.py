"""The Photo view: one colour rule for every response map, stated once; the maps' ranges."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.views.ui import TIMEOUT, number, picture, scene, upload


def test_one_scale_rule_stated_once_and_identity_looks_like_the_picture(laptop: Page, api):
    page = laptop
    page.check('input[name="kernel"][value="identity"]')
    page.check('input[name="kernel"][value="gaussian"]')
    upload(page, picture(scene))
    figures = page.locator("#responses figure")
    expect(figures).to_have_count(35, timeout=TIMEOUT)  # 30 learned + 5 classic
    # one legend for the whole response, saying how every map is scaled
    legend = page.locator("#responses-legend .legend")
    expect(legend).to_have_count(1)
    expect(legend).to_contain_text("its own minimum (black) to its own maximum (white)")
    # the identity kernel shows the picture in gray, not in a false-colour scheme
    identity = figures.filter(has_text="identity")
    grayness = identity.locator("img").evaluate(
        """img => {
          const c = document.createElement('canvas');
          c.width = img.naturalWidth; c.height = img.naturalHeight;
          const ctx = c.getContext('2d');
          ctx.drawImage(img, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let off = 0;
          for (let i = 0; i < d.length; i += 4)
            off = Math.max(off, Math.abs(d[i] - d[i + 1]), Math.abs(d[i + 1] - d[i + 2]));
          return off;
        }"""
    )
    assert grayness == 0
    # captions give each map's min … max, as the API computes them
    body = api.post(
        "/api/convolve",
        params={"kernels": "gaussian", "max_side": 256},
        files={"file": ("scene.png", picture(scene), "image/png")},
    ).json()
    low, high = body["maps"][0]["range"]
    assert 0.2 < low < high  # a blur of a light picture: the range does not start at 0
    caption = figures.filter(has_text="gaussian").locator(".range").text_content()
    shown = [number(t) for t in caption.split("…")]
    assert shown == [round(low, 2), round(high, 2)]


def test_floor_taken_is_said_once(laptop: Page):
    page = laptop
    upload(page, picture(scene))
    expect(page.locator("#responses figure")).to_have_count(33, timeout=TIMEOUT)
    expect(page.locator("#photo-floor")).to_be_hidden()
    page.fill("#stride", "2")  # (120 - 3) / 2 and (120 - 5) / 2 are not whole numbers
    sobel = page.locator("#responses figure").filter(has_text="sobel x")
    expect(sobel).to_contain_text("59×79", timeout=TIMEOUT)
    expect(page.locator("#responses")).not_to_contain_text("floor")
    floor = page.locator("#photo-floor")
    expect(floor).to_have_count(1)
    expect(floor).to_contain_text("Floor taken for every kernel")


def test_stride_and_pad_are_checked_in_the_form(laptop: Page):
    page = laptop
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/convolve" in r.url else None)
    upload(page, picture(scene))
    expect(page.locator("#responses figure")).to_have_count(33, timeout=TIMEOUT)
    for field, value in [("#stride", "0"), ("#stride", "1.5"), ("#pad-photo", "-1")]:
        page.fill(field, value)
        message = page.locator(f"{field}-error")
        expect(message).to_be_visible()
        expect(message).to_contain_text(f"{value} is not")
        box, at = page.locator(field).bounding_box(), message.bounding_box()
        assert abs(at["y"] - (box["y"] + box["height"])) < 60  # at the field, not far away
        expect(page.locator("#photo-error")).to_be_hidden()
        page.fill(field, "1" if field == "#stride" else "0")
        expect(message).to_be_hidden()
    with page.expect_response(lambda r: "/api/convolve" in r.url and "stride=2" in r.url):
        page.fill("#stride", "2")
    expect(page.locator("#responses")).not_to_have_class("stale")
    for url in sent:
        assert "stride=0" not in url and "stride=1.5" not in url and "pad=-1" not in url
