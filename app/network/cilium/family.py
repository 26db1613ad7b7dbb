"""Which of a node's Cilium addresses a packet of one IP family uses.

On a dual-stack cluster each node has a pod range per family from Cilium's cluster-pool (a
/24 of the IPv4 pool and a /120 of ``fd00::/104``, the Helm defaults
``clusterPoolIPv6PodCIDRList``/``clusterPoolIPv6MaskSize``), and ``cilium_host`` holds a
router address in each (the agent allocates one per enabled family, daemon/cmd
``allocateRouterIPv4``/``allocateRouterIPv6``). The tunnel, however, runs between the nodes'
primary addresses: on a dual-stack cluster VXLAN over IPv4 carries the IPv6 packets too, as
the ipcache's tunnel endpoint is the node's IPv4 address; on an IPv6 cluster it is the
node's IPv6 address.
"""

from __future__ import annotations

import ipaddress

from app.network.topology import NetworkIndex


def is6(ip: str) -> bool:
    return ":" in ip


def router(index: NetworkIndex, node: str, like: str = "") -> str:
    """``cilium_host``'s router address on ``node`` of the family of ``like`` (the primary
    family when ``like`` is empty).

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> from app.network.topology import network_index
    >>> index = network_index(Cluster.create(ClusterConfig(cni="cilium", ip_family="dual")))
    >>> router(index, "worker-1", "10.1.2.5"), router(index, "worker-1", "fd00::205")
    ('10.1.1.1', 'fd00::101')
    """
    primary = index.gateway.get(node, ("", ""))[1]
    if like and is6(like) != is6(primary):
        return index.gateway6.get(node, "") if is6(like) else ""
    return primary


def block(index: NetworkIndex, node: str, like: str = "") -> ipaddress._BaseNetwork | None:
    """``node``'s pod range of the family of ``like`` (its first range when ``like`` is empty).

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> from app.network.topology import network_index
    >>> index = network_index(Cluster.create(ClusterConfig(cni="cilium", ip_family="dual")))
    >>> str(block(index, "worker-2", "fd00::1")), str(block(index, "worker-2"))
    ('fd00::200/120', '10.1.2.0/24')
    """
    ranges = index.pod_ranges.get(node, [])
    if not like:
        return ranges[0] if ranges else None
    version = 6 if is6(like) else 4
    return next((r for r in ranges if r.version == version), None)


def host_prefix(ip: str) -> str:
    """The single-address prefix the ipcache keys an address by.

    >>> host_prefix("10.1.1.4"), host_prefix("fd00::104")
    ('10.1.1.4/32', 'fd00::104/128')
    """
    return f"{ip}/128" if is6(ip) else f"{ip}/32"
