"""Envoy Gateway's controller in the cluster model: what every sandbox has, what each
Gateway gets (Envoy Gateway's ``internal/infrastructure/kubernetes/proxy`` naming and port
mapping), the status it writes (gateway-api ``apis/v1`` conditions, Envoy Gateway's
messages), and workspaces saved before it existed."""

from __future__ import annotations

import hashlib

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster

GATEWAY = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: https, port: 443, protocol: HTTPS, hostname: shop.example.com,
     tls: {mode: Terminate, certificateRefs: [{name: shop-cert}]}}
  - {name: alt, port: 8080, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: shop}
spec:
  parentRefs: [{name: web}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: shop, port: 80}]}]
"""

PROXY = "envoy-shop-web-" + hashlib.sha256(b"shop/web").hexdigest()[:8]


def _conditions(items):
    return {c["type"]: c for c in items}


def test_every_sandbox_runs_envoy_gateway_and_its_class_is_accepted():
    """Envoy Gateway's quickstart: the envoy-gateway Deployment in envoy-gateway-system and
    GatewayClass eg (controllerName gateway.envoyproxy.io/gatewayclass-controller), Accepted
    with "Valid GatewayClass"."""
    cluster = Cluster.create(seed=3)
    assert cluster.get("Deployment", "envoy-gateway-system", "envoy-gateway") is not None
    pods = cluster.list("Pod", "envoy-gateway-system")
    assert [p["status"]["phase"] for p in pods] == ["Running"]
    gc = cluster.get("GatewayClass", "", "eg")
    assert gc["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    accepted = _conditions(gc["status"]["conditions"])["Accepted"]
    assert (accepted["status"], accepted["message"]) == ("True", "Valid GatewayClass")
    assert not cluster.is_user_made(gc)


def test_a_gateway_gets_envoy_pods_and_a_load_balancer_named_as_envoy_gateway_names_them():
    """GetHashedName("<ns>/<name>", 48) behind "envoy-"; privileged ports shifted by 10000
    (80 → 10080, 443 → 10443), others kept; the Service's LB IP is the Gateway's address."""
    cluster = Cluster.create(seed=3)
    apply_text(cluster, GATEWAY)
    service = cluster.get("Service", "envoy-gateway-system", PROXY)
    ports = {(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {("http-80", 80, 10080), ("https-443", 443, 10443), ("http-8080", 8080, 8080)}
    labels = service["metadata"]["labels"]
    assert labels["gateway.envoyproxy.io/owning-gateway-namespace"] == "shop"
    pods = [
        p
        for p in cluster.list("Pod", "envoy-gateway-system")
        if p["metadata"]["name"].startswith(PROXY + "-")
    ]
    assert len(pods) == 1 and pods[0]["status"]["podIP"]
    ip = service["status"]["loadBalancer"]["ingress"][0]["ip"]
    gateway = cluster.get("Gateway", "shop", "web")
    assert gateway["status"]["addresses"] == [{"type": "IPAddress", "value": ip}]
    programmed = _conditions(gateway["status"]["conditions"])["Programmed"]
    assert programmed["message"] == "Address assigned to the Gateway, 1/1 envoy replicas available"


def test_listener_status_counts_attached_routes_and_names_supported_kinds():
    """apis/v1 ListenerStatus: attachedRoutes per listener (the route has no sectionName: it
    attaches wherever the hostname allows), supportedKinds HTTPRoute and GRPCRoute."""
    cluster = Cluster.create(seed=3)
    apply_text(cluster, GATEWAY)
    listeners = {x["name"]: x for x in cluster.get("Gateway", "shop", "web")["status"]["listeners"]}
    assert {n: x["attachedRoutes"] for n, x in listeners.items()} == {
        "http": 1,
        "https": 1,
        "alt": 1,
    }
    assert [k["kind"] for k in listeners["http"]["supportedKinds"]] == ["HTTPRoute", "GRPCRoute"]
    assert _conditions(listeners["http"]["conditions"])["Programmed"]["status"] == "True"


def test_conflicting_listeners_are_conflicted_and_get_no_routes():
    """apis/v1 ListenerConditionConflicted: listeners on one port with protocols that cannot
    share it are ProtocolConflict (the CRD already refuses two with the same port, protocol
    and hostname); a route cannot attach to them."""
    cluster = Cluster.create(seed=3)
    apply_text(
        cluster,
        GATEWAY.replace(
            "  - {name: alt, port: 8080, protocol: HTTP}",
            "  - {name: alt, port: 80, protocol: TCP}",
        ),
    )
    listeners = {x["name"]: x for x in cluster.get("Gateway", "shop", "web")["status"]["listeners"]}
    conflicted = _conditions(listeners["alt"]["conditions"])["Conflicted"]
    assert (conflicted["status"], conflicted["reason"]) == ("True", "ProtocolConflict")
    assert listeners["alt"]["attachedRoutes"] == 0 and listeners["http"]["attachedRoutes"] == 0
    accepted = _conditions(cluster.get("Gateway", "shop", "web")["status"]["conditions"])
    assert accepted["Accepted"]["reason"] == "ListenersNotValid"


def test_deleting_the_gateway_deletes_its_proxies_and_its_route_status():
    cluster = Cluster.create(seed=3)
    apply_text(cluster, GATEWAY)
    cluster.delete("Gateway", "shop", "web")
    assert cluster.get("Service", "envoy-gateway-system", PROXY) is None
    assert cluster.get("Deployment", "envoy-gateway-system", PROXY) is None
    assert not [p for p in cluster.list("Pod") if p["metadata"]["name"].startswith(PROXY)]
    assert cluster.get("HTTPRoute", "shop", "shop")["status"]["parents"] == []


def test_a_workspace_saved_before_envoy_gateway_loads_with_it_installed():
    """A state without envoy-gateway-system (saved before this feature) still loads, and
    gets the install, the same every time it is loaded."""
    state = Cluster.create(seed=3).to_state()
    state["objects"] = [
        row
        for row in state["objects"]
        if row["object"]["metadata"].get("namespace") != "envoy-gateway-system"
        and row["object"]["kind"] != "GatewayClass"
        and row["object"]["metadata"]["name"] != "envoy-gateway-system"
    ]
    first = Cluster.from_state(state)
    second = Cluster.from_state(state)
    assert first.get("GatewayClass", "", "eg") is not None
    names = [p["metadata"]["name"] for p in first.list("Pod", "envoy-gateway-system")]
    assert names and names == [
        p["metadata"]["name"] for p in second.list("Pod", "envoy-gateway-system")
    ]


def test_hostname_intersection_decides_which_requests_reach_the_route_httproute_hostname_intersection():
    """conformance/tests/httproute-hostname-intersection: a route's hostnames serve only
    where they meet the listener's (*.wildcard.io with bar.wildcard.io, foo.bar.wildcard.io
    and wildcard.io): wildcard.io is no listener's, so Envoy answers 404."""
    from app.cluster.controllers.gateway import infra
    from app.network.gateway.decide import decide
    from app.network.gateway.matching import Request

    cluster = Cluster.create(seed=3)
    apply_text(
        cluster,
        """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wild}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP, hostname: "*.wildcard.io"}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild}
spec:
  parentRefs: [{name: wild}]
  hostnames: [bar.wildcard.io, foo.bar.wildcard.io, wildcard.io]
  rules: [{backendRefs: [{name: web, port: 80}]}]
""",
    )
    port = infra.container_port(80)

    def status(host: str) -> int | None:
        return decide(cluster, ("default", "wild"), port, Request(host), "http", 0).status

    # web has no endpoints: a request that reaches the route gets Envoy's 503, one that
    # does not gets 404.
    assert status("bar.wildcard.io") == 503
    assert status("foo.bar.wildcard.io") == 503
    assert status("wildcard.io") == 404
    assert status("other.wildcard.io") == 404
