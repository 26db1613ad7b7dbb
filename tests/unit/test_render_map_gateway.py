"""A Gateway on the cluster map: drawn like the ingress controller's box, labelled with its
address (its Envoy Service's LoadBalancer IP, from the Gateway's status) and listeners, the
routes attached to it, lines to the Envoy pods Envoy Gateway made for it, and lit while one
of those pods proxies a traced request."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.cluster.scenarios import build
from app.network.trace import trace
from app.render.map import build_map
from app.render.stage import hop_marks
from tests.unit.test_render_map import SVG, render

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
  - backendRefs: [{name: web, port: 80, weight: 90}, {name: web, port: 80, weight: 10}]
"""


def with_gateway():
    cluster = build("web-service")
    apply_text(cluster, GATEWAY)
    return cluster


def test_the_gateway_box_shows_address_listeners_and_attached_routes():
    cluster = with_gateway()
    address = cluster.get("Gateway", "default", "web-gw")["status"]["addresses"][0]["value"]
    view = build_map(cluster)
    [box] = view.gateways
    assert box.gateway == "default/web-gw" and box.at == "gateway/default/web-gw"
    assert box.external_ip == address and box.programmed
    assert box.summary.startswith(f"eg · {address} · Envoy on worker-")
    assert box.listeners == ["listener http :80 HTTP *.example.com"]
    assert box.routes == ["shop.example.com/ → web 90, web 10"]
    assert f"{address} → Gateway web-gw" in view.lb_ips
    # The lines go to the Envoy pods, drawn though system pods are hidden.
    envoy = [p["metadata"]["name"] for p in cluster.list("Pod", "envoy-gateway-system")]
    assert {line.pod for line in box.lines} == {
        f"pod/envoy-gateway-system/{name}" for name in envoy if name.startswith(box.name)
    }
    assert box.lines


def test_the_gateway_box_is_drawn_and_opens_its_details():
    view = build_map(with_gateway())
    svg = render(view)
    [group] = [g for g in svg.iter(f"{SVG}g") if g.get("data-kind") == "Gateway"]
    assert (group.get("data-name"), group.get("data-namespace")) == ("web-gw", "default")
    texts = [t.text for t in group.iter(f"{SVG}text")]
    assert texts[0] == "Gateway web-gw"
    assert "listener http :80 HTTP *.example.com" in texts


def test_a_route_not_accepted_is_not_listed_on_the_gateway():
    cluster = with_gateway()
    apply_text(
        cluster,
        """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: elsewhere}
spec:
  parentRefs: [{name: web-gw}]
  hostnames: [shop.example.org]
  rules: [{backendRefs: [{name: web, port: 80}]}]
""",
    )
    [box] = build_map(cluster).gateways
    assert all("example.org" not in line for line in box.routes)  # NoMatchingListenerHostname


def test_a_traced_request_lights_the_gateway_box_at_its_envoy_pod():
    cluster = with_gateway()
    view = build_map(cluster)
    result = trace(cluster, "external", "http://shop.example.com/").to_dict()
    marks = hop_marks(view, result)
    lit = {box for hop in marks["hops"] for box in hop.get("lit", [])}
    assert "gateway/default/web-gw" in lit
