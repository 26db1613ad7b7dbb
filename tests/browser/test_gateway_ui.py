"""The Gateway API in a real browser: a Gateway and an HTTPRoute made with the Build forms
appear on the map (the Gateway's box with its address and listener, lines to its Envoy pod)
and in the Objects tab with their status; the details drawer shows the listener's attached
routes and the route's parent conditions; a trace from the Trace tab with a request header
reaches the backend a header match picks. Screenshots: artifacts/screenshots/gateway-ui-*.png
(1280x800, and the map in presentation mode at 1920x1080)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.test_stage import new_workspace

CANARY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: canary}
spec:
  replicas: 1
  selector: {matchLabels: {app: canary}}
  template:
    metadata: {labels: {app: canary}}
    spec: {containers: [{name: canary, image: nginx:1.27, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: canary}
spec: {selector: {app: canary}, ports: [{port: 80}]}
"""
# A second route on the same hostname, made in YAML (the form makes one rule): its header
# match is more specific than the form's route, so X-Env: canary goes to canary.
HEADER_ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop-canary}
spec:
  parentRefs: [{name: web-gw}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{headers: [{name: X-Env, value: canary}]}]
    backendRefs: [{name: canary, port: 80}]
"""


def build_by_form(page: Page, screenshots_dir: Path | None = None) -> None:
    page.locator("summary", has_text="Gateway API: a listener").click()
    form = page.locator('form[action$="/build/gateway"]')
    expect(form.locator('select[name="class_name"]')).to_have_value("eg")
    form.get_by_label("Name", exact=True).fill("web-gw")
    form.locator('input[name="hostname"]').fill("*.example.com")
    form.locator('input[name="hostname"]').evaluate("e => e.scrollIntoView({block: 'center'})")
    if screenshots_dir:
        page.screenshot(path=screenshots_dir / "gateway-ui-gateway-form.png")
    form.get_by_role("button", name="Create Gateway").click()
    expect(page.locator(".build-form .applied")).to_contain_text("gateway/web-gw created")

    page.locator("summary", has_text="HTTPRoute").click()
    form = page.locator('form[action$="/build/httproute"]')
    form.get_by_label("Name", exact=True).fill("shop")
    expect(form.locator('select[name="gateway"]')).to_have_value("default/web-gw")
    form.locator('input[name="hostnames"]').fill("shop.example.com")
    form.locator('select[name="path_type"]').select_option("PathPrefix")
    form.locator('input[name="path"]').fill("/")
    form.locator('input[name="backend_0"]').fill("web")
    form.locator('input[name="weight_0"]').fill("1")
    form.locator('input[name="backend_0"]').evaluate("e => e.scrollIntoView({block: 'center'})")
    if screenshots_dir:
        page.screenshot(path=screenshots_dir / "gateway-ui-httproute-form.png")
    form.get_by_role("button", name="Create HTTPRoute").click()
    expect(page.locator(".build-form .applied")).to_contain_text("httproute/shop created")


def test_gateway_and_route_by_form_on_the_map_in_objects_and_traced_with_a_header(
    browser: Browser, live_server, screenshots_dir: Path
) -> None:
    workspace = new_workspace(live_server.url, CANARY)
    page = browser.new_page(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    page.goto(f"/w/{workspace}?tab=build")
    build_by_form(page, screenshots_dir)

    # The map: the Gateway's box with its address and listener, a line to its Envoy pod.
    box = page.locator('svg.cluster-map g[data-kind="Gateway"][data-name="web-gw"]')
    expect(box).to_be_visible()
    expect(box).to_contain_text("listener http :80 HTTP *.example.com")
    expect(box).to_contain_text("shop.example.com/ → web:80")
    expect(box.locator(".svc-type")).to_contain_text("eg · 203.0.113.")
    expect(
        page.locator('svg.cluster-map path.gateway-line[data-gateway="default/web-gw"]')
    ).to_have_count(1)
    envoy = page.locator(
        'svg.cluster-map [data-at^="pod/envoy-gateway-system/envoy-default-web-gw-"]'
    )
    expect(envoy).to_have_count(1)
    box.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "gateway-ui-map.png")

    # The details drawer: the listener's attached route, the Gateway's conditions.
    box.click()
    drawer = page.locator("section.details")
    expect(drawer.locator("h2")).to_have_text("Gateway default/web-gw")
    listener = drawer.locator("ul.gw-listeners li").first
    expect(listener.locator(".gw-listener-head")).to_have_text("http 80/HTTP *.example.com")
    expect(listener.locator(".gw-attached")).to_have_text("1 attached route")
    expect(listener.locator(".gw-listener-conditions")).to_have_text(
        "Accepted=True, ResolvedRefs=True, Programmed=True"
    )
    expect(drawer.locator(".gw-conditions li.ok").first).to_contain_text("Accepted=True")
    page.screenshot(path=screenshots_dir / "gateway-ui-drawer-gateway.png")

    # The Objects tab: both with their status; the route's drawer names its parent's answer.
    page.goto(f"/w/{workspace}?tab=objects")
    gateways = page.get_by_role("region", name="Gateways table")
    expect(gateways).to_contain_text("web-gw")
    expect(gateways.locator("tbody tr").first.locator("td").nth(2)).to_have_text("True")
    routes = page.get_by_role("region", name="Routes table")
    expect(routes.locator("td.ok")).to_contain_text("default/web-gw ✓")
    gateways.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "gateway-ui-objects.png")
    routes.get_by_role("link", name="shop").click()
    drawer = page.locator("section.details")
    expect(drawer.locator(".gw-parent h4")).to_have_text("Gateway default/web-gw")
    expect(drawer.locator(".gw-parent li").first).to_contain_text("Accepted=True Accepted")
    page.screenshot(path=screenshots_dir / "gateway-ui-drawer-route.png")

    # A second route (YAML) with a header match; the Trace tab sends the header.
    page.goto(f"/w/{workspace}?tab=yaml")
    page.locator('textarea[name="manifest"]').fill(HEADER_ROUTE)
    page.get_by_role("button", name="Apply").first.click()
    expect(page.locator(".applied")).to_contain_text("httproute/shop-canary created")
    page.goto(f"/w/{workspace}?tab=trace")
    form = page.locator("form.trace-form")
    form.locator('select[name="from"]').select_option("external")
    form.locator('input[name="to"]').fill("http://shop.example.com/")
    form.locator('select[name="method"]').select_option("GET")
    form.locator('textarea[name="headers"]').fill("X-Env: canary")
    form.get_by_role("button", name="Trace it").click()
    result = page.locator("#trace-result")
    expect(result).to_contain_text("Pod default/canary-")
    expect(result).to_contain_text(
        "Envoy (Gateway default/web-gw) routed it by HTTPRoute default/shop-canary"
    )
    page.screenshot(path=screenshots_dir / "gateway-ui-trace-header.png")
    # Without the header the form's route answers.
    form.locator('textarea[name="headers"]').fill("")
    form.get_by_role("button", name="Trace it").click()
    expect(result).to_contain_text("Pod default/web-")


def test_the_gateway_reads_in_presentation_mode(
    browser: Browser, live_server, screenshots_dir: Path
) -> None:
    workspace = new_workspace(live_server.url, CANARY)
    page = browser.new_page(base_url=live_server.url, viewport={"width": 1920, "height": 1080})
    page.goto(f"/w/{workspace}?tab=build")
    build_by_form(page)
    page.goto(f"/w/{workspace}?present=1")
    box = page.locator('svg.cluster-map g[data-kind="Gateway"][data-name="web-gw"]')
    expect(box).to_be_visible()
    page.screenshot(path=screenshots_dir / "gateway-ui-present-1920x1080.png")
