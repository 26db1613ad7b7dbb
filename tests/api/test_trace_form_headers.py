"""The Trace tab's method and request headers: sent with the trace so an HTTPRoute's header
match picks its backend (Gateway API HTTPRouteMatch.headers), kept in the form afterwards,
shown in the hop inspector, and a line that is not ``Name: value`` answered with a 422
naming the line."""

from __future__ import annotations

import re

from tests.api.conftest import new_workspace

CANARY = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: canary}
spec:
  replicas: 1
  selector: {matchLabels: {app: canary}}
  template:
    metadata: {labels: {app: canary}}
    spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: canary}
spec: {selector: {app: canary}, ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web-gw}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: web-gw}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{headers: [{name: X-Env, value: canary}], method: POST}]
    backendRefs: [{name: canary, port: 80}]
  - backendRefs: [{name: web, port: 80}]
"""
HTMX = {"HX-Request": "true"}


def verdict(html: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    found = re.search(r"Pod default/(\S+?)-[a-z0-9]+-[a-z0-9]+ on ", text)
    return found.group(1) if found else text[:300]


def trace(api, ws, **fields):
    data = {"from": "external", "to": "http://shop.example.com/", **fields}
    return api.post(f"/w/{ws}/trace", data=data, headers=HTMX)


def test_method_and_headers_from_the_trace_tab_reach_the_route_match(api):
    ws = new_workspace(api, scenario="web-service")
    assert api.post_yaml(f"/api/v1/workspaces/{ws}/apply", CANARY).status_code == 200
    assert verdict(trace(api, ws).text) == "web"
    assert verdict(trace(api, ws, method="POST").text) == "web"  # the header is missing
    answer = trace(api, ws, method="POST", headers="X-Env: canary\n")
    assert verdict(answer.text) == "canary"
    # The hop inspector shows the request's method and header.
    assert re.search(r"<dt>method</dt>\s*<dd[^>]*>\s*(<[^>]+>)?POST", answer.text)
    assert re.search(r"<dt>X-Env</dt>\s*<dd[^>]*>\s*(<[^>]+>)?canary", answer.text)


def test_the_trace_tab_offers_the_methods_and_a_headers_box(api):
    ws = new_workspace(api, scenario="web-service")
    page = api.get(f"/w/{ws}?tab=trace").text
    methods = re.findall(r"<option\s*(?:selected)?>([A-Z]+)</option>", page)
    assert methods[:7] == ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    assert '<textarea name="headers"' in page


def test_a_header_line_without_a_colon_is_a_422_naming_the_line(api):
    ws = new_workspace(api, scenario="web-service")
    api.post_yaml(f"/api/v1/workspaces/{ws}/apply", CANARY)
    answer = trace(api, ws, headers="X-Env: canary\nX-Team web")
    assert answer.status_code == 422
    assert "line 2 is not a header: write one per line as Name: value" in answer.text


def test_a_header_name_the_domain_refuses_is_a_422_too(api):
    ws = new_workspace(api, scenario="web-service")
    answer = trace(api, ws, headers="Bad Name: x")
    assert answer.status_code == 422
    assert "headers.Bad Name" in answer.text
