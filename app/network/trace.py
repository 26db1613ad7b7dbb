"""Packet traces: what happens, hop by hop, when a source sends a request to a target.

A trace resolves the name (as the source's resolver would), then walks the packet through
kube-proxy's rules on each node it enters, the CNI datapath between nodes, the cloud load
balancer and the ingress controller, recording each hop with the packet as it leaves. It
ends with a verdict and a reason a learner can act on, and the reply path, on which conntrack
undoes every NAT so the client sees the address it dialled.
"""

from __future__ import annotations

from typing import Any

from app.cluster.cilium_config import replaces_kube_proxy
from app.cluster.families import bracketed
from app.network import datapath, failures, hosts, ingress, kubeproxy, l7, masquerade, trace_policy
from app.network import why as why_
from app.network.cilium import lb as cilium_lb
from app.network.cilium import trace_hooks as cilium_hooks
from app.network.explain import listening_problem, no_endpoints_reason, refused_by_pod
from app.network.model import Hop, Packet, Trace
from app.network.reply import Leg, Nat, reply_hops
from app.network.run import TraceRun, chain_where, ephemeral_port, rule_of
from app.network.targets import check_request, parse_source, parse_target
from app.network.topology import network_index
from app.network.trace_dns import resolve_target
from app.network.trace_family import check_family, send_from_family


