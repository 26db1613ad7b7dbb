"""The reply path: the server answers, and conntrack undoes every NAT on the way back.

Each connection of a trace is a :class:`Leg` (a request through the ingress controller has
two). The reply of the last leg travels first. It goes back through every place that
translated the request, in reverse order, and at each one conntrack rewrites it, so that the
client sees exactly the address it dialled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.network import datapath
from app.network import why as why_
from app.network.model import Hop, Packet, changed_fields
from app.network.topology import NetworkIndex


@dataclass
class Nat:
    """One translation of the request: where, what kind, and the address it replaced."""

    node: str | None  # None for the cloud load balancer
    kind: str  # "dnat" (destination rewritten), "snat" (source rewritten) or "lb"
    ip: str
    port: int
    by: str = "kube-proxy"  # or "cilium": its eBPF reverse NAT undoes it, not conntrack


@dataclass
class Leg:
    """One connection of a trace: who dialled, and every translation on the way."""

    client: Packet  # as the client sent it
    client_node: str | None  # the client's node (None outside the cluster)
    nats: list[Nat] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)  # nodes whose netfilter saw the request
    server: Packet | None = None  # as the server received it
    responder: str = "pod"  # pod, host or external
    responder_node: str | None = None
    pod: dict[str, Any] | None = None
    # The Service address Cilium's socket LB translated at connect(), if it did.
    socket_lb: tuple[str, int] | None = None


def reply_hops(index: NetworkIndex, legs: list[Leg], cluster: Any) -> list[Hop]:
    """Every hop of the reply, last leg first."""
    hops: list[Hop] = []
    for number, leg in enumerate(reversed(legs)):
        start = len(hops)
        _leg_reply(index, leg, cluster, hops)
        if number and hops[start].action == "send":
            # An earlier connection: its server (the ingress controller) relays the answer.
            hops[start].action = "proxy"
            hops[
                start
            ].summary = (
                f"{hops[start].summary[:-1]}, relaying the answer it got on its own connection."
            )
    last = None
    for hop in hops:
        hop.phase = "reply"
        hop.changed = changed_fields(last, hop.packet)
        last = hop.packet
    return hops


def _leg_reply(index: NetworkIndex, leg: Leg, cluster: Any, hops: list[Hop]) -> None:
    assert leg.server is not None
    packet = leg.server.reversed()
    here = leg.responder_node
    if leg.responder == "pod" and leg.pod is not None:
        hops.append(
            Hop(
                here,
                "pod eth0",
                "send",
                f"Pod {datapath.pod_label(leg.pod)} answers {packet.dst}.",
                packet,
                at=datapath.pod_at(leg.pod),
                why=why_.pod_route(index, leg.pod, packet.dst_ip),
            )
        )
    elif leg.responder == "host":
        hops.append(
            Hop(
                here,
                "host network",
                "send",
                f"{here} answers {packet.dst}.",
                packet,
                at=f"node/{here}",
                why=why_.route_why(cluster, index, here or "", packet.dst_ip),
            )
        )
    else:
        hops.append(
            Hop(
                None,
                "external host",
                "send",
                f"{packet.src_ip} answers {packet.dst}.",
                packet,
                at="net/internet",
                why=why_.client_route(packet.src_ip),
            )
        )
        hops.append(
            Hop(
                None,
                "internet",
                "route",
                "The internet carries the answer back.",
                packet,
                at="net/internet",
                why=why_.vpc_why(packet.dst_ip),
            )
        )
    outside = leg.responder == "external"
    entries = _conntrack_entries(leg, packet)
    for number, nat in enumerate(reversed(leg.nats)):
        if nat.kind == "lb":
            hops.append(
                Hop(
                    None,
                    "node network",
                    "route",
                    "The node network carries the answer back to the cloud load balancer.",
                    packet,
                    at="net/nodes",
                    why=entries[number],
                )
            )
            packet = packet.with_src(nat.ip, nat.port)
            hops.append(
                Hop(
                    None,
                    "cloud load balancer",
                    "snat",
                    f"The load balancer answers from its own address {packet.src}.",
                    packet,
                    at="cloud/lb",
                    why=entries[number],
                )
            )
            here, outside = None, True
            continue
        if outside:
            hops.append(
                Hop(
                    nat.node,
                    "eth0",
                    "route",
                    f"The answer comes back in on {nat.node}.",
                    packet,
                    at=f"node/{nat.node}",
                    why=why_.route_why(cluster, index, nat.node or "", packet.dst_ip),
                )
            )
        elif here is not None and nat.node is not None and here != nat.node:
            to_host = not index.is_pod_ip(packet.dst_ip)
            hops.extend(
                datapath.between_nodes(
                    cluster, index, packet, here, nat.node, "reply", to_host=to_host
                )
            )
        here, outside = nat.node, False
        cilium = nat.by.startswith("cilium")
        where = "eBPF reverse NAT" if cilium else "conntrack"
        if nat.kind == "snat":
            packet = packet.with_dst(nat.ip, nat.port)
            who = (
                "Cilium's eBPF NAT map recognises the reply and undoes its SNAT"
                if cilium
                else "conntrack recognises the reply and undoes the masquerade"
            )
            hops.append(
                Hop(
                    here,
                    where,
                    "dnat",
                    f"{who}: the destination goes back to {packet.dst}.",
                    packet,
                    at=f"node/{here}",
                    why=entries[number],
                )
            )
        else:
            packet = packet.with_src(nat.ip, nat.port)
            who = (
                "Cilium's eBPF reverse NAT (its own connection map, not the kernel's conntrack) "
                "undoes the translation"
                if cilium
                else "conntrack undoes kube-proxy's DNAT"
            )
            if nat.by == "cilium-dsr":
                who = (
                    f"Direct Server Return: Cilium on {here}, the backend's node, answers the "
                    "client itself, not through the node the request came in by; its reverse "
                    "NAT undoes the translation"
                )
            hops.append(
                Hop(
                    here,
                    where,
                    "snat",
                    f"{who}: the source goes back to {packet.src}, the address the client dialled.",
                    packet,
                    at=f"node/{here}",
                    why=entries[number],
                )
            )
    _deliver_to_client(cluster, index, leg, packet, here, outside, hops)


def _deliver_to_client(
    cluster: Any,
    index: NetworkIndex,
    leg: Leg,
    packet: Packet,
    here: str | None,
    outside: bool,
    hops: list[Hop],
) -> None:
    if leg.client_node is None:
        if not outside and here is not None:
            hops.append(
                Hop(
                    here,
                    "routing table",
                    "route",
                    f"{here} sends the answer out of eth0 towards {packet.dst_ip}.",
                    packet,
                    at=f"node/{here}",
                    why=why_.route_why(cluster, index, here, packet.dst_ip),
                )
            )
        hops.append(
            Hop(
                None,
                "internet",
                "route",
                "The internet carries the answer to the client.",
                packet,
                at="net/internet",
                why=why_.vpc_why(packet.dst_ip),
            )
        )
        hops.append(
            Hop(
                None,
                "external client",
                "deliver",
                f"The client gets the answer from {packet.src}.",
                packet,
                at="net/internet",
                why=why_.client_local(packet.dst_ip),
            )
        )
        return
    if outside:
        hops.append(
            Hop(
                leg.client_node,
                "eth0",
                "route",
                f"The answer comes back in on {leg.client_node}.",
                packet,
                at=f"node/{leg.client_node}",
                why=why_.route_why(cluster, index, leg.client_node, packet.dst_ip),
            )
        )
        here = leg.client_node
    if here is not None and here != leg.client_node:
        to_host = not index.is_pod_ip(packet.dst_ip)
        hops.extend(
            datapath.between_nodes(
                cluster, index, packet, here, leg.client_node, "reply", to_host=to_host
            )
        )
    client_pod = index.pod_by_ip.get(packet.dst_ip)
    if client_pod is not None:
        hops.append(
            datapath.last_mile(index, packet, leg.client_node, client_pod, "reply", cluster)
        )
        hops.append(
            Hop(
                leg.client_node,
                "pod eth0",
                "deliver",
                f"Pod {datapath.pod_label(client_pod)} gets the answer from {packet.src}.",
                packet,
                at=datapath.pod_at(client_pod),
                why=why_.delivered_why(client_pod, packet),
            )
        )
    else:
        hops.append(
            Hop(
                leg.client_node,
                "host network",
                "deliver",
                f"{leg.client_node} gets the answer from {packet.src}.",
                packet,
                at=f"node/{leg.client_node}",
                why=why_.route_why(cluster, index, leg.client_node, packet.dst_ip),
            )
        )
    if leg.socket_lb is not None:
        from app.network.cilium.trace_hooks import peer_hop

        hops.append(peer_hop(leg, packet, leg.client_node, hops[-1].at))


def _conntrack_entries(leg: Leg, reply: Packet) -> list[dict[str, Any] | None]:
    """The ``why`` of each translation undone on the way back, in the order they are undone.

    A node keeps one conntrack entry per connection, holding every translation it made: its
    original tuple is the request as it reached the node, its reply tuple the answer the node
    expects back. The cloud load balancer's translations are its own flow, not conntrack.
    """
    undone = list(reversed(leg.nats))
    entries: list[dict[str, Any] | None] = [None] * len(undone)
    packet = reply
    start = 0
    while start < len(undone):
        node = undone[start].node
        end = start
        while end < len(undone) and undone[end].node == node and undone[end].kind != "lb":
            end += 1
        if undone[start].kind == "lb":
            end = start + 1
        before = packet
        for nat in undone[start:end]:
            if nat.kind == "snat":
                packet = packet.with_dst(nat.ip, nat.port)
            else:
                packet = packet.with_src(nat.ip, nat.port)
        if undone[start].kind == "lb":
            entries[start] = why_.lb_flow_why(packet.reversed(), before.reversed())
        else:
            entry = why_.conntrack_why(packet.reversed(), before, node)
            if undone[start].by.startswith("cilium"):
                entry = why_.why(
                    "cilium-dbg bpf ct list global",
                    f"{before.protocol} IN {packet.reversed().src} -> {packet.reversed().dst} "
                    f"service RevNAT to {before.dst}",
                    "Cilium keeps this connection in its own BPF connection-tracking map; the "
                    "kernel's conntrack never saw the translation.",
                )
            for i in range(start, end):
                entries[i] = entry
        start = end
    return entries
