"""Source NAT on the way out of a node: kube-proxy's masquerade and the CNI's own.

MASQUERADE rewrites the source to the address of the interface the packet leaves by: the
node's ``eth0`` towards another node or the outside, ``flannel.1`` (its ``.0`` address) or
``tunl0`` into a tunnel, the ``cni0``/``weave`` bridge towards a pod on the same node. It runs
in POSTROUTING, after the routing decision and before any tunnel wraps the packet.
"""

from __future__ import annotations

import zlib
from typing import Any

from app.network import datapath
from app.network import why as why_
from app.network.model import Hop, Packet
from app.network.topology import NetworkIndex

KUBE_POSTROUTING_RULE = {
    "table": "nat",
    "chain": "KUBE-POSTROUTING",
    "index": 3,
    "text": '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
}
CNI_RULE = {
    "flannel": "flannel's ipMasq rule (FLANNEL-POSTRTG)",
    "calico": "Calico's natOutgoing rule (cali-nat-outgoing)",
    "weave": "Weave's WEAVE chain",
    "cilium": "Cilium's masquerade rule (CILIUM_POST_nat)",
}


def outgoing_address(cluster: Any, index: NetworkIndex, node: str, dst_ip: str) -> tuple[str, str]:
    """The device a packet for ``dst_ip`` leaves ``node`` by, and that device's address."""
    if ":" in dst_ip:
        return outgoing_address6(cluster, index, node, dst_ip)
    pod = index.pod_by_ip.get(dst_ip)
    if pod is None:
        return "eth0", index.node_ip[node]
    same_node = pod["spec"].get("nodeName") == node
    cni = index.cni
    if cni == "cilium" and (same_node or cluster.config.routing_mode != "native"):
        return index.gateway[node]  # pod CIDRs are routed via cilium_host, src its address
    if same_node:
        return index.gateway[node] if cni in ("flannel", "weave") else ("eth0", index.node_ip[node])
    if cni == "flannel":
        return "flannel.1", index.gateway[node][1].rsplit(".", 1)[0] + ".0"
    if cni == "calico" and datapath.calico_mode(cluster) == "ipip":
        return "tunl0", index.gateway[node][1]
    if cni == "weave":
        return index.gateway[node]
    return "eth0", index.node_ip[node]


def outgoing_address6(cluster: Any, index: NetworkIndex, node: str, dst_ip: str) -> tuple[str, str]:
    """:func:`outgoing_address` for an IPv6 packet: cni0's IPv6 address to a pod on the same
    node (flannel), flannel-v6.1's (the node's IPv6 pod subnet's first address, as flannel.1
    holds the IPv4 one's) to another node's pod, else eth0's IPv6 address (Calico routes its
    IPv6 pool without a tunnel)."""
    pod = index.pod_by_ip.get(dst_ip)
    node_ip = index.node_ip6.get(node, "")
    if pod is None or index.cni != "flannel":
        return "eth0", node_ip
    if pod["spec"].get("nodeName") == node:
        return "cni0", index.gateway6.get(node, node_ip)
    subnet = next((r for r in index.pod_ranges.get(node, ()) if r.version == 6), None)
    return ("flannel-v6.1", str(subnet.network_address)) if subnet else ("eth0", node_ip)


def snat_hop(
    cluster: Any, index: NetworkIndex, packet: Packet, node: str, by_kube_proxy: bool
) -> Hop:
    """The hop that masquerades ``packet`` on ``node``: kube-proxy's, or the CNI's."""
    device, ip = outgoing_address(cluster, index, node, packet.dst_ip)
    snatted = packet.with_src(ip)
    if by_kube_proxy:
        # kube-proxy masquerades with --random-fully: the source port is chosen at random
        # too (drawn here from the connection, so the same trace gives the same port).
        snatted = packet.with_src(ip, masquerade_port(packet, node))
        summary = (
            f"The packet was marked for masquerade (KUBE-MARK-MASQ), so KUBE-POSTROUTING rewrites "
            f"its source to {ip}, the address of {device} on {node}, the interface it leaves by. "
            f"The receiver will see {ip}, not {packet.src_ip}."
        )
        rule = dict(KUBE_POSTROUTING_RULE)
    else:
        summary = (
            f"{CNI_RULE[index.cni]} masquerades the pod address as it leaves the pod network: "
            f"the source becomes {ip} ({device} on {node}), so the answer can find its way back."
        )
        rule = None
    return Hop(
        node,
        "netfilter POSTROUTING",
        "snat",
        summary,
        snatted,
        at=f"node/{node}",
        rule=rule,
        why=None if by_kube_proxy else _masquerade_why(cluster, index, node, packet.src_ip),
    )


def _masquerade_why(cluster: Any, index: NetworkIndex, node: str, src: str = "") -> dict[str, Any]:
    if index.cni == "cilium":
        from app.network.cilium.datapath import masquerade_why

        return masquerade_why(index, node, cluster.config.routing_mode == "native", src)
    return why_.cni_masquerade_why(index)


def masquerade_port(packet: Packet, node: str) -> int:
    """The source port MASQUERADE --random-fully gives a connection (1024-65535).

    >>> masquerade_port(Packet("198.51.100.7", 32768, "10.0.0.11", 30080), "worker-1")
    34038
    """
    key = f"{packet.src}|{packet.dst}|{packet.protocol}|{node}".encode()
    return 1024 + zlib.crc32(key) % (65536 - 1024)


def insert_snat(hops: list[Hop], snat: Hop, node: str, original: Packet) -> list[Hop]:
    """Put the SNAT hop where POSTROUTING runs: after the routing decision on ``node``, before
    a tunnel, the node network or a bridge takes the packet. ``hops`` were routed with the
    rewritten packet; the routing decision still saw the ``original`` source."""
    position = 1 if hops and hops[0].action == "route" and hops[0].node == node else 0
    for hop in hops[:position]:
        hop.packet = hop.packet.with_src(original.src_ip, original.src_port)
    return [*hops[:position], snat, *hops[position:]]


def needs_cni_masquerade(
    index: NetworkIndex, packet: Packet, node: str, target_node: str | None
) -> bool:
    """A pod's packet for an address outside the pod network, leaving this node."""
    if not index.is_pod_ip(packet.src_ip) or index.is_pod_ip(packet.dst_ip):
        return False
    return target_node != node
