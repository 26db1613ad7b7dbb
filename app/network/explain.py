"""Reasons a learner can act on: why a Service has no endpoints, why a pod refused."""

from __future__ import annotations

from typing import Any

from app.cluster.selectors import describe
from app.network.model import Packet


def listening_problem(pod: dict[str, Any], packet: Packet) -> str | None:
    """Why the pod refuses the connection, or None when something listens on the port.

    A pod listens on the ports its containers declare; a pod that declares none is taken to
    listen on whatever it is sent (Kubernetes does not check ``containerPort``, so this is
    the most useful reading of such a pod).

    >>> pod = {"metadata": {"namespace": "default", "name": "web"},
    ...        "spec": {"containers": [{"ports": [{"containerPort": 8080, "name": "http"}]}]}}
    >>> listening_problem(pod, Packet("10.244.1.2", 40000, "10.244.2.3", 80))[:41]
    'Pod default/web does not listen on TCP 80'
    >>> listening_problem(pod, Packet("10.244.1.2", 40000, "10.244.2.3", 8080)) is None
    True
    """
    declared = [
        (port.get("containerPort"), port.get("protocol", "TCP"), port.get("name"))
        for container in pod["spec"].get("containers") or []
        for port in container.get("ports") or []
    ]
    if not declared:
        return None
    if any(
        number == packet.dst_port and protocol == packet.protocol
        for number, protocol, _ in declared
    ):
        return None
    listed = ", ".join(
        f"{number}/{protocol}" + (f" ({name})" if name else "")
        for number, protocol, name in declared
    )
    answer = (
        "answers with a TCP reset" if packet.protocol == "TCP" else "answers ICMP port unreachable"
    )
    return (
        f"Pod {pod['metadata']['namespace']}/{pod['metadata']['name']} does not listen on "
        f"{packet.protocol} {packet.dst_port}: its containers declare {listed}, so it {answer}."
    )


def no_endpoints_reason(cluster: Any, decision: Any, packet: Packet) -> str:
    """Why a Service has no ready endpoint, naming its selector and the pods it misses."""
    service = decision.service
    if service is None:
        return f"kube-proxy rejected {packet.dst}: {decision.reason}"
    name = f"{service.namespace}/{service.service}"
    obj = cluster.get("Service", service.namespace, service.service) or {}
    selector = (obj.get("spec") or {}).get("selector") or {}
    if not selector:
        return (
            f"Service {name} has no endpoints: it has no selector, so its endpoints are only the "
            "EndpointSlices you write yourself, and there are none. kube-proxy REJECTs the "
            "connection at once (connection refused)."
        )
    wanted = describe({"matchLabels": selector})
    pods = cluster.list("Pod", service.namespace)
    matching = [
        p
        for p in pods
        if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
    ]
    if matching:
        states = ", ".join(
            f"{p['metadata']['name']} ({(p.get('status') or {}).get('phase', 'Pending')}, not ready)"
            for p in matching[:3]
        )
        return (
            f"Service {name} has no ready endpoints: its selector {wanted} matches {states}. "
            "kube-proxy REJECTs the connection at once (connection refused)."
        )
    labels = sorted(
        {
            f"{k}={v}"
            for p in pods
            for k, v in (p["metadata"].get("labels") or {}).items()
            if k in selector and k != "pod-template-hash"
        }
    )
    seen = f" Pods in {service.namespace} are labelled {', '.join(labels)}." if labels else ""
    return (
        f"Service {name} has no endpoints: its selector {wanted} matches no ready pod in "
        f"namespace {service.namespace}.{seen} kube-proxy REJECTs the connection at once "
        "(connection refused). Fix the selector or the pod labels."
    )
