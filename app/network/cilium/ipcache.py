"""Cilium's ipcache BPF map as ``cilium-dbg bpf ipcache list`` prints it.

Since Cilium 1.18 the tunnel map is gone (cilium/cilium PR #38839 "Remove tunnel map"; PR
#38015 moved the fallback into the ipcache): the ipcache alone tells the datapath which node
(tunnel endpoint) an address lives behind, and which security identity it has.

- The command (cilium-dbg/cmd/bpf_ipcache_list.go) prints two columns, ``IP PREFIX/ADDRESS``
  and ``IDENTITY``, through Go's tabwriter (cilium-dbg/cmd/helpers.go ``TablePrinter``:
  padding 3).
- Each value (pkg/maps/ipcache/ipcache.go ``RemoteEndpointInfo.String``) reads
  ``identity=N encryptkey=K tunnelendpoint=IP flags=F``; ``flags`` is ``hastunnel`` when a
  tunnel endpoint is set, ``<none>`` when no flag is.
- A remote node's pod CIDR carries the ``reserved:world`` identity (2) and that node's
  tunnel endpoint (PR #38015), the fallback for a pod address the agent has not learned yet;
  each known pod has its own /32 with its identity.
- IPv6 entries sit in the same map (its key carries the family): a pod's /128, the remote
  nodes' IPv6 addresses and /120 pod ranges. Their tunnel endpoint is the node's primary
  address: IPv4 on a dual-stack cluster (VXLAN over IPv4 carries the IPv6 packets), IPv6 on
  an IPv6 cluster, where the value also has the ``ipv6tunnel`` flag
  (pkg/maps/ipcache ``FlagIPv6TunnelEndpoint``; flags print comma-separated). An empty
  tunnel endpoint prints as ``0.0.0.0`` in either case (``GetTunnelEndpoint`` returns the
  first four bytes unless that flag is set).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from app.network import cilium
from app.network.cilium.family import block, host_prefix, is6, router
from app.network.topology import NetworkIndex, network_index

NO_TUNNEL = "0.0.0.0"  # an empty tunnel endpoint prints as the zero address


def value(identity: int, tunnel: str | None = None) -> str:
    """One ipcache value as the map's String() prints it.

    >>> value(2, "10.0.0.12")
    'identity=2 encryptkey=0 tunnelendpoint=10.0.0.12 flags=hastunnel'
    >>> value(1)
    'identity=1 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>'
    >>> value(2, "fc00:f853:ccd:e793::c").split()[-1]
    'flags=hastunnel,ipv6tunnel'
    """
    flags = ("hastunnel,ipv6tunnel" if is6(tunnel) else "hastunnel") if tunnel else "<none>"
    return f"identity={identity} encryptkey=0 tunnelendpoint={tunnel or NO_TUNNEL} flags={flags}"


def _tunnelled(cluster: Any) -> bool:
    return cluster.config.routing_mode != "native"


def pod_entry(index: NetworkIndex, node: str, ip: str, tunnelled: bool) -> tuple[str, str] | None:
    """The ipcache entry ``node`` holds for the pod at ``ip`` (a /32, or /128), or None."""
    pod = index.pod_by_ip.get(ip)
    if pod is None or pod["spec"].get("hostNetwork"):
        return None
    owner = pod["spec"].get("nodeName", "")
    tunnel = index.node_ip.get(owner) if owner != node and tunnelled else None
    return host_prefix(ip), value(cilium.identity(pod), tunnel)


def cidr_entry(index: NetworkIndex, target: str, like: str = "") -> tuple[str, str]:
    """The ipcache entry for ``target``'s pod CIDR (of the family of ``like``) on another
    node (tunnel mode)."""
    return str(block(index, target, like)), value(cilium.WORLD_ID, index.node_ip[target])


def entries(cluster: Any, node: str) -> list[tuple[str, str]]:
    """Every entry of ``node``'s ipcache: nodes, cilium_host addresses, pods and (tunnel
    mode) the other nodes' pod CIDRs, of each family the cluster has, sorted by address
    (IPv4 first).

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> rows = dict(entries(Cluster.create(ClusterConfig(cni="cilium"), seed=1), "worker-1"))
    >>> rows["10.1.2.0/24"]
    'identity=2 encryptkey=0 tunnelendpoint=10.0.0.12 flags=hastunnel'
    >>> rows["10.0.0.11/32"], rows["10.0.0.12/32"].split()[0]
    ('identity=1 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>', 'identity=6')
    >>> dual = Cluster.create(ClusterConfig(cni="cilium", ip_family="dual"), seed=1)
    >>> rows = dict(entries(dual, "worker-1"))
    >>> rows["fd00::200/120"], rows["fd00::201/128"].split()[2]
    ('identity=2 encryptkey=0 tunnelendpoint=10.0.0.12 flags=hastunnel', 'tunnelendpoint=10.0.0.12')
    """
    index = network_index(cluster)
    tunnel = _tunnelled(cluster)
    rows: list[tuple[str, str]] = []
    for name, primary in index.node_ip.items():
        local = name == node
        via = primary if tunnel and not local else None
        ident = cilium.HOST_ID if local else cilium.REMOTE_NODE_ID
        for ip in dict.fromkeys(a for a in (primary, index.node_ip6.get(name, "")) if a):
            rows.append((host_prefix(ip), value(ident)))
            gateway = router(index, name, ip)
            if gateway:
                rows.append((host_prefix(gateway), value(ident, via)))
            if tunnel and not local and block(index, name, ip) is not None:
                rows.append(cidr_entry(index, name, ip))
    for ip in index.pod_by_ip:
        entry = pod_entry(index, node, ip, tunnel)
        if entry is not None:
            rows.append(entry)
    return sorted(dict(rows).items(), key=lambda r: _sort_key(r[0]))


def _sort_key(prefix: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(prefix, strict=False)
    return (net.version, int(net.network_address), net.prefixlen)


def ipcache_list(cluster: Any, node: str) -> str:
    """``cilium-dbg bpf ipcache list`` on ``node``: Go's tabwriter, padding 3."""
    rows = [("IP PREFIX/ADDRESS", "IDENTITY"), *entries(cluster, node)]
    width = max(len(r[0]) for r in rows) + 3
    return "".join(f"{a.ljust(width)}{b}\n" for a, b in rows)
