"""Packet traces: what happens, hop by hop, when a source sends a request to a target.

A trace resolves the name (as the source's resolver would), then walks the packet through
kube-proxy's rules on each node it enters, the CNI datapath between nodes, the cloud load
balancer and the ingress controller, recording each hop with the packet as it leaves. It
ends with a verdict and a reason a learner can act on, and the reply path, on which conntrack
undoes every NAT so the client sees the address it dialled.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from app.network import datapath, ingress, kubeproxy, trace_policy
from app.network.explain import listening_problem, no_endpoints_reason
from app.network.model import Hop, Packet, Trace
from app.network.reply import Leg, reply_hops
from app.network.run import TraceRun, chain_where, ephemeral_port, rule_of
from app.network.targets import parse_source, parse_target
from app.network.topology import network_index
from app.network.trace_dns import resolve_target


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
    run = TraceRun(
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


def _run(run: TraceRun) -> None:
    src, dst = run.source, run.target
    address = dst.host
    if not dst.is_ip:
        address = resolve_target(run)
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
            Hop(
                src.node,
                "host network",
                "send",
                f"A process on {src.node} (host network) sends it: {packet.src} → {packet.dst}.",
                packet,
                at=f"node/{src.node}",
            )
        )
        _through_node(run, src.node, packet, from_outside=False, client_node=src.node)
    else:
        _from_outside(run, packet)


# --- through a node's netfilter -------------------------------------------------------------------


def _through_node(
    run: TraceRun, node: str, packet: Packet, from_outside: bool, client_node: str | None
) -> None:
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
        run.add(
            Hop(
                node,
                chain_where(decision),
                "reject",
                f"kube-proxy's rule rejects it: {decision.reason}",
                packet,
                at=f"node/{node}",
                rule=rule_of(decision),
            )
        )
        run.end("refused", no_endpoints_reason(run.cluster, decision, packet))
        return
    if decision.action == "drop":
        run.add(
            Hop(
                node,
                chain_where(decision),
                "drop",
                f"kube-proxy's rule drops it: {decision.reason}",
                packet,
                at=f"node/{node}",
                rule=rule_of(decision),
            )
        )
        run.end("dropped", _drop_reason(run, decision, node))
        return
    if decision.action == "dnat" and decision.endpoint is not None:
        ep = decision.endpoint
        translated = packet.with_dst(ep.ip, ep.port)
        run.add(
            Hop(
                node,
                chain_where(decision),
                "dnat",
                f"kube-proxy rewrites the destination to endpoint {ep.ip}:{ep.port}. {decision.reason}",
                translated,
                at=f"node/{node}",
                rule=rule_of(decision),
            )
        )
        leg.nat_node, leg.dnat_from = node, packet
        packet = translated
    if decision.action == "none" and _is_virtual(run, packet.dst_ip):
        _unexposed_port(run, node, packet)
        return
    sender = run.index.pod_by_ip.get(packet.src_ip)
    if sender is not None and trace_policy.blocked(run, "Egress", sender, packet, node):
        return
    hops, arrival = datapath.route(run.cluster, run.index, packet, node)
    if decision.action == "dnat" and decision.masquerade:
        hops, packet = _with_masquerade(run, hops, packet, node, arrival)
        leg.snat_to = packet.src_ip
    elif arrival.kind == "external" and run.index.is_pod_ip(packet.src_ip):
        snat = datapath.masquerade_to_outside(run.index, packet, node, "request")
        hops = [*hops, snat]
        leg.nat_node, leg.snat_to = node, snat.packet.src_ip
        packet = snat.packet
    run.extend(hops)
    leg.server = packet
    _arrive(run, arrival, packet, leg)


def _with_masquerade(
    run: TraceRun, hops: list[Hop], packet: Packet, node: str, arrival: datapath.Arrival
) -> tuple[list[Hop], Packet]:
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
        elif (not cross_node and index.cni in ("flannel", "weave")) or (
            cross_node and index.cni == "weave"
        ):
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
        rule={
            "table": "nat",
            "chain": "KUBE-POSTROUTING",
            "index": 2,
            "text": '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
        },
    )
    # The rewrite happens as the packet leaves the node: before any tunnel wraps it.
    position = next(
        (i for i, h in enumerate(hops) if h.action in ("encapsulate",) or h.node != node), len(hops)
    )
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
    return Packet(
        ip,
        packet.src_port,
        packet.dst_ip,
        packet.dst_port,
        packet.protocol,
        packet.outer,
        packet.http,
    )


def _is_virtual(run: TraceRun, ip: str) -> bool:
    """A ClusterIP or a LoadBalancer IP: addresses only kube-proxy's rules give meaning to."""
    from app.cluster import constants as c

    return ip in run.index.service_by_ip or ipaddress.ip_address(ip) in c.SERVICE_CIDR


