"""Failures kube-proxy decides: a ClusterIP on a port no Service exposes, a Local-policy drop."""

from __future__ import annotations

import ipaddress
from typing import Any

from app.cluster import constants as c
from app.network.explain import Reason, field_cause
from app.network.model import Hop, Packet
from app.network.run import TraceRun
from app.network.why import why


def is_virtual(run: TraceRun, ip: str) -> bool:
    """A ClusterIP or a LoadBalancer IP: addresses only kube-proxy's rules give meaning to."""
    return ip in run.index.service_by_ip or ipaddress.ip_address(ip) in c.SERVICE_CIDR


def unexposed_port(run: TraceRun, node: str, packet: Packet) -> None:
    service = run.index.service_by_ip.get(packet.dst_ip)
    if service is not None:
        name = f"Service {service['metadata']['namespace']}/{service['metadata']['name']}"
        ports = ", ".join(
            f"{p['port']}/{p.get('protocol', 'TCP')}" for p in service["spec"].get("ports") or []
        )
        what = f"{name} exposes {ports or 'no ports'}, not {packet.dst_port}/{packet.protocol}"
    else:
        what = f"no Service has the ClusterIP {packet.dst_ip}"
    mode = run.cluster.config.proxy_mode
    if mode == "iptables":
        run.add(
            Hop(
                node,
                "netfilter KUBE-SERVICES",
                "drop",
                f"No kube-proxy rule matches {packet.dst}: {what}. The address is virtual, so nothing answers it.",
                packet,
                at=f"node/{node}",
                why=why(
                    "iptables nat",
                    f"(no rule in KUBE-SERVICES matches -d {packet.dst_ip}/32 --dport {packet.dst_port})",
                    "Without a DNAT the packet keeps its virtual destination, which no machine holds.",
                ),
            )
        )
        run.end(
            "dropped",
            f"{what}. In iptables mode no rule matches {packet.dst}, and a ClusterIP belongs to no machine, so the packet goes nowhere and the client times out. Use a port the Service exposes.",
        )
        return
    if mode == "nftables" and service is None:
        # cluster-ips-check rejects only the active ClusterIPs' other ports; the rest of the
        # Service range is dropped ("Drop traffic to unallocated ClusterIPs", proxier.go).
        run.add(
            Hop(
                node,
                "netfilter cluster-ips-check",
                "drop",
                f"{what}: kube-proxy's nftables rules drop traffic to addresses of the Service range that no Service holds.",
                packet,
                at=f"node/{node}",
                why=why(
                    "nft list table ip kube-proxy",
                    f'chain cluster-ips-check {{ ip daddr {{ {c.SERVICE_CIDR} }} drop comment "Drop '
                    'traffic to unallocated ClusterIPs" }',
                ),
            )
        )
        run.end(
            "dropped",
            f"{what}. Kube-proxy's nftables rules drop traffic to an unallocated ClusterIP, so the client times out. Use the ClusterIP of a Service.",
        )
        return
    why_text = (
        "kube-proxy's nftables rules reject traffic to a ClusterIP on a port no Service exposes"
        if mode == "nftables"
        else "IPVS binds every ClusterIP to the kube-ipvs0 interface, so the node itself answers, and nothing listens on that port"
    )
    if mode == "nftables":
        entry = why(
            "nft list table ip kube-proxy",
            'chain cluster-ips-check { ip daddr @cluster-ips reject comment "Reject traffic to '
            'invalid ports of ClusterIPs" }',
        )
    else:
        entry = why(
            "ip addr show kube-ipvs0",
            f"inet {packet.dst_ip}/32 scope global kube-ipvs0",
            "IPVS has no virtual server for this port, so the node's own stack answers.",
        )
    run.add(
        Hop(
            node,
            "netfilter" if mode == "nftables" else "kube-ipvs0",
            "reject",
            f"{what}: {why_text}.",
            packet,
            at=f"node/{node}",
            why=entry,
        )
    )
    run.end(
        "refused",
        f"{what}. {why_text[0].upper() + why_text[1:]}, so the connection is refused. Use a port the Service exposes.",
    )


def drop_reason(run: TraceRun, decision: Any, node: str) -> str:
    """Why kube-proxy dropped the packet on ``node``: externalTrafficPolicy (or
    internalTrafficPolicy) Local and no ready endpoint on that node."""
    service = decision.service
    name = f"{service.namespace}/{service.service}" if service else "the Service"
    nodes = sorted({e.node for e in service.endpoints if e.node}) if service else []
    where = ", ".join(nodes) if nodes else "no node"
    if service is not None and "spec.loadBalancerSourceRanges" in decision.reason:
        return Reason(
            f"{decision.reason[:-1]}. Add the client's range to the Service's "
            f"spec.loadBalancerSourceRanges (for example {run.source.ip}/32), or send it from an "
            "address inside them; a pod reaching the LB IP counts too, with its pod address. "
            "The Service's NodePort is not filtered.",
            field_cause(
                "Service", service.namespace, service.service, "spec.loadBalancerSourceRanges"
            ),
        )
    if service is not None and "internalTrafficPolicy" in decision.reason:
        return Reason(
            f"Service {name} has spec.internalTrafficPolicy: Local, and {node} runs none of its "
            f"ready pods (they run on {where}), so kube-proxy on {node} drops the packet and the "
            "client times out. Send it from a node that runs one, or set "
            "spec.internalTrafficPolicy: Cluster.",
            field_cause(
                "Service", service.namespace, service.service, "spec.internalTrafficPolicy"
            ),
        )
    if service is not None and service.external_policy == "Local":
        return Reason(
            f"Service {name} has spec.externalTrafficPolicy: Local, and {node} runs none of its "
            f"ready pods (they run on {where}), so kube-proxy on {node} drops the packet and the "
            "client times out. Send it to a node that runs one, or set "
            "spec.externalTrafficPolicy: Cluster (the pod then sees a node's address, not the "
            "client's).",
            field_cause(
                "Service", service.namespace, service.service, "spec.externalTrafficPolicy"
            ),
        )
    return f"kube-proxy dropped it on {node}: {decision.reason}"
