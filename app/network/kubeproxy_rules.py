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

from app.cluster.families import bracketed
from app.network import kubeproxy_text as t
from app.network.kubeproxy_firewall import firewall_chain, source_ranges

if TYPE_CHECKING:  # pragma: no cover
    from app.network.kubeproxy_model import Endpoint, ServicePort


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
        name += f"__{ip.strip('[]').replace(':', '.')}/{port}"  # fd00::1 as fd00..1
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
    """A node's kube-proxy rules: chains in the order they are written, ``by_key`` to find a
    rule by what it does.

    >>> p = Program("worker-1", "iptables")
    >>> p.chain("nat", "KUBE-MARK-MASQ").add(("mark-masq",), "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000", "MARK")
    >>> chain, rule = p.index().by_key[("mark-masq",)]
    >>> chain.name, rule.index, rule.target
    ('KUBE-MARK-MASQ', 1, 'MARK')
    """

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
    the ready ones on this node.

    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy_model import service_table
    >>> api = service_table(Cluster.create(seed=1))[0]
    >>> [len(x) for x in split_endpoints(api, "control-plane")]  # the API server's slice has no nodeName
    [1, 0]
    """
    ready = list(sp.endpoints)
    return ready, [e for e in ready if e.node == node]


def _ep(e: Endpoint) -> str:
    """An endpoint as kube-proxy's ``String()`` writes it (net.JoinHostPort): ``ip:port``,
    an IPv6 address in brackets."""
    return f"{bracketed(e.ip)}:{e.port}"


# --- iptables --------------------------------------------------------------------------------
# (builtin, target, ctstate NEW, comment), in iptables-save order: kube-proxy prepends its
# jumps (iptablesJumpChains), after kubelet prepended the KUBE-FIREWALL ones at start-up, so
# those end up last.
_FILTER_JUMPS = [
    ("INPUT", "KUBE-PROXY-FIREWALL", True, "kubernetes load balancer firewall"),
    ("INPUT", "KUBE-NODEPORTS", False, "kubernetes health check service ports"),
    ("INPUT", "KUBE-EXTERNAL-SERVICES", True, "kubernetes externally-visible service portals"),
    ("INPUT", "KUBE-FIREWALL", False, None),
    ("FORWARD", "KUBE-PROXY-FIREWALL", True, "kubernetes load balancer firewall"),
    ("FORWARD", "KUBE-FORWARD", False, "kubernetes forwarding rules"),
    ("FORWARD", "KUBE-SERVICES", True, "kubernetes service portals"),
    ("FORWARD", "KUBE-EXTERNAL-SERVICES", True, "kubernetes externally-visible service portals"),
    ("OUTPUT", "KUBE-PROXY-FIREWALL", True, "kubernetes load balancer firewall"),
    ("OUTPUT", "KUBE-SERVICES", True, "kubernetes service portals"),
    ("OUTPUT", "KUBE-FIREWALL", False, None),
]


def _jumps(program: Program, nat_only: bool = False) -> None:
    if not nat_only:
        for builtin, target, new, comment in _FILTER_JUMPS:
            ct = "-m conntrack --ctstate NEW " if new else ""
            note = f'-m comment --comment "{comment}" ' if comment else ""
            text = f"-A {builtin} {ct}{note}-j {target}"
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
    """What ``syncProxyRules`` writes in iptables mode on ``ctx.node``.

    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy_model import context, service_table
    >>> cluster = Cluster.create(seed=1)
    >>> ctx = context(cluster, "worker-1")[0]
    >>> p = build_iptables(service_table(cluster), ctx)
    >>> p.by_key[("mark-masq",)][1].text
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'
    """
    p = Program(ctx.node, "iptables")
    _jumps(p)
    for name in ("KUBE-PROXY-FIREWALL", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES"):
        p.chain("filter", name)
    # route_localnet (on for localhost NodePorts) needs this guard (issues.k8s.io/90259).
    c = "block incoming localnet connections"
    text = t.ipt(
        "KUBE-FIREWALL",
        "DROP",
        not_src="127.0.0.0/8",
        dst="127.0.0.0/8",
        comment=c,
        matches="-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT",
    )
    p.chain("filter", "KUBE-FIREWALL").add(("localnet",), text, "DROP", c)
    fwd = p.chain("filter", "KUBE-FORWARD")
    text = f"-A KUBE-FORWARD -m conntrack --ctstate INVALID {t.nfacct(t.INVALID_DROPPED_COUNTER)} -j DROP"
    fwd.add(("fwd", 0), text, "DROP")
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
    pfw = p.chain("filter", "KUBE-PROXY-FIREWALL")
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
        fw = chain_name("KUBE-FW-", name, proto)
        ranges = source_ranges(sp)
        uses_fw = has_eps and bool(sp.load_balancer_ips) and bool(ranges)
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
                to = fw if uses_fw and kind == "loadbalancer IP" else ext
                if has_eps:
                    text = t.ipt("KUBE-SERVICES", to, comment=f"{name} {kind}", **args)
                    services.add(("svc-ext", name, ip), text, to, f"{name} {kind}")
                if to == fw:
                    c = f"{name} traffic not accepted by {fw}"
                    text = t.ipt("KUBE-PROXY-FIREWALL", "DROP", comment=c, **args)
                    pfw.add(("fw-drop", name, ip), text, "DROP", c)
                if not has_ext:
                    text = t.ipt("KUBE-EXTERNAL-SERVICES", int_target, comment=fcomment, **args)
                    text += rej if int_target == "REJECT" else ""
                    fext.add(("f-ext", name, ip), text, int_target, fcomment)
        if sp.node_port:
            # NodePorts are not subject to loadBalancerSourceRanges (proxier.go says so).
            if has_eps:
                # Localhost NodePorts (iptables.localhostNodePorts, on by default), counted.
                text = t.ipt(
                    "KUBE-NODEPORTS",
                    ext,
                    dst="127.0.0.0/8",
                    proto=proto,
                    comment=name,
                    dport=sp.node_port,
                    after=t.nfacct(t.LOCALHOST_NODEPORT_COUNTER),
                )
                nodeports.add(("np-localhost", name), text, ext, name)
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
        if uses_fw:
            firewall_chain(p.chain("nat", fw), sp, ranges, ctx.node_ip, ext)
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
