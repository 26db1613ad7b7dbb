"""The sandbox in a real browser: build by YAML, see it on the map, trace a request and step
through it by keyboard, spread requests, read rules and DNS. Screenshots go to artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.scenario import WEB


def open_sandbox(page: Page) -> str:
    page.goto("/")
    page.get_by_role("button", name="Open a new sandbox").click()
    page.wait_for_url("**/w/**")
    return page.url.split("/w/")[1].split("?")[0]


def apply(page: Page, text: str) -> None:
    if not page.locator("#manifest").count():
        page.get_by_role("link", name="YAML", exact=True).click()
    page.fill("#manifest", text)
    page.get_by_role("button", name="Apply").click()


def test_yaml_with_an_error_then_a_fix_and_the_map_follows(
    page: Page, screenshots_dir: Path
) -> None:
    open_sandbox(page)
    expect(page.locator("svg.cluster-map")).to_be_visible()
    broken = WEB.replace("name: web}\nspec:\n  selector", "name: 9web}\nspec:\n  selector")
    apply(page, broken)
    error = page.locator(".error-box")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Nothing was applied")
    expect(error).to_contain_text("metadata.name")
    expect(error).to_contain_text("line")
    expect(page.locator("#manifest")).to_have_value(broken)  # the learner's text is kept
    page.screenshot(path=screenshots_dir / "sandbox-apply-error.png", full_page=True)
    apply(page, WEB)
    expect(page.locator(".applied")).to_contain_text("deployment/web created")
    # The map was redrawn with the new pods and the Service joined to them.
    expect(page.locator('svg.cluster-map [data-kind="Pod"][data-name^="web-"]')).to_have_count(3)
    expect(page.locator('svg.cluster-map [data-kind="Service"][data-name="web"]')).to_have_count(1)
    page.screenshot(path=screenshots_dir / "sandbox-built.png", full_page=True)


def test_a_trace_animates_and_steps_by_keyboard(page: Page, screenshots_dir: Path) -> None:
    workspace = open_sandbox(page)
    apply(page, WEB)
    expect(page.locator(".applied")).to_be_visible()
    page.goto(f"/w/{workspace}?tab=trace")
    bar = page.locator("form.trace-bar")
    bar.locator('select[name="from"]').select_option("pod/default/client")
    bar.locator('input[name="to"]').fill("http://web/")
    bar.get_by_role("button", name="Trace it").click()
    player = page.locator("[data-trace-player]")
    expect(player).to_be_visible()
    expect(player).to_contain_text("Delivered")
    steps = page.locator("[data-trace-player] ol li")
    assert steps.count() > 8
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Home")
    start = int(player.get_attribute("data-current-hop") or "0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("PageDown")
    expect(player).to_have_attribute("data-current-hop", str(start + 2))
    page.keyboard.press("PageUp")
    expect(player).to_have_attribute("data-current-hop", str(start + 1))
    expect(page.locator('[data-trace-player] [aria-current="step"]')).to_have_count(1)
    page.screenshot(path=screenshots_dir / "sandbox-trace.png", full_page=True)
    bar.get_by_role("button", name="Send 100 requests").click()
    expect(page.locator(".bars li")).to_have_count(3)


def test_rules_and_dns_tabs(page: Page, screenshots_dir: Path) -> None:
    workspace = open_sandbox(page)
    apply(page, WEB)
    expect(page.locator(".applied")).to_be_visible()
    page.goto(f"/w/{workspace}?tab=rules&node=worker-1&from=pod/default/client&to=http://web/")
    rules = page.locator("pre.rules")
    expect(rules).to_contain_text("KUBE-SERVICES")
    expect(page.locator("pre.rules .hit").first).to_be_visible()
    page.screenshot(path=screenshots_dir / "sandbox-rules.png", full_page=True)
    page.goto(f"/w/{workspace}?tab=dns")
    page.locator("#panel").locator('select[name="from"]').select_option("pod/default/client")
    page.fill('input[name="name"]', "web")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator(".dns-tried")).to_contain_text("web.default.svc.cluster.local.")
    page.screenshot(path=screenshots_dir / "sandbox-dns.png", full_page=True)


def test_clicking_a_pod_on_the_map_opens_its_details(page: Page, screenshots_dir: Path) -> None:
    open_sandbox(page)
    apply(page, WEB)
    expect(page.locator(".applied")).to_be_visible()
    pod = page.locator('svg.cluster-map [data-kind="Pod"][data-name^="web-"]').first
    name = pod.get_attribute("data-name")
    pod.click()
    details = page.locator(".details")
    expect(details).to_contain_text(f"Pod default/{name}")
    expect(details).to_contain_text("ReplicaSet")
    page.screenshot(path=screenshots_dir / "sandbox-details.png", full_page=True)
    page.get_by_role("button", name=f"Delete pod {name}").click()  # hx-confirm: accepted below
    expect(page.locator(".applied")).to_contain_text(f"pod/{name} deleted")
    expect(page.locator(f'svg.cluster-map [data-kind="Pod"][data-name="{name}"]')).to_have_count(0)


@pytest.fixture(autouse=True)
def accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def test_new_pods_are_highlighted_and_the_map_zooms(page: Page, screenshots_dir: Path) -> None:
    open_sandbox(page)
    apply(page, WEB)
    expect(page.locator(".applied")).to_be_visible()
    expect(page.locator('svg.cluster-map [data-kind="Pod"].is-new')).to_have_count(
        4
    )  # web ×3, client
    svg = page.locator("svg.cluster-map")
    width = svg.bounding_box()["width"]
    page.get_by_role("button", name="Zoom in").click()
    assert svg.bounding_box()["width"] > width * 1.4
    page.get_by_role("button", name="Zoom out").click()
    assert abs(svg.bounding_box()["width"] - width) < 2
