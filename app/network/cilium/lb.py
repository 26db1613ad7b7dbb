"""Cilium's eBPF Service load balancing (kube-proxy replacement): what it does to one
connection.

Cilium's docs (Kubernetes Without kube-proxy) and its datapath (``bpf/bpf_sock.c``,
``bpf/lib/lb.h``, ``bpf/lib/nodeport.h``) define it:

- A client in the cluster (a pod, or a process on a node) is load-balanced at the socket:
  Cilium's ``cgroup/connect4`` program (``sendmsg4`` for UDP) looks the address dialled up in
  its Service map and connects the socket to a backend instead. Every frontend counts: a
  ClusterIP, a NodePort on any node's address, a LoadBalancer IP, an external IP. The
  packets then carry the backend's address from the start: no DNAT on any node, nothing for
  conntrack to undo; ``getpeername()`` (``recvmsg4`` for UDP) answers with the Service address.
  Traffic from inside the cluster uses every backend (the internal scope), even with
  ``externalTrafficPolicy: Local``; ``internalTrafficPolicy: Local`` keeps it on the node.
- Traffic from outside (NodePort, LoadBalancer, external IPs) meets Cilium's program on the
  node's device (tc ingress on ``eth0``; XDP where enabled): it picks a backend, and with
  ``loadBalancer.mode: snat`` (the default) a backend on another node gets the packet with
  the node's own address as source, so the answer comes back through this node, where
  Cilium's reverse NAT undoes both. ``externalTrafficPolicy: Local`` leaves only the node's
  own backends and keeps the client's address; with none, the frontend has no backend slot
  and is answered as one without backends (below).
- With ``loadBalancer.mode: dsr`` (native routing only) the backend on another node gets the
  client's own address, the frontend riding along in an IPv4 option; the backend's node
  answers the client directly, from the frontend's address (Direct Server Return).
- ``loadBalancerSourceRanges`` is checked by the same program (its ``check source-range``
  flag); another source is dropped ("Denied by LB src range check").
- A Service with no backends: the packet is dropped ("Service backend not found") and, with
  ``serviceNoBackendResponse: reject`` (the default), answered with ICMP destination
  unreachable, so the client sees connection refused.
- The backend is chosen at random (``loadBalancer.algorithm: random``, the default); with
  ``sessionAffinity: ClientIP`` a client keeps its backend.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from app.network.kubeproxy import view as kv
from app.network.kubeproxy.firewall import source_ranges
from app.network.kubeproxy.model import Endpoint, ServicePort
from app.network.kubeproxy.packet import choose

# Cilium's drop reasons as its monitor and Hubble print them (pkg/monitor/api/drop.go).
NO_BACKEND = "Service backend not found"
SOURCE_RANGE = "Denied by LB src range check"
# Not a drop reason Cilium prints: Podpath's mark for a frontend that has backends elsewhere
# but none on this node (externalTrafficPolicy: Local), answered like one with none at all.
NO_LOCAL_BACKEND = "no local backend"


@dataclass
class LbDecision:
    """What Cilium's load balancer did to the first packet (or the connect()) of a flow."""

    action: str  # "dnat" | "reject" | "drop" | "none"
    service: ServicePort | None
    endpoint: Endpoint | None
    frontend: str  # "10.96.0.10:53/UDP", as cilium-dbg service list prints a frontend
    kind: str  # ClusterIP, NodePort, LoadBalancer, ExternalIPs
    snat: bool  # the node's address replaces the client's (NodePort to another node's backend)
    reason: str
    drop_reason: str = ""
    pool: tuple[Endpoint, ...] = ()
    # loadBalancer.mode: dsr and the backend on another node: no SNAT, and the backend's node
    # answers the client directly with the frontend's address.
    dsr: bool = False

    # kube-proxy's decision has these; the trace reads either kind.
    @property
    def masquerade(self) -> bool:
        return self.snat

    matched: tuple = ()


def frontend_kind(sp: ServicePort, dst_ip: str, node_port: bool) -> str:
    if node_port:
        return "NodePort"
    if dst_ip in sp.load_balancer_ips:
        return "LoadBalancer"
    if dst_ip in sp.external_ips:
        return "ExternalIPs"
    return "ClusterIP"


def family_of(ip: str) -> str:
    """The IP family of an address, as a Service's ``ipFamilies`` names it.

    >>> family_of("10.96.0.1"), family_of("fd00:10:96::1")
    ('IPv4', 'IPv6')
    """
    return "IPv6" if ":" in ip else "IPv4"


