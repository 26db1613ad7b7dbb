"""Pods grouped into rows: pods that every policy check sees alike share one row."""

from __future__ import annotations

import ipaddress
from typing import Any

from app.network import policy
from app.network.explain import declared_ports
from app.network.reachability.model import FALLBACK_PORT, MAX_PORTS, Party
from app.network.reachability.model import pod_name as _name


def isolation(cluster: Any, pod: dict[str, Any]) -> dict[str, list[str]]:
    """The policies that select ``pod``, per direction (``Ingress``, ``Egress``): a pod is
    *isolated* for a direction when at least one policy of its namespace selects it with that
    type in ``policyTypes`` (whether or not the CNI plugin enforces it).

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: networking.k8s.io/v1
    ... kind: NetworkPolicy
    ... metadata: {name: deny-egress}
    ... spec: {podSelector: {}, policyTypes: [Egress]}
    ... ---
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: web}
    ... spec: {containers: [{name: web, image: nginx}]}
    ... ''')
    >>> isolation(cluster, cluster.get("Pod", "default", "web"))
    {'Ingress': [], 'Egress': ['default/deny-egress']}
    """
    return {d: policy.selecting(cluster, d, pod) for d in ("Ingress", "Egress")}


def pair(
    senders: list[dict[str, Any]], receivers: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A sender and a different receiver from the two groups (None: only a pod to itself)."""
    sender = senders[0]
    receiver = next((r for r in receivers if r is not sender), None)
    if receiver is None:
        return sender, None
    return sender, receiver


def addressed(pod: dict[str, Any]) -> bool:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    return (
        bool(status.get("podIP"))
        and not spec.get("hostNetwork")
        and not pod["metadata"].get("deletionTimestamp")
    )


def ip_blocks(cluster: Any) -> list[tuple[Any, list[Any]]]:
    blocks = []
    for p in cluster.list("NetworkPolicy"):
        spec = p.get("spec") or {}
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for peer in (rule.get("from") or []) + (rule.get("to") or []):
                block = peer.get("ipBlock")
                if block and block.get("cidr"):
                    blocks.append(
                        (
                            ipaddress.ip_network(block["cidr"], strict=False),
                            [
                                ipaddress.ip_network(e, strict=False)
                                for e in block.get("except") or []
                            ],
                        )
                    )
    return blocks


def signature(pod: dict[str, Any], blocks: list[tuple[Any, list[Any]]]) -> tuple:
    """What every policy check can see of a pod: pods with the same signature get the same
    verdicts, so one row stands for them all. The node only matters once an ipBlock exists
    (it decides the masquerade address an outside request arrives with)."""
    meta = pod["metadata"]
    ip = ipaddress.ip_address(pod["status"]["podIP"])
    inside = tuple(ip in net and not any(ip in e for e in excepts) for net, excepts in blocks)
    return (
        meta["namespace"],
        tuple(sorted((meta.get("labels") or {}).items())),
        tuple(sorted(declared_ports(pod), key=str)),
        inside,
        pod["spec"].get("nodeName") if blocks else None,
    )


def party(cluster: Any, group: list[dict[str, Any]]) -> Party:
    first = group[0]
    namespace = first["metadata"]["namespace"]
    names = [_name(p) for p in group]
    label = _name(first) if len(group) == 1 else f"{_name(first)} +{len(group) - 1}"
    iso = isolation(cluster, first)
    return Party(
        f"pod/{names[0]}",
        label,
        namespace,
        names,
        first["status"]["podIP"],
        _ports(cluster, first),
        iso["Ingress"],
        iso["Egress"],
    )


def _ports(cluster: Any, pod: dict[str, Any]) -> list[tuple[int, str, str | None]]:
    """The ports tried on ``pod``: those it declares, else those the policies isolating it
    for ingress name (a range's first port), else port 80 (a pod that declares none is taken
    to listen on any)."""
    found: list[tuple[int, str, str | None]] = []
    for number, protocol, name in declared_ports(pod):
        if number is not None and (number, protocol, name) not in found:
            found.append((number, protocol, name))
    if not found:
        for key in policy.selecting(cluster, "Ingress", pod):
            namespace, name = key.split("/", 1)
            spec = (cluster.get("NetworkPolicy", namespace, name) or {}).get("spec") or {}
            for rule in spec.get("ingress") or []:
                for entry in rule.get("ports") or []:
                    number = entry.get("port")
                    if isinstance(number, int):
                        item = (number, entry.get("protocol", "TCP"), None)
                        if item not in found:
                            found.append(item)
    return found[:MAX_PORTS] or [FALLBACK_PORT]
