"""Switching the CNI plugin in the page says what changed and keeps every pod's name on the
map; comparing CNI plugins works from a Deployment's pod (issue 9). Screenshots go to
artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.scenario import WEB

MAP_PODS = 'svg.cluster-map [data-kind="Pod"]'


def open_with_web(page: Page) -> str:
    page.goto("/")
    page.get_by_role("button", name="Open a new sandbox").click()
    page.wait_for_url("**/w/**")
    workspace = page.url.split("/w/")[1].split("?")[0]
    page.get_by_role("link", name="YAML", exact=True).click()
    page.fill("#manifest", WEB)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".applied")).to_contain_text("deployment/web created")
    expect(page.locator(f'{MAP_PODS}[data-name^="web-"]')).to_have_count(3)
    return workspace


def map_pods(page: Page) -> list[str]:
    """The pods on the map as ``namespace/name``."""
    return sorted(
        page.locator(MAP_PODS).evaluate_all(
            "els => els.map(e => `${e.dataset.namespace}/${e.dataset.name}`)"
        )
    )


def map_pod_names(page: Page) -> list[str]:
    return [pod.split("/", 1)[1] for pod in map_pods(page) if pod.startswith("default/")]


def test_switching_the_cni_plugin_reports_each_address_and_keeps_the_pod_names(
    page: Page, screenshots_dir: Path
) -> None:
    workspace = open_with_web(page)
    before = map_pods(page)
    assert len([n for n in before if n.startswith("default/web-")]) == 3
    assert "default/client" in before
    form = page.locator("form.switch-form")
    form.locator('select[name="cni"]').select_option("calico")
    form.get_by_role("button", name="Switch").click()
    report = page.locator("#panel [role=status]")
    expect(report).to_contain_text("CNI plugin: flannel → calico")
    expect(report).to_contain_text("Pod network: 10.244.0.0/16 → 192.168.0.0/16")
    for pod in before:  # pod/<name> in default, pod/<namespace>/<name> elsewhere
        ref = pod.removeprefix("default/")
        expect(report).to_contain_text(
            re.compile(rf"pod/{re.escape(ref)}: 10\.244\.\d+\.\d+ → 192\.168\.\d+\.\d+")
        )
    expect(report).to_contain_text("Every object kept its name.")
    # htmx swapped the panel, the map and the head in place: the page did not navigate
    expect(page).to_have_url(re.compile(rf"/w/{workspace}\?tab=build$"))
    expect(page.locator('#panel nav [aria-current="page"]')).to_have_text("Build")
    expect(page.locator("#sandbox-head")).to_contain_text("192.168.0.0/16")
    expect(page.locator('form.switch-form select[name="cni"]')).to_have_value("calico")
    assert map_pods(page) == before
    page.screenshot(path=screenshots_dir / "sandbox-switch-report.png", full_page=True)


def test_comparing_cni_plugins_from_a_deployment_pod(page: Page, screenshots_dir: Path) -> None:
    workspace = open_with_web(page)
    web = [n for n in map_pod_names(page) if n.startswith("web-")]
    page.goto(f"/w/{workspace}?tab=trace")
    page.locator(".compare-box summary").click()
    form = page.locator("form.compare-form")
    form.locator('select[name="source_pod"]').select_option(f"pod/default/{web[0]}")
    form.locator('select[name="target_pod"]').select_option(f"pod/default/{web[1]}")
    form.get_by_role("button", name="Compare").click()
    columns = page.locator(".compare-col")
    expect(columns).to_have_count(4)  # flannel, Calico, Weave Net, Cilium
    expect(page.locator(".compare")).to_contain_text(web[0])
    expect(page.locator(".error-box")).to_have_count(0)
    page.screenshot(path=screenshots_dir / "sandbox-compare-deployment-pods.png", full_page=True)