def _unexposed_port(run: TraceRun, node: str, packet: Packet) -> None:
    service = run.index.service_by_ip.get(packet.dst_ip)
    if service is not None:
        name = f"Service {service['metadata']['namespace']}/{service['metadata']['name']}"
        ports = ", ".join(
            f"{p['port']}/{p.get('protocol', 'TCP')}" for p in service["spec"].get("ports") or []
        )
        what = f"{name} exposes {ports or 'no ports'}, not {packet.dst_port}/{packet.protocol}"
    else:
        what = f"no Service has the ClusterIP {packet.dst_ip}"
    mode = run.cluster.config.proxy_mode
    if mode == "iptables":
        run.add(
            Hop(
                node,
                "netfilter KUBE-SERVICES",
                "drop",
                f"No kube-proxy rule matches {packet.dst}: {what}. The address is virtual, so nothing answers it.",
                packet,
                at=f"node/{node}",
            )
        )
        run.end(
            "dropped",
            f"{what}. In iptables mode no rule matches {packet.dst}, and a ClusterIP belongs to no machine, so the packet goes nowhere and the client times out. Use a port the Service exposes.",
        )
        return
    why = (
        "kube-proxy's nftables rules reject traffic to a ClusterIP on a port no Service exposes"
        if mode == "nftables"
        else "IPVS binds every ClusterIP to the kube-ipvs0 interface, so the node itself answers, and nothing listens on that port"
    )
    run.add(
        Hop(
            node,
            "netfilter" if mode == "nftables" else "kube-ipvs0",
            "reject",
            f"{what}: {why}.",
            packet,
            at=f"node/{node}",
        )
    )
    run.end(
        "refused",
        f"{what}. {why[0].upper() + why[1:]}, so the connection is refused. Use a port the Service exposes.",
    )


def _drop_reason(run: TraceRun, decision: Any, node: str) -> str:
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


def _arrive(run: TraceRun, arrival: datapath.Arrival, packet: Packet, leg: Leg) -> None:
    if arrival.kind == "unreachable":
        run.end("unreachable", arrival.reason)
        return
    if arrival.kind == "external":
        run.add(
            Hop(
                None,
                "internet",
                "route",
                f"The internet carries it to {packet.dst_ip}.",
                packet,
                at="net/internet",
            )
        )
        run.add(
            Hop(
                None,
                "external host",
                "deliver",
                f"The host at {packet.dst_ip} receives it from {packet.src_ip}.",
                packet,
                at="net/internet",
            )
        )
        leg.responder = "external"
        run.legs.append(leg)
        run.trace.endpoint = {"kind": "external", "ip": packet.dst_ip, "port": packet.dst_port}
        run.end(
            "delivered",
            f"{packet.dst_ip}:{packet.dst_port} outside the cluster got the request, from {packet.src_ip}.",
        )
        return
    if arrival.kind == "host":
        leg.responder = "host"
        leg.responder_node = arrival.node
        run.legs.append(leg)
        run.trace.endpoint = {
            "kind": "node",
            "name": arrival.node,
            "ip": packet.dst_ip,
            "port": packet.dst_port,
        }
        run.end("delivered", f"Node {arrival.node} got it on {packet.dst}, from {packet.src_ip}.")
        return
    pod = arrival.pod
    assert pod is not None
    if trace_policy.blocked(run, "Ingress", pod, packet, arrival.node or ""):
        return
    problem = listening_problem(pod, packet)
    if problem:
        run.add(Hop(arrival.node, "pod eth0", "reject", problem, packet, at=datapath.pod_at(pod)))
        run.end(
            "refused", problem + " Point the Service's targetPort at a port the pod listens on."
        )
        return
    leg.responder, leg.responder_node, leg.pod = "pod", arrival.node, pod
    run.legs.append(leg)
    if (
        _is_ingress_controller(pod)
        and run.target.scheme
        and packet.http is not None
        and len(run.legs) == 1
    ):
        _ingress_proxy(run, pod, arrival.node or "", packet)
        return
    run.trace.endpoint = _endpoint(pod, packet)
    seen = packet.src_ip
    who = (
        f"the client's own address {seen} (no NAT on the way)"
        if seen == run.source.ip
        else f"{seen}, not the client's {run.source.ip}"
    )
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
    return (
        labels.get("app.kubernetes.io/name") == "ingress-nginx"
        and labels.get("app.kubernetes.io/component") == "controller"
    )


# --- from outside -------------------------------------------------------------------------------


def _from_outside(run: TraceRun, packet: Packet) -> None:
    from app.network.outside import from_outside

    from_outside(run, packet)


def _ingress_proxy(run: TraceRun, controller: dict[str, Any], node: str, packet: Packet) -> None:
    from app.network.outside import ingress_proxy

    ingress_proxy(run, controller, node, packet)


__all__ = ["TraceRun", "_through_node", "ephemeral_port", "ingress", "trace"]