def addr(ip: str, port: int) -> str:
    """``ip:port`` as cilium-dbg prints an L3n4Addr: an IPv6 address in brackets
    (pkg/loadbalancer ``L3n4Addr.String``).

    >>> addr("10.1.1.4", 80), addr("fd00::104", 80)
    ('10.1.1.4:80', '[fd00::104]:80')
    """
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def find(cluster: Any, dst_ip: str, dst_port: int, protocol: str, node_ips: set[str]):
    """The Service port a frontend address belongs to, and whether it is a NodePort."""
    # One Service map per family, as the agent keeps lb4 and lb6 maps: an IPv6 frontend is
    # looked up among the Services' IPv6 addresses and the nodes' IPv6 addresses.
    view = kv.view(cluster, family_of(dst_ip))
    found = view.by_vip.get((dst_ip, protocol, dst_port))
    if found is not None:
        return found[0], False
    if dst_ip in node_ips:
        sp = view.by_node_port.get((protocol, dst_port))
        if sp is not None:
            return sp, True
    return None, False


def decide(
    cluster: Any,
    node: str,
    src_ip: str,
    dst_ip: str,
    dst_port: int,
    protocol: str = "TCP",
    *,
    seed: int = 0,
    from_outside: bool = False,
    affinity: dict | None = None,
) -> LbDecision:
    """What Cilium's load balancer on ``node`` does with a flow to ``dst_ip:dst_port``.

    Parameters
    ----------
    cluster : Cluster
    node : str
        The node whose eBPF programs see it (the client's, or the node the packet arrives at).
    src_ip, dst_ip : str
    dst_port : int
    protocol : str
    seed : int
        Decides the random backend pick.
    from_outside : bool
        The packet arrived on the node's device from the network (the external scope), rather
        than from a socket in the cluster (the internal scope).
    affinity : dict, optional
        Kept by the caller: ``(client ip, Service port name)`` → ``"ip:port"`` chosen.

    Returns
    -------
    LbDecision
        ``dnat`` with the backend, ``reject`` (no backends, or ``externalTrafficPolicy:
        Local`` with none on the node: ICMP port unreachable), ``drop`` (source range, or
        ``internalTrafficPolicy: Local`` with no backend on the node), or ``none``.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> cluster = Cluster.create(ClusterConfig(cni="cilium"), seed=1)
    >>> d = decide(cluster, "worker-1", "10.1.1.5", "10.96.0.1", 443)
    >>> d.action, d.kind, d.endpoint.ip, d.snat
    ('dnat', 'ClusterIP', '10.0.0.10', False)
    >>> decide(cluster, "worker-1", "10.1.1.5", "10.96.0.1", 80).action
    'none'
    """
    protocol = protocol.upper()
    view = kv.view(cluster, family_of(dst_ip))
    if from_outside:
        node_ips = {view.nodes[node][0]} if node in view.nodes else set()
    else:
        node_ips = {ip for ip, _local in view.nodes.values()}
    sp, is_node_port = find(cluster, dst_ip, int(dst_port), protocol, node_ips)
    if sp is None:
        return LbDecision("none", None, None, "", "", False, "no Service has this frontend")
    kind = frontend_kind(sp, dst_ip, is_node_port)
    frontend = f"{addr(dst_ip, dst_port)}/{protocol}"
    label = f"Service {sp.namespace}/{sp.service}"
    ready = tuple(sp.endpoints)
    local = tuple(e for e in ready if e.node == node)
    if kind == "LoadBalancer" and source_ranges(sp):
        allowed = any(_in(src_ip, net) for net in source_ranges(sp))
        if not allowed:
            ranges = ", ".join(str(n) for n in source_ranges(sp))
            why = (
                f"{label} has spec.loadBalancerSourceRanges [{ranges}] and {src_ip} is in none "
                f"of them: Cilium's source range check drops it ({SOURCE_RANGE})"
            )
            return LbDecision("drop", sp, None, frontend, kind, False, why, SOURCE_RANGE)
    if from_outside and kind != "ClusterIP" and sp.external_policy == "Local":
        pool, scope = local, "externalTrafficPolicy: Local"
    elif kind == "ClusterIP" and sp.internal_policy == "Local":
        pool, scope = local, "internalTrafficPolicy: Local"
    else:
        pool, scope = ready, ""
    if not ready:
        why = (
            f"{label} has no backends (its selector matches no ready pod): Cilium drops the "
            f"packet ({NO_BACKEND}) and answers ICMP destination unreachable "
            "(serviceNoBackendResponse: reject), so the client sees connection refused"
        )
        return LbDecision("reject", sp, None, frontend, kind, False, why, NO_BACKEND)
    if not pool and scope.startswith("external"):
        # The frontend on this node holds only local backends (none): lb4_local returns
        # DROP_NO_SERVICE and the NO_SERVICE tail call answers ICMP, as with no backends.
        why = (
            f"{label} has {scope} and no backend on {node}: Cilium's frontend here has no "
            "backend slot, so it answers ICMP destination unreachable "
            "(serviceNoBackendResponse: reject) and the client sees connection refused"
        )
        return LbDecision("reject", sp, None, frontend, kind, False, why, NO_LOCAL_BACKEND)
    if not pool:
        why = (
            f"{label} has {scope} and no backend on {node}, so Cilium drops the packet "
            f"({NO_BACKEND}) and the client times out"
        )
        return LbDecision("drop", sp, None, frontend, kind, False, why, NO_BACKEND)
    # loadBalancer.algorithm: random is one uniform draw, nftables' pick; affinity is kept
    # and seeded as kube-proxy's model keeps it, so both answer a client alike.
    index, sticky = choose("nftables", pool, seed, affinity, src_ip, sp)
    ep = pool[index]
    remote = from_outside and kind != "ClusterIP" and ep.node != node and not scope
    dsr = remote and cluster.config.load_balancer_mode == "dsr"
    snat = remote and not dsr
    if sticky:
        why = f"{label} has sessionAffinity: ClientIP and {src_ip} went to {addr(ep.ip, ep.port)} before, so Cilium's affinity map sends it there again"
    else:
        why = (
            f"Cilium picked backend {addr(ep.ip, ep.port)} of {label} at random "
            f"({index + 1} of {len(pool)}; loadBalancer.algorithm: random)"
        )
    return LbDecision("dnat", sp, ep, frontend, kind, snat, why, pool=pool, dsr=dsr)


