"""The rules kube-proxy programs on one node, for each proxy mode, as data.

A :class:`Program` is a list of chains (iptables chains, nftables chains and maps, ipvs
virtual servers, ipsets), each with numbered rules whose ``text`` is the exact line the node
would show. Every rule also carries a ``key`` naming what it does (``("sep-dnat", chain)``), so
:func:`app.network.kubeproxy.decide` can say which rules a packet matched without parsing text.

What is written, and in which order, follows ``syncProxyRules`` in
pkg/proxy/iptables/proxier.go and pkg/proxy/nftables/proxier.go, and the ipvs proxier's
ipset-based rules.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.network import kubeproxy_text as t

if TYPE_CHECKING:  # pragma: no cover
    from app.network.kubeproxy import Endpoint, ServicePort


# --- chain names (pkg/proxy/iptables/proxier.go) ---------------------------------------------
def port_proto_hash(service_port_name: str, protocol: str) -> str:
    """kube-proxy's ``portProtoHash``: base32(sha256(name + protocol))[:16].

    ``protocol`` is lower case, as kube-proxy passes ``strings.ToLower(protocol)``.

    >>> port_proto_hash("default/kubernetes:https", "tcp")
    'NPX46M4PTMTKRN6Y'
    """
    digest = hashlib.sha256((service_port_name + protocol).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def chain_name(prefix: str, service_port_name: str, protocol: str) -> str:
    """``KUBE-SVC-``, ``KUBE-SVL-``, ``KUBE-EXT-`` or ``KUBE-FW-`` plus the port's hash.

    >>> chain_name("KUBE-SVC-", "default/kubernetes:https", "TCP")
    'KUBE-SVC-NPX46M4PTMTKRN6Y'
    """
    return prefix + port_proto_hash(service_port_name, protocol.lower())


def endpoint_chain_name(service_port_name: str, protocol: str, endpoint: str) -> str:
    """kube-proxy's ``servicePortEndpointChainName``: ``KUBE-SEP-`` + base32(sha256(name +
    protocol + "ip:port"))[:16].

    >>> endpoint_chain_name("default/kubernetes:https", "TCP", "10.0.0.10:6443")[:9]
    'KUBE-SEP-'
    """
    text = service_port_name + protocol.lower() + endpoint
    return "KUBE-SEP-" + base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def nft_chain_base(
    namespace: str, service: str, protocol: str, port_name: str, ep: str = ""
) -> str:
    """The nftables proxier's chain-name suffix: ``HASH8-ns/name/proto/port`` (and
    ``__ip/port`` for an endpoint), hashed with base32(sha256(name))[:8].

    >>> nft_chain_base("default", "web", "tcp", "http")[8:]
    '-default/web/tcp/http'
    >>> nft_chain_base("default", "web", "tcp", "", "10.244.1.5:8080")[8:]
    '-default/web/tcp/__10.244.1.5/8080'
    """
    name = f"{namespace}/{service}/{protocol}/{port_name}"
    if ep:
        ip, port = ep.rsplit(":", 1)
        name += f"__{ip}/{port}"
    encoded = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    return (encoded[:8] + "-" + name)[:240]


# --- the program ---------------------------------------------------------------------------
@dataclass
class Rule:
    key: tuple[Any, ...]
    text: str
    target: str
    comment: str | None = None
    index: int = 0  # 1-based, as ``iptables -L --line-numbers`` counts


@dataclass
class Chain:
    table: str  # "filter" | "nat" | "kube-proxy" (nftables) | "ipvs" | "ipset"
    name: str
    kind: str = "chain"  # "chain" | "map" | "set" | "virtual-server"
    header: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)

    def add(self, key: tuple[Any, ...], text: str, target: str, comment: str | None = None) -> None:
        self.rules.append(Rule(key, text, target, comment, len(self.rules) + 1))


@dataclass
class Program:
    node: str
    mode: str
    chains: list[Chain] = field(default_factory=list)
    by_key: dict[tuple[Any, ...], tuple[Chain, Rule]] = field(default_factory=dict)

    def chain(self, table: str, name: str, kind: str = "chain", header: list[str] | None = None):
        for existing in self.chains:
            if existing.table == table and existing.name == name:
                return existing
        made = Chain(table, name, kind, header or [])
        self.chains.append(made)
        return made

    def index(self) -> Program:
        self.by_key = {}
        for chain in self.chains:
            for rule in chain.rules:
                self.by_key.setdefault(rule.key, (chain, rule))
        return self


@dataclass(frozen=True)
class NodeContext:
    """What kube-proxy on one node knows about itself."""

    node: str
    node_ip: str
    cluster_cidr: str  # --cluster-cidr: the local-traffic detector's range


def split_endpoints(sp: ServicePort, node: str) -> tuple[list[Endpoint], list[Endpoint]]:
    """(cluster, local) endpoints as ``CategorizeEndpoints`` sorts them: the ready ones, and
    the ready ones on this node."""
    ready = list(sp.endpoints)
    return ready, [e for e in ready if e.node == node]


def _ep(e: Endpoint) -> str:
    return f"{e.ip}:{e.port}"


# --- iptables --------------------------------------------------------------------------------
_FILTER_JUMPS = [  # (builtin, target, ctstate NEW, comment), in iptables-save order
    ("INPUT", "KUBE-PROXY-FIREWALL", True, "kubernetes load balancer firewall"),
    ("INPUT", "KUBE-NODEPORTS", False, "kubernetes health check service ports"),
    ("INPUT", "KUBE-EXTERNAL-SERVICES", True, "kubernetes externally-visible service portals"),
    ("FORWARD", "KUBE-PROXY-FIREWALL", True, "kubernetes load balancer firewall"),
    ("FORWARD", "KUBE-FORWARD", False, "kubernetes forwarding rules"),
    ("FORWARD", "KUBE-SERVICES", True, "kubernetes service portals"),
    ("FORWARD", "KUBE-EXTERNAL-SERVICES", True, "kubernetes externally-visible service portals"),
    ("OUTPUT", "KUBE-PROXY-FIREWALL", True, "kubernetes load balancer firewall"),
    ("OUTPUT", "KUBE-SERVICES", True, "kubernetes service portals"),
]


def _jumps(program: Program, nat_only: bool = False) -> None:
    if not nat_only:
        for builtin, target, new, comment in _FILTER_JUMPS:
            ct = "-m conntrack --ctstate NEW " if new else ""
            text = f'-A {builtin} {ct}-m comment --comment "{comment}" -j {target}'
            program.chain("filter", builtin).add(("jump", "filter", builtin, target), text, target)
    for builtin in ("PREROUTING", "OUTPUT"):
        text = f'-A {builtin} -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
        program.chain("nat", builtin).add(("jump", "nat", builtin), text, "KUBE-SERVICES")
    text = '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'
    program.chain("nat", "POSTROUTING").add(
        ("jump", "nat", "POSTROUTING"), text, "KUBE-POSTROUTING"
    )


def _postrouting(program: Program) -> None:
    post = program.chain("nat", "KUBE-POSTROUTING")
    m = t.MASQ_MARK
    post.add(
        ("postrouting", 0), f"-A KUBE-POSTROUTING -m mark ! --mark {m}/{m} -j RETURN", "RETURN"
    )
    post.add(("postrouting", 1), f"-A KUBE-POSTROUTING -j MARK --xor-mark {m}", "MARK")
    post.add(
        ("postrouting", 2),
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" '
        "-j MASQUERADE --random-fully",
        "MASQUERADE",
        "kubernetes service traffic requiring SNAT",
    )
    mark = program.chain("nat", "KUBE-MARK-MASQ")
    mark.add(("mark-masq",), f"-A KUBE-MARK-MASQ -j MARK --or-mark {m}", "MARK")


def build_iptables(table: list[ServicePort], ctx: NodeContext) -> Program:
    """What ``syncProxyRules`` writes in iptables mode on ``ctx.node``."""
    p = Program(ctx.node, "iptables")
    _jumps(p)
    for name in ("KUBE-PROXY-FIREWALL", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES"):
        p.chain("filter", name)
    fwd = p.chain("filter", "KUBE-FORWARD")
    fwd.add(("fwd", 0), "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP", "DROP")
    fwd.add(
        ("fwd", 1),
        f'-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark '
        f"{t.MASQ_MARK}/{t.MASQ_MARK} -j ACCEPT",
        "ACCEPT",
    )
    fwd.add(
        ("fwd", 2),
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack '
        "--ctstate RELATED,ESTABLISHED -j ACCEPT",
        "ACCEPT",
    )
    fsvc = p.chain("filter", "KUBE-SERVICES")
    fext = p.chain("filter", "KUBE-EXTERNAL-SERVICES")
    fnp = p.chain("filter", "KUBE-NODEPORTS")
    services = p.chain("nat", "KUBE-SERVICES")
    nodeports = p.chain("nat", "KUBE-NODEPORTS")
    _postrouting(p)
    masq = "KUBE-MARK-MASQ"
    for sp in table:
        name, proto = sp.name, sp.protocol.lower()
        cluster, local = split_endpoints(sp, ctx.node)
        has_eps = bool(cluster)
        int_local = sp.internal_policy == "Local"
        ext_local = sp.external_policy == "Local"
        has_int = has_eps and (bool(local) or not int_local)
        has_ext = has_eps and (bool(local) or not ext_local)
        svc, svl = sp.chain, chain_name("KUBE-SVL-", name, proto)
        ext = chain_name("KUBE-EXT-", name, proto)
        int_chain = svl if int_local else svc
        ext_policy = svl if ext_local else svc
        external = bool(sp.node_port or sp.load_balancer_ips or sp.external_ips)
        fcomment = f"{name} has no endpoints" if not has_eps else f"{name} has no local endpoints"
        int_target = "REJECT" if not has_eps else "DROP"
        rej = " --reject-with icmp-port-unreachable"
        ci = dict(dst=sp.cluster_ip, proto=proto, dport=sp.port)
        if has_int:
            text = t.ipt("KUBE-SERVICES", int_chain, comment=f"{name} cluster IP", **ci)
            services.add(("svc-clusterip", name), text, int_chain, f"{name} cluster IP")
        else:
            text = t.ipt("KUBE-SERVICES", int_target, comment=fcomment, **ci)
            text += rej if int_target == "REJECT" else ""
            fsvc.add(("f-svc", name), text, int_target, fcomment)
        for kind, ips in (
            ("external IP", sp.external_ips),
            ("loadbalancer IP", sp.load_balancer_ips),
        ):
            for ip in ips:
                args = dict(dst=ip, proto=proto, dport=sp.port)
                if has_eps:
                    text = t.ipt("KUBE-SERVICES", ext, comment=f"{name} {kind}", **args)
                    services.add(("svc-ext", name, ip), text, ext, f"{name} {kind}")
                if not has_ext:
                    text = t.ipt("KUBE-EXTERNAL-SERVICES", int_target, comment=fcomment, **args)
                    text += rej if int_target == "REJECT" else ""
                    fext.add(("f-ext", name, ip), text, int_target, fcomment)
        if sp.node_port:
            if has_eps:
                text = t.ipt("KUBE-NODEPORTS", ext, proto=proto, comment=name, dport=sp.node_port)
                nodeports.add(("np", name), text, ext, name)
            if not has_ext:
                text = t.ipt(
                    "KUBE-EXTERNAL-SERVICES",
                    int_target,
                    proto=proto,
                    comment=fcomment,
                    matches="-m addrtype --dst-type LOCAL",
                    dport=sp.node_port,
                )
                text += rej if int_target == "REJECT" else ""
                fext.add(("f-ext", name, "np"), text, int_target, fcomment)
        if sp.health_check_node_port:
            comment = f"{name} health check node port"
            text = t.ipt(
                "KUBE-NODEPORTS",
                "ACCEPT",
                proto="tcp",
                comment=comment,
                dport=sp.health_check_node_port,
            )
            fnp.add(("hc", name), text, "ACCEPT", comment)
        if has_int:
            chain = p.chain("nat", int_chain)
            text = t.ipt(
                int_chain, masq, not_src=ctx.cluster_cidr, comment=f"{name} cluster IP", **ci
            )
            chain.add(("masq-clusterip", name), text, masq, f"{name} cluster IP")
        if has_eps and external:
            chain = p.chain("nat", ext)
            if not ext_local:
                c = f"masquerade traffic for {name} external destinations"
                chain.add(("ext-masq", name), t.ipt(ext, masq, comment=c), masq, c)
            else:
                c = f"pod traffic for {name} external destinations"
                chain.add(
                    ("ext-pod", name), t.ipt(ext, svc, src=ctx.cluster_cidr, comment=c), svc, c
                )
                c = f"masquerade LOCAL traffic for {name} external destinations"
                text = t.ipt(ext, masq, comment=c, matches="-m addrtype --src-type LOCAL")
                chain.add(("ext-local-masq", name), text, masq, c)
                c = f"route LOCAL traffic for {name} external destinations"
                text = t.ipt(ext, svc, comment=c, matches="-m addrtype --src-type LOCAL")
                chain.add(("ext-local-route", name), text, svc, c)
            if has_ext:
                chain.add(("ext-policy", name), f"-A {ext} -j {ext_policy}", ext_policy)
        uses_cluster = has_eps and (not int_local or not ext_local)
        uses_local = bool(local) and (int_local or ext_local)
        for chain_id, eps in (
            (svc, cluster if uses_cluster else []),
            (svl, local if uses_local else []),
        ):
            if not eps:
                continue
            chain = p.chain("nat", chain_id)
            if sp.affinity_timeout:
                for e in eps:
                    sep = endpoint_chain_name(name, proto, _ep(e))
                    c = f"{name} -> {_ep(e)}"
                    recent = (
                        f"-m recent --rcheck --seconds {sp.affinity_timeout} --reap --name {sep} "
                        "--mask 255.255.255.255 --rsource"
                    )
                    chain.add(
                        ("affinity", chain_id, _ep(e)),
                        t.ipt(chain_id, sep, comment=c, matches=recent),
                        sep,
                        c,
                    )
            for i, e in enumerate(eps):
                sep = endpoint_chain_name(name, proto, _ep(e))
                c = f"{name} -> {_ep(e)}"
                stat = ""
                if i < len(eps) - 1:
                    stat = f"-m statistic --mode random --probability {t.probability(len(eps) - i)}"
                chain.add(
                    ("lb", chain_id, _ep(e)), t.ipt(chain_id, sep, comment=c, matches=stat), sep, c
                )
        reachable = {
            _ep(e): e for e in (cluster if uses_cluster else []) + (local if uses_local else [])
        }
        for key in sorted(reachable):
            e = reachable[key]
            sep = endpoint_chain_name(name, proto, key)
            chain = p.chain("nat", sep)
            chain.add(("sep-hairpin", sep), t.ipt(sep, masq, src=e.ip, comment=name), masq, name)
            recent = (
                f"-m recent --set --name {sep} --mask 255.255.255.255 --rsource"
                if sp.affinity_timeout
                else ""
            )
            text = t.ipt(
                sep,
                "DNAT",
                proto=proto,
                comment=name,
                matches=recent,
                l4=True,
                target_args=f"--to-destination {key}",
            )
            chain.add(("sep-dnat", sep), text, "DNAT", name)
    c = "kubernetes service nodeports; NOTE: this must be the last rule in this chain"
    text = t.ipt(
        "KUBE-SERVICES", "KUBE-NODEPORTS", comment=c, matches="-m addrtype --dst-type LOCAL"
    )
    services.add(("nodeports-final",), text, "KUBE-NODEPORTS", c)
    return p.index()


# --- nftables --------------------------------------------------------------------------------
def build_nftables(table: list[ServicePort], ctx: NodeContext) -> Program:
    """What the nftables proxier writes into ``table ip kube-proxy`` on ``ctx.node``."""
    p = Program(ctx.node, "nftables")
    T = "kube-proxy"
    vmap_hdr = "type ipv4_addr . inet_proto . inet_service : verdict"
    maps = {
        "service-ips": p.chain(
            T,
            "service-ips",
            "map",
            [vmap_hdr, 'comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"'],
        ),
        "service-nodeports": p.chain(
            T,
            "service-nodeports",
            "map",
            ["type inet_proto . inet_service : verdict", 'comment "NodePort traffic"'],
        ),
        "no-endpoint-services": p.chain(
            T,
            "no-endpoint-services",
            "map",
            [vmap_hdr, 'comment "vmap to drop or reject packets to services with no endpoints"'],
        ),
        "no-endpoint-nodeports": p.chain(
            T,
            "no-endpoint-nodeports",
            "map",
            [
                "type inet_proto . inet_service : verdict",
                'comment "vmap to drop or reject packets to service nodeports with no endpoints"',
            ],
        ),
    }
    hooks = [
        (
            "filter-prerouting",
            "type filter hook prerouting priority dstnat - 10; policy accept;",
            [("ct state new jump firewall-check", "firewall-check", None)],
        ),
        (
            "filter-input",
            "type filter hook input priority -110; policy accept;",
            [
                (
                    "ct state new jump nodeport-endpoints-check",
                    "nodeport-endpoints-check",
                    ("jump", "filter", "INPUT", "KUBE-EXTERNAL-SERVICES"),
                ),
                (
                    "ct state new jump service-endpoints-check",
                    "service-endpoints-check",
                    ("jump", "filter", "INPUT", "svc"),
                ),
            ],
        ),
        (
            "filter-forward",
            "type filter hook forward priority -110; policy accept;",
            [
                (
                    "ct state new jump service-endpoints-check",
                    "service-endpoints-check",
                    ("jump", "filter", "FORWARD", "KUBE-SERVICES"),
                ),
                ("ct state new jump cluster-ips-check", "cluster-ips-check", None),
            ],
        ),
        (
            "filter-output",
            "type filter hook output priority -110; policy accept;",
            [
                (
                    "ct state new jump service-endpoints-check",
                    "service-endpoints-check",
                    ("jump", "filter", "OUTPUT", "KUBE-SERVICES"),
                )
            ],
        ),
        (
            "nat-prerouting",
            "type nat hook prerouting priority dstnat; policy accept;",
            [("jump services", "services", ("jump", "nat", "PREROUTING"))],
        ),
        (
            "nat-output",
            "type nat hook output priority -100; policy accept;",
            [("jump services", "services", ("jump", "nat", "OUTPUT"))],
        ),
        (
            "nat-postrouting",
            "type nat hook postrouting priority srcnat; policy accept;",
            [("jump masquerading", "masquerading", ("jump", "nat", "POSTROUTING"))],
        ),
    ]
    for name, hook, rules in hooks:
        chain = p.chain(T, name, header=[hook])
        for text, target, key in rules:
            chain.add(key or ("hook", name, target), text, target)
    m = t.NFT_MASQ_MARK
    p.chain(T, "mark-for-masquerade").add(("mark-masq",), f"meta mark set meta mark | {m}", "mark")
    mq = p.chain(T, "masquerading")
    mq.add(("postrouting", 0), f"meta mark & {m} == 0 return", "return")
    mq.add(("postrouting", 1), f"meta mark set meta mark ^ {m}", "mark")
    mq.add(("postrouting", 2), "masquerade fully-random", "masquerade")
    p.chain(
        T,
        "reject-chain",
        header=['comment "helper for @no-endpoint-services / @no-endpoint-nodeports"'],
    ).add(("reject-chain",), "reject", "reject")
    p.chain(T, "service-endpoints-check").add(
        ("nft-f-svc",),
        "ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
        "@no-endpoint-services",
    )
    p.chain(T, "nodeport-endpoints-check").add(
        ("nft-f-np",),
        "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports",
        "@no-endpoint-nodeports",
    )
    services = p.chain(T, "services")
    services.add(
        ("nft-services-vmap",),
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        "@service-ips",
    )
    services.add(
        ("nodeports-final",),
        "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports",
        "@service-nodeports",
    )
    for sp in table:
        name, proto = sp.name, sp.protocol.lower()
        cluster, local = split_endpoints(sp, ctx.node)
        has_eps = bool(cluster)
        int_local, ext_local = sp.internal_policy == "Local", sp.external_policy == "Local"
        has_int = has_eps and (bool(local) or not int_local)
        has_ext = has_eps and (bool(local) or not ext_local)
        base = nft_chain_base(sp.namespace, sp.service, proto, sp.port_name)
        svc, svl, ext = f"service-{base}", f"local-{base}", f"external-{base}"
        int_chain, ext_policy = (svl if int_local else svc), (svl if ext_local else svc)
        verdict = "goto reject-chain" if not has_eps else "drop"
        external = bool(sp.node_port or sp.load_balancer_ips or sp.external_ips)
        el = f"{sp.cluster_ip} . {proto} . {sp.port}"
        if has_int:
            maps["service-ips"].add(
                ("svc-clusterip", name), f"{el} : goto {int_chain}", int_chain, name
            )
        else:
            maps["no-endpoint-services"].add(
                ("f-svc", name), f'{el} comment "{name}" : {verdict}', verdict, name
            )
        for ip in sp.external_ips + sp.load_balancer_ips:
            el = f"{ip} . {proto} . {sp.port}"
            if has_eps:
                maps["service-ips"].add(("svc-ext", name, ip), f"{el} : goto {ext}", ext, name)
            if not has_ext:
                maps["no-endpoint-services"].add(
                    ("f-ext", name, ip), f'{el} comment "{name}" : {verdict}', verdict, name
                )
        if sp.node_port:
            el = f"{proto} . {sp.node_port}"
            if has_eps:
                maps["service-nodeports"].add(("np", name), f"{el} : goto {ext}", ext, name)
            if not has_ext:
                maps["no-endpoint-nodeports"].add(
                    ("f-ext", name, "np"), f'{el} comment "{name}" : {verdict}', verdict, name
                )
        if has_int:
            text = f"ip daddr {sp.cluster_ip} {proto} dport {sp.port} ip saddr != {ctx.cluster_cidr} jump mark-for-masquerade"
            p.chain(T, int_chain).add(("masq-clusterip", name), text, "mark-for-masquerade")
        if has_eps and external:
            chain = p.chain(T, ext)
            if not ext_local:
                chain.add(("ext-masq", name), "jump mark-for-masquerade", "mark-for-masquerade")
            else:
                chain.add(
                    ("ext-pod", name),
                    f'ip saddr {ctx.cluster_cidr} goto {svc} comment "short-circuit pod traffic"',
                    svc,
                )
                chain.add(
                    ("ext-local-masq", name),
                    'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
                    "mark-for-masquerade",
                )
                chain.add(
                    ("ext-local-route", name),
                    f'fib saddr type local goto {svc} comment "short-circuit local traffic"',
                    svc,
                )
            if has_ext:
                chain.add(("ext-policy", name), f"goto {ext_policy}", ext_policy)
        uses_cluster = has_eps and (not int_local or not ext_local)
        uses_local = bool(local) and (int_local or ext_local)
        for chain_id, eps in (
            (svc, cluster if uses_cluster else []),
            (svl, local if uses_local else []),
        ):
            if not eps:
                continue
            chain = p.chain(T, chain_id)
            for e in eps if sp.affinity_timeout else []:
                eb = nft_chain_base(sp.namespace, sp.service, proto, sp.port_name, _ep(e))
                chain.add(
                    ("affinity", chain_id, _ep(e)),
                    f"ip saddr @affinity-{eb} goto endpoint-{eb}",
                    f"endpoint-{eb}",
                )
            vm = ", ".join(
                f"{i} : goto endpoint-{nft_chain_base(sp.namespace, sp.service, proto, sp.port_name, _ep(e))}"
                for i, e in enumerate(eps)
            )
            chain.add(
                ("numgen", chain_id), f"numgen random mod {len(eps)} vmap {{ {vm} }}", "numgen"
            )
        reachable = {
            _ep(e): e for e in (cluster if uses_cluster else []) + (local if uses_local else [])
        }
        for key in sorted(reachable):
            eb = nft_chain_base(sp.namespace, sp.service, proto, sp.port_name, key)
            if sp.affinity_timeout:
                p.chain(
                    T,
                    f"affinity-{eb}",
                    "set",
                    ["type ipv4_addr", "flags dynamic,timeout", f"timeout {sp.affinity_timeout}s"],
                )
            chain = p.chain(T, f"endpoint-{eb}")
            chain.add(
                ("sep-hairpin", f"endpoint-{eb}"),
                f"ip saddr {reachable[key].ip} jump mark-for-masquerade",
                "mark-for-masquerade",
            )
            if sp.affinity_timeout:
                chain.add(
                    ("affinity-update", eb), f"update @affinity-{eb} {{ ip saddr }}", "update"
                )
            chain.add(("sep-dnat", f"endpoint-{eb}"), f"meta l4proto {proto} dnat to {key}", "dnat")
    return p.index()


# --- ipvs ------------------------------------------------------------------------------------
def build_ipvs(table: list[ServicePort], ctx: NodeContext, node_ips: list[str]) -> Program:
    """ipvs mode: one virtual server per service address (ClusterIP, each node IP for a
    NodePort, LoadBalancer and external IPs) with ``rr`` scheduling, plus the ipsets and the
    few iptables rules that match them (pkg/proxy/ipvs/proxier.go)."""
    p = Program(ctx.node, "ipvs")
    _jumps(p, nat_only=True)
    sets: dict[str, list[str]] = {
        n: []
        for n in (
            "KUBE-CLUSTER-IP",
            "KUBE-LOAD-BALANCER",
            "KUBE-LOAD-BALANCER-LOCAL",
            "KUBE-NODE-PORT-TCP",
            "KUBE-NODE-PORT-LOCAL-TCP",
            "KUBE-NODE-PORT-UDP",
            "KUBE-NODE-PORT-LOCAL-UDP",
            "KUBE-LOOP-BACK",
        )
    }
    for sp in table:
        name, proto = sp.name, sp.protocol.lower()
        cluster, local = split_endpoints(sp, ctx.node)
        persist = sp.affinity_timeout
        addrs: list[tuple[str, str, int, list[Endpoint]]] = []
        addrs.append(
            (
                "cluster",
                sp.cluster_ip or "",
                sp.port,
                local if sp.internal_policy == "Local" else cluster,
            )
        )
        ext_eps = local if sp.external_policy == "Local" else cluster
        for ip in sp.external_ips + sp.load_balancer_ips:
            addrs.append(("ext", ip, sp.port, ext_eps))
        if sp.node_port:
            for ip in node_ips:
                addrs.append(("np", ip, sp.node_port, ext_eps))
        for _kind, ip, port, eps in addrs:
            vs = p.chain(
                "ipvs",
                f"{sp.protocol} {ip}:{port}",
                "virtual-server",
                [t.vs_line(sp.protocol, ip, port, persist)],
            )
            for e in eps:
                vs.add(("ipvs-rs", name, ip, port, _ep(e)), t.rs_line(e.ip, e.port), _ep(e), name)
        sets["KUBE-CLUSTER-IP"].append(f"{sp.cluster_ip},{proto}:{sp.port}")
        for ip in sp.load_balancer_ips:
            sets["KUBE-LOAD-BALANCER"].append(f"{ip},{proto}:{sp.port}")
            if sp.external_policy == "Local":
                sets["KUBE-LOAD-BALANCER-LOCAL"].append(f"{ip},{proto}:{sp.port}")
        if sp.node_port and proto in ("tcp", "udp"):
            sets[f"KUBE-NODE-PORT-{proto.upper()}"].append(str(sp.node_port))
            if sp.external_policy == "Local":
                sets[f"KUBE-NODE-PORT-LOCAL-{proto.upper()}"].append(str(sp.node_port))
        for e in cluster:
            sets["KUBE-LOOP-BACK"].append(f"{e.ip},{proto}:{e.port},{e.ip}")
    kinds = {
        "KUBE-NODE-PORT-TCP": "bitmap:port",
        "KUBE-NODE-PORT-LOCAL-TCP": "bitmap:port",
        "KUBE-NODE-PORT-UDP": "bitmap:port",
        "KUBE-NODE-PORT-LOCAL-UDP": "bitmap:port",
        "KUBE-LOOP-BACK": "hash:ip,port,ip",
    }
    for name, members in sets.items():
        chain = p.chain("ipset", name, "set", [kinds.get(name, "hash:ip,port")])
        for member in sorted(set(members)):
            chain.add(("ipset", name, member), member, "")
    svc = p.chain("nat", "KUBE-SERVICES")
    svc.add(
        ("ipvs-lb-jump",),
        '-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER',
        "KUBE-LOAD-BALANCER",
    )
    svc.add(
        ("ipvs-clusterip-masq",),
        f'-A KUBE-SERVICES ! -s {ctx.cluster_cidr} -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
        "KUBE-MARK-MASQ",
    )
    svc.add(
        ("nodeports-final",),
        "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
        "KUBE-NODE-PORT",
    )
    svc.add(
        ("ipvs-accept-clusterip",),
        "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
        "ACCEPT",
    )
    svc.add(
        ("ipvs-accept-lb",),
        "-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT",
        "ACCEPT",
    )
    np = p.chain("nat", "KUBE-NODE-PORT")
    for proto in ("tcp", "udp"):
        up = proto.upper()
        np.add(
            ("ipvs-np-local", proto),
            f'-A KUBE-NODE-PORT -p {proto} -m comment --comment "Kubernetes nodeport {up} port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-{up} dst -j RETURN',
            "RETURN",
        )
        np.add(
            ("ipvs-np-masq", proto),
            f'-A KUBE-NODE-PORT -p {proto} -m comment --comment "Kubernetes nodeport {up} port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-{up} dst -j KUBE-MARK-MASQ',
            "KUBE-MARK-MASQ",
        )
    lb = p.chain("nat", "KUBE-LOAD-BALANCER")
    lb.add(
        ("ipvs-lb-local",),
        '-A KUBE-LOAD-BALANCER -m comment --comment "Kubernetes service load balancer ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN',
        "RETURN",
    )
    lb.add(("ipvs-lb-masq",), "-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ", "KUBE-MARK-MASQ")
    post = p.chain("nat", "KUBE-POSTROUTING")
    post.add(
        ("ipvs-loopback",),
        '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
        "MASQUERADE",
    )
    _postrouting(p)
    return p.index()
