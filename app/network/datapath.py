"""The CNI datapaths: how a packet gets from one node's host network to an address.

- **flannel** (VXLAN backend): pods hang off the ``cni0`` bridge; a packet for another
  node's /24 is routed to ``flannel.1``, wrapped in UDP to port 8472 (VNI 1) from node to
  node, and unwrapped on the far side. No NAT between pods: the receiver sees the sender's IP.
- **Calico**: no bridge; the host routes each pod's /32 to its ``cali*`` veth. Between nodes,
  BGP-learned routes send the packet as it is over the node network (``calico-bgp``), or, with
  an IP-in-IP pool, wrapped in an outer IP header (protocol 4) through ``tunl0``.
- **Weave Net**: pods hang off the ``weave`` bridge; fast datapath wraps packets for other
  peers in VXLAN on UDP 6784.

Traffic from a pod to outside the pod network is masqueraded to the node's address by the
CNI's own rule (flannel's ipMasq, Calico's natOutgoing, Weave's WEAVE chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.network import why as why_
from app.network.cilium import datapath as cilium_datapath
from app.network.model import Hop, Packet
from app.network.topology import BRIDGE_DEVICE, TUNNEL_DEVICE, NetworkIndex, device_path

FLANNEL_VXLAN_PORT = 8472
WEAVE_VXLAN_PORT = 6784


@dataclass
class Arrival:
    """Where a routed packet ended up."""

    kind: str  # "pod", "host", "external", "unreachable"
    node: str | None = None
    pod: dict[str, Any] | None = None
    reason: str = ""


def pod_label(pod: dict[str, Any]) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


def pod_at(pod: dict[str, Any]) -> str:
    return f"pod/{pod_label(pod)}"


def calico_mode(cluster: Any) -> str:
    """``bgp`` (routed, no encapsulation: the default here) or ``ipip`` (the pool wraps
    cross-node traffic in IP-in-IP through ``tunl0``)."""
    return cluster.config.calico_mode


def route(
    cluster: Any, index: NetworkIndex, packet: Packet, node: str, phase: str = "request"
) -> tuple[list[Hop], Arrival]:
    """Carry ``packet`` from ``node``'s host network to its destination address.

    Returns the hops (each with the packet as it leaves) and where the packet arrived.
    """
    dst = packet.dst_ip
    if dst.startswith("127."):
        return [], Arrival("host", node)  # loopback never leaves the host
    pod = index.pod_by_ip.get(dst)
    if pod is not None:
        return _to_pod(cluster, index, packet, node, pod, phase)
    if dst in index.node_by_ip:
        target = index.node_by_ip[dst]
        if target == node:
            return [], Arrival("host", node)
        hops = between_nodes(cluster, index, packet, node, target, phase, to_host=True)
        hops.append(
            Hop(
                target,
                "eth0",
                "deliver",
                f"{target} accepts it on its own address {dst}.",
                packet,
                phase,
                f"node/{target}",
                why=why_.route_why(cluster, index, target, dst),
            )
        )
        return hops, Arrival("host", target)
    if index.is_pod_ip(dst):
        return _to_nobody(cluster, index, packet, node, phase)
    return _to_outside(index, packet, node, phase)


def _to_nobody(
    cluster: Any, index: NetworkIndex, packet: Packet, node: str, phase: str
) -> tuple[list[Hop], Arrival]:
    """A pod address no pod holds: routed to the node whose range it is in, like any pod
    address, where nothing answers for it; that node sends back ICMP host unreachable."""
    dst = packet.dst_ip
    owner = index.node_for_pod_ip(dst)
    where = f"{owner}'s pod range" if owner else "the pod network"
    reason = (
        f"no pod has the address {dst} (it is in {where}, but no running pod holds it: pods "
        "come and go, and their addresses with them); the client sees No route to host"
    )
    if owner is None:
        return [], Arrival("unreachable", reason=reason)
    hops: list[Hop] = []
    if owner != node:
        hops.extend(between_nodes(cluster, index, packet, node, owner, phase))
    if index.cni == "cilium":
        hops.append(cilium_datapath.nobody_hop(index, packet, owner, phase))
        return hops, Arrival("unreachable", owner, reason=reason)
    bridge = BRIDGE_DEVICE[index.cni]
    device = bridge or "routes"
    asks = (
        f"The {bridge} bridge on {owner} asks (ARP) who has {dst}; no veth answers"
        if bridge
        else f"{owner} has no /32 route to {dst} through a cali veth"
    )
    hops.append(
        Hop(
            owner,
            bridge or "routing table",
            "drop",
            f"{asks}: no pod holds the address now, so {owner} answers ICMP host unreachable.",
            packet,
            phase,
            f"node/{owner}/{device}",
            why=why_.why(
                "ip neigh", f"{dst} dev {bridge} FAILED", "Nobody answered the ARP request."
            )
            if bridge
            else why_.route_why(cluster, index, owner, dst),
        )
    )
    return hops, Arrival("unreachable", owner, reason=reason)


def _to_pod(
    cluster: Any, index: NetworkIndex, packet: Packet, node: str, pod: dict[str, Any], phase: str
) -> tuple[list[Hop], Arrival]:
    target = pod["spec"]["nodeName"]
    hops: list[Hop] = []
    if target != node:
        hops.extend(between_nodes(cluster, index, packet, node, target, phase))
    hops.append(last_mile(index, packet, target, pod, phase, cluster))
    hops.append(
        Hop(
            target,
            "pod eth0",
            "deliver",
            f"Pod {pod_label(pod)} receives it on eth0 ({packet.dst_ip}), from {packet.src_ip}.",
            packet,
            phase,
            pod_at(pod),
            why=why_.delivered_why(pod, packet),
        )
    )
    return hops, Arrival("pod", target, pod)


def last_mile(
    index: NetworkIndex,
    packet: Packet,
    node: str,
    pod: dict[str, Any],
    phase: str,
    cluster: Any = None,
) -> Hop:
    if index.cni == "cilium":  # its endpoint entry shows policy enforcement: needs the cluster
        return cilium_datapath.last_mile(index, packet, node, pod, phase, cluster)
    bridge = BRIDGE_DEVICE[index.cni]
    name = pod_label(pod)
    if bridge:
        return Hop(
            node,
            bridge,
            "bridge",
            f"The {bridge} bridge on {node} hands it to the veth of Pod {name}.",
            packet,
            phase,
            f"node/{node}/{bridge}",
            why=why_.bridge_why(index, node, pod),
        )
    return Hop(
        node,
        "cali veth",
        "route",
        f"{node} routes {packet.dst_ip}/32 to Pod {name}'s cali veth (Calico has no bridge).",
        packet,
        phase,
        f"node/{node}/routes",
        why=why_.bridge_why(index, node, pod),
    )


def between_nodes(
    cluster: Any,
    index: NetworkIndex,
    packet: Packet,
    node: str,
    target: str,
    phase: str,
    to_host: bool = False,
) -> list[Hop]:
    """From ``node``'s host network to ``target``'s: through the tunnel, or routed."""
    src_ip, dst_ip = index.node_ip[node], index.node_ip[target]
    # The graph decides which devices are crossed; the CNI decides what each one does.
    path = device_path(index, f"node/{node}", f"node/{target}")
    assert path[1] == "net/nodes", path
    cni = index.cni
    if cni == "cilium":
        return cilium_datapath.between_nodes(cluster, index, packet, node, target, phase, to_host)
    tunnel = TUNNEL_DEVICE[cni]
    encapsulated = not to_host and not (cni == "calico" and calico_mode(cluster) == "bgp")
    if ":" in packet.dst_ip:
        # IPv6 crosses the node network over IPv6: flannel's own VXLAN device for it
        # (flannel-v6.1, EnableIPv6); Calico has no IPv6 IP-in-IP, its IPv6 pool is routed.
        v6 = packet.dst_ip
        src_ip, dst_ip = index.node_address(node, v6), index.node_address(target, v6)
        tunnel = "flannel-v6.1" if cni == "flannel" else tunnel
        encapsulated = encapsulated and cni != "calico"
    hops: list[Hop] = []
    if not encapsulated:
        via = "eth0" if to_host or cni != "calico" else "eth0 (a BGP-learned route, proto bird)"
        hops.append(
            Hop(
                node,
                "routing table",
                "route",
                f"{node} routes {packet.dst_ip} via {dst_ip} ({target}) out of {via}; no tunnel, "
                "the packet goes as it is.",
                packet,
                phase,
                f"node/{node}",
                why=why_.route_why(cluster, index, node, packet.dst_ip),
            )
        )
        hops.append(
            Hop(
                None,
                "node network",
                "route",
                f"The node network carries it from {node} to {target}.",
                packet,
                phase,
                "net/nodes",
                why=why_.underlay_why(index, node, target),
            )
        )
        return hops
    if cni == "flannel":
        outer = {
            "src": src_ip,
            "dst": dst_ip,
            "protocol": "UDP",
            "port": FLANNEL_VXLAN_PORT,
            "vni": 1,
        }
        route_text = f"the route for {target}'s pod range points at {tunnel}"
        wrap = f"{tunnel} wraps it in VXLAN: UDP {src_ip} → {dst_ip}:{FLANNEL_VXLAN_PORT}, VNI 1"
    elif cni == "calico":
        outer = {"src": src_ip, "dst": dst_ip, "protocol": "IPIP"}
        route_text = f"the BGP route for {target}'s block points at tunl0 (IP-in-IP pool)"
        wrap = f"tunl0 adds an outer IP header {src_ip} → {dst_ip} (protocol 4, IP-in-IP)"
    else:
        outer = {"src": src_ip, "dst": dst_ip, "protocol": "UDP", "port": WEAVE_VXLAN_PORT}
        route_text = (
            f"the weave bridge sends packets for {target}'s peer range to the fast datapath"
        )
        wrap = (
            f"Weave's fast datapath wraps it in VXLAN: UDP {src_ip} → {dst_ip}:{WEAVE_VXLAN_PORT}"
        )
    wrapped = Packet(
        packet.src_ip,
        packet.src_port,
        packet.dst_ip,
        packet.dst_port,
        packet.protocol,
        outer,
        packet.http,
    )
    hops.append(
        Hop(
            node,
            "routing table",
            "route",
            f"On {node}, {route_text}.",
            packet,
            phase,
            f"node/{node}",
            why=why_.route_why(cluster, index, node, packet.dst_ip),
        )
    )
    hops.append(
        Hop(
            node,
            tunnel,
            "encapsulate",
            f"{wrap}.",
            wrapped,
            phase,
            f"node/{node}/{TUNNEL_DEVICE[cni]}",  # the map's one tunnel box per node
            why=why_.tunnel_why(cluster, index, node, target),
        )
    )
    hops.append(
        Hop(
            None,
            "node network",
            "route",
            f"The node network carries the outer packet from {src_ip} to {dst_ip}; the pod "
            "addresses inside are untouched.",
            wrapped,
            phase,
            "net/nodes",
            why=why_.underlay_why(index, node, target),
        )
    )
    hops.append(
        Hop(
            target,
            tunnel,
            "decapsulate",
            f"{tunnel} on {target} strips the outer header; the inner packet is as it was sent.",
            packet,
            phase,
            f"node/{target}/{TUNNEL_DEVICE[cni]}",
            why=why_.decapsulate_why(cluster, index, target, packet),
        )
    )
    return hops


def _to_outside(
    index: NetworkIndex, packet: Packet, node: str, phase: str
) -> tuple[list[Hop], Arrival]:
    hops = [
        Hop(
            node,
            "routing table",
            "route",
            f"{packet.dst_ip} is outside the cluster: {node} sends it out of eth0 to its default gateway.",
            packet,
            phase,
            f"node/{node}",
            why=why_.why(
                "ip route",
                why_.default_route(index, node),
                f"No more specific route matches {packet.dst_ip}: the node's default route "
                "takes it to the network's gateway.",
            ),
        )
    ]
    return hops, Arrival("external", None)


def masquerade_to_outside(index: NetworkIndex, packet: Packet, node: str, phase: str) -> Hop:
    """The CNI's masquerade for pod traffic leaving the pod network."""
    node_ip = index.node_ip[node]
    rule = {
        "flannel": "flannel's ipMasq rule (FLANNEL-POSTRTG)",
        "calico": "Calico's natOutgoing rule (cali-nat-outgoing)",
        "weave": "Weave's WEAVE chain",
        "cilium": "Cilium's masquerade rule (CILIUM_POST_nat)",
    }[index.cni]
    return Hop(
        node,
        "netfilter POSTROUTING",
        "snat",
        f"{rule} masquerades the pod address: the source becomes {node}'s {node_ip}, so the "
        "reply can find its way back.",
        packet.with_src(node_ip),
        phase,
        f"node/{node}",
        why=cilium_datapath.masquerade_why(index, node)
        if index.cni == "cilium"
        else why_.cni_masquerade_why(index),
    )
