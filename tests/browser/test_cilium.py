"""Cilium from the home page: pick it (the kube-proxy select then reads "eBPF
(Cilium)"), trace a pod to a Service and read the hop where Cilium's socket load balancer picks
the backend at connect() in the client pod (Cilium's "Kubernetes Without kube-proxy"), then
open the Rules tab, which shows cilium-dbg service list instead of kube-proxy's rules.
Screenshots: artifacts/screenshots/cilium-*.png (1280x800, and presentation mode at 1920x1080)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.scenario import WEB
from tests.browser.test_stage import trace_from_bar, trace_steps


def apply_web(page: Page) -> None:
    workspace = page.url.split("/w/")[1].split("?")[0]
    response = page.request.post(
        f"/api/v1/workspaces/{workspace}/apply",
        data=WEB,
        headers={"Content-Type": "application/yaml"},
    )
    assert response.ok, response.text()
    page.reload()


def test_cilium_from_the_home_page_to_the_socket_lb_hop_and_the_rules_tab(
    pages, screenshots_dir: Path
) -> None:
    page: Page = pages(viewport={"width": 1280, "height": 800})
    page.goto("/")
    form = page.locator("form.new-sandbox")
    form.locator('select[name="cni"]').select_option("cilium")
    expect(form.locator('select[name="proxy_mode"]')).to_have_value("ebpf")
    expect(form.locator('select[name="routing_mode"]')).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "cilium-home-1280.png"))
    form.get_by_role("button", name="Open a new sandbox").click()
    page.wait_for_url("**/w/**")
    head = page.locator(".switch-form")
    expect(head.locator('select[name="cni"]')).to_have_value("cilium")
    expect(head.locator('select[name="proxy_mode"]')).to_have_value("ebpf")
    apply_web(page)
    trace_from_bar(page, "pod/default/client", "http://web/")
    steps = trace_steps(page)
    socket = next(h for h in steps if h["where"] == "socket LB (cgroup connect4)")
    assert socket["at"] == "pod/default/client" and socket["action"] == "dnat"
    assert not [h for h in steps if h["action"] == "dnat" and h["at"].startswith("node/")]
    strip = page.locator("#trace-result")
    expect(strip).to_contain_text("Cilium's socket LB (cgroup connect4 hook) picked")
    page.screenshot(path=str(screenshots_dir / "cilium-trace-1280.png"), full_page=True)
    page.locator("nav.tabs").get_by_role("link", name="Rules").click()
    rules = page.locator("pre.rules")
    expect(rules).to_contain_text("Service Type")
    expect(page.locator("#rules-cilium")).to_contain_text("Cilium's eBPF replaces it")
    expect(rules).not_to_contain_text("KUBE-SERVICES")
    page.screenshot(path=str(screenshots_dir / "cilium-rules-1280.png"), full_page=True)
    big: Page = pages(viewport={"width": 1920, "height": 1080})
    big.goto(page.url.split("?")[0] + "?present=1&from=pod/default/client&to=http://web/")
    big.screenshot(path=str(screenshots_dir / "cilium-present-1920.png"))
