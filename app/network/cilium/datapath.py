"""Cilium's datapath: how a packet gets from a node's host network to a pod or another node.

Cilium's docs (Concepts → Networking → Routing; eBPF datapath → Life of a packet) describe it:

- Each pod's veth has a host end named ``lxc`` + a hash; there is no bridge. Cilium's eBPF
  program on that veth (``bpf_lxc``) takes the pod's packets, and packets for a local pod are
  redirected straight to its veth (the endpoint map), with no per-pod route.
- ``cilium_host`` holds the node's router address; the kernel routes every pod CIDR to it,
  and eBPF decides from there. Cilium's IPAM picks that address from the node's pod CIDR like
  any other (daemon/cmd ``allocateRouterIPv4`` → ``allocateDatapathIPs``, unless
  ``local-router-ipv4`` is set); the sandbox gives it the first address to keep it readable.
- Between nodes, ``routingMode: tunnel`` (the default) wraps the packet in VXLAN on UDP 8472
  through ``cilium_vxlan``; the VNI carries the sender's security identity, so the receiving
  node can enforce policy without looking the source address up. ``routingMode: native``
  sends it as it is over the node network (``autoDirectNodeRoutes``: a route per node's pod
  CIDR via that node's address).
"""

from __future__ import annotations

import hashlib
from typing import Any

from app.cluster import constants as c
from app.network import cilium
from app.network import why as why_
from app.network.cilium import family, ipcache
from app.network.model import Hop, Packet
from app.network.topology import NetworkIndex

NATIVE = "native"


def host_veth(pod: dict[str, Any]) -> str:
    """The host end of a pod's veth: ``lxc`` + 12 hex digits (15 characters, the longest
    name a Linux interface can have).

    >>> host_veth({"metadata": {"namespace": "default", "name": "web"}})
    'lxc82b3ade9d00c'
    """
    meta = pod["metadata"]
    return "lxc" + hashlib.sha256(f"{meta['namespace']}/{meta['name']}".encode()).hexdigest()[:12]


def routing_mode(cluster: Any) -> str:
    return cluster.config.routing_mode


def source_identity(index: NetworkIndex, ip: str) -> int:
    """The security identity Cilium gives the sender of a packet from ``ip``."""
    pod = index.pod_by_ip.get(ip)
    if pod is not None:
        return cilium.identity(pod)
    routers = {gw for _dev, gw in index.gateway.values()} | set(index.gateway6.values())
    if ip in index.node_by_ip or ip in routers:
        return cilium.HOST_ID
    return cilium.WORLD_ID


def endpoint_id(pod: dict[str, Any]) -> int:
    """The pod's endpoint ID on its node (Cilium numbers endpoints per node, up to 4095)."""
    meta = pod["metadata"]
    digest = hashlib.sha256(f"ep/{meta['namespace']}/{meta['name']}".encode()).hexdigest()
    return 1 + int(digest[:8], 16) % 4095


def node_route(cluster: Any, index: NetworkIndex, node: str, dst: str) -> str | None:
    """The route ``node`` holds for a pod address ``dst``, as ``ip route`` (``ip -6 route``
    for an IPv6 one, with the metric and preference the kernel adds) prints it, or None when
    ``dst`` is in no node's pod CIDR."""
    owner = index.node_for_pod_ip(dst)
    block = family.block(index, owner, dst) if owner is not None else None
    if owner is None or block is None:
        return None
    router = family.router(index, node, dst)
    tail = " metric 1024 pref medium" if family.is6(dst) else ""
    if owner != node and routing_mode(cluster) == NATIVE:
        return f"{block} via {index.node_address(owner, dst)} dev eth0 proto kernel{tail}"
    mtu = "" if owner == node else " mtu 1450"
    return f"{block} via {router} dev {cilium.HOST_DEVICE} proto kernel src {router}{mtu}{tail}"


def pod_route(index: NetworkIndex, pod: dict[str, Any], dst: str = "") -> dict[str, Any]:
    """The default route in a Cilium pod: everything goes to ``cilium_host``'s address (its
    IPv6 router address for an IPv6 destination, in ``ip -6 route``)."""
    node = pod["spec"].get("nodeName", "")
    router = family.router(index, node, dst)
    v6 = family.is6(router)
    return why_.why(
        "ip -6 route" if v6 else "ip route",
        f"default via {router} dev eth0" + (" metric 1024 pref medium" if v6 else ""),
        f"In the pod's network namespace. {router} is cilium_host's address on the node; "
        "Cilium's eBPF program on the pod's lxc veth takes every packet from here.",
    )


