"""A node's addresses and routes as ``ip addr`` and ``ip route`` print them, for each family.

Every line comes from the same places as the map and the trace: the devices from the
plugin's addressing (:mod:`app.network.topology`), each route from
:func:`app.network.why.node_route` (IPv4) or :func:`app.network.why_ip6.node_route6` (IPv6),
the lines a trace's "Why this hop?" quotes.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from app.cluster import constants as c
from app.network.compare import CILIUM_DEVICE_MTU
from app.network.topology import network_index
from app.network.why import fake_mac, host_veth, node_route
from app.network.why_ip6 import node_route6
from app.terminal.ip_family import CALICO_VETH_MAC, INET, INET6, Device, link_local, render

__all__ = ["ip6_route", "ip_addr", "ip_route", "local_pods"]


def local_pods(cluster: Any, node: str) -> list[dict[str, Any]]:
    """The pods on ``node`` with an address of the pod network (not host-network pods)."""
    index = network_index(cluster)
    # A dual-stack pod is in the index once per address; it has one veth.
    found = {id(p): p for p in index.pod_by_ip.values() if p["spec"].get("nodeName") == node}
    return list(found.values())


def _representative(network: ipaddress.IPv4Network) -> str:
    return str(network.network_address + 2)


def ip_route(cluster: Any, node: str, family: str | None = None) -> str:
    """``ip route`` on the node: one line per destination, each the line
    :func:`app.network.why.node_route` gives a trace. ``ip route`` lists the IPv4 table
    (ip(8): the family defaults to inet); ``family`` ``inet6`` (``ip -6 route``) the IPv6 one,
    each line :func:`app.network.why_ip6.node_route6`'s."""
    index = network_index(cluster)
    if family == INET6:
        return ip6_route(cluster, node)
    if ":" in index.node_ip.get(node, ""):  # an IPv6-only node has no IPv4 routes
        return ""
    lines = [node_route(cluster, index, node, "192.0.2.1")]
    lines.append(node_route(cluster, index, node, _representative(c.NODE_NETWORK)))
    cni = index.cni
    if cni == "weave":
        lines.append(node_route(cluster, index, node, _representative(index.pod_network())))
    else:
        for other in sorted(index.pod_ranges):
            for block in index.pod_ranges[other]:
                if block.version == 6:
                    continue
                if other == node and cni == "calico":
                    lines.append(f"blackhole {block} proto bird")
                    continue
                lines.append(node_route(cluster, index, node, _representative(block)))
        if cni == "calico":
            for pod in local_pods(cluster, node):
                lines.append(node_route(cluster, index, node, pod["status"]["podIP"]))
    return "".join(f"{line} \n" for line in dict.fromkeys(lines))


def ip6_route(cluster: Any, node: str) -> str:
    """``ip -6 route`` on the node: its IPv6 pod blocks, the nodes' /64 and the default route,
    empty on an IPv4-only cluster. The kernel lists IPv6 routes prefix by prefix with the
    default last.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> cluster = Cluster.create(ClusterConfig(ip_family="dual"), seed=1)
    >>> print(ip6_route(cluster, "worker-1"), end="")  # doctest: +NORMALIZE_WHITESPACE
    fc00:f853:ccd:e793::/64 dev eth0 proto kernel metric 256 pref medium
    fd00:10:244::/64 via fd00:10:244:: dev flannel-v6.1 onlink metric 1024 pref medium
    fd00:10:244:1::/64 dev cni0 proto kernel metric 256 pref medium
    fd00:10:244:2::/64 via fd00:10:244:2:: dev flannel-v6.1 onlink metric 1024 pref medium
    default via fc00:f853:ccd:e793::1 dev eth0 proto ra metric 1024 expires 1798sec pref medium
    """
    index = network_index(cluster)
    if not index.node_ip6.get(node):
        return ""
    veth = functools.partial(host_veth, index.cni)
    lines = [node_route6(index, node, str(c.NODE_NETWORK6.network_address + 2), veth)]
    for other in sorted(index.pod_ranges):
        for block in index.pod_ranges[other]:
            if block.version != 6:
                continue
            if other == node and index.cni == "calico":
                lines.append(f"blackhole {block} dev lo proto bird metric 1024 pref medium")
                continue
            lines.append(node_route6(index, node, str(block.network_address + 2), veth))
    if index.cni == "calico":
        for pod in local_pods(cluster, node):
            for entry in pod["status"].get("podIPs") or ():
                if ":" in entry["ip"]:
                    lines.append(node_route6(index, node, entry["ip"], veth))
    lines.append(node_route6(index, node, "2001:db8::1", veth))
    return "".join(f"{line}\n" for line in dict.fromkeys(lines))


