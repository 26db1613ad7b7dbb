"""One cell's verdicts: pod to pod (egress, then ingress), and the outside client through
the Services that expose a pod (the address the pod sees decides an ipBlock)."""

from __future__ import annotations

from typing import Any

from app.cluster import constants as c
from app.network import policy
from app.network.cilium import hubble
from app.network.explain import declared_ports
from app.network.masquerade import outgoing_address
from app.network.reachability.model import Cell, PortResult
from app.network.reachability.model import pod_name as _name
from app.network.topology import network_index


def pod_to_pod(
    cluster: Any,
    sender: dict[str, Any],
    receiver: dict[str, Any],
    port: int,
    protocol: str,
    name: str | None = None,
) -> PortResult:
    """Is a connection from ``sender`` to ``receiver``'s address on ``port`` allowed? The
    sender's egress first, then the receiver's ingress, as a trace checks them.

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> dns = [p for p in cluster.list("Pod", "kube-system") if p["metadata"]["name"].startswith("coredns")]
    >>> pod_to_pod(cluster, dns[0], dns[1], 53, "UDP").allowed
    True
    """
    dst_ip = receiver["status"]["podIP"]
    src_ip = sender["status"]["podIP"]
    out = policy.check(cluster, "Egress", sender, receiver, dst_ip, port, protocol, receiver)
    if not out.allowed:
        return _denied(out, "Egress", sender, receiver, port, protocol, name, cluster)
    into = policy.check(cluster, "Ingress", receiver, sender, src_ip, port, protocol, receiver)
    if not into.allowed:
        return _denied(into, "Ingress", receiver, sender, port, protocol, name, cluster)
    return _allowed(out, into, port, protocol, name, cluster.config.cni)


def _denied(
    verdict: policy.PolicyVerdict,
    direction: str,
    pod: dict[str, Any],
    peer: dict[str, Any] | None,
    port: int,
    protocol: str,
    name: str | None,
    cluster: Any,
    peer_text: str | None = None,
) -> PortResult:
    label = peer_text or (f"Pod {_name(peer)}" if peer else "?")
    reason = policy.describe_denial(
        verdict, direction, pod, label, port, protocol, cluster.config.cni, cluster
    )
    if cluster.config.cni == "cilium":
        reason = f"{reason} {hubble.matrix_text(direction, False, protocol)}"
    return PortResult(port, protocol, name, False, verdict.isolating[0], str(reason))


def _allowed(
    out: policy.PolicyVerdict,
    into: policy.PolicyVerdict,
    port: int,
    protocol: str,
    name: str | None,
    cni: str,
) -> PortResult:
    ignored = sorted(set(out.isolating + into.isolating)) if (out.ignored or into.ignored) else []
    if ignored:
        return PortResult(
            port,
            protocol,
            name,
            True,
            ignored[0],
            f"Allowed: {', '.join(ignored)} would decide, but {cni} does not enforce "
            "NetworkPolicy, so nothing is blocked.",
        )
    parts = []
    for verdict, word in ((out, "egress"), (into, "ingress")):
        if verdict.allowed_by:
            parts.append(f"{verdict.allowed_by} allows the {word}")
        else:
            parts.append(f"no policy isolates the {'sender' if word == 'egress' else 'receiver'}")
    decided = into.allowed_by or out.allowed_by or ""
    text = f"Allowed: {'; '.join(parts)}."
    if cni == "cilium":
        text += " " + hubble.matrix_text(
            "Ingress", True, protocol, applies=into.applies, match=hubble.match_type(into.rule)
        )
    return PortResult(port, protocol, name, True, decided, text)


def outside_cell(
    cluster: Any,
    cell: Cell,
    pod: dict[str, Any],
    ports: list[tuple[int, str, str | None]],
    exposure: dict[str, list[dict[str, Any]]],
) -> None:
    """The external client, through every NodePort or LoadBalancer Service that sends to
    ``pod``: one result per Service port, tried through each entry node (see :func:`outside`)."""
    services = exposure.get(_name(pod), [])
    if not services:
        cell.note = (
            "No way in from outside: no NodePort or LoadBalancer Service sends to this pod, "
            "and the internet has no route to pod addresses."
        )
        return
    for service in services:
        for port in service["spec"].get("ports") or []:
            target = _target_number(port, pod)
            if target is None:
                continue
            results = outside(cluster, service, pod, target, port.get("protocol", "TCP"))
            cell.ports.append(_combine(results, target, port, service))


