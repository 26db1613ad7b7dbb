"""The Gateway API kinds on the sandbox page: the Objects tab lists Gateways (address,
Accepted, Programmed, listeners with attached routes) and routes (what each parent said),
and the details drawer shows a Gateway's listeners and a route's parents' conditions with
their reasons and messages, as the controller wrote them in status."""

from __future__ import annotations

import re

from tests.api.conftest import new_workspace

GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web-gw}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: web-gw}]
  hostnames: [shop.example.com]
  rules:
  - backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lost}
spec:
  parentRefs: [{name: web-gw}]
  hostnames: [lost.example.com]
  rules:
  - backendRefs: [{name: nowhere, port: 80}]
"""


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_objects_tab_lists_gateways_and_routes_with_their_status(api):
    ws = new_workspace(api, scenario="web-service")
    assert api.post_yaml(f"/api/v1/workspaces/{ws}/apply", GATEWAY).status_code == 200
    gateway = api.get(f"/api/v1/workspaces/{ws}/objects", params={"kind": "Gateway"}).json()
    address = gateway["items"][0]["status"]["addresses"][0]["value"]
    page = text_of(api.get(f"/w/{ws}?tab=objects").text)
    assert f"default web-gw True {address} eg True http 80/HTTP *.example.com · 2 routes" in page
    assert "default shop default/web-gw ✓ shop.example.com HTTPRoute" in page
    assert "default lost default/web-gw ✗ BackendNotFound lost.example.com HTTPRoute" in page


def test_the_drawer_shows_listeners_and_each_parents_conditions(api):
    ws = new_workspace(api, scenario="web-service")
    api.post_yaml(f"/api/v1/workspaces/{ws}/apply", GATEWAY)
    gateway = text_of(api.get(f"/w/{ws}/objects/Gateway/default/web-gw").text)
    assert "Listeners http 80/HTTP *.example.com Routes from Same · 2 attached routes" in gateway
    assert re.search(r"Accepted=True ?, ResolvedRefs=True ?, Programmed=True", gateway)
    route = text_of(api.get(f"/w/{ws}/objects/HTTPRoute/default/lost").text)
    assert "Parents Gateway default/web-gw Accepted=True Accepted" in route
    assert re.search(r"ResolvedRefs=False BackendNotFound [^<]*nowhere", route), route
