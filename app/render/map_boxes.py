"""The boxes above the nodes: Services, the ingress controller and the load balancer's IPs."""

from __future__ import annotations

from typing import Any

from app.render import map_layout as L
from app.render.map_layout import truncate
from app.render.map_model import (
    IngressView,
    ServiceView,
    external_ip,
    is_system,
    ports_text,
    ready_endpoint_pods,
)


def plural(count: int, word: str) -> str:
    """``1 pod``, ``2 pods``.

    >>> plural(1, "pod"), plural(2, "Service")
    ('1 pod', '2 Services')
    """
    return f"{count} {word}" + ("" if count == 1 else "s")


def service_box(
    service: dict[str, Any],
    x: float,
    y: float,
    slices: dict[tuple[str, str], list[dict[str, Any]]],
    app_colours: dict[str, int],
) -> ServiceView:
    """A Service's box at (x, y); its lines are added once the pods are placed."""
    meta, spec = service["metadata"], service["spec"]
    key = (meta["namespace"], meta["name"])
    kind = spec.get("type", "ClusterIP")
    endpoints = ready_endpoint_pods(slices.get(key, []))
    empty = not endpoints and kind != "ExternalName"
    ports = ports_text(service, slices.get(key, []))
    name = meta["name"] if meta["namespace"] == "default" else f"{meta['namespace']}/{meta['name']}"
    cluster_ip = spec.get("clusterIP") or "None"
    external = external_ip(service)
    if empty:
        status = "⚠ no endpoints"
    elif kind == "LoadBalancer":
        status = f"LB {external}"
    elif kind == "ExternalName":
        status = f"→ {external}"
    else:
        status = plural(len(endpoints), "endpoint")
    selector_app = (spec.get("selector") or {}).get("app")
    return ServiceView(
        name=meta["name"],
        namespace=meta["namespace"],
        type=kind,
        cluster_ip=cluster_ip,
        ports=ports,
        external_ip=external,
        endpoints=len(endpoints),
        hidden_endpoints=len(endpoints),
        empty=empty,
        system=is_system(service),
        colour=app_colours.get(selector_app or ""),
        x=x,
        y=y,
        w=L.SERVICE_W,
        h=L.SERVICE_H,
        at=f"service/{meta['namespace']}/{meta['name']}",
        virtual_ips=[
            ip
            for ip in [*(spec.get("clusterIPs") or [spec.get("clusterIP")]), *lb_addresses(service)]
            if ip and ip != "None"
        ],
        node_ports=[p["nodePort"] for p in spec.get("ports") or [] if p.get("nodePort")],
        cluster_ip6=next(iter((spec.get("clusterIPs") or [])[1:]), ""),
        label=truncate(name, 19),
        type_text=truncate(f"{kind} · {cluster_ip}", 27),
        ports_label=truncate(ports or "no ports", 23),
        status=truncate(status, 26),
    )


def lb_addresses(service: dict[str, Any]) -> list[str]:
    """The IPs the cloud load balancer gave a Service.

    >>> lb_addresses({"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.4"}]}}})
    ['203.0.113.4']
    """
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [i["ip"] for i in ingress if i.get("ip")]


def ingress_box(
    cluster: Any,
    ingresses: list[dict[str, Any]],
    slices: dict[tuple[str, str], list[dict[str, Any]]],
) -> IngressView | None:
    """The ingress controller's box with the rules of ``ingresses`` (None when there are none)."""
    if not ingresses:
        return None
    rules = []
    for ing in ingresses:
        spec = ing.get("spec") or {}
        default = (spec.get("defaultBackend") or {}).get("service")
        if default:
            rules.append(f"* (default) → {_backend(default)}")
        for rule in spec.get("rules") or []:
            host = rule.get("host") or "*"
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = (path.get("backend") or {}).get("service") or {}
                rules.append(f"{host}{path.get('path', '/')} → {_backend(backend)}")
    controllers = sorted(
        cluster.list("Service", "ingress-nginx"),
        key=lambda s: (
            s["spec"].get("type") != "LoadBalancer",
            s["spec"].get("type") != "NodePort",
            s["metadata"]["name"],
        ),
    )
    shown = rules[: L.MAX_INGRESS_RULES]
    height = max(L.SERVICE_H, L.INGRESS_HEAD + L.INGRESS_LINE * (len(shown) + 1) - 6)
    if controllers:
        svc = controllers[0]
        key = (svc["metadata"]["namespace"], svc["metadata"]["name"])
        pods = ready_endpoint_pods(slices.get(key, []))
        nodes = sorted(
            {
                p["spec"].get("nodeName") or "?"
                for p in cluster.list("Pod", key[0])
                if f"pod/{key[0]}/{p['metadata']['name']}" in pods
            }
        )
        name, namespace = key[1], key[0]
        external, cluster_ip = external_ip(svc), svc["spec"].get("clusterIP") or ""
    else:
        name, namespace, external, cluster_ip, nodes = "ingress controller", "", "", "", []
    summary = f"LB {external}" if external else f"ClusterIP {cluster_ip}"
    if nodes:
        summary += " · on " + ", ".join(nodes)
    return IngressView(
        name=name,
        namespace=namespace,
        external_ip=external,
        cluster_ip=cluster_ip,
        nodes=nodes,
        rules=[truncate(r, 34) for r in shown],
        more_rules=len(rules) - len(shown),
        x=0,
        y=0,
        w=L.INGRESS_W,
        h=height,
        summary=truncate(summary, 38),
    )


def lb_ips(cluster: Any, services: list[dict[str, Any]], wide: list[Any]) -> list[str]:
    """The load balancer's IPs that lead to a box drawn, as ``ip → service``: a Service's,
    or the Service behind the ingress controller's or a Gateway's box (in ``wide``)."""
    drawn = {
        (s["metadata"]["namespace"], s["metadata"]["name"]): s["metadata"]["name"] for s in services
    }
    for box in wide:  # a Gateway's proxy Service is named after the Gateway on the map
        gateway = getattr(box, "gateway", "")
        drawn[(box.namespace, box.name)] = (
            f"Gateway {gateway.split('/')[-1]}" if gateway else box.name
        )
    out = []
    for service in cluster.list("Service"):
        key = (service["metadata"]["namespace"], service["metadata"]["name"])
        if service["spec"].get("type") != "LoadBalancer" or key not in drawn:
            continue
        for item in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
            if item.get("ip"):
                out.append(f"{item['ip']} → {drawn[key]}")
    return out


def _backend(service: dict[str, Any]) -> str:
    port = service.get("port") or {}
    return f"{service.get('name', '?')}:{port.get('number') or port.get('name') or '?'}"
