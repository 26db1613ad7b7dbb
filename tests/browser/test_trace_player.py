"""static/js/trace-player.js in Chromium: a fake cluster map, the real partial, the real module.

The page is built here (no server): an ``svg.cluster-map`` with a ``data-at`` group at
each point the trace visits, templates/_trace.html rendered from a real trace, and the
module's text inlined as a ``<script type="module">`` (Chromium refuses module scripts from
file:// URLs). Every request the page makes is refused and fails the test: the player must
work offline.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.unit.test_trace_partial import fake_marks, render_trace, sample_traces

REPO = Path(__file__).resolve().parents[2]
PLAYER_JS = REPO / "static/js/trace-player.js"
CSS = [REPO / "static/css/podpath.css", REPO / "static/css/trace.css"]


def fake_map(
    t: dict[str, Any], marks: dict[str, list[dict[str, Any]]], css_class: str = "cluster-map"
) -> str:
    anchors: dict[str, list[float]] = {}
    for part in ("hops", "reply"):
        for mark in marks[part]:
            anchors.setdefault(mark["at"], mark["point"])
    groups = []
    for at, (x, y) in anchors.items():
        label = html.escape(at.split("/")[-1][:18])
        groups.append(
            f'<g data-at="{html.escape(at)}" transform="translate({x} {y})">'
            f'<rect x="-60" y="-24" width="120" height="48" rx="6" fill="#fff" stroke="#57606a"/>'
            f'<text y="40" text-anchor="middle" font-size="13">{label}</text></g>'
        )
    return (
        f'<svg class="{css_class}" viewBox="0 0 1000 600" width="1000" height="600" '
        'role="img" aria-label="Fake cluster map">'
        '<rect width="1000" height="600" fill="#f6f8fa"/>' + "".join(groups) + "</svg>"
    )


def page_html(t: dict[str, Any], **extra: Any) -> str:
    points = fake_marks(t)
    styles = "\n".join(path.read_text(encoding="utf-8") for path in CSS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trace player</title>
<style>{styles}</style></head>
<body><main style="max-width:1240px">
<form><label>A text box <input id="text" type="text"></label></form>
{fake_map(t, points)}
<div id="trace-result">{render_trace(t, points, **extra)}</div>
</main>
<script type="module">{PLAYER_JS.read_text(encoding="utf-8")}</script>
</body></html>"""


@pytest.fixture(scope="module")
def traces() -> dict[str, dict[str, Any]]:
    return sample_traces()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """``open_page(trace, reduced_motion=None, **partial_vars)``: the player page, attached."""
    outside: list[str] = []
    errors: list[str] = []
    contexts = []

    def open_(t: dict[str, Any], reduced_motion: str | None = None, **extra: Any) -> Page:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            reduced_motion=reduced_motion or "no-preference",  # type: ignore[arg-type]
        )
        contexts.append(context)

        def refuse(route) -> None:
            if not route.request.url.startswith(("data:", "about:", "blob:")):
                outside.append(route.request.url)
            route.abort("blockedbyclient")

        context.route("**/*", refuse)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_content(page_html(t, **{"autoplay": False, **extra}))
        expect(page.locator("[data-trace-player]")).to_have_attribute("data-trace-attached", "true")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not outside, f"the page asked for things outside itself: {outside}"
    assert not errors, "JavaScript errors:\n" + "\n".join(errors)


def steps_of(t: dict[str, Any]) -> list[dict[str, Any]]:
    return [*t["hops"], *t["reply"]]


def current(page: Page) -> int:
    return int(page.locator("[data-trace-player]").get_attribute("data-current-hop") or "-1")


def expect_at(page: Page, t: dict[str, Any], index: int) -> None:
    root = page.locator("[data-trace-player]")
    expect(root).to_have_attribute("data-current-hop", str(index))
    expect(page.locator('li[aria-current="step"]')).to_have_count(1)
    expect(page.locator('li[aria-current="step"]')).to_have_attribute("data-hop", str(index))
    hop = steps_of(t)[index]
    expect(page.locator("[data-live]")).to_contain_text(hop["summary"])
    expect(page.locator("[data-hop-panel]:visible")).to_have_count(1)
    expect(page.locator("[data-hop-panel]:visible")).to_have_attribute("data-hop-panel", str(index))
    expect(page.locator("svg.cluster-map .is-current")).to_have_count(1)
    expect(page.locator("svg.cluster-map .is-current")).to_have_attribute("data-at", hop["at"])


def marker_transform(page: Page) -> str:
    return page.locator("svg.cluster-map .trace-marker").get_attribute("transform") or ""


def translate(point: list[float]) -> str:
    return f"translate({point[0]:.1f} {point[1]:.1f})"


