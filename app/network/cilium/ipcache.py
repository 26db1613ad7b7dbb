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
"""

from __future__ import annotations

from typing import Any

from app.network import cilium
from app.network.topology import NetworkIndex, network_index

NO_TUNNEL = "0.0.0.0"  # an empty tunnel endpoint prints as the zero address


def value(identity: int, tunnel: str | None = None) -> str:
    """One ipcache value as the map's String() prints it.

    >>> value(2, "10.0.0.12")
    'identity=2 encryptkey=0 tunnelendpoint=10.0.0.12 flags=hastunnel'
    >>> value(1)
    'identity=1 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>'
    """
    flags = "hastunnel" if tunnel else "<none>"
    return f"identity={identity} encryptkey=0 tunnelendpoint={tunnel or NO_TUNNEL} flags={flags}"


def _tunnelled(cluster: Any) -> bool:
    return cluster.config.routing_mode != "native"


def pod_entry(index: NetworkIndex, node: str, ip: str, tunnelled: bool) -> tuple[str, str] | None:
    """The ipcache entry ``node`` holds for the pod at ``ip`` (a /32), or None."""
    pod = index.pod_by_ip.get(ip)
    if pod is None or ":" in ip:
        return None
    owner = pod["spec"].get("nodeName", "")
    tunnel = index.node_ip.get(owner) if owner != node and tunnelled else None
    return f"{ip}/32", value(cilium.identity(pod), tunnel)


def cidr_entry(index: NetworkIndex, target: str) -> tuple[str, str]:
    """The ipcache entry for ``target``'s pod CIDR on another node (tunnel mode)."""
    return str(index.pod_ranges[target][0]), value(cilium.WORLD_ID, index.node_ip[target])


def entries(cluster: Any, node: str) -> list[tuple[str, str]]:
    """Every IPv4 entry of ``node``'s ipcache: nodes, cilium_host addresses, pods and (tunnel
    mode) the other nodes' pod CIDRs, sorted by address.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> rows = dict(entries(Cluster.create(ClusterConfig(cni="cilium"), seed=1), "worker-1"))
    >>> rows["10.1.2.0/24"]
    'identity=2 encryptkey=0 tunnelendpoint=10.0.0.12 flags=hastunnel'
    >>> rows["10.0.0.11/32"], rows["10.0.0.12/32"].split()[0]
    ('identity=1 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>', 'identity=6')
    """
    index = network_index(cluster)
    tunnel = _tunnelled(cluster)
    rows: list[tuple[str, str]] = []
    for name, ip in index.node_ip.items():
        if ":" in ip:
            continue
        local = name == node
        rows.append((f"{ip}/32", value(cilium.HOST_ID if local else cilium.REMOTE_NODE_ID)))
        router = index.gateway.get(name, ("", ""))[1]
        if router and ":" not in router:
            via = ip if tunnel and not local else None
            ident = cilium.HOST_ID if local else cilium.REMOTE_NODE_ID
            rows.append((f"{router}/32", value(ident, via)))
        if tunnel and not local and name in index.pod_ranges:
            rows.append(cidr_entry(index, name))
    for ip in index.pod_by_ip:
        entry = pod_entry(index, node, ip, tunnel)
        if entry is not None:
            rows.append(entry)
    return sorted(rows, key=lambda r: _sort_key(r[0]))


def _sort_key(prefix: str) -> tuple[int, ...]:
    address, _, bits = prefix.partition("/")
    return (*(int(p) for p in address.split(".")), int(bits or 32))


def ipcache_list(cluster: Any, node: str) -> str:
    """``cilium-dbg bpf ipcache list`` on ``node``: Go's tabwriter, padding 3."""
    rows = [("IP PREFIX/ADDRESS", "IDENTITY"), *entries(cluster, node)]
    width = max(len(r[0]) for r in rows) + 3
    return "".join(f"{a.ljust(width)}{b}\n" for a, b in rows)
