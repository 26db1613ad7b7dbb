"""The Envoy proxy of a Gateway in a trace: it terminates the client's connection, routes the
request (:func:`~.decide.decide`) and opens a second connection straight to a backend pod.

Envoy listens on the listener's port shifted when privileged (80 → 10080), reached through the
Envoy Service (kube-proxy, as for ingress-nginx's controller). Envoy Gateway hands Envoy the
backend Service's endpoints, so the second connection goes to a pod IP, not the ClusterIP.
Envoy's own answers (404, 500, 503, a redirect) end the trace with that HTTP status.
"""

from __future__ import annotations

from typing import Any

from app.cluster.controllers.gateway import infra
from app.network import datapath
from app.network import why as why_
from app.network.explain import Reason
from app.network.gateway.decide import Decision, decide
from app.network.gateway.matching import Request
from app.network.l7 import answered_by_proxy
from app.network.model import Hop, Packet
from app.network.run import ephemeral_port
from app.network.trace.node import through_node


def envoy_proxy(run: Any, pod: dict[str, Any], node: str, packet: Packet) -> None:
    """The Envoy pod ``pod`` on ``node`` received ``packet`` (an HTTP request): route it."""
    labels = pod["metadata"].get("labels") or {}
    gateway = (labels.get(infra.OWNER_NAMESPACE, ""), labels.get(infra.OWNER_NAME, ""))
    http = packet.http or {}
    host = str(http.get("host", "")).split(":")[0]
    scheme = http.get("scheme", "http")
    request = Request(host, http.get("path", "/"), run.target.query, run.method, run.headers)
    decision = decide(run.cluster, gateway, packet.dst_port, request, scheme, run.seed)
    if decision.status is not None:
        _answer(run, pod, node, packet, decision)
        return
    assert decision.choice is not None and decision.service is not None
    ip, port = decision.endpoints[run.seed % len(decision.endpoints)]
    client_ip = packet.src_ip
    headers = {**decision.headers, "X-Forwarded-For": client_ip, "X-Forwarded-Proto": scheme}
    envoy_ip = (pod.get("status") or {}).get("podIP", "")
    query = f"?{run.target.query}" if run.target.query else ""
    upstream = Packet(
        envoy_ip,
        ephemeral_port(run.seed, 3),
        ip,
        port,
        "TCP",
        None,
        {
            "host": decision.host,
            "path": decision.path + query,
            "scheme": "http",
            "method": run.method,
            "headers": headers,
        },
    )
    namespace, name, service_port = decision.service
    listener = decision.listener.name if decision.listener else ""
    refs = decision.choice.route_rule.get("backendRefs") or []
    split = f" (weight {decision.share})" if len(refs) > 1 else ""
    did = "; it " + ", ".join(decision.changes) if decision.changes else ""
    route = decision.choice.attached.key
    run.add(
        Hop(
            node,
            "envoy",
            "proxy",
            f"Envoy ({decision.label}, listener {listener}) terminates the client's connection "
            f"and matches {decision.choice.describe()}{did}. It picks backendRef {name}{split} "
            f"and opens a second connection from its pod IP {envoy_ip} straight to endpoint "
            f"{ip}:{port} (not the ClusterIP), adding X-Forwarded-For: {client_ip}.",
            upstream,
            at=datapath.pod_at(pod),
            why=why_.why(
                "Envoy route",
                f"listener {listener} → HTTPRoute {route[0]}/{route[1]} rule "
                f"{decision.choice.rule} → {namespace}/{name}:{service_port} → {ip}:{port}",
                "Envoy Gateway gives Envoy the Service's endpoints from its EndpointSlices; the "
                "ClusterIP is not used.",
            ),
        )
    )
    run.via = None
    through_node(run, node, upstream, False, node)
    if run.trace.verdict == "delivered" and run.trace.endpoint:
        run.trace.reason += (
            f" Envoy ({decision.label}) routed it by HTTPRoute {route[0]}/{route[1]} and "
            f"passed the client's address along as X-Forwarded-For: {client_ip}."
        )


def _answer(run: Any, pod: dict[str, Any], node: str, packet: Packet, decision: Decision) -> None:
    """Envoy answers by itself: the connection worked, and the client gets that status
    instead of an application's answer."""
    status = decision.status
    run.add(
        Hop(
            node,
            "envoy",
            "deliver",
            f"Envoy ({decision.label}) terminates the client's connection and answers {status} "
            "itself.",
            packet,
            at=datapath.pod_at(pod),
            why=why_.why("Envoy route", f"HTTP {status}", str(decision.reason)),
        )
    )
    run.trace.location = decision.location
    reason = Reason(
        f"HTTP {status} from Envoy ({decision.label}), not from an application pod: "
        f"{decision.reason}",
        decision.reason.cause,
    )
    answered_by_proxy(run, pod, node, packet, status, reason)