def test_the_strip_lists_every_hop_and_the_keyboard_steps(open_page, traces):
    t = traces["delivered"]
    page = open_page(t)
    expect(page.locator(".hop-strip li")).to_have_count(len(steps_of(t)))
    expect(page.locator("svg.cluster-map .trace-marker")).to_have_count(1)
    expect_at(page, t, 0)
    page.keyboard.press("ArrowRight")
    expect_at(page, t, 1)
    page.keyboard.press("PageDown")
    expect_at(page, t, 2)
    page.keyboard.press("ArrowLeft")
    expect_at(page, t, 1)
    page.keyboard.press("PageUp")
    expect_at(page, t, 0)
    page.keyboard.press("PageUp")  # nothing before the first hop
    expect_at(page, t, 0)
    for _ in range(5):
        page.keyboard.press("PageDown")
    expect_at(page, t, 5)
    page.keyboard.press("Home")
    expect_at(page, t, 0)
    # Typing in a text box is not stepping.
    page.locator("#text").press("ArrowRight")
    page.locator("#text").press("Space")
    expect_at(page, t, 0)
    assert page.locator("#text").input_value() == " "


def test_the_buttons_and_the_strip_move_the_player(open_page, traces):
    t = traces["delivered"]
    page = open_page(t)
    page.get_by_role("button", name="Step forward").click()
    expect_at(page, t, 1)
    page.get_by_role("button", name="Step back").click()
    expect_at(page, t, 0)
    page.locator('li[data-hop="7"] button').click()
    expect_at(page, t, 7)
    page.get_by_role("button", name="Restart").click()
    expect_at(page, t, 0)


def test_the_inspector_shows_the_dnat_and_the_tunnel(open_page, traces, screenshots_dir):
    t = traces["delivered"]
    steps = steps_of(t)
    page = open_page(t)
    dnat = next(i for i, h in enumerate(steps) if h["action"] == "dnat" and h["phase"] == "request")
    page.locator(f'li[data-hop="{dnat}"] button').click()
    expect_at(page, t, dnat)
    changed = page.locator("[data-hop-panel]:visible .pkt-field.is-changed")
    expect(changed).to_have_count(1)
    expect(changed.locator("dt")).to_have_text("dst changed")
    expect(changed.locator("del")).to_have_text(steps[dnat - 1]["packet"]["dst"])
    expect(changed.locator("ins")).to_have_text(steps[dnat]["packet"]["dst"])
    page.locator(".trace-body").screenshot(path=screenshots_dir / "trace-dnat-inspector.png")
    # Step on into the tunnel: the marker grows its outer shell.
    shell = page.locator("svg.cluster-map .trace-marker-shell")
    expect(shell).to_have_attribute("display", "none")
    while not steps[current(page)]["packet"].get("outer"):
        page.keyboard.press("ArrowRight")
    expect(shell).to_have_attribute("display", "inline")
    page.keyboard.press("ArrowRight")  # across the node network, still wrapped
    expect(page.locator("[data-hop-panel]:visible")).to_contain_text("VNI")
    page.wait_for_timeout(900)  # let the marker arrive before the picture
    assert marker_transform(page) == translate(fake_map_point(t, current(page)))
    page.screenshot(path=screenshots_dir / "trace-delivered-midway.png", full_page=True)


def fake_map_point(t: dict[str, Any], index: int) -> list[float]:
    marks = fake_marks(t)
    return [m["point"] for m in [*marks["hops"], *marks["reply"]]][index]


def test_dns_hops_draw_a_different_marker(open_page, traces):
    t = traces["delivered"]
    page = open_page(t)
    marker = page.locator("svg.cluster-map .trace-marker")
    expect(marker).to_have_class("trace-marker is-dns")
    first_request = next(i for i, h in enumerate(steps_of(t)) if h["phase"] == "request")
    page.locator(f'li[data-hop="{first_request}"] button').click()
    expect(marker).to_have_class("trace-marker")
    expect(marker.locator(".trace-marker-dns")).to_have_attribute("display", "none")


def test_space_plays_and_pauses(open_page, traces):
    t = traces["delivered"]
    page = open_page(t)
    root = page.locator("[data-trace-player]")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Space")
    expect(root).to_have_attribute("data-playing", "true")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(root).not_to_have_attribute("data-current-hop", "0", timeout=3000)  # it moves
    page.keyboard.press("Space")
    expect(root).to_have_attribute("data-playing", "false")
    stopped = current(page)
    page.wait_for_timeout(1000)
    assert current(page) == stopped
    # The Play button does the same.
    page.get_by_role("button", name="Play").click()
    expect(root).to_have_attribute("data-playing", "true")
    page.get_by_role("button", name="Pause").click()
    expect(root).to_have_attribute("data-playing", "false")


def test_autoplay_starts_on_attach(open_page, traces):
    page = open_page(traces["delivered"], autoplay=True)
    expect(page.locator("[data-trace-player]")).to_have_attribute("data-playing", "true")


