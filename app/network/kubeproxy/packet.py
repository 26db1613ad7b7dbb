"""How kube-proxy's rules treat one packet: the path through the chains, the endpoint pick, and
the masquerade mark. :func:`app.network.kubeproxy.decide` is the public entry point.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import zlib
from dataclasses import dataclass, field
from typing import Any

from app.cluster.families import bracketed
from app.network.kubeproxy import chains as kr
from app.network.kubeproxy import firewall as kf
from app.network.kubeproxy import view as kv
from app.network.kubeproxy.model import LOOPBACK, Decision, Endpoint, RuleRef


def pick(mode: str, n: int, seed: int) -> int:
    """Which of ``n`` endpoints (0-based, in chain order) the mode's load balancing picks.

    iptables walks the ``-m statistic --mode random --probability 1/(n-i)`` cascade with
    ``random.Random(seed)`` (the last rule always matches); nftables' ``numgen random mod n``
    is one uniform draw; IPVS ``rr`` takes ``seed mod n``.

    >>> [pick("ipvs", 3, s) for s in range(4)]
    [0, 1, 2, 0]
    >>> pick("iptables", 1, 42)
    0
    """
    if mode == "ipvs":
        return seed % n
    rng = random.Random(seed)
    if mode == "nftables":
        return rng.randrange(n)
    for i in range(n - 1):
        if rng.random() < 1.0 / (n - i):
            return i
    return n - 1


def picks(mode: str, n: int, first_seed: int, count: int) -> list[int]:
    """``[pick(mode, n, first_seed + i) for i in range(count)]``, inlined for speed."""
    seeds = range(first_seed, first_seed + count)
    if mode == "ipvs":
        return [s % n for s in seeds]
    rng = random.Random
    if mode == "nftables":
        return [rng(s).randrange(n) for s in seeds]
    odds = [1.0 / (n - i) for i in range(n - 1)]
    out = []
    for s in seeds:
        draw = rng(s).random
        for i, p in enumerate(odds):
            if draw() < p:
                out.append(i)
                break
        else:
            out.append(n - 1)
    return out


@dataclass
class _Walk:
    mode: str
    keys: list[tuple[Any, ...]] = field(default_factory=list)
    masq: bool = False
    pool: list[Endpoint] = field(default_factory=list)  # where the random pick happens
    pool_chain: str = ""
    node_ip: str = ""  # the node's own address, which the LB firewall may accept

    def hit(self, *keys: tuple[Any, ...]) -> None:
        self.keys.extend(keys)

    def mark(self) -> None:
        self.masq = True
        self.keys.append(("mark-masq",))


Result = tuple[Decision, list[Endpoint]]


def decide_packet(cluster, mode, node, packet, seed, from_outside, affinity) -> Result:
    """The decision, and the endpoints its pick chose among (empty when nothing was picked)."""
    src_ip, dst_ip, dst_port, proto = packet
    # A dual-stack node runs one proxier per family: the packet meets its own family's.
    family = "IPv6" if ":" in dst_ip else "IPv4"
    view = kv.view(cluster, family)
    ctx, local_addrs = kv.context(cluster, node, family)
    program = kv.program(cluster, node, mode, family)
    src = ipaddress.ip_address(src_ip)
    dst = ipaddress.ip_address(dst_ip)
    src_local = not from_outside and (src_ip in local_addrs or src in LOOPBACK)
    src_pod = src in _network(ctx.cluster_cidr)
    # iptables mode keeps localhost NodePorts (route_localnet); nftables and ipvs do not.
    dst_local = dst_ip in local_addrs or (mode == "iptables" and dst in LOOPBACK)
    w = _Walk(mode, node_ip=ctx.node_ip)
    w.hit(("jump", "nat", "OUTPUT" if src_local else "PREROUTING"), ("nft-services-vmap",))
    found = view.by_vip.get((dst_ip, proto, dst_port))
    sp, kind = found if found else (None, "")
    # nftables mode defaults --nodeport-addresses to "primary": the nodeport-ips set holds the
    # node's InternalIP only, so a NodePort on another local address (cni0's) is not served.
    np_addr = dst_local and (mode != "nftables" or dst_ip == ctx.node_ip)
    if sp is None and np_addr and (sp := view.by_node_port.get((proto, dst_port))):
        kind = "np"
    if sp is None:
        if dst_local:
            w.hit(("nodeports-final",))
        why = f"no Service listens on {dst_ip}:{dst_port}/{proto}, so kube-proxy leaves the packet alone and it is routed as is"
        return _finish(program, w, "none", None, None, why), []
    ready = list(sp.endpoints)
    local = [e for e in ready if e.node == node]
    if mode == "ipvs":
        return _decide_ipvs(
            program, w, sp, kind, packet, ready, local, src_pod, seed, affinity, node
        )
    hook = "INPUT" if dst_local else ("OUTPUT" if src_local else "FORWARD")
    if kind == "cluster":
        if not ready or (sp.internal_policy == "Local" and not local):
            w.hit(("jump", "filter", hook, "KUBE-SERVICES"), ("jump", "filter", hook, "svc"))
            w.hit(("nft-f-svc",), ("f-svc", sp.name))
            return _refuse(program, w, sp, ready, node, "internalTrafficPolicy"), []
        w.hit(("svc-clusterip", sp.name))
        chain, pool = ("SVL", local) if sp.internal_policy == "Local" else ("SVC", ready)
        if not src_pod:  # the local-traffic detector: ! -s <cluster-cidr>
            w.hit(("masq-clusterip", sp.name))
            w.mark()
    else:
        if kind == "np":
            # 127.0.0.0/8 meets the localhost NodePort rule (nfacct-counted) first
            np_rule = "np-localhost" if dst in LOOPBACK else "np"
            w.hit(("nodeports-final",), (np_rule, sp.name))
        else:
            w.hit(("svc-ext", sp.name, dst_ip))
            if ready and _firewalled(sp, dst_ip):
                allowed = kf.firewall_allows(sp, src_ip, ctx.node_ip)
                if allowed is None:
                    w.hit(("fw-end", sp.name), ("jump", "filter", hook, "KUBE-PROXY-FIREWALL"))
                    # nftables: the pre-DNAT jump, firewall-check, the firewall-ips element
                    w.hit(("jump", "filter", "OUTPUT" if src_local else "PREROUTING", "firewall"))
                    w.hit(("nft-firewall",), ("fw-drop", sp.name, dst_ip), ("nft-fw", sp.name))
                    return _fw_drop(program, w, sp, src_ip, dst_ip, mode), []
                w.hit(("fw-allow", sp.name, allowed))
        chain, pool = "SVC", ready
        if ready and sp.external_policy != "Local":
            w.hit(("ext-masq", sp.name))
            w.mark()
            w.hit(("ext-policy", sp.name))
        elif ready and src_pod:
            w.hit(("ext-pod", sp.name))
        elif ready and src_local:
            w.hit(("ext-local-masq", sp.name))
            w.mark()
            w.hit(("ext-local-route", sp.name))
        elif local:
            chain, pool = "SVL", local
            w.hit(("ext-policy", sp.name))
        else:
            if kind == "np":
                w.hit(("jump", "filter", hook, "KUBE-EXTERNAL-SERVICES"), ("nft-f-np",))
            else:
                w.hit(("jump", "filter", hook, "KUBE-SERVICES"), ("jump", "filter", hook, "svc"))
                w.hit(("jump", "filter", hook, "KUBE-EXTERNAL-SERVICES"), ("nft-f-svc",))
            w.hit(("f-ext", sp.name, "np" if kind == "np" else dst_ip))
            return _refuse(program, w, sp, ready, node, "externalTrafficPolicy"), []
    proto_l = sp.protocol.lower()
    if mode == "nftables":
        base = kr.nft_chain_base(sp.namespace, sp.service, proto_l, sp.port_name)
        chain_id = f"{'local' if chain == 'SVL' else 'service'}-{base}"
    else:
        chain_id = sp.chain if chain == "SVC" else kr.chain_name("KUBE-SVL-", sp.name, proto_l)
    index, sticky = choose(mode, pool, seed, affinity, src_ip, sp)
    ep = pool[index]
    eps = kr.hostport(ep)  # [ip]:port for IPv6, as the rules key it
    n = len(pool)
    if sticky:
        w.hit(("affinity", chain_id, eps))
        why = f"the Service has sessionAffinity: ClientIP and {src_ip} went to {eps} before, so the -m recent rule in {chain_id} sends it there again"
    elif mode == "nftables":
        w.hit(("numgen", chain_id))
        why = f"kube-proxy's {chain_id} chain picked endpoint {eps} (numgen random mod {n} gave {index}; each endpoint has 1/{n})"
    else:
        w.hit(("lb", chain_id, eps))
        left = n - index
        odds = "the last rule, which always matches" if left == 1 else f"probability {1.0 / left:g}"
        why = (
            f"kube-proxy's {chain_id} chain picked endpoint {eps} (rule {index + 1} of {n}, {odds})"
        )
    if mode == "nftables":
        sep = "endpoint-" + kr.nft_chain_base(sp.namespace, sp.service, proto_l, sp.port_name, eps)
    else:
        sep = kr.endpoint_chain_name(sp.name, proto_l, eps)
    if src_ip == ep.ip:
        w.hit(("sep-hairpin", sep))
        w.mark()
        why += (
            "; the pod reached itself through its Service, so the packet is masqueraded (hairpin)"
        )
    if sp.affinity_timeout and not sticky:
        why += f"; sessionAffinity: ClientIP keeps every later connection from {src_ip} on it"
    if sp.affinity_timeout and mode == "nftables":
        w.hit(("affinity-update", sep[len("endpoint-") :]))
    w.hit(("sep-dnat", sep))
    return _finish(program, w, "dnat", sp, ep, why), pool


@functools.lru_cache(maxsize=16)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr)


def choose(mode, pool, seed, affinity, src_ip, sp) -> tuple[int, bool]:
    """Which endpoint of ``pool`` a connection gets, and whether affinity chose it: the
    client's earlier pick when ``sessionAffinity: ClientIP`` remembers one, else
    :func:`pick` (Cilium's random algorithm is the nftables case, one uniform draw)."""
    if sp.affinity_timeout and affinity is not None:
        previous = affinity.get((src_ip, sp.name))
        for i, e in enumerate(pool):
            if kr.hostport(e) == previous:
                return i, True
    if sp.affinity_timeout:
        # A client is pinned from its first connection until timeoutSeconds pass; Podpath
        # keeps no clock, so it draws that first pick from the client's address: every trace
        # and batch from one client agrees, and different clients spread over the endpoints.
        seed = zlib.crc32(f"{src_ip}|{sp.name}".encode())
    index = pick(mode, len(pool), seed)
    if sp.affinity_timeout and affinity is not None:
        affinity[(src_ip, sp.name)] = kr.hostport(pool[index])
    return index, False


def _refuse(program, w, sp, ready, node, policy) -> Decision:
    label = f"Service {sp.namespace}/{sp.service}"
    if not ready:
        w.hit(("reject-chain",))
        why = f"{label} has no ready endpoints (its selector matches no ready pod), so kube-proxy REJECTs the packet with ICMP port unreachable and the client sees connection refused at once"
        return _finish(program, w, "reject", sp, None, why, post=False)
    why = f"{label} has {policy}: Local and no ready endpoint on node {node}, so kube-proxy drops the packet and the client times out"
    return _finish(program, w, "drop", sp, None, why, post=False)


def _decide_ipvs(program, w, sp, kind, packet, ready, local, src_pod, seed, affinity, node):
    src_ip, dst_ip, dst_port, _proto = packet
    ext_local = sp.external_policy == "Local"
    policy = "externalTrafficPolicy"
    if kind == "cluster":
        if not src_pod:
            w.hit(("ipvs-clusterip-masq",))
            w.mark()
        w.hit(("nodeports-final",), ("ipvs-accept-clusterip",))  # VIPs are local on kube-ipvs0
        int_local = sp.internal_policy == "Local"
        pool, policy = (local if int_local else ready), "internalTrafficPolicy"
    elif kind == "np":
        w.hit(("nodeports-final",))
        if ext_local:
            w.hit(("ipvs-np-local", sp.protocol.lower()))
        else:
            w.hit(("ipvs-np-masq", sp.protocol.lower()))
            w.mark()
        pool = local if ext_local else ready
    else:
        if dst_ip in sp.load_balancer_ips:
            w.hit(("ipvs-lb-jump",))
            blocked = kf.firewall_allows(sp, src_ip, w.node_ip) is None
            if ready and _firewalled(sp, dst_ip) and blocked:
                w.hit(("ipvs-fw-drop",))
                return _fw_drop(program, w, sp, src_ip, dst_ip, "ipvs"), []
            if ext_local:
                w.hit(("ipvs-lb-local",))
            else:
                w.hit(("ipvs-lb-masq",))
                w.mark()
            w.hit(("nodeports-final",), ("ipvs-accept-lb",))
        pool = local if ext_local else ready
    vs = f"{sp.protocol} {bracketed(dst_ip)}:{dst_port}"
    if not pool:
        return _refuse(program, w, sp, ready, node, policy), []
    index, sticky = choose("ipvs", pool, seed, affinity, src_ip, sp)
    ep = pool[index]
    eps = kr.hostport(ep)  # [ip]:port for IPv6, as the rules key it
    w.hit(("ipvs-rs", sp.name, dst_ip, dst_port, eps))
    if sticky:
        why = f"IPVS virtual server {vs} is persistent (sessionAffinity: ClientIP) and sent {src_ip} to {eps} before, so it does again"
    else:
        why = f"IPVS virtual server {vs} picked real server {eps} by round robin ({index + 1} of {len(pool)})"
    if src_ip == ep.ip:
        w.hit(("jump", "nat", "POSTROUTING"), ("ipvs-loopback",))
        w.masq = True
        why += "; the pod reached itself through its Service, so KUBE-LOOP-BACK masquerades it (hairpin)"
        return _finish(program, w, "dnat", sp, ep, why, post=False), pool
    return _finish(program, w, "dnat", sp, ep, why), pool


def _firewalled(sp, dst_ip: str) -> bool:
    """Whether traffic to ``dst_ip`` meets the Service's load-balancer firewall: a LB IP of a
    Service with loadBalancerSourceRanges (externalIPs and NodePorts are not filtered)."""
    return dst_ip in sp.load_balancer_ips and bool(kf.source_ranges(sp))


_FW_HOW = {
    "iptables": "KUBE-SERVICES sends it to the KUBE-FW- chain, no rule there accepts its source, so the filter table's KUBE-PROXY-FIREWALL drops it",
    "nftables": "the firewall-ips map sends it to the Service's firewall chain, which drops sources outside the ranges",
    "ipvs": "its source is not in the ipset KUBE-LOAD-BALANCER-SOURCE-CIDR, so KUBE-SOURCE-RANGES-FIREWALL drops it",
}


def _fw_drop(program, w, sp, src_ip, dst_ip, mode) -> Decision:
    ranges = ", ".join(str(n) for n in kf.source_ranges(sp))
    why = (
        f"Service {sp.namespace}/{sp.service} has spec.loadBalancerSourceRanges [{ranges}] and "
        f"{src_ip} is in none of them: {_FW_HOW[mode]}, and the client times out"
    )
    return _finish(program, w, "drop", sp, None, why, post=False)


def _finish(program, w, action, sp, ep, why, post: bool = True) -> Decision:
    if post and action == "dnat":
        w.hit(("jump", "nat", "POSTROUTING"))
        w.hit(*((("postrouting", 1), ("postrouting", 2)) if w.masq else [("postrouting", 0)]))
        if w.masq and not why.endswith("(hairpin)"):
            why += ", then KUBE-POSTROUTING masquerades it to the node's address"
    matched: list[RuleRef] = []
    for key in w.keys:
        hit = program.by_key.get(key)
        if hit is not None:
            ch, rule = hit
            matched.append(RuleRef(ch.table, ch.name, rule.index, rule.text))
    return Decision(action, sp, ep, w.masq, matched, why[0].upper() + why[1:] + ".")
