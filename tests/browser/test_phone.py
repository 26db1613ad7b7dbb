"""The workspace page on a phone (390x844, touch): students follow a class from their phones.

One column and no sideways scrolling, in the order a student follows: the lesson's step, the
map, the current hop with its packet headers, then the trace bar, the panel's tabs and the
head's tools. The map's camera (static/js/map.js) shows a window of the drawing (its viewBox)
where pod names and IPs render at 11 px or more, following the packet hop by hop; "Whole map"
shows all of it and a tap zooms back in there. At 1280x800 the page is laid out as before.
Screenshots go to artifacts/screenshots/phone-*.png.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.scenario import WEB

PHONE = {"width": 390, "height": 844}
MIN_TEXT_PX = 11


@pytest.fixture
def phone(pages) -> Page:
    """A page on a phone-sized touch screen, checked as every page is (conftest's ``pages``)."""
    return pages(viewport=PHONE, is_mobile=True, has_touch=True)


def new_workspace(base_url: str, lesson: str | None = None) -> str:
    with httpx.Client(base_url=base_url) as client:
        workspace = client.post("/api/v1/workspaces", json={"seed": 7}).json()["id"]
        if lesson:
            started = client.post(f"/api/v1/workspaces/{workspace}/lessons/{lesson}/start")
            assert started.status_code < 300, started.text
        else:
            applied = client.post(
                f"/api/v1/workspaces/{workspace}/apply",
                content=WEB,
                headers={"Content-Type": "application/yaml"},
            )
            assert applied.status_code == 200, applied.text
    return workspace


def assert_no_sideways_scroll(page: Page) -> None:
    """The page is no wider than the screen, and nothing sticks out of it unclipped (an
    element inside a box that clips or scrolls its overflow, the map's SVG included, is fine)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"
    sticking_out = page.evaluate(
        """(limit) => {
          const clipped = (e) => {
            for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
              if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= limit + 1) return true;
            }
            return false;
          };
          return [...document.body.querySelectorAll('*')]
            .filter((e) => !e.closest('svg') || e.matches('svg'))
            .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > limit + 1; })
            .filter((e) => !clipped(e))
            .map((e) => `${e.tagName.toLowerCase()}.${e.getAttribute('class')} ends at ${Math.round(e.getBoundingClientRect().right)}`);
        }""",
        PHONE["width"],
    )
    assert not sticking_out, sticking_out


def tops(page: Page, parts: dict[str, str]) -> list[tuple[str, float]]:
    """Each visible part's top edge, in page order; fails when a part is not on the page."""
    found = []
    for name, selector in parts.items():
        box = page.locator(selector).first.bounding_box()
        assert box is not None, f"{name} ({selector}) is not shown"
        assert box["x"] >= -1 and box["x"] + box["width"] <= PHONE["width"] + 1, (name, box)
        found.append((name, box["y"]))
    return found


def assert_stacked(page: Page, parts: dict[str, str]) -> None:
    found = tops(page, parts)
    order = [name for name, _ in sorted(found, key=lambda item: item[1])]
    assert order == list(parts), f"stacked as {found}"


def map_text(page: Page) -> dict:
    """The map's viewBox, the drawing's size, and the rendered height of every pod name and
    pod IP drawn wholly inside the part of the map on screen."""
    return page.evaluate(
        """() => {
          const svg = document.querySelector('#map-area svg.cluster-map');
          const frame = svg.getBoundingClientRect();
          const texts = [...svg.querySelectorAll('text.pod-name, text.pod-ip')].filter((t) => {
            const r = t.getBoundingClientRect();
            return r.width > 0 && r.left >= frame.left - 1 && r.right <= frame.right + 1
              && r.top >= frame.top - 1 && r.bottom <= frame.bottom + 1;
          });
          const vb = svg.viewBox.baseVal;
          return {
            viewBox: [vb.x, vb.y, vb.width, vb.height],
            drawing: [Number(svg.getAttribute('width')), Number(svg.getAttribute('height'))],
            frame: [frame.left, frame.top, frame.width, frame.height],
            names: texts.filter((t) => t.matches('.pod-name')).map((t) => [t.textContent.trim(), t.getBoundingClientRect().height]),
            ips: texts.filter((t) => t.matches('.pod-ip')).map((t) => [t.textContent.trim(), t.getBoundingClientRect().height]),
          };
        }"""
    )


