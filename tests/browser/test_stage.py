"""The trace stage in a real browser (issue 9): the map with the packet, the current hop and
its packet headers on one screen, at 1280x800 and 1920x1080, in the sandbox, a lesson,
presentation mode and Teach it; text sizes measured as rendered; every hop drawn on an element
of the map; the panel giving way and coming back; the presentation console. Screenshots of
each mode go to artifacts/screenshots/stage-*.png.

A text's rendered size is its font size times the map's scale on screen (the SVG's CTM), the
size a person at the back of the room sees.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app.cluster import constants as c
from tests.browser.scenario import WEB

SIZES = {"1280x800": (1280, 800), "1920x1080": (1920, 1080)}
#: The smallest rendered pod-IP text the issue allows: (mode, size) -> px.
MIN_POD_IP_PX = {
    ("sandbox", "1280x800"): 12,
    ("lesson", "1280x800"): 12,
    ("present", "1280x800"): 14,
    ("present", "1920x1080"): 20,
    ("teach", "1920x1080"): 20,
    ("teach", "1280x800"): 14,
}

INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: http, nodePort: 30080}]
"""


def new_workspace(base_url: str, manifest: str = WEB) -> str:
    with httpx.Client(base_url=base_url) as client:
        workspace = client.post("/api/v1/workspaces", json={"seed": 7}).json()["id"]
        applied = client.post(
            f"/api/v1/workspaces/{workspace}/apply",
            content=manifest,
            headers={"Content-Type": "application/yaml"},
        )
        assert applied.status_code == 200, applied.text
    return workspace


def open_page(browser: Browser, base_url: str, size: str) -> Page:
    width, height = SIZES[size]
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
    return context.new_page()


def trace_from_bar(page: Page, source: str, target: str) -> None:
    bar = page.locator("form.trace-bar")
    bar.locator('select[name="from"]').select_option(source)
    bar.locator('input[name="to"]').fill(target)
    bar.get_by_role("button", name="Trace it").click()
    expect(page.locator("#trace-result [data-trace-player]")).to_be_visible()


def pause_at(page: Page, step: int) -> None:
    """Stop the player and go to ``step`` (0-based) with the arrow keys (in Teach it a
    clicker's PageDown moves the lesson on, so the arrows step the trace)."""
    page.locator("body").focus()
    player = page.locator("[data-trace-player]")
    if player.get_attribute("data-playing") == "true":
        page.keyboard.press("Space")
    page.keyboard.press("Home")
    for _ in range(step):
        page.keyboard.press("ArrowRight")
    expect(player).to_have_attribute("data-current-hop", str(step))
    page.wait_for_timeout(700)  # the marker's travel and the camera's pan


def inside(box: dict[str, float] | None, width: int, height: int, what: str) -> None:
    assert box is not None, f"{what} is not drawn"
    assert box["x"] >= -1 and box["y"] >= -1, f"{what} starts off screen: {box}"
    assert box["x"] + box["width"] <= width + 1, f"{what} runs off the right edge: {box}"
    assert box["y"] + box["height"] <= height + 1, f"{what} runs off the bottom: {box}"


def pod_ip_px(page: Page) -> float:
    """The rendered size of the map's pod-IP text: font size times the map's scale on screen."""
    return page.evaluate(
        """() => {
          const svg = document.querySelector('svg.cluster-map');
          const text = svg.querySelector('.pod-ip:not(.long)');
          return parseFloat(getComputedStyle(text).fontSize) * svg.getScreenCTM().a;
        }"""
    )


