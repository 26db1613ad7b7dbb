"""A trace through a Gateway on the sandbox page: from outside to an HTTPRoute's hostname,
every hop (the cloud load balancer, kube-proxy, the Envoy pod, the second connection) drawn on
an element of the map, the Envoy pod drawn though system pods are hidden, and Envoy's own
answer (a 500 for an unresolved backendRef) said in the verdict. Screenshots:
artifacts/screenshots/gateway-trace-*.png (1280x800 and presentation mode 1920x1080)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_stage import new_workspace, trace_from_bar, trace_marks, trace_steps

SHOP = """apiVersion: apps/v1
kind: Deployment
metadata: {name: cart}
spec:
  replicas: 2
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: cart, image: nginx:1.27, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart}
spec: {selector: {app: cart}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: eg}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /cart}}]
    backendRefs: [{name: cart, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: cart-v2, port: 80}]
"""


def test_a_trace_through_a_gateway_is_drawn_hop_by_hop(
    pages, live_server, screenshots_dir: Path
) -> None:
    workspace = new_workspace(live_server.url, SHOP)
    for name, options, query in (
        ("1280", {"viewport": {"width": 1280, "height": 800}}, ""),
        ("present", {"viewport": {"width": 1920, "height": 1080}}, "?present=1"),
    ):
        page: Page = pages(**options)
        page.goto(f"/w/{workspace}{query}")
        trace_from_bar(page, "external", "http://shop.example.com/cart")
        steps, marks = trace_steps(page), trace_marks(page)
        proxy = [m for s, m in zip(steps, marks, strict=True) if s["action"] == "proxy"]
        # Envoy proxies the request, and the answer on the way back (the reply's proxy step).
        assert proxy and all(
            m["at"].startswith("pod/envoy-gateway-system/envoy-default-eg-") for m in proxy
        )
        for mark in marks:
            expect(page.locator(f'svg.cluster-map [data-at="{mark["at"]}"]')).to_have_count(1)
        assert any(m["at"] == "cloud/lb" for m in marks)
        page.screenshot(path=str(screenshots_dir / f"gateway-trace-{name}.png"))
    trace_from_bar(page, "external", "http://shop.example.com/v2")
    result = page.locator("#trace-result")
    expect(result).to_contain_text("HTTP 500 from Envoy")
    expect(result).to_contain_text("BackendNotFound")
    page.screenshot(path=str(screenshots_dir / "gateway-trace-500-present.png"))
