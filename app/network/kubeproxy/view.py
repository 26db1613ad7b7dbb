"""kube-proxy's view of the cluster: one :class:`ServicePort` per proxied Service port, and the
per-node programs built from it (memoised on the cluster state's resourceVersion).

See :mod:`app.network.kubeproxy` for the public API; :func:`service_table` is re-exported there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.cluster import constants as c
from app.cluster import families
from app.errors import NotFound
from app.network.kubeproxy import chains, ip6, iptables, ipvs, nftables
from app.network.kubeproxy.model import Endpoint, ServicePort


# --- the service table ---------------------------------------------------------------------
def service_table(cluster: Any, family: str | None = None) -> list[ServicePort]:
    """Every proxied Service port, sorted by name; headless and ExternalName Services are
    skipped, as kube-proxy skips them.

    >>> from app.cluster.cluster import Cluster
    >>> table = service_table(Cluster.create(seed=1))
    >>> table[0].name, table[0].chain, table[0].endpoints[0].ip
    ('default/kubernetes:https', 'KUBE-SVC-NPX46M4PTMTKRN6Y', '10.0.0.10')
    """
    return list(view(cluster, family).table)


@dataclass
class _View:
    table: list[ServicePort]
    by_vip: dict[tuple[str, str, int], tuple[ServicePort, str]] = field(default_factory=dict)
    by_node_port: dict[tuple[str, int], ServicePort] = field(default_factory=dict)
    nodes: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # ip, local addrs


def view(cluster: Any, family: str | None = None) -> _View:
    """kube-proxy's view for one IP family (the cluster's primary unless given): on a
    dual-stack node kube-proxy runs one proxier per family, each seeing the Services' address
    of its family and the EndpointSlices of its addressType only."""
    family = family or families.of(cluster.config)[0]
    key = "kubeproxy.view" if family == "IPv4" else f"kubeproxy.view.{family}"
    return cluster.state.memoised(key, lambda: _build_view(cluster, family))


def _of(family: str, ips: Any) -> tuple[str, ...]:
    return tuple(ip for ip in ips if ip and (":" in ip) == (family == "IPv6"))


def _build_view(cluster: Any, family: str = "IPv4") -> _View:
    table: list[ServicePort] = []
    for svc in cluster.list("Service"):
        spec = svc.get("spec") or {}
        ip = next(iter(_of(family, spec.get("clusterIPs") or [spec.get("clusterIP")])), None)
        if spec.get("type") == "ExternalName" or not ip or ip == "None":
            continue
        meta = svc["metadata"]
        ns, name = meta.get("namespace", "default"), meta["name"]
        slices = [
            s
            for s in cluster.list("EndpointSlice", ns)
            if _slice_of(s) == name and s.get("addressType", "IPv4") == family
        ]
        affinity = None
        if spec.get("sessionAffinity") == "ClientIP":
            config = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
            affinity = int(config.get("timeoutSeconds") or 10800)
        lb_ips = _of(
            family,
            (
                i.get("ip")
                for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
            ),
        )
        for port in spec.get("ports") or ():
            protocol = port.get("protocol", "TCP")
            port_name = port.get("name") or ""
            eps = _endpoints(slices, port_name, protocol)
            sp_name = f"{ns}/{name}" + (f":{port_name}" if port_name else "")
            table.append(
                ServicePort(
                    namespace=ns,
                    service=name,
                    port_name=port_name,
                    protocol=protocol,
                    cluster_ip=ip,
                    port=int(port["port"]),
                    node_port=port.get("nodePort") or None,
                    load_balancer_ips=lb_ips,
                    external_policy=spec.get("externalTrafficPolicy") or "Cluster",
                    internal_policy=spec.get("internalTrafficPolicy") or "Cluster",
                    affinity_timeout=affinity,
                    endpoints=eps,
                    chain=chains.chain_name("KUBE-SVC-", sp_name, protocol),
                    external_ips=_of(family, spec.get("externalIPs") or ()),
                    health_check_node_port=spec.get("healthCheckNodePort") or None,
                    load_balancer_source_ranges=tuple(
                        r.strip() for r in spec.get("loadBalancerSourceRanges") or () if r.strip()
                    ),
                )
            )
    table.sort(key=lambda sp: sp.name)
    view = _View(table)
    for sp in table:
        proto = sp.protocol
        view.by_vip.setdefault((sp.cluster_ip or "", proto, sp.port), (sp, "cluster"))
        for ip in sp.external_ips + sp.load_balancer_ips:
            view.by_vip.setdefault((ip, proto, sp.port), (sp, "ext"))
        if sp.node_port:
            view.by_node_port.setdefault((proto, sp.node_port), sp)
    state = cluster.state
    ipam = state.ipam6 if family == "IPv6" and state.ipam6 is not None else state.ipam
    for node in cluster.list("Node"):
        summary = cluster.node_summary(node)
        node_ip = next(iter(_of(family, summary["internalIPs"])), "")
        addressing = ipam.nodes.get(summary["name"])
        gateway = addressing.gateway_ip if addressing else ""
        view.nodes[summary["name"]] = (node_ip, {node_ip, gateway} - {None, ""})
    return view


def _slice_of(s: dict[str, Any]) -> str | None:
    return ((s.get("metadata") or {}).get("labels") or {}).get(c.SERVICE_NAME_LABEL)


def _endpoints(slices: list[dict[str, Any]], port_name: str, protocol: str) -> tuple[Endpoint, ...]:
    found: dict[str, Endpoint] = {}
    for s in slices:
        for p in s.get("ports") or ():
            if (
                (p.get("name") or "") != port_name
                or p.get("protocol", "TCP") != protocol
                or not p.get("port")
            ):
                continue
            for e in s.get("endpoints") or ():
                if (e.get("conditions") or {}).get("ready") is False:
                    continue  # a nil "ready" means ready (EndpointConditions docs)
                ref = e.get("targetRef") or {}
                pod = (ref.get("namespace", ""), ref["name"]) if ref.get("kind") == "Pod" else None
                for addr in e.get("addresses") or ():
                    key = f"{addr}:{p['port']}"
                    found.setdefault(
                        key, Endpoint(addr, int(p["port"]), e.get("nodeName"), pod, True)
                    )
    return tuple(found[k] for k in sorted(found))  # EndpointSliceCache: byEndpoint, by String()


# --- per-node programs ---------------------------------------------------------------------------------
def context(
    cluster: Any, node: str, family: str | None = None
) -> tuple[chains.NodeContext, set[str]]:
    family = family or families.of(cluster.config)[0]
    v = view(cluster, family)
    if node not in v.nodes:
        raise NotFound(f'nodes "{node}" not found')
    ip, local = v.nodes[node]
    cidr = families.pod_network(cluster.config.cni, family)  # --cluster-cidr of this family
    return chains.NodeContext(node, ip, str(cidr)), local


def program(cluster: Any, node: str, mode: str, family: str | None = None) -> chains.Program:
    family = family or families.of(cluster.config)[0]
    ctx, _local = context(cluster, node, family)
    table = view(cluster, family).table

    def build() -> chains.Program:
        if mode == "iptables":
            return iptables.build_iptables(table, ctx)
        if mode == "nftables":
            return nftables.build_nftables(
                table, ctx, service_cidr=str(families.service_cidr(family))
            )
        if mode == "ipvs":
            return ipvs.build_ipvs(table, ctx, [ctx.node_ip])
        raise ValueError(f"unknown proxy mode {mode!r}: must be one of {', '.join(c.PROXY_MODES)}")

    def built() -> chains.Program:
        made = build()
        return made if family == "IPv4" else ip6.for_ipv6(made, mode)

    suffix = "" if family == "IPv4" else f".{family}"
    return cluster.state.memoised(f"kubeproxy.program.{node}.{mode}{suffix}", built)