def check_one_screen(page: Page, size: str, steps: list[int]) -> None:
    """At each step: the map area, the packet marker, the current hop, its packet headers and
    the playback controls are inside the viewport, and the page itself does not scroll."""
    width, height = SIZES[size]
    for step in steps:
        pause_at(page, step)
        inside(page.locator("#map-area").bounding_box(), width, height, "the map")
        viewport = page.locator("#map-area .map-viewport").bounding_box()
        marker = page.locator("svg.cluster-map .trace-marker").bounding_box()
        assert viewport and marker
        centre = (marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2)
        assert viewport["x"] <= centre[0] <= viewport["x"] + viewport["width"], (step, marker)
        assert viewport["y"] <= centre[1] <= viewport["y"] + viewport["height"], (step, marker)
        hops = page.get_by_role("region", name="Hops")
        current = hops.locator('li[aria-current="step"]')
        expect(current).to_have_count(1)
        inside(current.bounding_box(), width, height, f"the current hop ({step})")
        strip = hops.bounding_box()
        hop = current.bounding_box()
        assert strip and hop and hop["y"] >= strip["y"] - 1, (step, strip, hop)
        assert hop["y"] + hop["height"] <= strip["y"] + strip["height"] + 1, (step, strip, hop)
        headers = page.get_by_role("region", name="Packet headers")
        inside(headers.bounding_box(), width, height, "the packet headers")
        shown = headers.locator(f'[data-hop-panel="{step}"]')
        expect(shown).to_be_visible()
        inside(shown.locator(".pkt-field").first.bounding_box(), width, height, "the src field")
        inside(
            page.get_by_role("button", name="Step forward").bounding_box(),
            width,
            height,
            "the step controls",
        )
    assert page.evaluate("document.scrollingElement.scrollTop") == 0


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("mode", ["sandbox", "present"])
def test_map_hops_and_headers_share_one_screen(
    browser: Browser, live_server, screenshots_dir: Path, mode: str, size: str
) -> None:
    workspace = new_workspace(live_server.url)
    page = open_page(browser, live_server.url, size)
    page.goto(f"/w/{workspace}?present={1 if mode == 'present' else 0}")
    trace_from_bar(page, "pod/default/client", "http://web/")
    steps = int(page.locator("[data-trace-player]").get_attribute("data-steps") or 0)
    dnat = next(
        i
        for i, h in enumerate(trace_steps(page))
        if h["action"] == "dnat" and h["phase"] == "request"
    )
    check_one_screen(page, size, [0, dnat, steps // 2, steps - 1])
    pause_at(page, dnat)
    if (mode, size) in MIN_POD_IP_PX:
        assert pod_ip_px(page) >= MIN_POD_IP_PX[(mode, size)] - 0.05
    if mode == "present" and size == "1920x1080":
        for selector in (
            '[aria-current="step"] .hop-summary',
            '[aria-current="step"] .hop-where',
            ".pkt-panel:not([hidden]) .pkt-field dt",
            ".pkt-panel:not([hidden]) .pkt-field dd code",
        ):
            px = page.locator(selector).first.evaluate(
                "e => parseFloat(getComputedStyle(e).fontSize)"
            )
            assert px >= 22, (selector, px)
    page.screenshot(path=screenshots_dir / f"stage-{mode}-{size}.png")
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("mode", ["lesson", "teach"])
def test_a_lesson_keeps_the_stage_the_task_and_check_on_screen(
    browser: Browser, live_server, screenshots_dir: Path, mode: str, size: str
) -> None:
    width, height = SIZES[size]
    page = open_page(browser, live_server.url, size)
    page.goto("/lessons/flat-network" + ("?present=1" if mode == "teach" else ""))
    page.get_by_role("button", name="Start this lesson").click()  # a link only shows it
    expect(page.locator(".lesson-panel .step-count")).to_be_visible()
    web_a = page.locator('svg.cluster-map [data-at="pod/default/web-a"] .pod-ip').text_content()
    trace_from_bar(page, "pod/default/client", f"http://{(web_a or '').strip()}/")
    check_one_screen(page, size, [0, 3])
    # The map is never clipped by the lesson: its viewport is inside the window.
    inside(page.locator("#map-area .map-viewport").bounding_box(), width, height, "the map")
    # The step's task and its Check button are on screen without scrolling the lesson.
    inside(page.locator(".lesson-panel .task").bounding_box(), width, height, "the task")
    inside(
        page.locator(".lesson-panel").get_by_role("button", name="Check").bounding_box(),
        width,
        height,
        "Check",
    )
    if (mode, size) in MIN_POD_IP_PX:
        assert pod_ip_px(page) >= MIN_POD_IP_PX[(mode, size)] - 0.05
    page.screenshot(path=screenshots_dir / f"stage-{mode}-{size}.png")
    page.context.close()


def trace_steps(page: Page) -> list[dict]:
    data = json.loads(page.locator("#trace-data").text_content() or "{}")
    return [*data["trace"]["hops"], *data["trace"]["reply"]]


def trace_marks(page: Page) -> list[dict]:
    data = json.loads(page.locator("#trace-data").text_content() or "{}")
    return [*data["marks"]["hops"], *data["marks"]["reply"]]


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("pod/default/client", "http://web/"),
        ("external", "http://shop.example.com/"),
        ("external", "http://10.0.0.12:30080/"),
        ("pod/default/client", "http://nope/"),
    ],
)
def test_every_hop_is_drawn_on_an_element_of_the_map(
    page: Page, live_server, source: str, target: str
) -> None:
    workspace = new_workspace(live_server.url, WEB + "---\n" + INGRESS)
    page.goto(f"/w/{workspace}")
    trace_from_bar(page, source, target)
    steps, marks = trace_steps(page), trace_marks(page)
    assert len(steps) == len(marks)
    for step, mark in zip(steps, marks, strict=True):
        element = page.locator(f'svg.cluster-map [data-at="{mark["at"]}"]')
        expect(element).to_have_count(1)
        for lit in mark["lit"]:
            expect(page.locator(f'svg.cluster-map [data-at="{lit}"]')).to_have_count(1)
        # kube-proxy's rewrites happen in the node's netfilter, not on its eth0.
        if step["action"] in ("dnat", "snat") and step["node"]:
            assert mark["at"] == f"node/{step['node']}/netfilter", step
    if source == "external" and "shop" in target:
        proxied = [m for s, m in zip(steps, marks, strict=True) if s["action"] == "proxy"]
        assert proxied and all("ingress" in m["lit"] for m in proxied)
        assert any(m["at"] == "cloud/lb" for m in marks)