def assert_readable_map(page: Page) -> dict:
    seen = map_text(page)
    assert seen["viewBox"][2] < seen["drawing"][0] * 0.6, f"the map is not zoomed in: {seen}"
    assert seen["frame"][2] <= PHONE["width"], seen
    assert seen["names"] and seen["ips"], f"no pod on screen: {seen}"
    for text, px in seen["names"] + seen["ips"]:
        assert px >= MIN_TEXT_PX, f"{text!r} is {px:.1f} px tall on screen: {seen}"
    return seen


def centre_in_view(page: Page, selector: str) -> None:
    """The element's centre is inside the viewBox (in the drawing's units) and on screen."""
    inside = page.evaluate(
        """(selector) => {
          const svg = document.querySelector('#map-area svg.cluster-map');
          const el = svg.querySelector(selector);
          const shape = el.querySelector('rect') || el;
          const b = shape.getBBox();
          const [x, y] = [b.x + b.width / 2, b.y + b.height / 2];
          const v = svg.viewBox.baseVal;
          return x >= v.x && x <= v.x + v.width && y >= v.y && y <= v.y + v.height;
        }""",
        selector,
    )
    assert inside, f"{selector} is outside the map's view"


def shoot(page: Page, screenshots_dir: Path, name: str) -> None:
    page.screenshot(path=screenshots_dir / f"phone-{name}.png")
    page.screenshot(path=screenshots_dir / f"phone-{name}-full.png", full_page=True)