def _interfaces(cluster: Any, node: str) -> list[tuple[str, str, str, int]]:
    """The node's devices: (name, address/prefix or "", MAC, MTU)."""
    index = network_index(cluster)
    cni = index.cni
    v6_only = ":" in index.node_ip.get(node, "")
    eth0_network = c.NODE_NETWORK6 if v6_only else c.NODE_NETWORK
    found = [
        ("eth0", f"{index.node_ip[node]}/{eth0_network.prefixlen}", fake_mac("eth0", node), 1500)
    ]
    ranges = index.pod_ranges.get(node, [])
    gateway = index.gateway.get(node)
    if cni == "flannel" and ranges:
        found.append(("cni0", f"{gateway[1]}/{ranges[0].prefixlen}", fake_mac("cni0", node), 1450))
        if not v6_only:  # flannel makes flannel.1 only with EnableIPv4
            found.append(
                ("flannel.1", f"{ranges[0].network_address}/32", fake_mac("flannel.1", node), 1450)
            )
        block6 = next((r for r in ranges if r.version == 6), None)
        if block6 is not None:
            # EnableIPv6: flannel-v6.1 holds the node's IPv6 subnet address as a /128
            # (backend/vxlan ConfigureIPv6 with PrefixLen 128); the kernel sizes a VXLAN
            # device over IPv6 at its lower device's MTU less 70 bytes of headers.
            found.append(
                (
                    "flannel-v6.1",
                    f"{block6.network_address}/128",
                    fake_mac("flannel-v6.1", node),
                    1430,
                )
            )
    elif cni == "calico" and gateway and gateway[1]:
        found.append(("tunl0", f"{gateway[1]}/32", "", 1480))
    elif cni == "weave" and gateway:
        found.append(
            (
                "weave",
                f"{gateway[1]}/{index.pod_network().prefixlen}",
                fake_mac("weave", node),
                1376,
            )
        )
        found.append(("vxlan-6784", "", fake_mac("vxlan-6784", node), 65535))
    elif cni == "cilium" and gateway:
        # cilium_host holds the node's router address for its pods (cilium_net is its veth
        # peer); cilium_vxlan carries the tunnel in routingMode: tunnel.
        found.append(("cilium_net", "", fake_mac("cilium_net", node), 1500))
        found.append(("cilium_host", f"{gateway[1]}/32", fake_mac("cilium_host", node), 1500))
        if cluster.config.routing_mode == "tunnel":
            found.append(("cilium_vxlan", "", fake_mac("cilium_vxlan", node), 1500))
    # Cilium's lxc veths have DeviceMTU, the pod's eth0 too (plugins/cilium-cni SetupVeth).
    veth_mtu = CILIUM_DEVICE_MTU if cni == "cilium" else 1450
    for pod in local_pods(cluster, node):
        # Calico gives every host-side veth the MAC ee:ee:ee:ee:ee:ee (its pods' IPv6 default
        # route is that MAC's link-local address).
        mac = CALICO_VETH_MAC if cni == "calico" else fake_mac("veth", pod["metadata"]["name"])
        found.append((host_veth(cni, pod), "", mac, veth_mtu))
    return found


def ip_addr(cluster: Any, node: str, family: str | None = None) -> str:
    """``ip addr`` on the node; ``family`` ``inet`` / ``inet6`` is ``ip -4 addr`` /
    ``ip -6 addr``. On a cluster with IPv6 every device also lists its ``inet6`` addresses:
    eth0's IPv6 InternalIP, cni0's IPv6 gateway, and the link-local address the kernel makes
    from each Ethernet device's MAC (tunl0 has none)."""
    index = network_index(cluster)
    has6 = bool(index.node_ip6.get(node))
    lo = Device(
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000",
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        [(INET, "inet 127.0.0.1/8 scope host lo")],
    )
    if has6:
        lo.add(INET6, "inet6 ::1/128 scope host")
    devices = [lo]
    for number, (name, address, mac, mtu) in enumerate(_interfaces(cluster, node), start=2):
        bridge = (
            " master cni0" if name.startswith("veth") and cluster.config.cni == "flannel" else ""
        )
        device = Device(
            f"{number}: {name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {mtu} qdisc noqueue{bridge} state UP group default",
            f"    link/{'ipip 0.0.0.0' if name == 'tunl0' else 'ether ' + mac} brd {'0.0.0.0' if name == 'tunl0' else 'ff:ff:ff:ff:ff:ff'}",
        )
        if address and ":" in address:
            device.add(INET6, f"inet6 {address} scope global")
        elif address:
            network = ipaddress.ip_network(address, strict=False)
            brd = f" brd {network.broadcast_address}" if network.prefixlen < 31 else ""
            device.add(INET, f"inet {address}{brd} scope global {name}")
        if has6:
            for extra in _addresses6(index, node, name):
                device.add(INET6, f"inet6 {extra} scope global")
            if mac:
                device.add(INET6, f"inet6 {link_local(mac)} scope link")
        devices.append(device)
    return render(devices, family)


def _addresses6(index: Any, node: str, device: str) -> list[str]:
    """A dual-stack node's IPv6 addresses besides the device's IPv4 one: eth0's IPv6
    InternalIP (the nodes' /64) and cni0's IPv6 gateway (its pod /64's ``::1``)."""
    if ":" in index.node_ip.get(node, ""):  # IPv6-only: already the device's own address
        return []
    if device == "eth0":
        return [f"{index.node_ip6[node]}/{c.NODE_NETWORK6.prefixlen}"]
    block6 = next((r for r in index.pod_ranges.get(node, ()) if r.version == 6), None)
    if device == "cni0" and node in index.gateway6 and block6 is not None:
        return [f"{index.gateway6[node]}/{block6.prefixlen}"]
    return []