def between_nodes(
    cluster: Any,
    index: NetworkIndex,
    packet: Packet,
    node: str,
    target: str,
    phase: str,
    to_host: bool,
) -> list[Hop]:
    """From ``node``'s host network to ``target``'s: VXLAN through cilium_vxlan, or routed."""
    src_ip, dst_ip = index.node_ip[node], index.node_ip[target]
    route_why = why_.route_why(cluster, index, node, packet.dst_ip)
    underlay = Hop(
        None,
        "node network",
        "route",
        f"The node network carries it from {node} to {target}.",
        packet,
        phase,
        "net/nodes",
        why=why_.underlay_why(index, node, target),
    )
    if to_host or routing_mode(cluster) == NATIVE:
        how = "" if to_host else " (routingMode: native, a route per node's pod CIDR)"
        return [
            Hop(
                node,
                "routing table",
                "route",
                f"{node} routes {packet.dst_ip} via {dst_ip} ({target}) out of eth0{how}; no "
                "tunnel, the packet goes as it is.",
                packet,
                phase,
                f"node/{node}",
                why=route_why,
            ),
            underlay,
        ]
    vni = source_identity(index, packet.src_ip)
    outer = {
        "src": src_ip,
        "dst": dst_ip,
        "protocol": "UDP",
        "port": cilium.VXLAN_PORT,
        "vni": vni,
    }
    wrapped = Packet(
        packet.src_ip,
        packet.src_port,
        packet.dst_ip,
        packet.dst_port,
        packet.protocol,
        outer,
        packet.http,
    )
    block = family.block(index, target, packet.dst_ip)
    return [
        Hop(
            node,
            "routing table",
            "route",
            f"On {node}, the route for {target}'s pod CIDR {block} points at cilium_host; "
            f"Cilium's ipcache gives {packet.dst_ip} the tunnel endpoint {dst_ip}.",
            packet,
            phase,
            f"node/{node}",
            why=route_why,
        ),
        Hop(
            node,
            cilium.TUNNEL_DEVICE,
            "encapsulate",
            f"Cilium's eBPF wraps it in VXLAN through cilium_vxlan: UDP {src_ip} → "
            f"{dst_ip}:{cilium.VXLAN_PORT}, VNI {vni} (the sender's security identity).",
            wrapped,
            phase,
            f"node/{node}/{cilium.TUNNEL_DEVICE}",
            why=tunnel_why(index, target, packet.dst_ip),
        ),
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
        ),
        Hop(
            target,
            cilium.TUNNEL_DEVICE,
            "decapsulate",
            f"cilium_vxlan on {target} strips the outer header; the VNI tells Cilium the sender's "
            f"identity ({vni}), and the inner packet is as it was sent.",
            packet,
            phase,
            f"node/{target}/{cilium.TUNNEL_DEVICE}",
            why=why_.decapsulate_why(cluster, index, target, packet),
        ),
    ]


def tunnel_why(index: NetworkIndex, target: str, dst_ip: str = "") -> dict[str, Any]:
    """The ipcache entry that gives the outer destination (the tunnel map is gone since Cilium
    1.18, cilium/cilium PR #38839): the pod's own /32 when the agent knows it, with its pod
    CIDR's fallback entry beside it."""
    fallback = ipcache.cidr_entry(index, target, dst_ip)
    found = ipcache.pod_entry(index, "", dst_ip, True) if dst_ip else None
    if found is None and dst_ip and dst_ip == family.router(index, target, dst_ip):
        # cilium_host's router address (a CiliumInternalIP): its own /32 (/128), with the
        # tunnel endpoint (pkg/node/manager nodeAddressHasTunnelIP).
        found = (
            family.host_prefix(dst_ip),
            ipcache.value(cilium.REMOTE_NODE_ID, index.node_ip[target]),
        )
    prefix, value = found or fallback
    also = [why_.why("cilium-dbg bpf ipcache list", "   ".join(fallback))] if found else None
    return why_.why(
        "cilium-dbg bpf ipcache list",
        f"{prefix}   {value}",
        f"Cilium's ipcache: {prefix} is reached through tunnelendpoint {index.node_ip[target]} "
        f"({target}), the outer destination.",
        also,
    )


def enforcement(cluster: Any, pod: dict[str, Any]) -> tuple[str, str]:
    """``cilium-dbg endpoint list``'s POLICY (ingress) and (egress) ENFORCEMENT columns: with
    Cilium's default enforcement mode an endpoint enforces policy in a direction once a
    policy selects it for that direction (docs.cilium.io, Policy Enforcement Modes)."""
    from app.network import policy

    if cluster is None:
        return "Disabled", "Disabled"
    return (
        "Enabled" if policy.selecting(cluster, "Ingress", pod) else "Disabled",
        "Enabled" if policy.selecting(cluster, "Egress", pod) else "Disabled",
    )


