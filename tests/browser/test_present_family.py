"""Presentation mode on a dual-stack cluster: the trace bar (the instructor's console, the
panel hidden) offers the IP family as the Trace tab does, readable from the back of the
room and without sideways scrolling, and a request sent with IPv4 or IPv6 from it travels in
that family (curl -4 / -6). Screenshots: artifacts/screenshots/present-family-*.png."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_dual_stack import OBJECTS
from tests.browser.test_stage import SIZES, trace_steps

#: The smallest rendered size of the bar's text on a projector (its other controls' size).
MIN_BAR_TEXT_PX = 14


def dual_stack_workspace(base_url: str) -> tuple[str, list[str]]:
    """A dual-stack sandbox with a PreferDualStack Service web; its id and web's ClusterIPs."""
    with httpx.Client(base_url=base_url) as client:
        made = client.post("/api/v1/workspaces", json={"ipFamily": "dual"})
        assert made.status_code == 201, made.text
        workspace = made.json()["id"]
        applied = client.post(
            f"/api/v1/workspaces/{workspace}/apply",
            content=OBJECTS,
            headers={"Content-Type": "application/yaml"},
        )
        assert applied.status_code == 200, applied.text
        spec = client.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()
    return workspace, spec["spec"]["clusterIPs"]


def font_px(page: Page, selector: str) -> float:
    return page.evaluate(
        "(s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize)", selector
    )


def first_request_hop(page: Page) -> dict:
    return next(h for h in trace_steps(page) if h["phase"] == "request")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_presentation_bar_offers_the_family_and_traces_in_it(
    pages, live_server, screenshots_dir: Path, size: str
) -> None:
    workspace, (v4, v6) = dual_stack_workspace(live_server.url)
    width, height = SIZES[size]
    page: Page = pages(viewport={"width": width, "height": height})
    page.goto(f"/w/{workspace}?present=1&from=pod/default/client&to=http://web/")
    expect(page.locator("body")).to_have_class("present")
    bar = page.locator("form.trace-bar")
    family = bar.get_by_label("IP family")
    expect(family).to_be_visible()
    expect(family.locator("option")).to_have_text(
        ["Both, IPv6 first", "IPv4 (curl -4)", "IPv6 (curl -6)"]
    )
    # Readable on a projector, as big as the bar's other controls; nothing runs off the side.
    px = font_px(page, "form.trace-bar .bar-family select")
    assert px >= MIN_BAR_TEXT_PX and px == font_px(page, "form.trace-bar .bar-from select")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    assert bar.evaluate("(form) => form.scrollWidth <= form.clientWidth")
    box = bar.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    for control in ("select[name=from]", "input[name=to]", "select[name=ipFamily]"):
        inner = bar.locator(control).bounding_box()
        assert inner and inner["x"] + inner["width"] <= box["x"] + box["width"] + 1, control

    family.select_option("IPv4")
    bar.get_by_role("button", name="Trace it").click()
    expect(page.locator("#trace-result [data-trace-player]")).to_be_visible()
    assert first_request_hop(page)["packet"]["dst"] == f"{v4}:80"

    family.select_option("IPv6")
    bar.get_by_role("button", name="Trace it").click()
    expect(page.locator("#trace-result")).to_contain_text(f"[{v6}]:80")
    hop = first_request_hop(page)
    assert hop["packet"]["dst"] == f"[{v6}]:80" and ":" in hop["packet"]["src"]
    expect(family).to_have_value("IPv6")  # the bar still says what was sent
    page.screenshot(path=str(screenshots_dir / f"present-family-{size}.png"))
    bar.screenshot(path=str(screenshots_dir / f"present-family-bar-{size}.png"))


def test_a_single_stack_presentation_bar_has_no_family_select(page: Page, live_server) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        workspace = client.post("/api/v1/workspaces", json={}).json()["id"]
    page.goto(f"/w/{workspace}?present=1")
    expect(page.locator("form.trace-bar select[name=from]")).to_be_visible()
    expect(page.locator("form.trace-bar select[name=ipFamily]")).to_have_count(0)


def test_the_sandbox_bar_beside_the_panel_has_it_too_without_overflow(
    pages, live_server, screenshots_dir: Path
) -> None:
    """Out of presentation mode the bar is the same one, with the panel open beside it."""
    workspace, _ips = dual_stack_workspace(live_server.url)
    page: Page = pages(viewport={"width": 1280, "height": 800})
    page.goto(f"/w/{workspace}?from=pod/default/client&to=http://web/")
    bar = page.locator("form.trace-bar")
    expect(bar.get_by_label("IP family")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
    assert bar.evaluate("(form) => form.scrollWidth <= form.clientWidth")
    bar.screenshot(path=str(screenshots_dir / "present-family-sandbox-bar-1280x800.png"))
