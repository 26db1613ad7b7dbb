"""The nftables mode's program: what pkg/proxy/nftables/proxier.go writes into ``table ip
kube-proxy`` (the rule model is :mod:`.chains`; the other modes are
:mod:`.iptables` and :mod:`.ipvs`).
"""

from __future__ import annotations

import ipaddress

from app.cluster.constants import SERVICE_CIDR
from app.network.kubeproxy import text as t
from app.network.kubeproxy.chains import (
    NodeContext,
    Program,
    hostport,
    nft_chain_base,
    split_endpoints,
)
from app.network.kubeproxy.model import ServicePort

# --- nftables --------------------------------------------------------------------------------
# What setupNFTables() creates on a full sync, in creation order: the kernel lists a table's
# sets and maps first and then its chains, each group in the order they were created, so this
# order is what ``nft list table ip kube-proxy`` shows.
_VMAP = "type ipv4_addr . inet_proto . inet_service : verdict"
_PORT_VMAP = "type inet_proto . inet_service : verdict"
_SETS = (
    ("cluster-ips", "set", ["type ipv4_addr", 'comment "Active ClusterIPs"']),
    ("nodeport-ips", "set", ["type ipv4_addr", 'comment "IPs that accept NodePort traffic"']),
    (
        "no-endpoint-services",
        "map",
        [_VMAP, 'comment "vmap to drop or reject packets to services with no endpoints"'],
    ),
    (
        "no-endpoint-nodeports",
        "map",
        [
            _PORT_VMAP,
            'comment "vmap to drop or reject packets to service nodeports with no endpoints"',
        ],
    ),
    (
        "firewall-ips",
        "map",
        [_VMAP, 'comment "destinations that are subject to LoadBalancerSourceRanges"'],
    ),
    ("service-ips", "map", [_VMAP, 'comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"']),
    ("service-nodeports", "map", [_PORT_VMAP, 'comment "NodePort traffic"']),
)
# Base chains: the filter chains that must see the pre-DNAT destination run at dstnat - 10
# (-110); the endpoint checks, which may reject, run at filter priority (0). nft prints a
# priority by its standard name where the hook allows one (dstnat only in prerouting).
_BASE_CHAINS = (
    ("filter-prerouting-pre-dnat", "type filter hook prerouting priority dstnat - 10;"),
    ("filter-output-pre-dnat", "type filter hook output priority -110;"),
    ("filter-input", "type filter hook input priority filter;"),
    ("filter-forward", "type filter hook forward priority filter;"),
    ("filter-output", "type filter hook output priority filter;"),
    ("nat-prerouting", "type nat hook prerouting priority dstnat;"),
    ("nat-output", "type nat hook output priority -100;"),
    ("nat-postrouting", "type nat hook postrouting priority srcnat;"),
)
# (base chain, regular chain it jumps to, rule key): nftablesJumpChains, in its order. The
# keys name the iptables rule each one stands in for, so a trace reads the same in both modes.
_JUMPS = (
    (
        "filter-input",
        "nodeport-endpoints-check",
        ("jump", "filter", "INPUT", "KUBE-EXTERNAL-SERVICES"),
    ),
    ("filter-input", "service-endpoints-check", ("jump", "filter", "INPUT", "svc")),
    ("filter-forward", "service-endpoints-check", ("jump", "filter", "FORWARD", "KUBE-SERVICES")),
    ("filter-output", "service-endpoints-check", ("jump", "filter", "OUTPUT", "KUBE-SERVICES")),
    ("filter-prerouting-pre-dnat", "firewall-check", ("jump", "filter", "PREROUTING", "firewall")),
    ("filter-output-pre-dnat", "firewall-check", ("jump", "filter", "OUTPUT", "firewall")),
    ("nat-output", "services", ("jump", "nat", "OUTPUT")),
    ("nat-prerouting", "services", ("jump", "nat", "PREROUTING")),
    ("nat-postrouting", "masquerading", ("jump", "nat", "POSTROUTING")),
    ("filter-forward", "cluster-ips-check", ("jump", "filter", "FORWARD", "cluster-ips")),
    ("filter-output", "cluster-ips-check", ("jump", "filter", "OUTPUT", "cluster-ips")),
)