def trace(
    cluster: Any,
    source: str,
    target: str,
    seed: int = 0,
    affinity: dict | None = None,
    host: str | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    ip_family: str | None = None,
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
    host : str, optional
        The HTTP ``Host`` header, when the client sends its own (``curl -H "Host: shop.example.com"
        http://203.0.113.10/``): an Ingress matches it; the URL's host is still the one dialled.
    method : str
        The HTTP method (``GET`` unless given): HTTPRoute ``method`` matches read it.
    headers : dict, optional
        Request headers, name → value: HTTPRoute ``headers`` matches read them and Envoy passes
        them on; a ``Host`` among them is the Host header (as ``host``). ingress-nginx matches
        host and path only.
    ip_family : str, optional
        ``IPv4`` or ``IPv6`` to resolve a name to that family only (curl ``-4`` / ``-6``);
        by default a dual-stack client tries IPv6 first, as curl does.

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
    >>> trace(cluster, "external", "http://10.0.0.11/", host="shop.example.com").hops[0].packet.http
    {'host': 'shop.example.com', 'path': '/', 'scheme': 'http'}
    """
    src = parse_source(cluster, source)
    dst = parse_target(target)
    method, headers = check_request(method, headers)
    host = host or next((v for k, v in headers.items() if k.lower() == "host"), None)
    headers = {k: v for k, v in headers.items() if k.lower() != "host"}
    run = TraceRun(
        cluster,
        network_index(cluster),
        src,
        dst,
        seed,
        affinity,
        Trace(src.to_dict(), dst.to_dict(), seed),
        http_host=host.strip().lower() if host else None,
        method=method,
        headers=headers,
        ip_family=check_family(ip_family),
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
    if not send_from_family(run, address):  # a dual-stack client's address of that family
        return
    src = run.source
    http = (
        {"host": run.request_host, "path": dst.path, "scheme": dst.scheme} if dst.scheme else None
    )
    if http is not None:  # said only when the request has them, so plain traces stay short
        if dst.query:
            http["query"] = dst.query
        if run.method != "GET":
            http["method"] = run.method
        if run.headers:
            http["headers"] = dict(run.headers)
    packet = Packet(src.ip, ephemeral_port(run.seed), address, dst.port, dst.protocol, None, http)
    if address.startswith("127.") and _loopback(run, packet):
        return
    if src.kind == "pod":
        assert src.pod is not None and src.node is not None
        if replaces_kube_proxy(run.cluster.config):
            packet = cilium_hooks.connect(run, packet, src.node, src.pod)
        run.add(
            Hop(
                src.node,
                "pod eth0",
                "send",
                f"{src.label} sends it from eth0: {packet.src} → {packet.dst}.",
                packet,
                at=datapath.pod_at(src.pod),
                why=why_.pod_route(run.index, src.pod, packet.dst_ip),
            )
        )
        _through_node(run, src.node, packet, from_outside=False, client_node=src.node)
    elif src.kind == "node":
        assert src.node is not None
        if replaces_kube_proxy(run.cluster.config):
            packet = cilium_hooks.connect(run, packet, src.node, None)
        run.add(
            Hop(
                src.node,
                "host network",
                "send",
                f"A process on {src.node} (host network) sends it: {packet.src} → {packet.dst}.",
                packet,
                at=f"node/{src.node}",
                why=why_.route_why(run.cluster, run.index, src.node, packet.dst_ip),
            )
        )
        _through_node(run, src.node, packet, from_outside=False, client_node=src.node)
    else:
        _from_outside(run, packet)


def _loopback(run: TraceRun, packet: Packet) -> bool:
    """127.0.0.0/8 is the sender's own loopback: a pod talks to itself, the outside client to
    its own machine. True when that settles the trace (a node's goes through its rules)."""
    src = run.source
    if src.kind == "external":
        run.end(
            "unreachable",
            f"{packet.dst_ip} is the client's own loopback address: the packet never leaves its machine, let alone reaches the cluster.",
        )
        return True
    if src.kind != "pod" or src.pod is None:
        return False
    run.add(
        Hop(
            src.node,
            "lo",
            "send",
            f"{src.label} sends it to its own loopback {packet.dst}: it never leaves the pod's network namespace.",
            packet,
            at=datapath.pod_at(src.pod),
            why=why_.pod_route(run.index, src.pod, packet.dst_ip),
        )
    )
    problem = listening_problem(src.pod, packet)
    if problem:
        run.add(Hop(src.node, "lo", "reject", problem, packet, at=datapath.pod_at(src.pod)))
        run.end("refused", problem)
        return True
    run.add(
        Hop(
            src.node,
            "lo",
            "deliver",
            f"{src.label} receives it on lo.",
            packet,
            at=datapath.pod_at(src.pod),
            why=why_.pod_route(run.index, src.pod, packet.dst_ip),
        )
    )
    run.trace.endpoint = _endpoint(src.pod, packet)
    run.end(
        "delivered",
        f"{src.label} reached itself on {packet.dst}: 127.0.0.1 is each pod's own loopback, not the node's.",
    )
    return True


# --- through a node's netfilter -------------------------------------------------------------------


def _through_node(
    run: TraceRun,
    node: str,
    packet: Packet,
    from_outside: bool,
    client_node: str | None,
    leg: Leg | None = None,
) -> None:
    """kube-proxy's rules on ``node``, then the datapath onwards (and the next node's rules,
    when the packet is for that node's own address: a NodePort there)."""
    cilium = replaces_kube_proxy(run.cluster.config)
    decide = cilium_lb.decide if cilium else kubeproxy.decide
    decision = decide(
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
    if leg is None:
        leg = Leg(client=packet, client_node=client_node, socket_lb=run.socket_lb)
    leg.visited.add(node)
    here = f"node/{node}"
    if cilium and decision.action in ("reject", "drop"):
        cilium_hooks.refuse(run, node, decision, packet, from_outside)
        return
    if decision.action in ("reject", "drop"):
        verb = "rejects" if decision.action == "reject" else "drops"
        run.add(
            Hop(
                node,
                chain_where(decision),
                decision.action,
                f"kube-proxy's rule {verb} it: {decision.reason}",
                packet,
                at=here,
                rule=rule_of(decision),
            )
        )
        if decision.action == "reject":
            run.end("refused", no_endpoints_reason(run.cluster, decision, packet))
        else:
            run.end("dropped", failures.drop_reason(run, decision, node))
        return
    if decision.action == "dnat" and decision.endpoint is not None:
        ep = decision.endpoint
        translated = packet.with_dst(ep.ip, ep.port)
        run.add(
            cilium_hooks.dnat_hop(run.cluster, node, decision, packet, translated)
            if cilium
            else Hop(
                node,
                chain_where(decision),
                "dnat",
                f"kube-proxy rewrites the destination to endpoint {bracketed(ep.ip)}:{ep.port}. "
                f"{decision.reason}",
                translated,
                at=here,
                rule=rule_of(decision),
            )
        )
        by = "cilium" if cilium else "kube-proxy"
        if getattr(decision, "dsr", False):  # undone on the backend's node, which answers
            by, undo_at = "cilium-dsr", ep.node or node
        else:
            undo_at = node
        leg.nats.append(Nat(undo_at, "dnat", packet.dst_ip, packet.dst_port, by))
        if decision.service is not None:
            sp = decision.service
            run.via = (sp.namespace, sp.service, sp.port_name)
        packet = translated
    elif failures.is_virtual(run, packet.dst_ip):
        failures.unexposed_port(run, node, packet)
        return
    sender = run.index.pod_by_ip.get(packet.src_ip)
    if sender is not None and trace_policy.blocked(run, "Egress", sender, packet, node):
        return
    snat = None
    target_node = _node_of(run, packet.dst_ip)
    if cilium and decision.action == "dnat" and decision.masquerade:
        snat = cilium_hooks.snat_hop(run, node, packet)
    elif decision.action == "dnat" and decision.masquerade:
        snat = masquerade.snat_hop(run.cluster, run.index, packet, node, by_kube_proxy=True)
    elif masquerade.needs_cni_masquerade(run.index, packet, node, target_node):
        snat = masquerade.snat_hop(run.cluster, run.index, packet, node, by_kube_proxy=False)
    original = packet
    if snat is not None:
        by = "cilium" if cilium and decision.action == "dnat" else "kube-proxy"
        leg.nats.append(Nat(node, "snat", packet.src_ip, packet.src_port, by))
        packet = snat.packet
    hops, arrival = datapath.route(run.cluster, run.index, packet, node)
    if snat is not None and cilium and decision.action == "dnat":
        cilium_hooks.world_vni(hops)
    if snat is not None:
        hops = masquerade.insert_snat(hops, snat, node, original)
    run.extend(hops)
    if arrival.kind == "host" and arrival.node not in leg.visited:
        # The packet is for another node's own address: that node's rules see it first.
        _through_node(run, arrival.node, packet, True, client_node, leg)
        return
    leg.server = packet
    _arrive(run, arrival, packet, leg)


def _node_of(run: TraceRun, ip: str) -> str | None:
    pod = run.index.pod_by_ip.get(ip)
    if pod is not None:
        return pod["spec"].get("nodeName")
    return run.index.node_by_ip.get(ip)


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
                why=why_.vpc_why(packet.dst_ip),
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
                why=why_.client_local(packet.dst_ip),
            )
        )
        leg.responder = "external"
        run.legs.append(leg)
        run.trace.endpoint = {"kind": "external", "ip": packet.dst_ip, "port": packet.dst_port}
        unserved = ingress.unserved_note(run.cluster, run.request_host) if run.target.scheme else ""
        run.end(
            "delivered",
            f"{packet.dst} outside the cluster got the request, from {packet.src_ip}."
            + (f" {unserved}" if unserved else ""),
        )
        return
    if arrival.kind == "host":
        daemon = hosts.listener(run.cluster, arrival.node or "", packet.dst_port, packet.protocol)
        if daemon is None:
            problem = (
                f"Nothing on {arrival.node} listens on {packet.protocol} {packet.dst_port}, and no "
                f"Service has that NodePort, so the node answers with a reset."
            )
            run.add(
                Hop(
                    arrival.node,
                    "host network",
                    "reject",
                    problem,
                    packet,
                    at=f"node/{arrival.node}",
                )
            )
            run.end(
                "refused", problem + " NodePorts are 30000-32767; check the Service's nodePort."
            )
            return
        leg.responder = "host"
        leg.responder_node = arrival.node
        run.legs.append(leg)
        run.trace.endpoint = {
            "kind": "node",
            "name": arrival.node,
            "ip": packet.dst_ip,
            "port": packet.dst_port,
        }
        run.end(
            "delivered",
            f"{daemon} on node {arrival.node} got it on {packet.dst}, from {packet.src_ip}.",
        )
        return
    pod = arrival.pod
    assert pod is not None
    if trace_policy.blocked(run, "Ingress", pod, packet, arrival.node or ""):
        return
    problem = listening_problem(pod, packet)
    if problem:
        run.add(Hop(arrival.node, "pod eth0", "reject", problem, packet, at=datapath.pod_at(pod)))
        run.end("refused", refused_by_pod(run.cluster, pod, packet, run.via))
        return
    leg.responder, leg.responder_node, leg.pod = "pod", arrival.node, pod
    run.legs.append(leg)
    proxy = l7.proxy_for(pod)
    if proxy is not None and run.target.scheme and packet.http is not None and len(run.legs) == 1:
        proxy(run, pod, arrival.node or "", packet)
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


# --- from outside -------------------------------------------------------------------------------


def _from_outside(run: TraceRun, packet: Packet) -> None:
    from app.network.outside import from_outside

    from_outside(run, packet)


__all__ = ["TraceRun", "_through_node", "ephemeral_port", "trace"]
