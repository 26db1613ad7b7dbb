"""The request a trace follows: read the source and the target, resolve the name, send the
first packet (from a pod, a node or outside; to a loopback address it stays home), and add
the reply path once it is delivered. :func:`trace` is the entry point.
"""

from __future__ import annotations

from typing import Any

from app.cluster.cilium_config import replaces_kube_proxy
from app.network import datapath
from app.network import why as why_
from app.network.cilium import trace_hooks as cilium_hooks
from app.network.explain import listening_problem
from app.network.model import Hop, Packet, Trace
from app.network.reply import reply_hops
from app.network.run import TraceRun, ephemeral_port
from app.network.targets import check_request, parse_source, parse_target
from app.network.topology import network_index
from app.network.trace.arrival import pod_endpoint
from app.network.trace.dns import resolve_target
from app.network.trace.family import check_family, send_from_family
from app.network.trace.node import through_node


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
        through_node(run, src.node, packet, from_outside=False, client_node=src.node)
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
        through_node(run, src.node, packet, from_outside=False, client_node=src.node)
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
    run.trace.endpoint = pod_endpoint(src.pod, packet)
    run.end(
        "delivered",
        f"{src.label} reached itself on {packet.dst}: 127.0.0.1 is each pod's own loopback, not the node's.",
    )
    return True


# --- from outside -------------------------------------------------------------------------------


def _from_outside(run: TraceRun, packet: Packet) -> None:
    # Imported when called: app.network.outside imports .node and .arrival, which loads this
    # package and so this module; a top-level import here would close that circle.
    from app.network.outside import from_outside

    from_outside(run, packet)