def build_nftables(
    table: list[ServicePort],
    ctx: NodeContext,
    *,
    service_cidr: str = str(SERVICE_CIDR),
    nodeport_ips: list[str] | None = None,
) -> Program:
    """What the nftables proxier writes into ``table ip kube-proxy`` on ``ctx.node``, in the
    order ``nft list table`` prints it (pkg/proxy/nftables/proxier.go, checked against the
    golden output of its ``TestOverallNFTablesRules``).

    Parameters: ``table`` the proxied Service ports; ``ctx`` the node; ``service_cidr`` the
    Service range (``cluster-ips-check`` drops traffic to its unallocated addresses);
    ``nodeport_ips`` the addresses that accept NodePorts (default ``[ctx.node_ip]``: nftables
    mode defaults ``--nodeport-addresses`` to ``primary``). Returns the indexed
    :class:`Program`; raises nothing.

    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy.view import context, service_table
    >>> cluster = Cluster.create(seed=1)
    >>> ctx = context(cluster, "worker-1")[0]
    >>> p = build_nftables(service_table(cluster), ctx)
    >>> p.by_key[("nodeports-final",)][1].text
    'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'
    >>> [r.text for r in p.chain("kube-proxy", "nodeport-ips").rules]
    ['10.0.0.11']
    """
    p = Program(ctx.node, "nftables")
    T = "kube-proxy"
    sets = {name: p.chain(T, name, kind, header) for name, kind, header in _SETS}
    for name, hook in _BASE_CHAINS:
        p.chain(T, name, header=[f"{hook} policy accept;"])
    for base, target, key in _JUMPS:
        p.chain(T, target)
        p.chain(T, base).add(
            key,
            f"ct state new jump {target}" if base.startswith("filter") else f"jump {target}",
            target,
        )
    m = t.NFT_MASQ_MARK
    p.chain(T, "mark-for-masquerade").add(("mark-masq",), f"meta mark set meta mark | {m}", "mark")
    mq = p.chain(T, "masquerading")
    mq.add(("postrouting", 0), f"meta mark & {m} == 0 return", "return")
    mq.add(("postrouting", 1), f"meta mark set meta mark ^ {m}", "mark")
    mq.add(("postrouting", 2), "masquerade fully-random", "masquerade")
    check = p.chain(T, "cluster-ips-check")
    check.add(
        ("nft-cluster-ips",),
        'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
        "reject",
    )
    check.add(
        ("nft-cluster-ips-drop",),
        f'ip daddr {{ {service_cidr} }} drop comment "Drop traffic to unallocated ClusterIPs"',
        "drop",
    )
    for ip in ctx.node_ip and (nodeport_ips if nodeport_ips is not None else [ctx.node_ip]):
        sets["nodeport-ips"].add(("nodeport-ip", ip), ip, "")
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
        "ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports",
        "@no-endpoint-nodeports",
    )
    p.chain(T, "firewall-check").add(
        ("nft-firewall",), "ip daddr . meta l4proto . th dport vmap @firewall-ips", "@firewall-ips"
    )
    services = p.chain(T, "services")
    services.add(
        ("nft-services-vmap",),
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        "@service-ips",
    )
    services.add(
        ("nodeports-final",),
        "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
        "@service-nodeports",
    )
    cluster_ips: set[str] = set()
    for sp in table:
        _service(p, sets, sp, ctx, cluster_ips)
    # The kernel lists sets and maps (affinity sets included) before chains.
    p.chains.sort(key=lambda c: c.kind == "chain")
    return p.index()


