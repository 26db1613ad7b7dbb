"""Everything the learner made, as manifests ``kubectl apply -f`` accepts.

The export holds the manifests as the learner applied them, with the addresses the cluster
allocated written in (``clusterIP``, ``nodePort``, ``healthCheckNodePort``), so that applying
it to a fresh workspace gives back the same objects at the same addresses. System objects
(CoreDNS, kube-proxy, the ingress controller) and what controllers derive (ReplicaSets,
Deployment pods, managed EndpointSlices) are left out: a fresh cluster makes them again.
"""

from __future__ import annotations

from typing import Any

from app.cluster.cluster import Cluster
from app.cluster.manifests import dump_manifests
from app.cluster.objects import deep_copy

# Cluster-wide things first, then what depends on them, as a kubectl user would order a file.
EXPORT_ORDER = {
    "Namespace": 0,
    "Node": 1,
    "IngressClass": 2,
    "Deployment": 3,
    "DaemonSet": 4,
    "Pod": 5,
    "Service": 6,
    "EndpointSlice": 7,
    "Ingress": 8,
    "NetworkPolicy": 9,
    "GatewayClass": 2,
    "Gateway": 11,
    "ReferenceGrant": 12,
    "HTTPRoute": 13,
    "GRPCRoute": 14,
}


def export_objects(cluster: Cluster) -> list[dict[str, Any]]:
    """The learner's objects as manifests, in apply order.

    Examples
    --------
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=5)
    >>> _ = apply_text(cluster, "{'apiVersion': 'v1', 'kind': 'Service', "
    ...     "'metadata': {'name': 'db'}, 'spec': {'ports': [{'port': 5432}]}}")
    >>> exported = export_objects(cluster)
    >>> exported[0]["spec"]["clusterIP"] == cluster.get("Service", "default", "db")["spec"]["clusterIP"]
    True
    """
    state = cluster.state
    exported = []
    for key in sorted(
        state.applied, key=lambda k: (EXPORT_ORDER.get(k.kind, 99), k.namespace, k.name)
    ):
        live = state.objects.get(key)
        if live is None:
            continue
        manifest = deep_copy(state.applied[key])
        if key.kind == "Service":
            _write_allocations(manifest["spec"], live["spec"])
        exported.append(_tidy(manifest))
    return exported


def export_yaml(cluster: Cluster) -> str:
    """:func:`export_objects` as one YAML stream."""
    return dump_manifests(export_objects(cluster))


def _write_allocations(spec: dict[str, Any], live_spec: dict[str, Any]) -> None:
    if live_spec.get("clusterIP"):
        spec["clusterIP"] = live_spec["clusterIP"]
        spec["clusterIPs"] = list(live_spec.get("clusterIPs") or [live_spec["clusterIP"]])
    live_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in live_spec.get("ports") or []
    }
    for port in spec.get("ports") or []:
        node_port = live_ports.get((port.get("port"), port.get("protocol", "TCP")))
        if node_port:
            port["nodePort"] = node_port
    if live_spec.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = live_spec["healthCheckNodePort"]


def _tidy(manifest: dict[str, Any]) -> dict[str, Any]:
    """Put apiVersion, kind and metadata first, as kubectl prints them."""
    head = {k: manifest[k] for k in ("apiVersion", "kind", "metadata") if k in manifest}
    return head | {k: v for k, v in manifest.items() if k not in head}
