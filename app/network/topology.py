"""The network the packets cross, as a networkx graph, and the indexes a trace looks things up in.

Devices are graph nodes: each Kubernetes node's host network stack (``node/<name>``), its pod
gateway (``node/<name>/cni0`` for flannel, ``/weave`` for Weave Net; Calico has none: each
pod's ``cali*`` veth is routed by the host), its tunnel device (``flannel.1``, ``tunl0``,
Weave's ``vxlan-6784``), the node network they all sit on (``net/nodes``), the internet
(``net/internet``) and the cloud load balancer (``cloud/lb``). Pods hang off their node's
gateway. Routing between two devices is a shortest path in this graph; which edges a path
takes decides the hops (bridge, route, encapsulate, decapsulate).

Everything here is derived from the cluster state and memoised on it until it changes, so a
trace looks pods and Services up by address instead of scanning them.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from app.cluster import constants as c

TUNNEL_DEVICE = {
    "flannel": "flannel.1",
    "calico": "tunl0",
    "weave": "vxlan-6784",
    "cilium": "cilium_vxlan",
}
# Calico and Cilium have no bridge: the host routes (Calico) or eBPF redirects (Cilium) each
# pod's traffic to its veth.
BRIDGE_DEVICE = {"flannel": "cni0", "calico": None, "weave": "weave", "cilium": None}


@functools.lru_cache(maxsize=65536)
def parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """``ipaddress.ip_address``, remembered: a trace asks about the same few addresses many
    times, and parsing an IPv6 address is slow.

    >>> parse_ip("fd00:10:244::5").version
    6
    """
    return ipaddress.ip_address(ip)


@dataclass
class NetworkIndex:
    """Address lookups over one cluster state."""

    cni: str
    pod_by_ip: dict[str, dict[str, Any]] = field(default_factory=dict)
    node_by_ip: dict[str, str] = field(default_factory=dict)
    node_ip: dict[str, str] = field(default_factory=dict)
    ready_nodes: set[str] = field(default_factory=set)
    service_by_ip: dict[str, dict[str, Any]] = field(default_factory=dict)  # ClusterIP and LB IPs
    gateway: dict[str, tuple[str, str]] = field(default_factory=dict)  # node -> (device, ip)
    pod_ranges: dict[str, list[ipaddress.IPv4Network]] = field(default_factory=dict)
    graph: nx.Graph = field(default_factory=nx.Graph)
    # A dual-stack or IPv6 cluster's IPv6 side: each node's IPv6 InternalIP and the IPv6
    # address of its pod gateway (cni0's ::1 with flannel; none with Calico).
    node_ip6: dict[str, str] = field(default_factory=dict)
    gateway6: dict[str, str] = field(default_factory=dict)
    # The node whose pod ranges hold an address, as found (the index lives as long as the
    # cluster state it was built from does not change).
    owners: dict[str, str | None] = field(default_factory=dict)

    def node_for_pod_ip(self, ip: str) -> str | None:
        if ip in self.owners:
            return self.owners[ip]
        address = parse_ip(ip)
        found = next(
            (node for node, ranges in self.pod_ranges.items() if any(address in r for r in ranges)),
            None,
        )
        self.owners[ip] = found
        return found

    def pod_network(self) -> ipaddress.IPv4Network:
        return c.POD_NETWORK[self.cni]

    def is_pod_ip(self, ip: str) -> bool:
        address = parse_ip(ip)
        if address.version == 6:
            return self.cni in c.POD_NETWORK6 and address in c.POD_NETWORK6[self.cni]
        return address in self.pod_network()

    def node_address(self, node: str, like: str) -> str:
        """The node's address of the family of ``like`` (its IPv6 one for an IPv6 packet)."""
        if ":" in like:
            return self.node_ip6.get(node, "")
        return self.node_ip.get(node, "")


