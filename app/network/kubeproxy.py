"""kube-proxy: the service table, the rules each node holds, and what they do to one packet.

:func:`service_table` is kube-proxy's view of the cluster (one :class:`ServicePort` per Service
port, with its ready endpoints sorted as ``EndpointSliceCache`` sorts them: by ``"ip:port"``).
:func:`rules` is what a node's kube-proxy programs, for any proxy mode, as text and JSON.
:func:`decide` follows one packet through those rules and says what they did, naming every
rule it matched; :func:`traffic` sends many requests and counts where they landed.

Everything random takes a seed: iptables' ``-m statistic --mode random`` cascade draws from
``random.Random(seed)``, nftables' ``numgen random mod N`` too (a uniform pick), and IPVS'
round robin takes the ``seed mod N``-th real server.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from typing import Any

from app.cluster import constants as c
from app.errors import NotFound
from app.network import kubeproxy_rules as kr
from app.network import kubeproxy_text as kt

MAX_TRAFFIC = 10_000
_POD_CIDRS = {"flannel": c.FLANNEL_CIDR, "calico": c.CALICO_POOL, "weave": c.WEAVE_RANGE}
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    node: str | None
    pod: tuple[str, str] | None  # (namespace, name)
    ready: bool = True


@dataclass(frozen=True)
class ServicePort:
    """One (Service, port) as kube-proxy sees it."""

    namespace: str
    service: str
    port_name: str
    protocol: str  # "TCP" | "UDP" | "SCTP"
    cluster_ip: str | None
    port: int
    node_port: int | None
    load_balancer_ips: tuple[str, ...]
    external_policy: str
    internal_policy: str
    affinity_timeout: int | None  # seconds, when sessionAffinity is ClientIP
    endpoints: tuple[Endpoint, ...]  # ready ones only, sorted by "ip:port"
    chain: str  # KUBE-SVC-...
    external_ips: tuple[str, ...] = ()
    health_check_node_port: int | None = None

    @property
    def name(self) -> str:
        """kube-proxy's ``ServicePortName.String()``: ``ns/name:port``, no ``:`` part when the
        port is unnamed."""
        suffix = f":{self.port_name}" if self.port_name else ""
        return f"{self.namespace}/{self.service}{suffix}"


@dataclass(frozen=True)
class RuleRef:
    table: str
    chain: str
    index: int  # 1-based, as ``iptables -L --line-numbers``
    text: str


@dataclass
class Decision:
    action: str  # "dnat" | "reject" | "drop" | "none"
    service: ServicePort | None
    endpoint: Endpoint | None
    masquerade: bool
    matched: list[RuleRef]
    reason: str


@dataclass
class RuleSet:
    node: str
    mode: str
    text: str
    chains: list[dict[str, Any]]


# --- the service table ---------------------------------------------------------------------
def service_table(cluster: Any) -> list[ServicePort]:
    """Every proxied Service port, sorted by name; headless and ExternalName Services are
    skipped, as kube-proxy skips them.

    >>> from app.cluster.cluster import Cluster
    >>> table = service_table(Cluster.create(seed=1))
    >>> table[0].name, table[0].chain, table[0].endpoints[0].ip
    ('default/kubernetes:https', 'KUBE-SVC-NPX46M4PTMTKRN6Y', '10.0.0.10')
    """
    return list(_view(cluster).table)


@dataclass
class _View:
    table: list[ServicePort]
    by_vip: dict[tuple[str, str, int], tuple[ServicePort, str]] = field(default_factory=dict)
    by_node_port: dict[tuple[str, int], ServicePort] = field(default_factory=dict)
    nodes: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # ip, local addrs


def _view(cluster: Any) -> _View:
    return cluster.state.memoised("kubeproxy.view", lambda: _build_view(cluster))


def _build_view(cluster: Any) -> _View:
    table: list[ServicePort] = []
    for svc in cluster.list("Service"):
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        if spec.get("type") == "ExternalName" or not ip or ip == "None":
            continue
        meta = svc["metadata"]
        ns, name = meta.get("namespace", "default"), meta["name"]
        slices = [s for s in cluster.list("EndpointSlice", ns) if _slice_of(s) == name]
        affinity = None
        if spec.get("sessionAffinity") == "ClientIP":
            config = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
            affinity = int(config.get("timeoutSeconds") or 10800)
        lb_ips = tuple(
            i["ip"]
            for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
            if i.get("ip")
        )
        for port in spec.get("ports") or ():
            protocol = port.get("protocol", "TCP")
            port_name = port.get("name") or ""
            eps = _endpoints(slices, port_name, protocol)
            sp_name = f"{ns}/{name}" + (f":{port_name}" if port_name else "")
            table.append(
                ServicePort(
                    namespace=ns,
                    service=name,
                    port_name=port_name,
                    protocol=protocol,
                    cluster_ip=ip,
                    port=int(port["port"]),
                    node_port=port.get("nodePort") or None,
                    load_balancer_ips=lb_ips,
                    external_policy=spec.get("externalTrafficPolicy") or "Cluster",
                    internal_policy=spec.get("internalTrafficPolicy") or "Cluster",
                    affinity_timeout=affinity,
                    endpoints=eps,
                    chain=kr.chain_name("KUBE-SVC-", sp_name, protocol),
                    external_ips=tuple(spec.get("externalIPs") or ()),
                    health_check_node_port=spec.get("healthCheckNodePort") or None,
                )
            )
    table.sort(key=lambda sp: sp.name)
    view = _View(table)
    for sp in table:
        proto = sp.protocol
        view.by_vip.setdefault((sp.cluster_ip or "", proto, sp.port), (sp, "cluster"))
        for ip in sp.external_ips + sp.load_balancer_ips:
            view.by_vip.setdefault((ip, proto, sp.port), (sp, "ext"))
        if sp.node_port:
            view.by_node_port.setdefault((proto, sp.node_port), sp)
    for node in cluster.list("Node"):
        summary = cluster.node_summary(node)
        gateway = (summary.get("gateway") or {}).get("ip")
        view.nodes[summary["name"]] = (
            summary["internalIP"],
            {summary["internalIP"], gateway} - {None, ""},
        )
    return view


def _slice_of(s: dict[str, Any]) -> str | None:
    return ((s.get("metadata") or {}).get("labels") or {}).get(c.SERVICE_NAME_LABEL)


def _endpoints(slices: list[dict[str, Any]], port_name: str, protocol: str) -> tuple[Endpoint, ...]:
    found: dict[str, Endpoint] = {}
    for s in slices:
        for p in s.get("ports") or ():
            if (
                (p.get("name") or "") != port_name
                or p.get("protocol", "TCP") != protocol
                or not p.get("port")
            ):
                continue
            for e in s.get("endpoints") or ():
                if (e.get("conditions") or {}).get("ready") is False:
                    continue  # a nil "ready" means ready (EndpointConditions docs)
                ref = e.get("targetRef") or {}
                pod = (ref.get("namespace", ""), ref["name"]) if ref.get("kind") == "Pod" else None
                for addr in e.get("addresses") or ():
                    key = f"{addr}:{p['port']}"
                    found.setdefault(
                        key, Endpoint(addr, int(p["port"]), e.get("nodeName"), pod, True)
                    )
    return tuple(found[k] for k in sorted(found))  # EndpointSliceCache: byEndpoint, by String()


# --- rules ---------------------------------------------------------------------------------
def _context(cluster: Any, node: str) -> tuple[kr.NodeContext, set[str]]:
    view = _view(cluster)
    if node not in view.nodes:
        raise NotFound(f'nodes "{node}" not found')
    ip, local = view.nodes[node]
    return kr.NodeContext(node, ip, str(_POD_CIDRS[cluster.config.cni])), local


def _program(cluster: Any, node: str, mode: str) -> kr.Program:
    ctx, _local = _context(cluster, node)
    table = _view(cluster).table

    def build() -> kr.Program:
        if mode == "iptables":
            return kr.build_iptables(table, ctx)
        if mode == "nftables":
            return kr.build_nftables(table, ctx)
        if mode == "ipvs":
            return kr.build_ipvs(table, ctx, [ctx.node_ip])
        raise ValueError(f"unknown proxy mode {mode!r}: must be one of {', '.join(c.PROXY_MODES)}")

    return cluster.state.memoised(f"kubeproxy.program.{node}.{mode}", build)


def rules(cluster: Any, node: str, mode: str | None = None) -> RuleSet:
    """What ``node``'s kube-proxy programs in ``mode`` (default: the cluster's proxy mode): the
    text the node would print and the same chains as JSON.

    >>> from app.cluster.cluster import Cluster
    >>> rs = rules(Cluster.create(seed=1), "worker-1")
    >>> rs.text.splitlines()[0], rs.mode
    ('*filter', 'iptables')
    >>> '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000' in rs.text
    True
    """
    mode = mode or cluster.config.proxy_mode
    program = _program(cluster, node, mode)
    if mode == "iptables":
        text = kt.iptables_save(program)
    elif mode == "nftables":
        text = kt.nft_list(program)
    else:
        text = kt.ipvsadm(program)
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
        for ch in program.chains
    ]
    return RuleSet(node, mode, text, chains)


# --- one packet ----------------------------------------------------------------------------
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


@dataclass
class _Walk:
    mode: str
    keys: list[tuple[Any, ...]] = field(default_factory=list)
    masq: bool = False
    pool: list[Endpoint] = field(default_factory=list)  # where the random pick happens
    pool_chain: str = ""

    def hit(self, *keys: tuple[Any, ...]) -> None:
        self.keys.extend(keys)

    def mark(self) -> None:
        self.masq = True
        self.keys.append(("mark-masq",))


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
    return _decide(cluster, mode, node, packet, seed, from_outside, affinity)[0]


_Result = tuple[Decision, list[Endpoint]]


def _decide(cluster, mode, node, packet, seed, from_outside, affinity) -> _Result:
    """The decision, and the endpoints its pick chose among (empty when nothing was picked)."""
    src_ip, dst_ip, dst_port, proto = packet
    view = _view(cluster)
    ctx, local_addrs = _context(cluster, node)
    program = _program(cluster, node, mode)
    src = ipaddress.ip_address(src_ip)
    dst = ipaddress.ip_address(dst_ip)
    src_local = not from_outside and (src_ip in local_addrs or src in _LOOPBACK)
    src_pod = src in ipaddress.ip_network(ctx.cluster_cidr)
    # iptables mode keeps localhost NodePorts (route_localnet); nftables and ipvs do not.
    dst_local = dst_ip in local_addrs or (mode == "iptables" and dst in _LOOPBACK)
    w = _Walk(mode)
    w.hit(("jump", "nat", "OUTPUT" if src_local else "PREROUTING"), ("nft-services-vmap",))
    found = view.by_vip.get((dst_ip, proto, dst_port))
    sp, kind = found if found else (None, "")
    if sp is None and dst_local and (sp := view.by_node_port.get((proto, dst_port))):
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
            w.hit(("nodeports-final",), ("np", sp.name))
        else:
            w.hit(("svc-ext", sp.name, dst_ip))
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
    index, sticky = _choose(mode, pool, seed, affinity, src_ip, sp)
    ep = pool[index]
    eps = f"{ep.ip}:{ep.port}"
    n = len(pool)
    if sticky:
        w.hit(("affinity", chain_id, eps))
        why = f"sessionAffinity: ClientIP sent {src_ip} to {eps} before, so {chain_id} sends it there again"
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
    if sp.affinity_timeout and mode == "nftables":
        w.hit(("affinity-update", sep[len("endpoint-") :]))
    w.hit(("sep-dnat", sep))
    return _finish(program, w, "dnat", sp, ep, why), pool


def _choose(mode, pool, seed, affinity, src_ip, sp) -> tuple[int, bool]:
    if sp.affinity_timeout and affinity is not None:
        previous = affinity.get((src_ip, sp.name))
        for i, e in enumerate(pool):
            if f"{e.ip}:{e.port}" == previous:
                return i, True
    index = pick(mode, len(pool), seed)
    if sp.affinity_timeout and affinity is not None:
        affinity[(src_ip, sp.name)] = f"{pool[index].ip}:{pool[index].port}"
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
            if ext_local:
                w.hit(("ipvs-lb-local",))
            else:
                w.hit(("ipvs-lb-masq",))
                w.mark()
            w.hit(("nodeports-final",), ("ipvs-accept-lb",))
        pool = local if ext_local else ready
    vs = f"{sp.protocol} {dst_ip}:{dst_port}"
    if not pool:
        return _refuse(program, w, sp, ready, node, policy), []
    index, sticky = _choose("ipvs", pool, seed, affinity, src_ip, sp)
    ep = pool[index]
    eps = f"{ep.ip}:{ep.port}"
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
    first, pool = _decide(
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
        n = len(pool)
        for i in range(1, count):
            hits[pick(mode, n, request_seed(seed, i))] += 1
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