def test_the_service_lights_up_while_its_address_is_the_destination(
    page: Page, live_server
) -> None:
    workspace = new_workspace(live_server.url)
    page.goto(f"/w/{workspace}")
    trace_from_bar(page, "pod/default/client", "http://web/")
    steps = trace_steps(page)
    send = next(i for i, h in enumerate(steps) if h["phase"] == "request")
    pause_at(page, send)
    service = page.locator('svg.cluster-map [data-at="service/default/web"]')
    expect(service).to_have_class(re.compile(r"\bis-lit\b"))
    dnat = next(i for i, h in enumerate(steps) if h["phase"] == "request" and h["action"] == "dnat")
    pause_at(page, dnat)
    node = steps[dnat]["node"]
    netfilter = page.locator(f'svg.cluster-map [data-at="node/{node}/netfilter"]')
    expect(netfilter).to_have_class(re.compile(r"\bis-current\b"))
    deliver = next(
        i for i, h in enumerate(steps) if h["phase"] == "request" and h["action"] == "deliver"
    )
    pause_at(page, deliver)
    expect(page.locator("svg.cluster-map .is-lit")).to_have_count(0)


def test_the_panel_gives_way_and_comes_back_with_a_key_or_a_click(page: Page, live_server) -> None:
    workspace = new_workspace(live_server.url)
    page.goto(f"/w/{workspace}")
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    before = page.locator("#map-area").bounding_box()
    page.locator("body").press("e")
    expect(panel).to_be_hidden()
    expect(page.locator("#panel-toggle")).to_have_attribute("aria-expanded", "false")
    after = page.locator("#map-area").bounding_box()
    assert before and after and after["width"] > before["width"] + 200
    page.locator("#panel-toggle").click()
    expect(panel).to_be_visible()
    # Typing an "e" in a field does not fold the panel.
    page.locator('form.trace-bar input[name="to"]').press("e")
    expect(panel).to_be_visible()
    # Folded, a click on a pod brings the panel back with the pod's details.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("e")
    expect(panel).to_be_hidden()
    page.locator('svg.cluster-map [data-kind="Pod"][data-name="client"]').click()
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Pod default/client")