def network_index(cluster: Any) -> NetworkIndex:
    """The cluster's :class:`NetworkIndex`, rebuilt only when the cluster changed.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> index = network_index(Cluster.create(seed=1))
    >>> index.node_by_ip["10.0.0.11"], index.gateway["worker-1"]
    ('worker-1', ('cni0', '10.244.1.1'))
    >>> sorted(nx.shortest_path(index.graph, "node/worker-1/cni0", "node/worker-2/cni0"))[:2]
    ['net/nodes', 'node/worker-1']
    """
    return cluster.state.memoised("network-index", lambda: _build(cluster))


def _build(cluster: Any) -> NetworkIndex:
    state = cluster.state
    cni = cluster.config.cni
    index = NetworkIndex(cni)
    graph = index.graph
    graph.add_node("net/nodes", kind="network")
    graph.add_node("net/internet", kind="internet")
    graph.add_node("cloud/lb", kind="load-balancer")
    graph.add_edge("net/nodes", "net/internet", via="default route")
    graph.add_edge("cloud/lb", "net/internet", via="public network")
    graph.add_edge("cloud/lb", "net/nodes", via="cloud network")
    tunnel = TUNNEL_DEVICE[cni]
    # Cilium's native routing makes no cilium_vxlan: packets go out eth0 as they are.
    tunnelled = not (cni == "cilium" and cluster.config.routing_mode == "native")
    for node in state.of_kind("Node"):
        name = node["metadata"]["name"]
        ip = next(
            (a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"), ""
        )
        index.node_ip[name] = ip
        index.node_by_ip[ip] = name
        for address in node["status"]["addresses"]:  # every family's InternalIP
            if address["type"] == "InternalIP":
                index.node_by_ip[address["address"]] = name
                if ":" in address["address"]:
                    index.node_ip6[name] = address["address"]
                    if ":" in ip:  # an IPv6-only cluster: its only address
                        index.node_ip[name] = address["address"]
        if any(
            x.get("type") == "Ready" and x.get("status") == "True"
            for x in node["status"].get("conditions") or []
        ):
            index.ready_nodes.add(name)
        addressing = state.ipam.nodes.get(name)
        host = f"node/{name}"
        graph.add_node(host, kind="host", node=name, ip=ip)
        graph.add_edge(host, "net/nodes", via="eth0")
        if addressing is None:
            continue
        index.gateway[name] = (addressing.device, addressing.gateway_ip)
        index.pod_ranges[name] = [
            ipaddress.ip_network(r)
            for ipam in state.ipams()
            for r in (ipam.nodes[name].ranges if name in ipam.nodes else ())
        ]
        if state.ipam6 is not None and name in state.ipam6.nodes:
            index.gateway6[name] = state.ipam6.nodes[name].gateway_ip
        elif addressing.gateway_ip and ":" in addressing.gateway_ip:
            index.gateway6[name] = addressing.gateway_ip
        gateway = f"node/{name}/{BRIDGE_DEVICE[cni] or 'routes'}"
        graph.add_node(gateway, kind="bridge" if BRIDGE_DEVICE[cni] else "routes", node=name)
        graph.add_edge(gateway, host, via="host routing")
        if tunnelled:
            graph.add_node(f"node/{name}/{tunnel}", kind="tunnel", node=name)
            graph.add_edge(host, f"node/{name}/{tunnel}", via=tunnel)
    for pod in state.of_kind("Pod"):
        status = pod.get("status") or {}
        if pod["spec"].get("hostNetwork"):
            continue
        for ip in [e.get("ip") for e in status.get("podIPs") or ()] or [status.get("podIP")]:
            if ip:
                index.pod_by_ip[ip] = pod
    for service in state.of_kind("Service"):
        spec = service.get("spec") or {}
        for cluster_ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
            if cluster_ip and cluster_ip != "None":
                index.service_by_ip[cluster_ip] = service
        for ingress in ((service.get("status") or {}).get("loadBalancer") or {}).get(
            "ingress"
        ) or []:
            index.service_by_ip[ingress["ip"]] = service
    return index


def device_path(index: NetworkIndex, source: str, target: str) -> list[str]:
    """The devices a packet crosses from one device to another (shortest path).

    Raises
    ------
    networkx.NetworkXNoPath
        When nothing connects them.
    """
    return nx.shortest_path(index.graph, source, target)
