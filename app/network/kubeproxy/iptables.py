"""The iptables mode's program: what ``syncProxyRules`` in pkg/proxy/iptables/proxier.go
writes into the filter and nat tables (the rule model is :mod:`.chains`). The ipvs mode
writes some of the same nat rules (:func:`jumps`, :func:`postrouting`).
"""

from __future__ import annotations

from app.network.kubeproxy import text as t
from app.network.kubeproxy.chains import (
    NodeContext,
    Program,
    chain_name,
    endpoint_chain_name,
    hostport,
    split_endpoints,
)
from app.network.kubeproxy.firewall import firewall_chain, source_ranges
from app.network.kubeproxy.model import ServicePort

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


def jumps(program: Program, nat_only: bool = False) -> None:
    """kube-proxy's jumps from the built-in chains to its own (``iptablesJumpChains``): the
    filter table's and the nat table's, or the nat table's only (the ipvs mode)."""
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


def postrouting(program: Program) -> None:
    """``KUBE-POSTROUTING``, which masquerades what ``KUBE-MARK-MASQ`` marked, and that chain."""
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
    >>> from app.network.kubeproxy.view import context, service_table
    >>> cluster = Cluster.create(seed=1)
    >>> ctx = context(cluster, "worker-1")[0]
    >>> p = build_iptables(service_table(cluster), ctx)
    >>> p.by_key[("mark-masq",)][1].text
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'
    """
    p = Program(ctx.node, "iptables")
    jumps(p)
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
    postrouting(p)
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
                    sep = endpoint_chain_name(name, proto, hostport(e))
                    c = f"{name} -> {hostport(e)}"
                    recent = (
                        f"-m recent --rcheck --seconds {sp.affinity_timeout} --reap --name {sep} "
                        "--mask 255.255.255.255 --rsource"
                    )
                    chain.add(
                        ("affinity", chain_id, hostport(e)),
                        t.ipt(chain_id, sep, comment=c, matches=recent),
                        sep,
                        c,
                    )
            for i, e in enumerate(eps):
                sep = endpoint_chain_name(name, proto, hostport(e))
                c = f"{name} -> {hostport(e)}"
                stat = ""
                if i < len(eps) - 1:
                    stat = f"-m statistic --mode random --probability {t.probability(len(eps) - i)}"
                chain.add(
                    ("lb", chain_id, hostport(e)),
                    t.ipt(chain_id, sep, comment=c, matches=stat),
                    sep,
                    c,
                )
        reachable = {
            hostport(e): e
            for e in (cluster if uses_cluster else []) + (local if uses_local else [])
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
