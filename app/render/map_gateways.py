"""The Gateways' boxes above the nodes, drawn like the ingress controller's: each Gateway's
address (its Envoy proxy Service's LoadBalancer IP), listeners and the routes attached to
it, with lines down to the Envoy pods Envoy Gateway made for it."""

from __future__ import annotations

from typing import Any

from app.render import map_layout as L
from app.render.map_layout import truncate
from app.render.map_model import GatewayView, ready_endpoint_pods

#: The labels Envoy Gateway puts on a Gateway's proxy Service and pods.
OWNER_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNER_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
PROXY_NAMESPACE = "envoy-gateway-system"


def proxy_service(cluster: Any, gateway: dict[str, Any]) -> dict[str, Any] | None:
    """The Envoy Service that carries a Gateway's traffic, or None (a class with no
    controller, or not made yet)."""
    meta = gateway["metadata"]
    for service in cluster.list("Service", PROXY_NAMESPACE):
        labels = service["metadata"].get("labels") or {}
        if labels.get(OWNER_NAME) == meta["name"] and labels.get(OWNER_NAMESPACE) == meta.get(
            "namespace"
        ):
            return service
    return None


def _attached(route: dict[str, Any], gateway: dict[str, Any]) -> bool:
    meta = gateway["metadata"]
    for parent in (route.get("status") or {}).get("parents") or []:
        ref = parent.get("parentRef") or {}
        namespace = ref.get("namespace") or route["metadata"]["namespace"]
        accepted = any(
            c.get("type") == "Accepted" and c.get("status") == "True"
            for c in parent.get("conditions") or []
        )
        if ref.get("name") == meta["name"] and namespace == meta["namespace"] and accepted:
            return True
    return False


def route_lines(route: dict[str, Any]) -> list[str]:
    """One line per hostname and rule: ``shop.example.com/cart → cart 90, canary 10``.

    >>> route_lines({"spec": {"hostnames": ["shop.example.com"], "rules": [
    ...     {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
    ...      "backendRefs": [{"name": "web", "port": 80, "weight": 1}]}]}})
    ['shop.example.com/ → web:80']
    """
    spec = route.get("spec") or {}
    hosts = spec.get("hostnames") or ["*"]
    lines = []
    for rule in spec.get("rules") or []:
        backends = rule.get("backendRefs") or []
        weights = {b.get("weight", 1) for b in backends}
        if len(backends) > 1 or weights - {1}:
            to = ", ".join(f"{b.get('name', '?')} {b.get('weight', 1)}" for b in backends)
        else:
            to = ", ".join(f"{b.get('name', '?')}:{b.get('port', '?')}" for b in backends)
        if not backends:
            to = "(filter)" if rule.get("filters") else "no backend"
        paths = [(m.get("path") or {}).get("value", "/") for m in rule.get("matches") or [{}]]
        for host in hosts:
            for path in paths:
                lines.append(f"{host}{path} → {to}")
    return lines


def gateway_boxes(
    cluster: Any,
    gateways: list[dict[str, Any]],
    slices: dict[tuple[str, str], list[dict[str, Any]]],
) -> list[GatewayView]:
    """A box per Gateway (placed by the caller), with its listeners and attached routes.

    >>> from app.cluster.cluster import Cluster
    >>> gateway_boxes(Cluster.create(seed=1), [], {})
    []
    """
    routes = [r for kind in ("HTTPRoute", "GRPCRoute") for r in cluster.list(kind)]
    boxes = []
    for gateway in gateways:
        meta, spec = gateway["metadata"], gateway.get("spec") or {}
        service = proxy_service(cluster, gateway)
        listeners = [
            f"{li.get('name', '')} :{li.get('port', '')} {li.get('protocol', '')} "
            + (li.get("hostname") or "any host")
            for li in spec.get("listeners") or []
        ]
        lines = [r for route in routes if _attached(route, gateway) for r in route_lines(route)]
        status = gateway.get("status") or {}
        address = ",".join(a.get("value", "") for a in status.get("addresses") or [])
        programmed = any(
            c.get("type") == "Programmed" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        nodes: list[str] = []
        name, namespace = meta["name"], meta["namespace"]
        if service is not None:
            name, namespace = service["metadata"]["name"], service["metadata"]["namespace"]
            pods = ready_endpoint_pods(slices.get((namespace, name), []))
            nodes = sorted(
                {
                    p["spec"].get("nodeName") or "?"
                    for p in cluster.list("Pod", namespace)
                    if f"pod/{namespace}/{p['metadata']['name']}" in pods
                }
            )
        summary = spec.get("gatewayClassName", "")
        summary += f" · {address}" if address else " · no address yet"
        if nodes:
            summary += " · Envoy on " + ", ".join(nodes)
        room = max(L.MAX_INGRESS_RULES - len(listeners), 1)
        shown = [truncate(f"listener {li}", 40) for li in listeners] + [
            truncate(r, 40) for r in lines[:room]
        ]
        boxes.append(
            GatewayView(
                gateway=f"{meta['namespace']}/{meta['name']}",
                name=name,
                namespace=namespace,
                external_ip=address,
                programmed=programmed,
                listeners=shown[: len(listeners)],
                routes=shown[len(listeners) :],
                more_routes=max(len(lines) - room, 0),
                x=0,
                y=0,
                w=L.INGRESS_W,
                h=max(L.SERVICE_H, L.INGRESS_HEAD + L.INGRESS_LINE * (len(shown) + 1) - 6),
                summary=truncate(summary, 42),
                at=f"gateway/{meta['namespace']}/{meta['name']}",
            )
        )
    return boxes


__all__ = ["gateway_boxes", "proxy_service", "route_lines"]
