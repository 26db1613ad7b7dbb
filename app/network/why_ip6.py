"""``ip -6 route`` lines for the "Why this hop?" of an IPv6 packet (a dual-stack or IPv6
cluster), as a node prints them.

flannel with ``EnableIPv6`` routes each other node's IPv6 /64 through ``flannel-v6.1``, its
own through ``cni0``; Calico routes its IPv6 blocks as BIRD learned them (IPv6 has no
IP-in-IP), a local pod's /128 to its veth; the nodes' IPv6 /64 is on-link on eth0. The kernel
writes ``metric`` and ``pref medium`` on every IPv6 route (``ip -6 route`` output).
"""

from __future__ import annotations

from typing import Any

from app.cluster import constants as c
from app.network.topology import NetworkIndex, parse_ip

#: The nodes' IPv6 router (the unique-local /64's first address).
NODE_GATEWAY6 = str(c.NODE_NETWORK6.network_address + 1)


def node_route6(index: NetworkIndex, node: str, dst: str, veth: Any) -> str:
    """The IPv6 route ``node`` uses for ``dst``.

    Parameters
    ----------
    index : NetworkIndex
    node : str
        The node whose table is read.
    dst : str
        An IPv6 address.
    veth : callable
        ``veth(pod)``: the host side of a pod's veth (Calico's ``cali…``).

    Returns
    -------
    str
        One ``ip -6 route`` line.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> from app.network.topology import network_index
    >>> index = network_index(Cluster.create(ClusterConfig(ip_family="dual"), seed=1))
    >>> node_route6(index, "worker-1", "fd00:10:244:2::5", None)
    'fd00:10:244:2::/64 via fd00:10:244:2:: dev flannel-v6.1 onlink metric 1024 pref medium'
    >>> node_route6(index, "worker-1", "fd00:10:244:1::5", None)
    'fd00:10:244:1::/64 dev cni0 proto kernel metric 256 pref medium'
    """
    address = parse_ip(dst)
    owner = index.node_for_pod_ip(dst) if index.is_pod_ip(dst) else None
    block = next(
        (r for r in index.pod_ranges.get(owner or "", ()) if r.version == 6 and address in r),
        None,
    )
    if owner is not None and block is not None:
        if index.cni == "flannel":
            if owner == node:
                return f"{block} dev cni0 proto kernel metric 256 pref medium"
            via = block.network_address
            return f"{block} via {via} dev flannel-v6.1 onlink metric 1024 pref medium"
        pod = index.pod_by_ip.get(dst)
        if owner == node and pod is not None:
            return f"{dst} dev {veth(pod)} metric 1024 pref medium"
        return f"{block} via {index.node_ip6.get(owner, '')} dev eth0 proto bird metric 1024 pref medium"
    if address in c.NODE_NETWORK6:
        return f"{c.NODE_NETWORK6} dev eth0 proto kernel metric 256 pref medium"
    return f"default via {NODE_GATEWAY6} dev eth0 proto ra metric 1024 expires 1798sec pref medium"
