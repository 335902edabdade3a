"""The OpenAPI page works offline and under the same strict CSP as the explorer."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_docs_page_lists_every_route_without_console_errors(page: Page, live_server, api):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((live_server, "data:")) else None,
    )
    response = page.goto(live_server + "/docs")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    paths = set(api.get("/openapi.json").json()["paths"])
    shown = set(page.locator(".opblock-summary-path").all_text_contents())
    shown = {p.replace("\u200b", "") for p in shown}
    assert paths <= shown, paths - shown
    assert problems == []
    assert outside == []  # nothing fetched from a CDN