def test_presentation_mode_is_an_instructors_console(page: Page, live_server) -> None:
    """Trace, Send 100 requests and Compare CNI plugins from the bar over the map, and step,
    without leaving presentation mode; compare starts from a Deployment's pod."""
    workspace = new_workspace(live_server.url)
    page.goto(f"/w/{workspace}?present=1&from=pod/default/client&to=http://web/")
    expect(page.locator("body")).to_have_class("present")
    expect(page.locator("#panel")).to_be_hidden()
    bar = page.locator("form.trace-bar")
    expect(bar.locator('input[name="to"]')).to_have_value("http://web/")
    bar.get_by_role("button", name="Trace it").click()
    expect(page.locator("[data-trace-player]")).to_contain_text("Delivered")
    bar.get_by_role("button", name="Send 100 requests").click()
    expect(page.locator(".traffic .bars li")).to_have_count(3)
    # From a Deployment's pod: its name survives the copies the comparison makes.
    web_pod = page.locator('svg.cluster-map [data-kind="Pod"][data-name^="web-"]').first
    name = web_pod.get_attribute("data-name")
    bar.locator('select[name="from"]').select_option(f"pod/default/{name}")
    bar.locator('input[name="to"]').fill("http://web/")
    bar.get_by_role("button", name="Compare CNI plugins").click()
    # One column per CNI plugin: flannel, Calico, Weave Net and Cilium.
    expect(page.locator(".compare-col")).to_have_count(len(c.CNI_PLUGINS))
    expect(page.locator(".compare")).not_to_contain_text("not found")
    expect(page.locator("body")).to_have_class("present")


def test_the_scenario_request_is_ready_in_the_bar(page: Page, live_server) -> None:
    """An instructor's class scenario opens with its first request in the trace bar."""
    page.goto("/")
    page.get_by_role("button", name="Open for a class").click()
    expect(page.locator("body")).to_have_class("present")
    bar = page.locator("form.trace-bar")
    expect(bar.locator('input[name="to"]')).not_to_have_value("")
    bar.get_by_role("button", name="Trace it").click()
    expect(page.locator("[data-trace-player]")).to_be_visible()


def test_the_trace_bar_follows_the_cluster_and_keeps_what_was_typed(
    page: Page, live_server
) -> None:
    """A pod made in the panel is at once a place to start from in the bar, and the request
    the learner had typed stays."""
    workspace = new_workspace(live_server.url)
    page.goto(f"/w/{workspace}?tab=yaml")
    bar = page.locator("form.trace-bar")
    bar.locator('input[name="to"]').fill("http://web/")
    page.locator("#manifest").fill(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: probe, labels: {app: probe}}\n"
        "spec: {containers: [{name: c, image: busybox}]}\n"
    )
    page.locator("#panel").get_by_role("button", name="Apply").click()
    expect(page.locator('svg.cluster-map [data-kind="Pod"][data-name="probe"]')).to_have_count(1)
    expect(bar.locator('select[name="from"] option[value="pod/default/probe"]')).to_have_count(1)
    expect(bar.locator('input[name="to"]')).to_have_value("http://web/")


def test_the_marker_sits_on_its_element_when_system_pods_are_shown(page: Page, live_server) -> None:
    workspace = new_workspace(live_server.url)
    page.goto(f"/w/{workspace}?system=1")
    trace_from_bar(page, "pod/default/client", "http://web/")
    steps = trace_steps(page)
    dnat = next(i for i, h in enumerate(steps) if h["phase"] == "request" and h["action"] == "dnat")
    pause_at(page, dnat)
    node = steps[dnat]["node"]
    box = page.locator(f'svg.cluster-map [data-at="node/{node}/netfilter"] rect').bounding_box()
    marker = page.locator("svg.cluster-map .trace-marker-core").bounding_box()
    assert box and marker
    centre = (marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2)
    assert box["x"] <= centre[0] <= box["x"] + box["width"], (box, centre)
    assert box["y"] <= centre[1] <= box["y"] + box["height"], (box, centre)
