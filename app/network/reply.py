"""The reply path: the server answers, and conntrack undoes every NAT on the way back.

Each connection of a trace is a :class:`Leg` (a request through the ingress controller has
two). The reply of the last leg travels first; at each node that translated the request,
conntrack rewrites the reply so that the client sees exactly the address it dialled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.network import datapath
from app.network.model import Hop, Packet, changed_fields
from app.network.topology import NetworkIndex


@dataclass
class Leg:
    """One connection of a trace: who dialled what, and what was translated where."""

    client: Packet  # as the client sent it
    nat_node: str | None  # the node whose netfilter translated it
    client_node: str | None  # the client's node (None outside the cluster)
    dnat_from: Packet | None = None  # the packet before kube-proxy's DNAT
    snat_to: str | None = None  # the source address a masquerade gave it
    server: Packet | None = None  # as the server received it
    responder: str = "pod"  # pod, host or external
    responder_node: str | None = None
    pod: dict[str, Any] | None = None
    client_pod: dict[str, Any] | None = None
    lb_from: Packet | None = None  # the packet before the cloud load balancer rewrote it


def reply_hops(index: NetworkIndex, legs: list[Leg], cluster: Any) -> list[Hop]:
    """Every hop of the reply, last leg first.

    The reply of each leg starts from the server, crosses back to the node that translated
    the request, is un-NATed there by conntrack, and reaches the leg's client.
    """
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
    start = leg.responder_node
    if leg.responder == "pod" and leg.pod is not None:
        hops.append(
            Hop(
                start,
                "pod eth0",
                "send",
                f"Pod {datapath.pod_label(leg.pod)} answers {packet.dst}.",
                packet,
                at=datapath.pod_at(leg.pod),
            )
        )
    elif leg.responder == "host":
        hops.append(
            Hop(
                start,
                "host network",
                "send",
                f"{start} answers {packet.dst}.",
                packet,
                at=f"node/{start}",
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
            )
        )
        start = leg.nat_node
    translator = leg.nat_node or leg.client_node
    if start is not None and translator is not None and start != translator:
        to_host = not index.is_pod_ip(packet.dst_ip) and packet.dst_ip not in index.pod_by_ip
        hops.extend(
            datapath._between_nodes(
                cluster, index, packet, start, translator, "reply", to_host=to_host
            )
        )
    node = translator or start
    if leg.snat_to is not None:
        packet = packet.with_dst(leg.client.src_ip, leg.client.src_port)
        hops.append(
            Hop(
                node,
                "conntrack",
                "dnat",
                f"conntrack recognises the reply and undoes the masquerade: the destination goes back to {packet.dst}.",
                packet,
                at=f"node/{node}",
            )
        )
    if leg.dnat_from is not None:
        packet = packet.with_src(leg.dnat_from.dst_ip, leg.dnat_from.dst_port)
        hops.append(
            Hop(
                node,
                "conntrack",
                "snat",
                f"conntrack undoes kube-proxy's DNAT: the source goes back to {packet.src}, the address the client dialled.",
                packet,
                at=f"node/{node}",
            )
        )
    if leg.lb_from is not None:
        hops.append(
            Hop(
                None,
                "node network",
                "route",
                "The node network carries the answer back to the cloud load balancer.",
                packet,
                at="net/nodes",
            )
        )
        packet = packet.with_src(leg.lb_from.dst_ip, leg.lb_from.dst_port)
        hops.append(
            Hop(
                None,
                "cloud load balancer",
                "snat",
                f"The load balancer answers from its own address {packet.src}.",
                packet,
                at="cloud/lb",
            )
        )
    _deliver_to_client(cluster, index, leg, packet, node, hops)


def _deliver_to_client(
    cluster: Any, index: NetworkIndex, leg: Leg, packet: Packet, node: str | None, hops: list[Hop]
) -> None:
    client_pod = index.pod_by_ip.get(packet.dst_ip)
    if leg.client_node is None:
        if leg.lb_from is None and node is not None:
            hops.append(
                Hop(
                    node,
                    "routing table",
                    "route",
                    f"{node} sends the answer out of eth0 towards {packet.dst_ip}.",
                    packet,
                    at=f"node/{node}",
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
            )
        )
        return
    if client_pod is not None:
        if leg.client_node != node and node is not None:
            hops.extend(
                datapath._between_nodes(cluster, index, packet, node, leg.client_node, "reply")
            )
        hops.append(datapath._last_mile(index, packet, leg.client_node, client_pod, "reply"))
        hops.append(
            Hop(
                leg.client_node,
                "pod eth0",
                "deliver",
                f"Pod {datapath.pod_label(client_pod)} gets the answer from {packet.src}.",
                packet,
                at=datapath.pod_at(client_pod),
            )
        )
        return
    hops.append(
        Hop(
            leg.client_node,
            "host network",
            "deliver",
            f"{leg.client_node} gets the answer from {packet.src}.",
            packet,
            at=f"node/{leg.client_node}",
        )
    )
