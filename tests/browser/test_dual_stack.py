"""A dual-stack sandbox made from the home page: the head says dual-stack and shows both
ranges, each pod tile shows its IPv4 and its IPv6 address, and a request to a Service's name
travels over IPv6 (curl tries the AAAA answer first), printed as [address]:port.
Screenshots: artifacts/screenshots/dual-stack-*.png (1280x800 and presentation mode)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.test_stage import trace_from_bar, trace_steps

OBJECTS = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: worker-2, containers: [{name: c, image: curlimages/curl:8.10.1}]}
"""


def dual_stack_sandbox(base_url: str) -> str:
    """A dual-stack sandbox (seed 3) holding OBJECTS, made through the JSON API."""
    with httpx.Client(base_url=base_url) as client:
        workspace = client.post("/api/v1/workspaces", json={"ipFamily": "dual", "seed": 3})
        workspace = workspace.json()["id"]
        applied = client.post(
            f"/api/v1/workspaces/{workspace}/apply",
            content=OBJECTS,
            headers={"Content-Type": "application/yaml"},
        )
        assert applied.status_code == 200, applied.text
    return workspace


def test_a_dual_stack_sandbox_from_the_home_page_traces_over_ipv6(
    pages, live_server, screenshots_dir: Path
) -> None:
    page: Page = pages(viewport={"width": 1280, "height": 800})
    page.goto("/")
    form = page.locator("form.new-sandbox")
    form.locator('select[name="ip_family"]').select_option("dual")
    expect(form.locator("#ip-family-hint")).to_contain_text("Weave Net has no IPv6")
    form.screenshot(path=str(screenshots_dir / "dual-stack-home-form-1280.png"))
    form.get_by_role("button", name="Open a new sandbox").click()
    page.wait_for_url(re.compile(r"/w/[^/?]+$"))
    workspace = page.url.rsplit("/w/", 1)[1]
    head = page.locator("#sandbox-head")
    expect(head).to_contain_text("dual-stack")
    expect(head).to_contain_text("fd00:10:244::/56")
    with httpx.Client(base_url=live_server.url) as client:
        applied = client.post(
            f"/api/v1/workspaces/{workspace}/apply",
            content=OBJECTS,
            headers={"Content-Type": "application/yaml"},
        )
        assert applied.status_code == 200, applied.text
        spec = client.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()
    v6 = spec["spec"]["clusterIPs"][1]
    for name, query, size in (
        ("1280", "", {"width": 1280, "height": 800}),
        ("present", "?present=1", {"width": 1920, "height": 1080}),
    ):
        page = pages(viewport=size)
        page.goto(f"/w/{workspace}{query}")
        tile = page.locator('.pod[data-name^="web-"]').first
        expect(tile.locator(".pod-ip")).to_have_text(re.compile(r"^10\.244\."))
        expect(tile.locator(".pod-ip6")).to_have_text(re.compile(r"^fd00:10:244:"))
        trace_from_bar(page, "pod/default/client", "http://web/")
        request = next(h for h in trace_steps(page) if h["phase"] == "request")
        assert request["packet"]["dst"] == f"[{v6}]:80"
        expect(page.locator("#trace-result")).to_contain_text("fd00:10:244:")
        page.screenshot(path=str(screenshots_dir / f"dual-stack-{name}.png"))


def test_the_rules_tab_shows_the_ipv6_proxier_a_trace_went_through(
    pages, live_server, screenshots_dir: Path
) -> None:
    workspace = dual_stack_sandbox(live_server.url)
    page: Page = pages(viewport={"width": 1280, "height": 800})
    page.goto(f"/w/{workspace}?tab=rules&node=worker-2&from=pod/default/client&to=http://web/")
    expect(page.locator("#rules-title")).to_contain_text("ip6tables-save")
    expect(page.locator('select[name="family"]')).to_have_value("IPv6")
    expect(page.locator("#rules-legend")).to_contain_text("matched")
    page.screenshot(path=str(screenshots_dir / "dual-stack-rules-1280.png"))


def test_the_trace_tab_picks_the_family_as_curl_minus_4_does(
    pages, live_server, screenshots_dir: Path
) -> None:
    # curl's docs: -4 / --ipv4 resolves names to IPv4 addresses only; the tab's select posts
    # the trace API's ipFamily, and only a dual-stack sandbox shows it.
    workspace = dual_stack_sandbox(live_server.url)
    with httpx.Client(base_url=live_server.url) as client:
        spec = client.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()
    v4 = spec["spec"]["clusterIPs"][0]
    page: Page = pages(viewport={"width": 1280, "height": 800})
    page.goto(f"/w/{workspace}?tab=trace")
    form = page.locator("form.trace-form").first
    form.locator('select[name="from"]').select_option("pod/default/client")
    form.locator('input[name="to"]').fill("http://web/")
    form.locator('select[name="ipFamily"]').select_option("IPv4")
    expect(form.locator('select[name="ipFamily"]')).to_be_visible()
    form.get_by_role("button", name="Trace it").click()
    expect(page.locator("#trace-result")).to_contain_text(f"{v4}:80")
    request = next(h for h in trace_steps(page) if h["phase"] == "request")
    assert request["packet"]["dst"] == f"{v4}:80"
    page.screenshot(path=str(screenshots_dir / "dual-stack-trace-family-1280.png"))
