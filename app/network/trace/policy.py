"""Where a trace meets NetworkPolicy: the sender's egress and the receiver's ingress."""

from __future__ import annotations

from typing import Any

from app.network import datapath, policy
from app.network.cilium import hubble
from app.network.model import Hop, Packet
from app.network.run import TraceRun
from app.network.why import host_veth, why


def blocked(
    run: TraceRun,
    direction: str,
    pod: dict[str, Any],
    packet: Packet,
    node: str,
    phase: str = "request",
) -> bool:
    """Check ``pod``'s ``direction`` for ``packet``; when a policy drops it, record the drop
    hop and end the trace (dropped), and say so. Policies the CNI ignores leave a note."""
    peer_ip = packet.src_ip if direction == "Ingress" else packet.dst_ip
    peer_pod = run.index.pod_by_ip.get(peer_ip)
    receiver = pod if direction == "Ingress" else peer_pod
    verdict = policy.check(
        run.cluster, direction, pod, peer_pod, peer_ip, packet.dst_port, packet.protocol, receiver
    )
    if verdict.ignored:
        note = (
            f"NetworkPolicy {', '.join(verdict.isolating)} selects Pod {datapath.pod_label(pod)}, "
            "but flannel does not enforce NetworkPolicy, so it changes nothing here."
        )
        if note not in run.notes:
            run.notes.append(note)
        return False
    if verdict.allowed:
        if run.cluster.config.cni == "cilium" and direction == "Ingress" and phase == "request":
            hubble.annotate_allowed(run, pod, packet, verdict)
        return False
    peer = f"Pod {datapath.pod_label(peer_pod)}" if peer_pod else peer_ip
    reason = policy.describe_denial(
        verdict,
        direction,
        pod,
        peer,
        packet.dst_port,
        packet.protocol,
        run.cluster.config.cni,
        run.cluster,
    )
    cause = getattr(reason, "cause", None)  # the DNS sentences below wrap it in plain text
    where = "policy (ingress)" if direction == "Ingress" else "policy (egress)"
    run.add(
        Hop(
            node,
            where,
            "drop",
            reason,
            packet,
            phase,
            datapath.pod_at(pod),
            why=hubble.why_dropped(run.index, packet, direction, verdict.isolating)
            if run.cluster.config.cni == "cilium"
            else _policy_why(run.cluster.config.cni, direction, pod, verdict.isolating),
        )
    )
    if phase == "dns" and direction == "Egress":
        reason = (
            f"The DNS lookup of {run.target.host} never gets an answer: the policy blocks DNS "
            f"egress. {reason} A pod isolated for egress needs a rule to kube-dns too, for "
            "example to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
            "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}] with ports: "
            "[{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]."
        )
    elif phase == "dns":
        reason = (
            f"The DNS lookup of {run.target.host} never gets an answer: a policy on the DNS "
            f"server blocks it. {reason}"
        )
    run.end("dropped", reason)
    run.trace.cause = cause
    return True


def _policy_why(cni: str, direction: str, pod: dict[str, Any], policies: list[str]) -> dict:
    """The why of a policy drop: the policies that isolate the pod, and where the CNI
    enforces them (Calico's chains on the pod's veth: ``cali-tw-`` to the workload,
    ``cali-fw-`` from it; Weave Net's ``weave-npc``)."""
    if cni == "calico":
        chain = ("cali-tw-" if direction == "Ingress" else "cali-fw-") + host_veth(cni, pod)
        where = f"Calico (Felix) enforces them in the iptables filter chain {chain}"
    else:
        where = "Weave Net's weave-npc enforces them with iptables chains and ipsets"
    return why(
        "NetworkPolicy",
        f"{', '.join(policies)}: isolated for {direction.lower()}, no rule allows this peer and port",
        f"{where}; a packet that no policy's rule accepts is dropped.",
    )
