"""Many requests at once: how kube-proxy spreads them over a Service's endpoints.

Each request is decided as a trace would decide it (its own seed, derived from the one
given), without recording hops, so 10,000 requests take milliseconds. ``sessionAffinity:
ClientIP`` makes every request from one client land on one endpoint.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from app.cluster.cilium_config import replaces_kube_proxy
from app.network import dns, kubeproxy
from app.network.cilium import lb as cilium_lb
from app.network.gateway.traffic import is_envoy_service, through_gateway
from app.network.outside import EXCLUDE_FROM_LB, _backend_endpoints, _nodes_with_ready_endpoints
from app.network.targets import check_request, parse_source, parse_target
from app.network.topology import network_index
from app.network.trace import family as trace_family


def request_seed(seed: int, number: int) -> int:
    """The seed of request ``number`` of a batch: spread, but fixed by the batch's seed.

    >>> request_seed(0, 1) != request_seed(0, 2)
    True
    """
    return (seed * 1_000_003 + number * 2_654_435_761) % (2**31)


def send_traffic(
    cluster: Any,
    source: str,
    to: str,
    count: int,
    seed: int = 0,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    ip_family: str | None = None,
) -> dict[str, Any]:
    """Send ``count`` requests from ``source`` to ``to`` and count where they land (a name
    resolved to ``ip_family`` when given, IPv6 first otherwise, as curl does).

    Returns
    -------
    dict
        ``{"count", "endpoints": [{"ip", "port", "pod", "node", "requests"}], "refused",
        "dropped", "unreachable", "nxdomain", "note"}``, endpoints sorted by pod name.
        Through a Gateway, also ``statuses``: Envoy's own answers (404, 500, ...) by status,
        counted in ``refused``; ``method`` and ``headers`` then take part in the matching.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> result = send_traffic(Cluster.create(seed=1), "node/worker-1", "10.96.0.10:53/udp", 100)
    >>> len(result["endpoints"]), sum(e["requests"] for e in result["endpoints"])
    (2, 100)
    """
    src = parse_source(cluster, source)
    dst = parse_target(to)
    index = network_index(cluster)
    result: dict[str, Any] = {
        "count": count,
        "endpoints": [],
        "refused": 0,
        "dropped": 0,
        "unreachable": 0,
        "nxdomain": 0,
        "note": "",
    }
    address = dst.host
    if not dst.is_ip:
        wanted = trace_family.check_family(ip_family)
        for qtype in trace_family.query_types(cluster, src, wanted):  # IPv6 first, as curl
            resolution = dns.resolve(cluster, src.pod, dst.host, qtype)
            if resolution.rcode != "NOERROR" or resolution.addresses():
                break
        if resolution.rcode != "NOERROR" or not resolution.addresses():
            result["nxdomain"] = count
            result["note"] = f"{dst.host} does not resolve from {src.label}."
            return result
        address = resolution.addresses()[0]
    own = trace_family.address_like(cluster, src, address)
    if own is None:
        result["unreachable"] = count
        result["note"] = f"{src.label} has no address of {address}'s IP family."
        return result
    src = replace(src, ip=own)  # a dual-stack client sends from its address of that family
    service = index.service_by_ip.get(address)
    is_lb = (
        src.kind == "external"
        and service is not None
        and address not in (service["spec"].get("clusterIPs") or [service["spec"].get("clusterIP")])
    )
    if is_lb and dst.scheme and service["metadata"]["name"] == "ingress-nginx-controller":
        return _through_ingress(cluster, dst, count, result)
    if service is not None and dst.scheme and is_envoy_service(service):
        method, headers = check_request(method, headers)
        seeds = [request_seed(seed, n) for n in range(count)]
        return through_gateway(cluster, service, dst, count, seeds, method, headers, result)
    nodes = _entry_nodes(cluster, index, src, address, service if is_lb else None)
    if isinstance(nodes, str):
        result["unreachable"] = count
        result["note"] = nodes
        return result
    port = dst.port
    if is_lb:
        lb_port = next(
            (p for p in service["spec"].get("ports") or [] if p["port"] == dst.port), None
        )
        if lb_port is None or not nodes:
            result["dropped"] = count
            result["note"] = "the load balancer has no listener or no healthy node"
            return result
        port = lb_port["nodePort"]
    # Each node's kube-proxy decides (and keeps ClientIP affinity) on its own; requests to a
    # load balancer are spread over its healthy nodes in turn.
    landed: Counter[tuple[str, int, str, str]] = Counter()
    for position, node in enumerate(nodes):
        share = count // len(nodes) + (1 if position < count % len(nodes) else 0)
        if not share:
            continue
        target_ip = index.node_ip[node] if is_lb else address
        # Where Cilium replaces kube-proxy its eBPF load balancer decides instead.
        send = cilium_lb.traffic if replaces_kube_proxy(cluster.config) else kubeproxy.traffic
        counted = send(
            cluster,
            node,
            src.ip,
            target_ip,
            port,
            dst.protocol,
            share,
            seed=request_seed(seed, position),
            from_outside=src.kind == "external",
        )
        for endpoint in counted["endpoints"]:
            key = (endpoint["ip"], endpoint["port"], endpoint["pod"] or "", endpoint["node"] or "")
            landed[key] += endpoint["requests"]
        result["refused"] += counted["refused"]
        result["dropped"] += counted["dropped"]
        if counted["unproxied"]:
            result["unreachable"] += counted["unproxied"]
            result["note"] = (
                f"{address}:{dst.port} is not a Service: nothing spreads these requests."
            )
    result["endpoints"] = [
        {"ip": ip, "port": port_, "pod": pod, "node": node, "requests": n}
        for (ip, port_, pod, node), n in sorted(landed.items(), key=lambda item: item[0][2])
    ]
    return result


def _entry_nodes(
    cluster: Any, index: Any, src: Any, address: str, lb_service: dict | None
) -> list[str] | str:
    """The node(s) whose kube-proxy sees the requests, or why none does."""
    if src.kind in ("pod", "node"):
        return [src.node]
    if address in index.node_by_ip:
        return [index.node_by_ip[address]]
    if lb_service is None:
        return f"{address} cannot be reached from outside the cluster."
    nodes = [
        n["metadata"]["name"]
        for n in cluster.list("Node")
        if n["metadata"]["name"] in index.ready_nodes
        and EXCLUDE_FROM_LB not in (n["metadata"].get("labels") or {})
    ]
    if lb_service["spec"].get("externalTrafficPolicy") == "Local":
        healthy = _nodes_with_ready_endpoints(cluster, lb_service)
        nodes = [n for n in nodes if n in healthy]
    return nodes


def _through_ingress(cluster: Any, dst: Any, count: int, result: dict[str, Any]) -> dict[str, Any]:
    from app.network import ingress

    match = ingress.match(cluster, dst.host, dst.path or "/")
    endpoints = (
        _backend_endpoints(cluster, match.namespace or "", match.service or "", match.port)
        if match.found
        else None
    )
    if not endpoints:
        result["refused"] = count
        result["note"] = (
            match.explanation
            if not match.found
            else f"Service {match.service} has no ready endpoints (503)."
        )
        return result
    pods = {
        p["status"].get("podIP"): p for p in cluster.list("Pod", match.namespace) if p.get("status")
    }
    # ingress-nginx balances round-robin over the endpoints itself.
    result["endpoints"] = [
        {
            "ip": ip,
            "port": port,
            "pod": f"{match.namespace}/{pod}",
            "node": (pods.get(ip) or {}).get("spec", {}).get("nodeName", ""),
            "requests": count // len(endpoints) + (1 if i < count % len(endpoints) else 0),
        }
        for i, (ip, port, pod) in enumerate(endpoints)
    ]
    result["note"] = (
        "ingress-nginx balances round-robin over the endpoints of " + f"Service {match.service}."
    )
    return result
