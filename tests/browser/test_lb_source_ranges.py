"""A request from outside to a LoadBalancer whose loadBalancerSourceRanges leave the client
out: the trace ends at the load balancer's firewall with a drop, and the verdict names the
Service, the field and the fix (Kubernetes' "Restrict access for LoadBalancer Service").
Screenshots: artifacts/screenshots/lb-source-ranges-*.png (1280x800 and presentation mode)."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.test_stage import new_workspace, trace_from_bar, trace_steps

WEB = """apiVersion: apps/v1
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
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
  loadBalancerSourceRanges: [203.0.113.0/25]
"""


def test_an_outside_client_outside_the_ranges_is_dropped_with_the_field_named(
    pages, live_server, screenshots_dir: Path
) -> None:
    workspace = new_workspace(live_server.url, WEB)
    with httpx.Client(base_url=live_server.url) as client:
        svc = client.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()
    lb_ip = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    for name, options, query in (
        ("1280", {"viewport": {"width": 1280, "height": 800}}, ""),
        ("present", {"viewport": {"width": 1920, "height": 1080}}, "?present=1"),
    ):
        page: Page = pages(**options)
        page.goto(f"/w/{workspace}{query}")
        trace_from_bar(page, "external", f"http://{lb_ip}/")
        steps = trace_steps(page)
        assert steps[-1]["action"] == "drop"
        result = page.locator("#trace-result")
        expect(result).to_contain_text("spec.loadBalancerSourceRanges")
        expect(result).to_contain_text("198.51.100.7/32")
        page.screenshot(path=str(screenshots_dir / f"lb-source-ranges-{name}.png"))
