"""kube-proxy: the service table, the rules each node holds, and what they do to one packet.

:func:`service_table` is kube-proxy's view of the cluster (one :class:`ServicePort` per Service
port, with its ready endpoints sorted as ``EndpointSliceCache`` sorts them: by ``"ip:port"``).
:func:`rules` is what a node's kube-proxy programs, for any proxy mode, as text and JSON.
:func:`decide` follows one packet through those rules and says what they did, naming every
rule it matched; :func:`traffic` sends many requests and counts where they landed.

Everything random takes a seed: iptables' ``-m statistic --mode random`` cascade draws from
``random.Random(seed)``, nftables' ``numgen random mod N`` too (a uniform pick), and IPVS'
round robin takes the ``seed mod N``-th real server.

What is where (each module imports only those listed above it):

- ``model``: the data a caller sees: ``ServicePort``, ``Endpoint``, ``RuleSet``, ``Decision``.
- ``chains``: a node's rules as data (``Program``, its chains and numbered rules) and
  kube-proxy's hashed chain names.
- ``text``: a program as the node prints it: ``iptables-save``, ``nft list``, ``ipvsadm -Ln``.
- ``firewall``: ``spec.loadBalancerSourceRanges``, the load balancers' source firewall.
- ``iptables``, ``nftables``, ``ipvs``: what each proxy mode writes into a node's program.
- ``ip6``: what the IPv6 proxier of a dual-stack node writes otherwise.
- ``view``: the service table built from Services and EndpointSlices, and each node's program
  (both memoised on the cluster state).
- ``packet``: the path one packet takes through a program, the endpoint pick, the masquerade.
- this package: the public functions above.
"""

from __future__ import annotations

from typing import Any

from app.cluster import families
from app.network.kubeproxy import ip6
from app.network.kubeproxy import text as kt
from app.network.kubeproxy.model import Decision, Endpoint, RuleRef, RuleSet, ServicePort
from app.network.kubeproxy.packet import decide_packet, pick, picks
from app.network.kubeproxy.view import program, service_table

__all__ = [
    "Decision",
    "Endpoint",
    "RuleRef",
    "RuleSet",
    "ServicePort",
    "decide",
    "pick",
    "request_seed",
    "rules",
    "service_table",
    "traffic",
]

MAX_TRAFFIC = 10_000


def rules(cluster: Any, node: str, mode: str | None = None, family: str | None = None) -> RuleSet:
    """What ``node``'s kube-proxy programs in ``mode`` (default: the cluster's proxy mode): the
    text the node would print and the same chains as JSON. ``family`` ``IPv6`` gives the IPv6
    proxier's (``ip6tables-save``, ``nft list table ip6 kube-proxy``); the cluster's primary
    family by default.

    >>> from app.cluster.cluster import Cluster
    >>> rs = rules(Cluster.create(seed=1), "worker-1")
    >>> rs.text.splitlines()[0], rs.mode
    ('*filter', 'iptables')
    >>> '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000' in rs.text
    True
    """
    mode = mode or cluster.config.proxy_mode
    family = family or families.of(cluster.config)[0]
    built = program(cluster, node, mode, family)
    if mode == "iptables":
        text = kt.iptables_save(built)
    elif mode == "nftables":
        text = kt.nft_list(built)
        text = ip6.table_line(text) if family == "IPv6" else text
    else:
        text = kt.ipvsadm(built)
    chains = [
        {
            "table": ch.table,
            "chain": ch.name,
            "kind": ch.kind,
            "header": list(ch.header),
            "rules": [
                {"index": r.index, "text": r.text, "target": r.target, "comment": r.comment}
                for r in ch.rules
            ],
        }
        for ch in built.chains
    ]
    return RuleSet(node, mode, text, chains)


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
) -> Decision:
    """What ``node``'s kube-proxy rules do to the first packet of a connection.

    ``from_outside``: the packet arrived from the network, not from a local pod or the node.
    ``affinity``: kept by the caller across calls; maps ``(client ip, service port name)`` to
    the ``"ip:port"`` chosen, so ``sessionAffinity: ClientIP`` sticks (there is no clock, so
    ``timeoutSeconds`` never expires an entry).

    >>> from app.cluster.cluster import Cluster
    >>> d = decide(Cluster.create(seed=1), "worker-1", "10.244.1.9", "10.96.0.1", 443)
    >>> d.action, d.endpoint.ip, d.masquerade
    ('dnat', '10.0.0.10', False)
    >>> decide(Cluster.create(seed=1), "worker-1", "10.244.1.9", "10.96.0.1", 80).action
    'none'
    """
    mode = cluster.config.proxy_mode
    packet = (src_ip, dst_ip, int(dst_port), protocol.upper())
    return decide_packet(cluster, mode, node, packet, seed, from_outside, affinity)[0]


# --- many packets --------------------------------------------------------------------------
def request_seed(seed: int, i: int) -> int:
    """The seed :func:`traffic` gives its ``i``-th request: ``seed * 10000 + i`` (distinct for
    every request of one call, as ``count`` is at most 10,000).

    >>> request_seed(7, 3)
    70003
    """
    return seed * MAX_TRAFFIC + i


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
    """Send ``count`` requests (each a :func:`decide` with seed ``request_seed(seed, i)``,
    sharing one affinity table) and count where they went.

    >>> from app.cluster.cluster import Cluster
    >>> out = traffic(Cluster.create(seed=1), "worker-1", "10.244.1.9", "10.96.0.1", 443, "TCP", 5, seed=1)
    >>> out["count"], [e["requests"] for e in out["endpoints"]], out["refused"]
    (5, [5], 0)
    """
    if not 0 <= count <= MAX_TRAFFIC:
        raise ValueError(f"count must be between 0 and {MAX_TRAFFIC}, got {count}")
    result: dict[str, Any] = {
        "count": count,
        "endpoints": [],
        "refused": 0,
        "dropped": 0,
        "unproxied": 0,
    }
    if count == 0:
        return result
    mode = cluster.config.proxy_mode
    affinity: dict = {}
    packet = (src_ip, dst_ip, int(dst_port), protocol.upper())
    first, pool = decide_packet(
        cluster, mode, node, packet, request_seed(seed, 0), from_outside, affinity
    )
    if first.action != "dnat":
        result[{"reject": "refused", "drop": "dropped"}.get(first.action, "unproxied")] = count
        return result
    sp, ep = first.service, first.endpoint
    assert sp is not None and ep is not None
    hits = [0] * len(pool)
    if sp.affinity_timeout:
        hits[pool.index(ep)] = count  # every later request finds the affinity entry
    else:
        hits[pool.index(ep)] += 1
        for index in picks(mode, len(pool), request_seed(seed, 1), count - 1):
            hits[index] += 1
    result["endpoints"] = [
        {
            "ip": e.ip,
            "port": e.port,
            "pod": "/".join(e.pod) if e.pod else None,
            "node": e.node,
            "requests": h,
        }
        for e, h in zip(pool, hits, strict=True)
    ]
    return result
