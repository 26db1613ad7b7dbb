"""Packet traces: what happens, hop by hop, when a source sends a request to a target.

A trace resolves the name (as the source's resolver would), then walks the packet through
kube-proxy's rules on each node it enters, the CNI datapath between nodes, the cloud load
balancer and the ingress controller, recording each hop with the packet as it leaves. It
ends with a verdict and a reason a learner can act on, and the reply path, on which conntrack
undoes every NAT so the client sees the address it dialled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.network import datapath, dns, ingress, kubeproxy
from app.network.explain import listening_problem, no_endpoints_reason
from app.network.model import Hop, Packet, Trace, changed_fields
from app.network.reply import Leg, reply_hops
from app.network.targets import Source, Target, parse_source, parse_target
from app.network.topology import NetworkIndex, network_index

EPHEMERAL_LOW, EPHEMERAL_SPAN = 32768, 28232  # Linux net.ipv4.ip_local_port_range


def ephemeral_port(seed: int, salt: int = 0) -> int:
    """A client port from the Linux ephemeral range, chosen by the seed.

    >>> 32768 <= ephemeral_port(7) <= 60999
    True
    """
    return EPHEMERAL_LOW + (seed * 7919 + salt * 104729) % EPHEMERAL_SPAN


@dataclass
class _Run:
    cluster: Any
    index: NetworkIndex
    source: Source
    target: Target
    seed: int
    affinity: dict | None
    trace: Trace
    legs: list[Leg] = field(default_factory=list)
    last: Packet | None = None

    def add(self, hop: Hop) -> None:
        hop.changed = changed_fields(self.last, hop.packet)
        self.last = hop.packet
        self.trace.hops.append(hop)

    def extend(self, hops: list[Hop]) -> None:
        for hop in hops:
            self.add(hop)

    def end(self, verdict: str, reason: str) -> Trace:
        self.trace.verdict = verdict
        self.trace.reason = reason
        return self.trace


def trace(
    cluster: Any, source: str, target: str, seed: int = 0, affinity: dict | None = None
) -> Trace:
    """Trace one request from ``source`` to ``target``.

    Parameters
    ----------
    cluster : Cluster
    source : str
        ``pod/<namespace>/<name>``, ``node/<name>``, ``external`` or ``external/<ip>``.
    target : str
        A URL (``http://web/api``) or ``host:port``, optionally ending in ``/udp``.
    seed : int
        Decides every random choice (the endpoint kube-proxy picks, the client port).
    affinity : dict, optional
        Kept by the caller across traces so ``sessionAffinity: ClientIP`` sticks.

    Returns
    -------
    Trace
        The hops, the verdict and its reason, the endpoint and the reply path.

    Raises
    ------
    InvalidObjects, NotFound
        For a source or target that cannot be read or does not exist.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> t = trace(cluster, "node/worker-1", "10.96.0.10:53/udp")
    >>> t.verdict, t.endpoint["namespace"], t.hops[-1].action
    ('delivered', 'kube-system', 'deliver')
    >>> t.reply[-1].packet.src
    '10.96.0.10:53'
    """
    src = parse_source(cluster, source)
    dst = parse_target(target)
    run = _Run(
        cluster,
        network_index(cluster),
        src,
        dst,
        seed,
        affinity,
        Trace(src.to_dict(), dst.to_dict(), seed),
    )
    _run(run)
    if run.trace.verdict == "delivered" and run.legs:
        run.trace.reply = reply_hops(run.index, run.legs, run.cluster)
    return run.trace


def _run(run: _Run) -> None:
    src, dst = run.source, run.target
    address = dst.host
    if not dst.is_ip:
        address = _resolve(run)
        if address is None:
            return
    http = {"host": dst.host, "path": dst.path, "scheme": dst.scheme} if dst.scheme else None
    packet = Packet(src.ip, ephemeral_port(run.seed), address, dst.port, dst.protocol, None, http)
    if src.kind == "pod":
        assert src.pod is not None and src.node is not None
        run.add(
            Hop(
                src.node,
                "pod eth0",
                "send",
                f"{src.label} sends it from eth0: {packet.src} → {packet.dst}.",
                packet,
                at=datapath.pod_at(src.pod),
            )
        )
        _through_node(run, src.node, packet, from_outside=False, client_node=src.node)
    elif src.kind == "node":
        assert src.node is not None
        run.add(
            Hop(src.node, "host network", "send", f"A process on {src.node} (host network) sends it: {packet.src} → {packet.dst}.", packet, at=f"node/{src.node}")
        )
        _through_node(run, src.node, packet, from_outside=False, client_node=src.node)
    else:
        _from_outside(run, packet)


# --- DNS --------------------------------------------------------------------------------------


def _resolve(run: _Run) -> str | None:
    src, name = run.source, run.target.host
    resolution = dns.resolve(run.cluster, src.pod, name, "A")
    run.trace.dns = resolution.to_dict()
    tried = ", ".join(a.name for a in resolution.tried)
    addresses = resolution.addresses()
    server = resolution.nameserver
    if src.kind == "pod" and src.pod is not None and server == "10.96.0.10":
        _dns_hops_in_cluster(run, resolution)
    else:
        where = "the node's resolver (its /etc/resolv.conf, not CoreDNS)" if src.kind == "node" else "public DNS"
        query = Packet(src.ip, ephemeral_port(run.seed, 1), server, 53, "UDP")
        run.add(
            Hop(
                src.node,
                "resolver",
                "resolve",
                f"{src.label} asks {where} for {name}: tried {tried}; answer {resolution.rcode}"
                + (f" {', '.join(addresses)}." if addresses else "."),
                query,
                phase="dns",
                at=f"node/{src.node}" if src.node else "net/internet",
            )
        )
    if resolution.rcode != "NOERROR" or not addresses:
        hint = ""
        if src.kind != "pod" and name.endswith((".cluster.local", ".svc")) or (src.kind != "pod" and "." not in name):
            hint = " Cluster names only resolve inside pods, whose resolver asks CoreDNS; this client uses ordinary DNS."
        elif src.kind == "pod" and "." not in name:
            hint = (
                f" A short name only finds Services in the pod's own namespace "
                f"({src.pod['metadata']['namespace']}); for another namespace use <service>.<namespace>."
            )
        run.end("nxdomain", f"The name {name} does not resolve (NXDOMAIN): tried {tried}.{hint}")
        return None
    # CoreDNS's loadbalance plugin shuffles the A records; the client takes the first.
    return addresses[run.seed % len(addresses)]


def _dns_hops_in_cluster(run: _Run, resolution: Any) -> None:
    """The query's own trip: to kube-dns's ClusterIP, DNAT to a CoreDNS pod, and back."""
    src = run.source
    assert src.pod is not None and src.node is not None
    query = Packet(src.ip, ephemeral_port(run.seed, 1), resolution.nameserver, 53, "UDP")
    names = ", ".join(a.name for a in resolution.tried)
    run.add(
        Hop(src.node, "pod eth0", "send", f"{src.label} asks its nameserver 10.96.0.10 (kube-dns) for {run.target.host}.", query, "dns", datapath.pod_at(src.pod))
    )
    decision = kubeproxy.decide(run.cluster, src.node, query.src_ip, query.dst_ip, 53, "UDP", seed=run.seed)
    if decision.action != "dnat" or decision.endpoint is None:
        run.add(Hop(src.node, "netfilter", "drop", f"kube-dns has no ready CoreDNS pod: {decision.reason}", query, "dns", f"node/{src.node}"))
        return
    forwarded = query.with_dst(decision.endpoint.ip, decision.endpoint.port)
    run.add(
        Hop(src.node, _chain_where(decision), "dnat", f"kube-proxy sends the query to CoreDNS pod {decision.endpoint.ip}. {decision.reason}", forwarded, "dns", f"node/{src.node}", _rule(decision))
    )
    hops, arrival = datapath.route(run.cluster, run.index, forwarded, src.node, phase="dns")
    run.extend(hops)
    coredns_node = arrival.node or src.node
    answers = ", ".join(resolution.addresses()) or "no records"
    run.add(
        Hop(
            coredns_node,
            "CoreDNS",
            "resolve",
            f"CoreDNS answers. The resolver tried {names} (search list, ndots:5); final answer {resolution.rcode}: {answers}.",
            forwarded.reversed(),
            "dns",
            datapath.pod_at(arrival.pod) if arrival.pod else f"node/{coredns_node}",
        )
    )
    back = Packet(resolution.nameserver, 53, src.ip, query.src_port, "UDP")
    run.add(
        Hop(src.node, "pod eth0", "deliver", "The answer comes back; conntrack rewrites its source to 10.96.0.10, the address the pod asked.", back, "dns", datapath.pod_at(src.pod))
    )


# --- through a node's netfilter -------------------------------------------------------------------


def _chain_where(decision: Any) -> str:
    chains = [r.chain for r in decision.matched if r.table == "nat"]
    return "netfilter " + " → ".join(dict.fromkeys(chains)) if chains else "netfilter"


def _rule(decision: Any) -> dict[str, Any] | None:
    if not decision.matched:
        return None
    # The rule that did the deed: the DNAT (or REJECT/DROP), not the postrouting that follows.
    deciding = [r for r in decision.matched if "POSTROUTING" not in r.chain]
    last = next(
        (r for r in reversed(deciding) if any(w in r.text for w in ("DNAT", "dnat to", "REJECT", "DROP", "reject", "drop", "->"))),
        deciding[-1] if deciding else decision.matched[-1],
    )
    return {
        "table": last.table,
        "chain": last.chain,
        "index": last.index,
        "text": last.text,
        "matched": [{"table": r.table, "chain": r.chain, "index": r.index, "text": r.text} for r in decision.matched],
    }


def _through_node(run: _Run, node: str, packet: Packet, from_outside: bool, client_node: str | None) -> None:
    """kube-proxy's rules on ``node``, then the datapath onwards."""
    decision = kubeproxy.decide(
        run.cluster,
        node,
        packet.src_ip,
        packet.dst_ip,
        packet.dst_port,
        packet.protocol,
        seed=run.seed,
        from_outside=from_outside,
        affinity=run.affinity,
    )
    leg = Leg(client=packet, nat_node=None, client_node=client_node)
    if decision.action == "reject":
        run.add(Hop(node, _chain_where(decision), "reject", f"kube-proxy's rule rejects it: {decision.reason}", packet, at=f"node/{node}", rule=_rule(decision)))
        run.end("refused", no_endpoints_reason(run.cluster, decision, packet))
        return
    if decision.action == "drop":
        run.add(Hop(node, _chain_where(decision), "drop", f"kube-proxy's rule drops it: {decision.reason}", packet, at=f"node/{node}", rule=_rule(decision)))
        run.end("dropped", _drop_reason(run, decision, node))
        return
    if decision.action == "dnat" and decision.endpoint is not None:
        ep = decision.endpoint
        translated = packet.with_dst(ep.ip, ep.port)
        run.add(Hop(node, _chain_where(decision), "dnat", f"kube-proxy rewrites the destination to endpoint {ep.ip}:{ep.port}. {decision.reason}", translated, at=f"node/{node}", rule=_rule(decision)))
        leg.nat_node, leg.dnat_from = node, packet
        packet = translated
    hops, arrival = datapath.route(run.cluster, run.index, packet, node)
    if decision.action == "dnat" and decision.masquerade:
        hops, packet = _with_masquerade(run, hops, packet, node, arrival)
        leg.snat_to = packet.src_ip
    elif arrival.kind == "external" and run.index.is_pod_ip(packet.src_ip):
        snat = datapath.masquerade_to_outside(run.index, packet, node, "request")
        hops = hops + [snat]
        leg.nat_node, leg.snat_to = node, snat.packet.src_ip
        packet = snat.packet
    run.extend(hops)
    leg.server = packet
    _arrive(run, arrival, packet, leg)


def _with_masquerade(run: _Run, hops: list[Hop], packet: Packet, node: str, arrival: datapath.Arrival) -> tuple[list[Hop], Packet]:
    """KUBE-POSTROUTING masquerades marked packets to the address of the interface they
    leave by: the node's eth0, or the tunnel or bridge device on the way to a pod."""
    index = run.index
    cross_node = arrival.node is not None and arrival.node != node
    device, ip = "eth0", index.node_ip[node]
    if arrival.kind == "pod":
        if cross_node and index.cni == "flannel":
            device, ip = "flannel.1", index.gateway[node][1].rsplit(".", 1)[0] + ".0"
        elif cross_node and index.cni == "calico" and datapath.calico_mode(run.cluster) == "ipip":
            device, ip = "tunl0", index.gateway[node][1]
        elif not cross_node and index.cni in ("flannel", "weave"):
            device, ip = index.gateway[node]
        elif cross_node and index.cni == "weave":
            device, ip = index.gateway[node]
    snatted = packet.with_src(ip)
    hop = Hop(
        node,
        "netfilter KUBE-POSTROUTING",
        "snat",
        f"The packet was marked for masquerade (KUBE-MARK-MASQ), so KUBE-POSTROUTING rewrites its "
        f"source to {ip}, the address of {device} on {node}, the interface it leaves by. The pod "
        f"will see {ip}, not {packet.src_ip}.",
        snatted,
        at=f"node/{node}",
        rule={"table": "nat", "chain": "KUBE-POSTROUTING", "index": 2, "text": "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully"},
    )
    # The rewrite happens as the packet leaves the node: before any tunnel wraps it.
    position = next((i for i, h in enumerate(hops) if h.action in ("encapsulate",) or h.node != node), len(hops))
    if position == len(hops) and hops and hops[-1].action == "deliver":
        position = len(hops) - 1
    rewritten = []
    for i, h in enumerate(hops):
        if i >= position:
            h.packet = _with_src(h.packet, ip)
            h.summary = h.summary.replace(f"from {packet.src_ip}", f"from {ip}")
        rewritten.append(h)
    rewritten.insert(position, hop)
    return rewritten, snatted


def _with_src(packet: Packet, ip: str) -> Packet:
    return Packet(ip, packet.src_port, packet.dst_ip, packet.dst_port, packet.protocol, packet.outer, packet.http)


def _drop_reason(run: _Run, decision: Any, node: str) -> str:
    service = decision.service
    name = f"{service.namespace}/{service.service}" if service else "the Service"
    if service is not None and service.external_policy == "Local":
        nodes = sorted({e.node for e in service.endpoints if e.node})
        where = ", ".join(nodes) if nodes else "no node"
        return (
            f"Service {name} has externalTrafficPolicy: Local, and {node} runs none of its pods "
            f"(they run on {where}), so the packet is dropped and the client times out. Send it "
            "to a node that runs one, or use externalTrafficPolicy: Cluster."
        )
    return f"kube-proxy dropped it on {node}: {decision.reason}"


# --- arriving -----------------------------------------------------------------------------------


def _arrive(run: _Run, arrival: datapath.Arrival, packet: Packet, leg: Leg) -> None:
    if arrival.kind == "unreachable":
        run.end("unreachable", arrival.reason)
        return
    if arrival.kind == "external":
        run.add(Hop(None, "internet", "route", f"The internet carries it to {packet.dst_ip}.", packet, at="net/internet"))
        run.add(Hop(None, "external host", "deliver", f"The host at {packet.dst_ip} receives it from {packet.src_ip}.", packet, at="net/internet"))
        leg.responder = "external"
        run.legs.append(leg)
        run.trace.endpoint = {"kind": "external", "ip": packet.dst_ip, "port": packet.dst_port}
        run.end("delivered", f"{packet.dst_ip}:{packet.dst_port} outside the cluster got the request, from {packet.src_ip}.")
        return
    if arrival.kind == "host":
        leg.responder = "host"
        leg.responder_node = arrival.node
        run.legs.append(leg)
        run.trace.endpoint = {"kind": "node", "name": arrival.node, "ip": packet.dst_ip, "port": packet.dst_port}
        run.end("delivered", f"Node {arrival.node} got it on {packet.dst}, from {packet.src_ip}.")
        return
    pod = arrival.pod
    assert pod is not None
    problem = listening_problem(pod, packet)
    if problem:
        run.add(Hop(arrival.node, "pod eth0", "reject", problem, packet, at=datapath.pod_at(pod)))
        run.end("refused", problem + " Point the Service's targetPort at a port the pod listens on.")
        return
    leg.responder, leg.responder_node, leg.pod = "pod", arrival.node, pod
    run.legs.append(leg)
    if _is_ingress_controller(pod) and run.target.scheme and packet.http is not None and len(run.legs) == 1:
        _ingress_proxy(run, pod, arrival.node or "", packet)
        return
    run.trace.endpoint = _endpoint(pod, packet)
    seen = packet.src_ip
    who = "its own address" if seen == run.source.ip else f"{seen}, not {run.source.ip}"
    run.end(
        "delivered",
        f"Pod {pod['metadata']['namespace']}/{pod['metadata']['name']} on {arrival.node} got it on "
        f"{packet.dst}; it sees the request coming from {who}.",
    )


def _endpoint(pod: dict[str, Any], packet: Packet) -> dict[str, Any]:
    return {
        "kind": "pod",
        "namespace": pod["metadata"]["namespace"],
        "name": pod["metadata"]["name"],
        "ip": packet.dst_ip,
        "port": packet.dst_port,
        "node": pod["spec"].get("nodeName"),
    }


def _is_ingress_controller(pod: dict[str, Any]) -> bool:
    labels = pod["metadata"].get("labels") or {}
    return labels.get("app.kubernetes.io/name") == "ingress-nginx" and labels.get("app.kubernetes.io/component") == "controller"


# --- from outside -------------------------------------------------------------------------------


def _from_outside(run: _Run, packet: Packet) -> None:
    from app.network.outside import from_outside

    from_outside(run, packet)


def _ingress_proxy(run: _Run, controller: dict[str, Any], node: str, packet: Packet) -> None:
    from app.network.outside import ingress_proxy

    ingress_proxy(run, controller, node, packet)


__all__ = ["_Run", "_through_node", "ingress", "trace"]
