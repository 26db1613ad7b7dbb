"""Where a trace arrives: a host outside the cluster, a node's own address (a daemon listens,
or the node resets), or a pod (after NetworkPolicy's ingress check and the port check; an L7
proxy pod carries the request on).
"""

from __future__ import annotations

from typing import Any

from app.network import datapath, hosts, ingress, l7
from app.network import why as why_
from app.network.explain import listening_problem, refused_by_pod
from app.network.model import Hop, Packet
from app.network.reply import Leg
from app.network.run import TraceRun
from app.network.trace import policy as trace_policy


def arrive(run: TraceRun, arrival: datapath.Arrival, packet: Packet, leg: Leg) -> None:
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
    run.trace.endpoint = pod_endpoint(pod, packet)
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


def pod_endpoint(pod: dict[str, Any], packet: Packet) -> dict[str, Any]:
    return {
        "kind": "pod",
        "namespace": pod["metadata"]["namespace"],
        "name": pod["metadata"]["name"],
        "ip": packet.dst_ip,
        "port": packet.dst_port,
        "node": pod["spec"].get("nodeName"),
    }