STEP_NOW = """() => {
  document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight", bubbles: true}));
  return document.querySelector("svg.cluster-map .trace-marker").getAttribute("transform");
}"""


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_reduced_motion_jumps_without_tweening(open_page, traces, motion):
    t = traces["delivered"]
    page = open_page(t, reduced_motion=motion)
    # Hop 0 (the client pod) to hop 1 (its node) is a real move on the fake map.
    assert fake_map_point(t, 0) != fake_map_point(t, 1)
    right_after = page.evaluate(STEP_NOW)
    expect_at(page, t, 1)
    if motion == "reduce":
        assert right_after == translate(fake_map_point(t, 1))
    else:
        assert right_after == translate(fake_map_point(t, 0))  # it is on its way
        page.wait_for_timeout(800)
    assert marker_transform(page) == translate(fake_map_point(t, 1))
    page.keyboard.press("ArrowLeft")
    expect_at(page, t, 0)


def test_a_refused_trace_stops_at_the_cross(open_page, traces, screenshots_dir):
    t = traces["refused"]
    steps = steps_of(t)
    page = open_page(t)
    expect(page.locator(".trace-verdict")).to_have_class("trace-verdict verdict-refused")
    expect(page.locator(".verdict-word")).to_have_text("Refused")
    cross = page.locator("svg.cluster-map .trace-fail-mark")
    expect(cross).to_have_count(0)
    last = len(steps) - 1
    assert steps[last]["action"] == "reject"
    page.locator(f'li[data-hop="{last - 1}"] button').click()
    page.keyboard.press("Space")  # play the last step: it stops on the refusal
    expect(page.locator("[data-trace-player]")).to_have_attribute("data-playing", "false")
    expect_at(page, t, last)
    expect(cross).to_have_count(1)
    x, y = fake_map_point(t, last)
    assert cross.get_attribute("transform") == f"translate({x:g} {y:g})"
    page.wait_for_timeout(800)
    page.screenshot(path=screenshots_dir / "trace-refused.png", full_page=True)
    # In a narrow column the inspector goes under the strip, and nothing overflows.
    page.set_viewport_size({"width": 640, "height": 900})
    strip, inspector = page.locator(".hop-strip"), page.locator(".trace-inspector")
    assert inspector.bounding_box()["y"] > strip.bounding_box()["y"] + 100  # type: ignore[index]
    assert page.locator(".trace-player").evaluate("e => e.scrollWidth <= e.clientWidth")
    page.locator(".trace-player").screenshot(path=screenshots_dir / "trace-refused-narrow.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.keyboard.press("ArrowLeft")  # stepping back takes the mark away
    expect(cross).to_have_count(0)


def test_a_new_trace_swapped_in_by_htmx_replaces_the_old(open_page, traces):
    page = open_page(traces["delivered"])
    page.keyboard.press("ArrowRight")
    refused = render_trace(traces["refused"], fake_marks(traces["refused"]), autoplay=False)
    page.evaluate(
        """(markup) => {
          const target = document.getElementById("trace-result");
          target.innerHTML = markup;
          target.dispatchEvent(new CustomEvent("htmx:afterSwap", {bubbles: true}));
        }""",
        refused,
    )
    expect(page.locator("[data-trace-player]")).to_have_attribute("data-trace-attached", "true")
    expect(page.locator("svg.cluster-map .trace-marker")).to_have_count(1)
    expect_at(page, traces["refused"], 0)
    page.keyboard.press("ArrowRight")
    expect_at(page, traces["refused"], 1)


SWAP = """([selector, markup]) => {
  const target = document.querySelector(selector);
  target.outerHTML = markup;
  document.body.dispatchEvent(new CustomEvent("htmx:afterSwap", {bubbles: true}));
}"""


def test_the_marker_survives_a_redrawn_map_and_leaves_with_its_trace(open_page, traces):
    t = traces["delivered"]
    page = open_page(t)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(800)
    # The new map lacks the cluster-map class: the SVG holding the data-at elements serves.
    page.evaluate(SWAP, ["svg.cluster-map", fake_map(t, fake_marks(t), "podmap")])
    marker = page.locator("svg.podmap .trace-marker")
    expect(marker).to_have_count(1)
    assert marker.get_attribute("transform") == translate(fake_map_point(t, 3))
    expect(page.locator("svg.podmap .is-current")).to_have_attribute(
        "data-at", steps_of(t)[3]["at"]
    )
    page.keyboard.press("ArrowRight")
    expect(page.locator("[data-trace-player]")).to_have_attribute("data-current-hop", "4")
    page.evaluate(SWAP, ["#trace-result", '<div id="trace-result"></div>'])
    expect(page.locator("svg .trace-marker")).to_have_count(0)
    expect(page.locator("svg .is-current")).to_have_count(0)
    page.keyboard.press("ArrowRight")  # nothing to step, and no error
