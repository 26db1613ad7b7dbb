"""Service address allocation as the API server does it on create and update.

- ``spec.clusterIP``: kept when set; allocated when left out; ``None`` makes a headless
  Service; ExternalName Services have none. It cannot change once set.
- ``spec.ipFamilies`` and ``spec.ipFamilyPolicy`` (:mod:`app.cluster.service_families`):
  ``spec.clusterIPs`` holds one address of each family, the first one ``spec.clusterIP``.
- ``nodePort``: NodePort and LoadBalancer Services get one per port; an explicit one must be
  in range and free. On update, a port that leaves its nodePort out keeps the one it had
  (matched by port number and protocol), as kubectl apply users expect.
- ``healthCheckNodePort``: LoadBalancer Services with ``externalTrafficPolicy: Local``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.cluster import families
from app.cluster.objects import deep_copy
from app.cluster.service_families import init_ip_families
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


def check_allocations(
    state: ClusterState,
    manifest: dict[str, Any],
    live: dict[str, Any] | None,
    claims: BatchClaims,
) -> list[FieldError]:
    """Errors for explicit ClusterIPs and NodePorts that are out of range or taken, after the
    IP family checks (:func:`family_problems`; when those fail, the API server stops there)."""
    spec = manifest["spec"]
    live_spec = (live or {}).get("spec") or {}
    trial = deep_copy(spec)
    if live is not None:
        keep_allocations(trial, live_spec)
    problems = init_ip_families(trial, live_spec if live else None, families.of(state.config))
    if problems:
        return problems
    owner = f"{manifest['metadata']['namespace']}/{manifest['metadata']['name']}"
    errors: list[FieldError] = []
    held = set(live_spec.get("clusterIPs") or [live_spec.get("clusterIP")])
    for i, ip in enumerate(_given_ips(trial)):
        if not ip or ip == "None" or ip in held:
            continue
        problem = state.allocator.cluster_ip_problem(ip)
        if problem is None and claims.cluster_ips.get(ip, owner) != owner:
            problem = "provided IP is already allocated"
        if problem:
            errors.append(FieldError(f"spec.clusterIPs[{i}]", f'Invalid value: "{ip}": {problem}'))
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


def _given_ips(spec: dict[str, Any]) -> list[str]:
    """``clusterIPs`` as the API server normalises them: the list, else ``[clusterIP]``."""
    ips = [ip for ip in spec.get("clusterIPs") or () if isinstance(ip, str)]
    return ips or ([spec["clusterIP"]] if spec.get("clusterIP") else [])


def keep_allocations(spec: dict[str, Any], live_spec: dict[str, Any]) -> None:
    """Fill what an update leaves out from the live Service: its ClusterIP, and the nodePorts
    of ports that still exist (matched by port and protocol)."""
    if spec.get("type") == "ExternalName" or live_spec.get("type") == "ExternalName":
        return
    if not spec.get("clusterIP") and live_spec.get("clusterIP"):
        spec["clusterIP"] = live_spec["clusterIP"]
        spec["clusterIPs"] = list(live_spec.get("clusterIPs") or [live_spec["clusterIP"]])
    if not spec.get("ipFamilies") and live_spec.get("ipFamilies"):
        # kubectl apply patches: a field the manifest leaves out keeps its stored value.
        spec["ipFamilies"] = list(live_spec["ipFamilies"])
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
        init_ip_families(spec, live_spec or None, families.of(state.config))  # checked before
        ips = _given_ips(spec)
        if ips[:1] != ["None"]:
            wanted = spec["ipFamilies"]
            ips = [
                ips[i]
                if i < len(ips) and ips[i]
                else alloc.allocate_cluster_ip(owner, state.rng(), f)
                for i, f in enumerate(wanted)
            ]
            for ip in ips:
                alloc.take_cluster_ip(ip, owner)
        for old in live_spec.get("clusterIPs") or [live_spec.get("clusterIP")]:
            if old and old not in ips:
                alloc.release_cluster_ip(old if old != "None" else None)
        spec["clusterIP"] = ips[0]
        spec["clusterIPs"] = ips
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
    for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
        state.allocator.release_cluster_ip(ip if ip != "None" else None)
    state.allocator.release_node_ports_of(owner)
    state.allocator.release_lb_ips_of(owner)


__all__ = ["BatchClaims", "allocate", "check_allocations", "keep_allocations", "release"]
