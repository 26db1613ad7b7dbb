"""Service address allocation as the API server does it on create and update.

- ``spec.clusterIP``: kept when set; allocated when left out; ``None`` makes a headless
  Service; ExternalName Services have none. It cannot change once set.
- ``nodePort``: NodePort and LoadBalancer Services get one per port; an explicit one must be
  in range and free. On update, a port that leaves its nodePort out keeps the one it had
  (matched by port number and protocol), as kubectl apply users expect.
- ``healthCheckNodePort``: LoadBalancer Services with ``externalTrafficPolicy: Local``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.cluster.state import ClusterState
from app.errors import DUPLICATE, INVALID, FieldError


def _needs_node_ports(spec: dict[str, Any]) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def _needs_health_check(spec: dict[str, Any]) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


@dataclass
class BatchClaims:
    """Addresses and ports claimed by earlier documents of the same apply."""

    cluster_ips: dict[str, str] = field(default_factory=dict)
    node_ports: dict[str, str] = field(default_factory=dict)


# The families of this cluster's --service-cluster-ip-range: one IPv4 CIDR (single-stack).
SERVICE_IP_FAMILIES = ("IPv4",)


def family_problems(spec: dict[str, Any]) -> list[FieldError]:
    """What the API server's allocator refuses before it allocates (kubernetes
    ``pkg/registry/core/service/storage/alloc.go`` ``initIPFamilyFields``): demanding
    dual-stack on a single-stack cluster, or a family the cluster has no range for. A headless
    Service without a selector is exempt (it gets no ClusterIP), as is ExternalName.

    Parameters: ``spec``, the Service's spec. Returns the errors (empty when allowed).

    >>> [e.describe() for e in family_problems({"ipFamilyPolicy": "RequireDualStack"})]
    ['spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services']
    >>> family_problems({"clusterIP": "None", "ipFamilyPolicy": "RequireDualStack"})
    []
    """
    if spec.get("type") == "ExternalName":
        return []
    if spec.get("clusterIP") == "None" and not spec.get("selector"):
        return []
    errors: list[FieldError] = []
    policy = spec.get("ipFamilyPolicy")
    if policy == "RequireDualStack" and len(SERVICE_IP_FAMILIES) < 2:
        message = (
            f'Invalid value: "{policy}": this cluster is not configured for dual-stack services'
        )
        errors.append(FieldError("spec.ipFamilyPolicy", message))
    for i, family in enumerate(spec.get("ipFamilies") or ()):
        if family in ("IPv4", "IPv6") and family not in SERVICE_IP_FAMILIES:
            message = f'Invalid value: "{family}": not configured on this cluster'
            errors.append(FieldError(f"spec.ipFamilies[{i}]", message))
    return errors


def check_allocations(
    state: ClusterState,
    manifest: dict[str, Any],
    live: dict[str, Any] | None,
    claims: BatchClaims,
) -> list[FieldError]:
    """Errors for explicit ClusterIPs and NodePorts that are out of range or taken, after the
    IP family checks (:func:`family_problems`; when those fail, the API server stops there)."""
    spec = manifest["spec"]
    families = family_problems(spec)
    if families:
        return families
    owner = f"{manifest['metadata']['namespace']}/{manifest['metadata']['name']}"
    live_spec = (live or {}).get("spec") or {}
    errors: list[FieldError] = []
    ip = spec.get("clusterIP")
    if ip and ip != "None" and ip != live_spec.get("clusterIP"):
        problem = state.allocator.cluster_ip_problem(ip)
        if problem is None and claims.cluster_ips.get(ip, owner) != owner:
            problem = "provided IP is already allocated"
        if problem:
            errors.append(FieldError("spec.clusterIPs[0]", f'Invalid value: "{ip}": {problem}'))
        claims.cluster_ips[ip] = owner
    if not _needs_node_ports(spec):
        return errors
    seen: set[str] = set()
    requested = [
        (f"spec.ports[{i}].nodePort", p.get("nodePort"), p.get("protocol", "TCP"))
        for i, p in enumerate(spec.get("ports") or [])
    ]
    if _needs_health_check(spec):
        requested.append(("spec.healthCheckNodePort", spec.get("healthCheckNodePort"), "TCP"))
    for path, port, protocol in requested:
        if not port:
            continue
        slot = f"{port}/{protocol}"
        if slot in seen and not path.endswith("healthCheckNodePort"):
            errors.append(FieldError(path, f"Duplicate value: {port}", DUPLICATE))
            continue
        seen.add(slot)
        problem = state.allocator.node_port_problem(port, protocol, owner)
        if problem is None and claims.node_ports.get(slot, owner) != owner:
            problem = "provided port is already allocated"
        if problem:
            errors.append(FieldError(path, f"Invalid value: {port}: {problem}", INVALID))
        claims.node_ports[slot] = owner
    return errors


def keep_allocations(spec: dict[str, Any], live_spec: dict[str, Any]) -> None:
    """Fill what an update leaves out from the live Service: its ClusterIP, and the nodePorts
    of ports that still exist (matched by port and protocol)."""
    if spec.get("type") == "ExternalName" or live_spec.get("type") == "ExternalName":
        return
    if not spec.get("clusterIP") and live_spec.get("clusterIP"):
        spec["clusterIP"] = live_spec["clusterIP"]
        spec["clusterIPs"] = list(live_spec.get("clusterIPs") or [live_spec["clusterIP"]])
    if not _needs_node_ports(spec) or not _needs_node_ports(live_spec):
        return
    old = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in live_spec.get("ports") or []
    }
    for port in spec.get("ports") or []:
        if not port.get("nodePort"):
            kept = old.get((port.get("port"), port.get("protocol", "TCP")))
            if kept:
                port["nodePort"] = kept
    keep_health_check = _needs_health_check(spec) and not spec.get("healthCheckNodePort")
    if keep_health_check and live_spec.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = live_spec["healthCheckNodePort"]


def allocate(state: ClusterState, service: dict[str, Any], live: dict[str, Any] | None) -> None:
    """Give a Service being created or updated its ClusterIP and NodePorts, in place.

    Everything explicit was checked by :func:`check_allocations` first.
    """
    spec = service["spec"]
    meta = service["metadata"]
    owner = f"{meta['namespace']}/{meta['name']}"
    live_spec = (live or {}).get("spec") or {}
    alloc = state.allocator
    if spec.get("type") == "ExternalName":
        alloc.release_cluster_ip(live_spec.get("clusterIP"))
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    else:
        ip = spec.get("clusterIP")
        if ip != live_spec.get("clusterIP"):
            alloc.release_cluster_ip(live_spec.get("clusterIP"))
        if not ip:
            ip = alloc.allocate_cluster_ip(owner, state.rng())
        elif ip != "None":
            alloc.take_cluster_ip(ip, owner)
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
    alloc.release_node_ports_of(owner)
    if _needs_node_ports(spec):
        # Explicit ports first, so a dynamic pick never takes one asked for in the same Service.
        for port in spec.get("ports") or []:
            if port.get("nodePort"):
                alloc.take_node_port(port["nodePort"], port.get("protocol", "TCP"), owner)
        if _needs_health_check(spec) and spec.get("healthCheckNodePort"):
            alloc.take_node_port(spec["healthCheckNodePort"], "TCP", owner)
        for port in spec.get("ports") or []:
            if not port.get("nodePort"):
                protocol = port.get("protocol", "TCP")
                port["nodePort"] = alloc.allocate_node_port(protocol, owner, state.rng())
        if _needs_health_check(spec) and not spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = alloc.allocate_node_port("TCP", owner, state.rng())
        if spec.get("type") == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
    else:
        for port in spec.get("ports") or []:
            port.pop("nodePort", None)
    if not _needs_health_check(spec):
        spec.pop("healthCheckNodePort", None)
    service["status"] = (live or {}).get("status") or {"loadBalancer": {}}


def release(state: ClusterState, service: dict[str, Any]) -> None:
    """Free everything a deleted Service held."""
    spec = service.get("spec") or {}
    owner = f"{service['metadata']['namespace']}/{service['metadata']['name']}"
    state.allocator.release_cluster_ip(
        spec.get("clusterIP") if spec.get("clusterIP") != "None" else None
    )
    state.allocator.release_node_ports_of(owner)
    state.allocator.release_lb_ips_of(owner)


__all__ = ["BatchClaims", "allocate", "check_allocations", "keep_allocations", "release"]
