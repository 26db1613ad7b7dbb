"""The kube-proxy data a caller sees: one :class:`ServicePort` per proxied Service port with
its :class:`Endpoint` list, the :class:`RuleSet` a node prints, and the :class:`Decision` its
rules make for one packet (naming each :class:`RuleRef` it matched).

Plain data, importing nothing else of the package, so every other module of it may use these.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    node: str | None
    pod: tuple[str, str] | None  # (namespace, name)
    ready: bool = True


@dataclass(frozen=True)
class ServicePort:
    """One (Service, port) as kube-proxy sees it."""

    namespace: str
    service: str
    port_name: str
    protocol: str  # "TCP" | "UDP" | "SCTP"
    cluster_ip: str | None
    port: int
    node_port: int | None
    load_balancer_ips: tuple[str, ...]
    external_policy: str
    internal_policy: str
    affinity_timeout: int | None  # seconds, when sessionAffinity is ClientIP
    endpoints: tuple[Endpoint, ...]  # ready ones only, sorted by "ip:port"
    chain: str  # KUBE-SVC-...
    external_ips: tuple[str, ...] = ()
    health_check_node_port: int | None = None
    # spec.loadBalancerSourceRanges, whitespace trimmed as kube-proxy tolerates it
    load_balancer_source_ranges: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """kube-proxy's ``ServicePortName.String()``: ``ns/name:port``, no ``:`` part when the
        port is unnamed.

        >>> from app.cluster.cluster import Cluster
        >>> from app.network.kubeproxy import service_table
        >>> [sp.name for sp in service_table(Cluster.create(seed=1)) if sp.service == "kube-dns"]
        ['kube-system/kube-dns:dns', 'kube-system/kube-dns:dns-tcp', 'kube-system/kube-dns:metrics']
        """
        suffix = f":{self.port_name}" if self.port_name else ""
        return f"{self.namespace}/{self.service}{suffix}"


@dataclass(frozen=True)
class RuleRef:
    table: str
    chain: str
    index: int  # 1-based, as ``iptables -L --line-numbers``
    text: str


@dataclass
class Decision:
    action: str  # "dnat" | "reject" | "drop" | "none"
    service: ServicePort | None
    endpoint: Endpoint | None
    masquerade: bool
    matched: list[RuleRef]
    reason: str


@dataclass
class RuleSet:
    node: str
    mode: str
    text: str
    chains: list[dict[str, Any]]
