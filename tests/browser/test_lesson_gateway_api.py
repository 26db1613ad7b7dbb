"""The Gateway API lesson (issue 14) in Debian's Chromium: completed with "Show me" and
"Check" on every step and its quiz answered; and by hand, as a learner would: the Gateway and
its HTTPRoute written in the YAML tab, the trace from a browser outside through Envoy, and the
canary's split read after "Send 100"; screenshots at 1280x800 and in presentation mode at
1920x1080 under artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.lessons.catalog import load_catalog
from tests.browser.test_lessons import complete_by_show_me, start_lesson

LESSON = load_catalog().get("gateway-api")
GATEWAY_AND_ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shop
spec:
  gatewayClassName: eg
  listeners:
    - name: http
      port: 80
      protocol: HTTP
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: shop
spec:
  parentRefs:
    - name: shop
  hostnames: [shop.example.com]
  rules:
    - matches:
        - path: {type: PathPrefix, value: /api}
      backendRefs:
        - {name: api, port: 80}
    - matches:
        - path: {type: PathPrefix, value: /web}
      backendRefs:
        - {name: web, port: 80}
"""


def check(page: Page) -> None:
    page.locator("#lesson").get_by_role("button", name="Check", exact=True).click()


@pytest.mark.browser
def test_the_gateway_api_lesson_can_be_completed_with_show_me_and_check(page: Page) -> None:
    complete_by_show_me(page, LESSON)


@pytest.mark.browser
def test_a_learner_routes_through_envoy_and_sees_the_canary_split(
    page: Page, screenshots_dir: Path
) -> None:
    start_lesson(page, LESSON.slug)
    panel = page.locator("#lesson")
    expect(page.locator("#panel")).to_be_hidden()
    page.locator("#panel-toggle").click()
    page.locator("#panel").get_by_role("link", name="YAML", exact=True).click()
    page.locator("#manifest").fill(GATEWAY_AND_ROUTE)
    page.locator("#panel").get_by_role("button", name="Apply").click()
    expect(page.locator("#panel .applied")).to_contain_text("httproute")
    bar = page.locator("form.trace-bar")
    bar.locator('select[name="from"]').select_option("external")
    bar.locator('input[name="to"]').fill("http://shop.example.com/api")
    bar.get_by_role("button", name="Trace it").click()
    result = page.locator("#trace-result")
    expect(result).to_contain_text("Delivered")
    expect(result).to_contain_text("Envoy")
    page.screenshot(path=str(screenshots_dir / "lesson-gateway-api-trace-1280x800.png"))
    check(page)
    expect(panel.locator(".check-results .fail")).to_have_count(0)
    panel.get_by_role("button", name="Next →").click()

    # The canary: the weights written, then Send 100 shows about ten on api-v2.
    expect(panel.locator(".step-count")).to_have_text(f"Step 2 of {len(LESSON.steps)}")
    canary = GATEWAY_AND_ROUTE.split("---\n")[1].replace(
        "        - {name: api, port: 80}\n",
        "        - {name: api, port: 80, weight: 90}\n        - {name: api-v2, port: 80, weight: 10}\n",
    )
    page.locator("#panel").get_by_role("link", name="YAML", exact=True).click()
    page.locator("#manifest").fill(canary)
    page.locator("#panel").get_by_role("button", name="Apply").click()
    expect(page.locator("#panel .applied")).to_contain_text("configured")
    bar.locator('select[name="from"]').select_option("external")
    bar.locator('input[name="to"]').fill("http://shop.example.com/api")
    bar.get_by_role("button", name="Send 100").click()
    expect(page.locator("#trace-result")).to_contain_text("api-v2")
    page.screenshot(path=str(screenshots_dir / "lesson-gateway-api-canary-1280x800.png"))
    check(page)
    expect(panel.locator(".check-results .fail")).to_have_count(0)