def test_the_sandbox_on_a_phone(phone: Page, live_server, screenshots_dir: Path) -> None:
    page = phone
    page.goto(f"/w/{new_workspace(live_server.url)}")
    expect(page.locator("#map-area .map-whole")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert_stacked(
        page,
        {
            "the map": "#map-area",
            "the trace bar": "form.trace-bar",
            "the panel's tabs": "#panel .tabs",
            "the head": "#sandbox-head",
        },
    )
    # With no trace the map shows the first worker, readable.
    assert_readable_map(page)
    centre_in_view(page, '[data-kind="Node"][data-name="worker-1"]')
    shoot(page, screenshots_dir, "sandbox")

    # The map takes no gesture for itself: scrolling over it scrolls the page (its view stays),
    # and the page can be pinch-zoomed.
    view = map_text(page)["viewBox"]
    frame = page.locator("#map-area .map-viewport").bounding_box()
    assert frame
    page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    page.mouse.wheel(0, 300)
    page.wait_for_timeout(400)
    assert page.evaluate("window.scrollY") > 100
    assert map_text(page)["viewBox"] == view
    assert page.evaluate(
        "['#map-area', '#map-area .map-viewport', 'svg.cluster-map']"
        ".every((s) => getComputedStyle(document.querySelector(s)).touchAction === 'auto')"
    )
    zoom = page.locator('meta[name="viewport"]').get_attribute("content") or ""
    assert "user-scalable" not in zoom and "maximum-scale" not in zoom, zoom
    page.evaluate("window.scrollTo(0, 0)")

    # The whole map, then a tap on worker-2 zooms in there (and opens nothing).
    whole = page.locator("#map-area .map-whole")
    whole.tap()
    expect(whole).to_have_attribute("aria-pressed", "true")
    seen = map_text(page)
    assert seen["viewBox"] == [0, 0, *seen["drawing"]], seen
    assert_no_sideways_scroll(page)
    page.locator('svg.cluster-map [data-name="worker-2"] .node-box').tap()
    expect(whole).to_have_attribute("aria-pressed", "false")
    assert_readable_map(page)
    centre_in_view(page, '[data-kind="Node"][data-name="worker-2"]')
    expect(page.locator("#panel")).not_to_contain_text("Node worker-2")
    # A pod reached with the keyboard comes into view.
    page.locator('svg.cluster-map [data-kind="Pod"][data-name="client"]').focus()
    page.wait_for_timeout(500)
    centre_in_view(page, '[data-kind="Pod"][data-name="client"]')

    # The panel is folded to its tabs; a tab opens it, and it fits the screen.
    expect(page.locator("#panel .tabs")).to_be_visible()
    expect(page.locator("#panel .build-forms")).to_be_hidden()
    page.locator("#panel .tabs").get_by_role("link", name="YAML").tap()
    expect(page.locator("#manifest")).to_be_visible()
    assert_no_sideways_scroll(page)
    page.locator("#panel .tabs").get_by_role("link", name="Objects").tap()
    expect(page.locator("#panel .table-scroll").first).to_be_visible()
    assert_no_sideways_scroll(page)

    # Again from the top (the panel folded, the map at worker-1): a tap on a pod opens its
    # details in the panel, unfolded and brought into view.
    page.reload()
    expect(page.locator("#panel .table-scroll").first).to_be_hidden()
    page.locator('svg.cluster-map [data-kind="Pod"][data-name="client"]').tap()
    expect(page.locator("#panel")).to_contain_text("Pod default/client")
    page.wait_for_timeout(600)  # the smooth scroll
    box = page.locator("#panel").bounding_box()
    # (brought to the top: a fraction of a pixel above it is the scroll's rounding)
    assert box and -1 < box["y"] < PHONE["height"], box
    assert_no_sideways_scroll(page)


def test_a_lesson_on_a_phone(phone: Page, live_server, screenshots_dir: Path) -> None:
    page = phone
    workspace = new_workspace(live_server.url, lesson="flat-network")
    page.goto(f"/w/{workspace}/lessons/flat-network")
    expect(page.locator(".lesson-panel .step-count")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert_stacked(
        page,
        {
            "the step's text": ".lesson-panel .lesson-step .lesson-text",
            "the task": ".lesson-panel .task",
            "the map": "#map-area",
            "the trace bar": "form.trace-bar",
            "the panel's tabs": "#panel .tabs",
        },
    )
    assert_readable_map(page)
    shoot(page, screenshots_dir, "lesson")


def steps_of(page: Page) -> list[dict]:
    data = json.loads(page.locator("#trace-data").text_content() or "{}")
    return [*data["trace"]["hops"], *data["trace"]["reply"]]


def marks_of(page: Page) -> list[dict]:
    data = json.loads(page.locator("#trace-data").text_content() or "{}")
    return [*data["marks"]["hops"], *data["marks"]["reply"]]


def test_a_trace_on_a_phone(phone: Page, live_server, screenshots_dir: Path) -> None:
    page = phone
    page.goto(f"/w/{new_workspace(live_server.url)}")
    # The whole map was on screen: a new trace brings the camera back to follow it.
    whole = page.locator("#map-area .map-whole")
    whole.tap()
    expect(whole).to_have_attribute("aria-pressed", "true")
    bar = page.locator("form.trace-bar")
    bar.locator('select[name="from"]').select_option("pod/default/client")
    bar.locator('input[name="to"]').fill("http://web/")
    bar.get_by_role("button", name="Trace it").tap()
    player = page.locator("#trace-result [data-trace-player]")
    expect(player).to_be_visible()
    expect(whole).to_have_attribute("aria-pressed", "false")
    # The trace appears above the bar that sent it: the page brings the map into view.
    page.wait_for_timeout(700)
    map_box = page.locator("#map-area").bounding_box()
    assert map_box and -1 <= map_box["y"] < PHONE["height"] / 2, map_box

    # Pause, then step by taps to a hop in the middle: the request entering the VXLAN tunnel.
    if player.get_attribute("data-playing") == "true":
        player.locator('[data-action="play"]').tap()
    expect(player).to_have_attribute("data-playing", "false")
    player.get_by_role("button", name="Restart").tap()
    steps = steps_of(page)
    middle = next(
        i
        for i, hop in enumerate(steps)
        if hop["phase"] == "request" and hop["packet"].get("outer") and hop["packet"].get("http")
    )
    assert 0 < middle < len(steps) - 1
    for _ in range(middle):
        player.get_by_role("button", name="Step forward").tap()
    expect(player).to_have_attribute("data-current-hop", str(middle))
    page.wait_for_timeout(800)  # the marker's move and the camera's

    assert_no_sideways_scroll(page)
    current = f'li[data-hop="{middle}"]'
    headers = f'.pkt-panel[data-hop-panel="{middle}"]'
    assert_stacked(
        page,
        {
            "the map": "#map-area",
            "the current hop": f"#trace-result {current}",
            "its packet headers": f"#trace-result {headers}",
            "the trace bar": "form.trace-bar",
            "the panel's tabs": "#panel .tabs",
            "the head": "#sandbox-head",
        },
    )
    expect(page.locator(current)).to_have_attribute("aria-current", "step")
    panel = page.locator(headers)
    expect(panel).to_be_visible()
    for field in ("src", "dst", "outer src", "outer dst", "host"):
        expect(panel.locator("dt", has_text=field).first).to_be_visible()
    expect(panel.locator(".pkt-heading", has_text="Outer header")).to_be_visible()
    expect(panel.locator(".pkt-http")).to_contain_text(steps[middle]["packet"]["http"]["host"])

    # The map shows the hop's element, with the pods near it readable.
    at = marks_of(page)[middle]["at"]
    centre_in_view(page, f'[data-at="{at}"]')
    page.locator("#map-area").scroll_into_view_if_needed()
    assert_readable_map(page)
    marker = page.locator("svg.cluster-map .trace-marker").bounding_box()
    frame = page.locator("#map-area .map-viewport").bounding_box()
    assert marker and frame
    x, y = marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2
    assert frame["x"] <= x <= frame["x"] + frame["width"], (marker, frame)
    assert frame["y"] <= y <= frame["y"] + frame["height"], (marker, frame)
    page.evaluate("document.getElementById('map-area').scrollIntoView()")
    shoot(page, screenshots_dir, "trace")

    # Back at the start the camera follows the packet back to the client pod.
    player.get_by_role("button", name="Restart").tap()
    page.wait_for_timeout(500)
    centre_in_view(page, f'[data-at="{marks_of(page)[0]["at"]}"]')
    assert_readable_map(page)


def test_the_desktop_layout_is_unchanged(page: Page, live_server) -> None:
    """At 1280x800: the whole map beside the panel, the trace bar over the map, the trace
    under it, the head on top; no phone controls."""
    page.goto(f"/w/{new_workspace(live_server.url)}")
    expect(page.locator("#panel")).to_be_visible()
    seen = map_text(page)
    assert seen["viewBox"] == [0, 0, *seen["drawing"]], seen
    expect(page.locator("#map-area .map-whole")).to_be_hidden()
    expect(page.locator("#map-area .map-zoom")).to_be_visible()
    head = page.locator("#sandbox-head").bounding_box()
    bar = page.locator("form.trace-bar").bounding_box()
    map_area = page.locator("#map-area").bounding_box()
    trace = page.locator("#trace-result").bounding_box()
    panel = page.locator("#panel").bounding_box()
    assert head and bar and map_area and trace and panel
    assert head["y"] < bar["y"] < map_area["y"] < trace["y"], (head, bar, map_area, trace)
    assert map_area["x"] + map_area["width"] <= panel["x"], (map_area, panel)
    assert abs(panel["y"] - bar["y"]) < 60, (panel, bar)
    assert page.evaluate("document.scrollingElement.scrollTop") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
