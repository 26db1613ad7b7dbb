"""Many requests through a Gateway: where Envoy sends each one (by the same decision a trace
makes, each request with its own seed), so a weighted split shows in the counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.cluster.controllers.gateway import infra
from app.network.gateway.decide import decide
from app.network.gateway.filters import pick_backend
from app.network.gateway.matching import Request


def is_envoy_service(service: dict[str, Any]) -> bool:
    """Whether a Service is the one Envoy Gateway made in front of a Gateway's Envoy pods."""
    labels = service["metadata"].get("labels") or {}
    return service["metadata"].get("namespace") == infra.NAMESPACE and infra.OWNER_NAME in labels


def through_gateway(
    cluster: Any,
    service: dict[str, Any],
    dst: Any,
    count: int,
    seeds: list[int],
    method: str,
    headers: dict[str, str],
    result: dict[str, Any],
    host: str | None = None,
) -> dict[str, Any]:
    """Count where ``count`` requests to an Envoy Service land (``result`` filled in place):
    endpoints by pod, requests per backend Service in ``result["backends"]`` (the weighted
    split) and Envoy's own answers by status in ``result["statuses"]``."""
    labels = service["metadata"].get("labels") or {}
    gateway = (labels.get(infra.OWNER_NAMESPACE, ""), labels.get(infra.OWNER_NAME, ""))
    port = next((p for p in service["spec"].get("ports") or [] if p.get("port") == dst.port), None)
    if port is None:
        result["refused"] = count
        result["note"] = f"Service {service['metadata']['name']} has no port {dst.port}."
        return result
    request = Request(host or dst.host, dst.path or "/", dst.query, method, headers)
    envoy_port = int(port.get("targetPort", port["port"]))
    pods = {(p.get("status") or {}).get("podIP"): p for p in cluster.list("Pod") if p.get("status")}
    landed: Counter[tuple[str, int]] = Counter()
    statuses: Counter[int] = Counter()
    backends: Counter[str] = Counter()  # by backendRef's Service: the weighted split
    notes: dict[int, str] = {}
    # Only the weighted pick (and then the endpoint) differs between requests: decide once per
    # backendRef picked, not once per request.
    first = decide(cluster, gateway, envoy_port, request, dst.scheme, seeds[0])
    refs = (first.choice.route_rule.get("backendRefs") or []) if first.choice else []
    same_for_all = first.choice is None or first.location is not None or not refs
    by_pick: dict[int, Any] = {}
    for seed in seeds[:count]:
        if same_for_all:
            decision = first
        else:
            index = pick_backend(refs, seed).index
            decision = by_pick.get(index)
            if decision is None:
                decision = by_pick[index] = decide(
                    cluster, gateway, envoy_port, request, dst.scheme, seed
                )
        if decision.status is not None:
            statuses[decision.status] += 1
            notes.setdefault(decision.status, str(decision.reason))
            continue
        landed[decision.endpoints[seed % len(decision.endpoints)]] += 1
        if decision.service is not None:
            backends[f"{decision.service[0]}/{decision.service[1]}"] += 1
    endpoints = []
    for (ip, port_), n in landed.items():
        pod = pods.get(ip) or {"metadata": {}, "spec": {}}
        name = f"{pod['metadata'].get('namespace', '')}/{pod['metadata'].get('name', '')}"
        endpoints.append(
            {
                "ip": ip,
                "port": port_,
                "pod": name,
                "node": pod["spec"].get("nodeName", ""),
                "requests": n,
            }
        )
    result["endpoints"] = sorted(endpoints, key=lambda e: e["pod"])
    result["statuses"] = {str(k): v for k, v in sorted(statuses.items())}
    result["backends"] = dict(sorted(backends.items()))
    result["refused"] = sum(statuses.values())
    said = " ".join(f"HTTP {k} ×{v}: {notes[k]}" for k, v in sorted(statuses.items()))
    result["note"] = (
        f"Envoy (Gateway {gateway[0]}/{gateway[1]}) picks a backendRef per request by weight, "
        "then an endpoint of it." + (f" {said}" if said else "")
    )
    return result