def outside(
    cluster: Any, service: dict[str, Any], pod: dict[str, Any], port: int, protocol: str
) -> dict[str, PortResult]:
    """The external client's request through ``service`` to ``pod`` on ``port``, once per
    entry node (a NodePort on it, or the load balancer sending it there): the pod's ingress
    sees the client (``externalTrafficPolicy: Local``, only nodes that run the pod) or the
    entry node's masquerade address (``Cluster``).

    >>> from app.cluster.scenarios import build
    >>> cluster = build("web-service")
    >>> svc = cluster.get("Service", "default", "web")
    >>> pod = cluster.list("Pod", "default")[0]
    >>> outside(cluster, svc, pod, 80, "TCP")
    {}
    """
    spec = service.get("spec") or {}
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        return {}
    index = network_index(cluster)
    local = spec.get("externalTrafficPolicy") == "Local"
    results: dict[str, PortResult] = {}
    pod_ip = pod["status"]["podIP"]
    for node in sorted(index.ready_nodes):
        if local and node != pod["spec"].get("nodeName"):
            continue
        seen = c.EXTERNAL_CLIENT_IP if local else outgoing_address(cluster, index, node, pod_ip)[1]
        sender = index.pod_by_ip.get(seen)
        verdict = policy.check(cluster, "Ingress", pod, sender, seen, port, protocol, pod)
        via = (
            f"{c.EXTERNAL_CLIENT_IP} (externalTrafficPolicy: Local keeps the client's address)"
            if local
            else f"{seen} ({node} masquerades the client, externalTrafficPolicy: Cluster)"
        )
        if verdict.allowed:
            by = verdict.allowed_by or (verdict.isolating[0] if verdict.ignored else "")
            why = (
                f"{cluster.config.cni} does not enforce NetworkPolicy"
                if verdict.ignored
                else f"{by} allows it"
                if by
                else "no policy isolates the pod"
            )
            results[node] = PortResult(
                port,
                protocol,
                None,
                True,
                by,
                f"Allowed through {node}: the pod sees {via}; {why}.",
            )
        else:
            reason = policy.describe_denial(
                verdict, "Ingress", pod, via, port, protocol, cluster.config.cni, cluster
            )
            results[node] = PortResult(
                port, protocol, None, False, verdict.isolating[0], f"Through {node}: {reason}"
            )
    return results


def _combine(
    results: dict[str, PortResult], target: int, port: dict[str, Any], service: dict[str, Any]
) -> PortResult:
    protocol = port.get("protocol", "TCP")
    name = f"{service['metadata']['name']}:{port.get('nodePort') or port['port']}"
    if not results:
        return PortResult(target, protocol, name, False, "", "No node forwards it to this pod.")
    allowed = [r for r in results.values() if r.allowed]
    denied = [r for r in results.values() if not r.allowed]
    if allowed and denied:
        reason = f"Allowed through {len(allowed)} of {len(results)} entry nodes. {denied[0].reason}"
        return PortResult(target, protocol, name, True, allowed[0].decided_by, reason)
    first = (allowed or denied)[0]
    return PortResult(target, protocol, name, bool(allowed), first.decided_by, first.reason)


def _target_number(port: dict[str, Any], pod: dict[str, Any]) -> int | None:
    target = port.get("targetPort", port["port"])
    if isinstance(target, int):
        return target
    if str(target).isdigit():
        return int(target)
    for number, protocol, name in declared_ports(pod):
        if name == target and protocol == port.get("protocol", "TCP"):
            return number
    return None


def exposure(cluster: Any) -> dict[str, list[dict[str, Any]]]:
    """``<ns>/<pod>`` → the NodePort and LoadBalancer Services with a ready endpoint on it."""
    services = {
        (s["metadata"]["namespace"], s["metadata"]["name"]): s
        for s in cluster.list("Service")
        if (s.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer")
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for eps in cluster.list("EndpointSlice"):
        owner = (eps["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
        service = services.get((eps["metadata"]["namespace"], owner))
        if service is None:
            continue
        for endpoint in eps.get("endpoints") or []:
            ref = endpoint.get("targetRef") or {}
            if ref.get("kind") != "Pod" or (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            listed = out.setdefault(f"{ref.get('namespace')}/{ref.get('name')}", [])
            if service not in listed:
                listed.append(service)
    return out
