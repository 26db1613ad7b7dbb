"""The nftables and ipvs modes' programs (see :mod:`app.network.kubeproxy_rules` for the rule
model and the iptables mode): what pkg/proxy/nftables/proxier.go writes into ``table ip
kube-proxy``, and the ipvs proxier's virtual servers, ipsets and iptables rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.network import kubeproxy_text as t
from app.network.kubeproxy_rules import (
    NodeContext,
    Program,
    _ep,
    _jumps,
    _postrouting,
    nft_chain_base,
    split_endpoints,
)

if TYPE_CHECKING:  # pragma: no cover
    from app.network.kubeproxy_model import Endpoint, ServicePort


# --- nftables --------------------------------------------------------------------------------
def build_nftables(table: list[ServicePort], ctx: NodeContext) -> Program:
    """What the nftables proxier writes into ``table ip kube-proxy`` on ``ctx.node``.

    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy_model import context, service_table
    >>> cluster = Cluster.create(seed=1)
    >>> ctx = context(cluster, "worker-1")[0]
    >>> p = build_nftables(service_table(cluster), ctx)
    >>> p.by_key[("nodeports-final",)][1].text
    'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports'
    """
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
    cluster_ips = p.chain(
        T, "cluster-ips", "set", ["type ipv4_addr", 'comment "Active ClusterIPs"']
    )
    p.chain(
        T,
        "firewall-ips",
        "map",
        [vmap_hdr, 'comment "destinations that are subject to LoadBalancerSourceRanges"'],
    )
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
    p.chain(T, "firewall-check").add(
        ("nft-firewall",), "ip daddr . meta l4proto . th dport vmap @firewall-ips", "@firewall-ips"
    )
    p.chain(T, "cluster-ips-check").add(
        ("nft-cluster-ips",),
        'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
        "reject",
    )
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
        if not any(r.text == sp.cluster_ip for r in cluster_ips.rules[-3:]):
            cluster_ips.add(("cluster-ip", sp.cluster_ip), str(sp.cluster_ip), "")
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
    few iptables rules that match them (pkg/proxy/ipvs/proxier.go).

    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy_model import context, service_table
    >>> cluster = Cluster.create(seed=1)
    >>> ctx = context(cluster, "worker-1")[0]
    >>> p = build_ipvs(service_table(cluster), ctx, [ctx.node_ip])
    >>> [c.header[0] for c in p.chains if c.table == "ipvs"][0]
    'TCP  10.96.0.1:443 rr'
    """
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