@pytest.mark.browser
def test_the_refused_cross_namespace_reference_reads_on_a_projector(
    browser: Browser, live_server, screenshots_dir: Path
) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1920, "height": 1080}
    )
    page = context.new_page()
    start_lesson(page, LESSON.slug, present=True)
    panel = page.locator("#lesson")
    # The introduction: why the Gateway API, and the three kinds with their owners.
    expect(page.locator("body")).to_have_class("present")
    expect(panel).to_contain_text("Security Response Committee")
    expect(panel.locator("li", has_text="GatewayClass")).to_have_count(1)
    page.screenshot(path=str(screenshots_dir / "lesson-gateway-api-intro-present-1920x1080.png"))
    last = len(LESSON.steps)
    for number in range(2, last + 1):
        panel.get_by_role("button", name="Next →").click()
        expect(panel.locator(".step-count")).to_have_text(f"Step {number} of {last}")
    blog = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop-blog}
spec:
  parentRefs: [{name: shop}]
  hostnames: [shop.example.com]
  rules:
    - matches: [{path: {type: PathPrefix, value: /blog}}]
      backendRefs: [{name: blog, namespace: blog, port: 80}]
"""
    workspace = page.url.split("/w/")[1].split("/")[0]
    response = page.request.post(
        f"/api/v1/workspaces/{workspace}/apply",
        data=blog,
        headers={"Content-Type": "application/yaml"},
    )
    assert response.ok, response.text()
    page.reload()
    bar = page.locator("form.trace-bar")
    bar.locator('select[name="from"]').select_option("external")
    bar.locator('input[name="to"]').fill("http://shop.example.com/blog")
    bar.get_by_role("button", name="Trace it").click()
    result = page.locator("#trace-result")
    expect(result).to_contain_text("500")
    expect(result).to_contain_text("RefNotPermitted")
    page.screenshot(
        path=str(screenshots_dir / "lesson-gateway-api-refnotpermitted-present-1920x1080.png")
    )
    context.close()


@pytest.mark.browser
def test_a_header_typed_in_the_trace_tab_reaches_the_canary(
    page: Page, screenshots_dir: Path
) -> None:
    start_lesson(page, LESSON.slug)
    panel = page.locator("#lesson")
    header_step = [step.id for step in LESSON.steps].index("header")
    for number in range(2, header_step + 2):
        panel.get_by_role("button", name="Next →").click()
        expect(panel.locator(".step-count")).to_have_text(f"Step {number} of {len(LESSON.steps)}")
    header_rule = GATEWAY_AND_ROUTE.split("---\n")[1].replace(
        "  rules:\n",
        "  rules:\n    - matches:\n        - path: {type: PathPrefix, value: /api}\n"
        "          headers: [{name: X-Version, value: v2}]\n"
        "      backendRefs: [{name: api-v2, port: 80}]\n",
    )
    page.locator("#panel-toggle").click()
    page.locator("#panel").get_by_role("link", name="YAML", exact=True).click()
    page.locator("#manifest").fill(header_rule)
    page.locator("#panel").get_by_role("button", name="Apply").click()
    expect(page.locator("#panel .applied")).to_contain_text("configured")
    # As the step says: the Trace tab, with the header under Request headers.
    page.locator("#panel").get_by_role("link", name="Trace", exact=True).click()
    form = page.locator("#panel form.trace-form").first
    form.locator('select[name="from"]').select_option("external")
    form.locator('input[name="to"]').fill("http://shop.example.com/api")
    form.locator('textarea[name="headers"]').fill("X-Version: v2")
    form.get_by_role("button", name="Trace it").click()
    result = page.locator("#trace-result")
    expect(result).to_contain_text("api-v2")
    check(page)
    expect(panel.locator(".check-results .pass")).to_have_count(
        len(LESSON.steps[header_step].checks)
    )
    page.screenshot(path=str(screenshots_dir / "lesson-gateway-api-header-1280x800.png"))
