"""The ipvs mode's program (the rule model is :mod:`.chains`): the ipvs proxier's virtual
servers, ipsets and iptables rules (pkg/proxy/ipvs/proxier.go).
"""

from __future__ import annotations

from app.network.kubeproxy import text as t
from app.network.kubeproxy.chains import NodeContext, Program, hostport, split_endpoints
from app.network.kubeproxy.iptables import jumps, postrouting
from app.network.kubeproxy.model import Endpoint, ServicePort


def build_ipvs(table: list[ServicePort], ctx: NodeContext, node_ips: list[str]) -> Program:
    """ipvs mode: one virtual server per service address (ClusterIP, each node IP for a
    NodePort, LoadBalancer and external IPs) with ``rr`` scheduling, plus the ipsets and the
    few iptables rules that match them (pkg/proxy/ipvs/proxier.go).

    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy.view import context, service_table
    >>> cluster = Cluster.create(seed=1)
    >>> ctx = context(cluster, "worker-1")[0]
    >>> p = build_ipvs(service_table(cluster), ctx, [ctx.node_ip])
    >>> [c.header[0] for c in p.chains if c.table == "ipvs"][0]
    'TCP  10.96.0.1:443 rr'
    """
    p = Program(ctx.node, "ipvs")
    jumps(p, nat_only=True)
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
                vs.add(
                    ("ipvs-rs", name, ip, port, hostport(e)),
                    t.rs_line(e.ip, e.port),
                    hostport(e),
                    name,
                )
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
    postrouting(p)
    return p.index()