def _in(ip: str, net: Any) -> bool:
    import ipaddress

    return ipaddress.ip_address(ip) in net


def traffic(
    cluster: Any,
    node: str,
    src_ip: str,
    dst_ip: str,
    dst_port: int,
    protocol: str,
    count: int,
    *,
    seed: int,
    from_outside: bool = False,
) -> dict[str, Any]:
    """Send ``count`` requests through Cilium's load balancer on ``node`` and count where they
    went, in the shape of :func:`app.network.kubeproxy.traffic` (each request a
    :func:`decide` with its own seed, sharing one affinity table).

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> cluster = Cluster.create(ClusterConfig(cni="cilium"), seed=1)
    >>> out = traffic(cluster, "worker-1", "10.1.1.9", "10.96.0.10", 53, "UDP", 1000, seed=1)
    >>> sum(e["requests"] for e in out["endpoints"]), len(out["endpoints"])
    (1000, 2)
    """
    from app.network.kubeproxy import request_seed

    result: dict[str, Any] = {
        "count": count,
        "endpoints": [],
        "refused": 0,
        "dropped": 0,
        "unproxied": 0,
    }
    if count == 0:
        return result
    first = decide(
        cluster,
        node,
        src_ip,
        dst_ip,
        dst_port,
        protocol,
        seed=request_seed(seed, 0),
        from_outside=from_outside,
        affinity={},
    )
    if first.action != "dnat" or first.endpoint is None or first.service is None:
        key = {"reject": "refused", "drop": "dropped"}.get(first.action, "unproxied")
        result[key] = count
        return result
    pool = first.pool
    hits = dict.fromkeys(pool, 0)
    if first.service.affinity_timeout:
        hits[first.endpoint] = count  # every later request finds the affinity entry
    else:
        # The same draw decide() makes for each request's seed, without looking it all up again.
        n = len(pool)
        for i in range(count):
            hits[pool[random.Random(request_seed(seed, i)).randrange(n)]] += 1
    result["endpoints"] = [
        {
            "ip": e.ip,
            "port": e.port,
            "pod": "/".join(e.pod) if e.pod else None,
            "node": e.node,
            "requests": n,
        }
        for e, n in hits.items()
    ]
    return result