def _service(p: Program, sets: dict, sp: ServicePort, ctx: NodeContext, cluster_ips: set) -> None:
    """One Service port's elements and chains, as syncProxyRules writes them."""
    T = "kube-proxy"
    name, proto = sp.name, sp.protocol.lower()
    cluster, local = split_endpoints(sp, ctx.node)
    has_eps = bool(cluster)
    int_local, ext_local = sp.internal_policy == "Local", sp.external_policy == "Local"
    has_int = has_eps and (bool(local) or not int_local)
    has_ext = has_eps and (bool(local) or not ext_local)
    base = nft_chain_base(sp.namespace, sp.service, proto, sp.port_name)
    svc, svl, ext, fw = (f"{x}-{base}" for x in ("service", "local", "external", "firewall"))
    int_chain, ext_policy = (svl if int_local else svc), (svl if ext_local else svc)
    int_verdict = "goto reject-chain" if not has_eps else "drop"
    external = bool(sp.node_port or sp.load_balancer_ips or sp.external_ips)
    uses_cluster = has_eps and (not int_local or not ext_local)
    uses_local = bool(local) and (int_local or ext_local)
    reachable = {
        hostport(e): e for e in (cluster if uses_cluster else []) + (local if uses_local else [])
    }
    ep_chain = {
        key: f"endpoint-{nft_chain_base(sp.namespace, sp.service, proto, sp.port_name, key)}"
        for key in reachable
    }
    # Chains are created in this order: endpoints, then the policy chains, external, firewall.
    for key in reachable:
        p.chain(T, ep_chain[key])
    if uses_cluster:
        p.chain(T, svc)
    if uses_local:
        p.chain(T, svl)
    if has_eps and external:
        p.chain(T, ext)
    ranges = sp.load_balancer_source_ranges
    uses_fw = bool(sp.load_balancer_ips) and bool(ranges)
    if uses_fw:
        p.chain(T, fw)

    if sp.cluster_ip not in cluster_ips:
        cluster_ips.add(sp.cluster_ip)
        sets["cluster-ips"].add(("cluster-ip", sp.cluster_ip), str(sp.cluster_ip), "")
    el = f"{sp.cluster_ip} . {proto} . {sp.port}"
    if has_int:
        sets["service-ips"].add(
            ("svc-clusterip", name), f"{el} : goto {int_chain}", int_chain, name
        )
    else:
        sets["no-endpoint-services"].add(
            ("f-svc", name), f'{el} comment "{name}" : {int_verdict}', int_verdict, name
        )
    for ip in sp.external_ips:
        _external_element(sets, sp, ip, ext, has_eps, has_ext)
    for ip in sp.load_balancer_ips:
        el = f"{ip} . {proto} . {sp.port}"
        if has_eps:
            sets["service-ips"].add(("svc-ext", name, ip), f"{el} : goto {ext}", ext, name)
        if uses_fw:
            sets["firewall-ips"].add(("fw-drop", name, ip), f"{el} : goto {fw}", fw, name)
    if not has_ext:
        for ip in sp.load_balancer_ips:
            _external_element(sets, sp, ip, ext, False, False)
    if sp.node_port:
        el = f"{proto} . {sp.node_port}"
        if has_eps:
            sets["service-nodeports"].add(("np", name), f"{el} : goto {ext}", ext, name)
        if not has_ext:
            verdict = "goto reject-chain" if not has_eps else "drop"
            sets["no-endpoint-nodeports"].add(
                ("f-ext", name, "np"), f'{el} comment "{name}" : {verdict}', verdict, name
            )

    if has_int:
        # No "tcp dport" here: the service-ips element already matched protocol and port.
        text = f"ip daddr {sp.cluster_ip} ip saddr != {ctx.cluster_cidr} jump mark-for-masquerade"
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
    if uses_fw:
        sources = list(ranges)
        if any(_contains(r, ctx.node_ip) for r in ranges):
            # A VIP bound locally loops a node's own request back with the VIP as source.
            sources += list(sp.load_balancer_ips)
        p.chain(T, fw).add(("nft-fw", name), f"ip saddr != {{ {', '.join(sources)} }} drop", "drop")
    if sp.affinity_timeout:
        for key in reachable:
            p.chain(
                T,
                "affinity-" + ep_chain[key][len("endpoint-") :],
                "set",
                ["type ipv4_addr", "flags dynamic,timeout", f"timeout {sp.affinity_timeout}s"],
            )
    for chain_id, eps in (
        (svc, cluster if uses_cluster else []),
        (svl, local if uses_local else []),
    ):
        if not eps:
            continue
        chain = p.chain(T, chain_id)
        for e in eps if sp.affinity_timeout else []:
            eb = ep_chain[hostport(e)][len("endpoint-") :]
            chain.add(
                ("affinity", chain_id, hostport(e)),
                f"ip saddr @affinity-{eb} goto endpoint-{eb}",
                f"endpoint-{eb}",
            )
        vm = ", ".join(f"{i} : goto {ep_chain[hostport(e)]}" for i, e in enumerate(eps))
        chain.add(("numgen", chain_id), f"numgen random mod {len(eps)} vmap {{ {vm} }}", "numgen")
    for key, e in reachable.items():
        eb = ep_chain[key][len("endpoint-") :]
        chain = p.chain(T, ep_chain[key])
        chain.add(
            ("sep-hairpin", ep_chain[key]),
            f"ip saddr {e.ip} jump mark-for-masquerade",
            "mark-for-masquerade",
        )
        if sp.affinity_timeout:
            chain.add(("affinity-update", eb), f"update @affinity-{eb} {{ ip saddr }}", "update")
        chain.add(("sep-dnat", ep_chain[key]), f"meta l4proto {proto} dnat to {key}", "dnat")


def _external_element(sets, sp, ip, ext, has_eps, has_ext) -> None:
    name, proto = sp.name, sp.protocol.lower()
    el = f"{ip} . {proto} . {sp.port}"
    if has_eps:
        sets["service-ips"].add(("svc-ext", name, ip), f"{el} : goto {ext}", ext, name)
    if not has_ext:
        # No endpoints at all rejects; none on this node under Local policy drops.
        verdict = "drop" if sp.endpoints else "goto reject-chain"
        sets["no-endpoint-services"].add(
            ("f-ext", name, ip), f'{el} comment "{name}" : {verdict}', verdict, name
        )


def _contains(cidr: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