def endpoint_why(node: str, pod: dict[str, Any], cluster: Any = None) -> dict[str, Any]:
    """The pod as ``cilium-dbg endpoint list`` on its node shows it."""
    labels = " ".join(
        f"k8s:{k}={v}"
        for k, v in sorted(cilium.identity_labels(pod["metadata"].get("labels")).items())
    )
    status = pod.get("status") or {}
    ips = [e.get("ip", "") for e in status.get("podIPs") or ()] or [status.get("podIP", "")]
    # The list's IPv6 column comes before its IPv4 one (as Cilium's docs print the
    # command, e.g. the host firewall guide); a family the endpoint lacks is an empty cell.
    v6 = next((ip for ip in ips if family.is6(ip)), "")
    v4 = next((ip for ip in ips if ip and not family.is6(ip)), "")
    addresses = "   ".join(ip for ip in (v6, v4) if ip)
    ingress, egress = enforcement(cluster, pod)
    return why_.why(
        "cilium-dbg endpoint list",
        f"{endpoint_id(pod)}   {ingress}   {egress}   {cilium.identity(pod)}   "
        f"{labels or 'k8s:io.kubernetes.pod.namespace=' + pod['metadata']['namespace']}   "
        f"{addresses}   ready",
        f"On {node}: the endpoint Cilium's eBPF redirects {' and '.join(ip for ip in ips if ip)} "
        f"to, on veth {host_veth(pod)}.",
    )


def last_mile(
    index: NetworkIndex,
    packet: Packet,
    node: str,
    pod: dict[str, Any],
    phase: str,
    cluster: Any = None,
) -> Hop:
    name = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
    return Hop(
        node,
        "lxc veth",
        "route",
        f"Cilium's eBPF on {node} finds {packet.dst_ip} in its endpoint map and redirects the "
        f"packet straight to Pod {name}'s veth {host_veth(pod)} (no bridge).",
        packet,
        phase,
        f"node/{node}/routes",
        why=endpoint_why(node, pod, cluster),
    )


def nobody_hop(index: NetworkIndex, packet: Packet, owner: str, phase: str) -> Hop:
    return Hop(
        owner,
        "routing table",
        "drop",
        f"No endpoint on {owner} has {packet.dst_ip}: Cilium's endpoint map has no entry for "
        f"it, so {owner} answers ICMP host unreachable.",
        packet,
        phase,
        f"node/{owner}/routes",
        why=why_.why(
            "cilium-dbg endpoint list",
            f"(no endpoint with {'IPv6' if family.is6(packet.dst_ip) else 'IPv4'} {packet.dst_ip})",
            "No pod on the node holds the address now.",
        ),
    )


MASQUERADE_RULE = (
    "-A CILIUM_POST_nat -s {local} ! -d {exclude} ! -o cilium_+ "
    '-m comment --comment "cilium masquerade non-cluster" -j MASQUERADE'
)


def masquerade_rule(index: NetworkIndex, node: str, native: bool) -> str:
    """Cilium's iptables masquerade rule on ``node`` (pkg/datapath/iptables): from the node's
    own pod CIDR, not leaving by a cilium_ device, and not to the node's pod CIDR (tunnel
    mode) or the native routing CIDR (native mode), as iptables-save prints it."""
    local = index.pod_ranges.get(node, [index.pod_network()])[0]
    exclude = index.pod_network() if native else local
    return MASQUERADE_RULE.format(local=local, exclude=exclude)


def masquerade_rule6(index: NetworkIndex, node: str, native: bool) -> str:
    """The same rule in ip6tables for the node's IPv6 pod range (``enableIPv6Masquerade``,
    true by default in the Helm chart): the IPv6 pool, fd00::/104, is unique-local and not
    routable outside the cluster either."""
    local = family.block(index, node, "::")
    exclude = c.CILIUM_POOL6 if native else local
    return MASQUERADE_RULE.format(local=local, exclude=exclude)


def masquerade_why(
    index: NetworkIndex, node: str, native: bool = False, like: str = ""
) -> dict[str, Any]:
    """Cilium's iptables masquerading (its default, ``bpf.masquerade: false``): pod traffic
    leaving the pod network takes the node's address (ip6tables' for an IPv6 packet)."""
    v6 = family.is6(like) or family.is6(index.gateway.get(node, ("", ""))[1])
    return why_.why(
        "ip6tables nat" if v6 else "iptables nat",
        masquerade_rule6(index, node, native) if v6 else masquerade_rule(index, node, native),
        "From iptables-save -t nat: Cilium's chain CILIUM_POST_nat, for pod traffic leaving "
        "the pod network (bpf.masquerade is off by default, so iptables masquerades).",
    )
