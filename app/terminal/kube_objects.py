"""The objects ``kubectl get`` and ``describe`` list, including the two kinds the model only
derives: Endpoints (from the EndpointSlices, as the API server's mirror keeps them) and
Events (from the cluster's event log, as v1 Event objects)."""

from __future__ import annotations

from typing import Any

from app.cluster.families import primary_family_slices
from app.cluster.selectors import matches
from app.kubeapi.convert import with_load_balancer
from app.terminal.kubectl_args import is_cluster_scoped


def endpoints_of(cluster: Any, namespace: str | None) -> list[dict[str, Any]]:
    """One v1 Endpoints per Service with a selector: its ready addresses, the not-ready ones
    apart, the ports of its slices.

    >>> from app.cluster.scenarios import build
    >>> [e["metadata"]["name"] for e in endpoints_of(build("web-service"), "default")]
    ['kubernetes', 'web']
    """
    found = []
    for service in cluster.list("Service", namespace):
        name, ns = service["metadata"]["name"], service["metadata"]["namespace"]
        slices = [
            s
            for s in cluster.list("EndpointSlice", ns)
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name
        ]
        if not slices and not service["spec"].get("selector"):
            continue
        slices = primary_family_slices(service, slices)
        ready, not_ready, ports = [], [], []
        for s in slices:
            for endpoint in s.get("endpoints") or []:
                entry = {"ip": endpoint["addresses"][0]}
                if endpoint.get("nodeName"):
                    entry["nodeName"] = endpoint["nodeName"]
                target = endpoint.get("targetRef")
                if target:
                    entry["targetRef"] = target
                conditions = endpoint.get("conditions") or {}
                (ready if conditions.get("ready", True) else not_ready).append(entry)
            for port in s.get("ports") or []:
                if port not in ports:
                    ports.append(port)
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        if subset:
            subset["ports"] = ports
        found.append(
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": dict(service["metadata"].get("labels") or {}),
                    **{k: v for k, v in service["metadata"].items() if k == "creationTimestamp"},
                },
                "subsets": [subset] if subset else [],
            }
        )
    return found


def events_of(cluster: Any, namespace: str | None) -> list[dict[str, Any]]:
    """The event log as v1 Event objects, oldest first."""
    found = []
    for event in cluster.events():
        if namespace is not None and event.namespace not in (namespace, ""):
            continue
        found.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{event.name}.{event.id:016x}",
                    "namespace": event.namespace or "default",
                    **({"creationTimestamp": event.first} if event.first else {}),
                },
                "firstTimestamp": event.first or None,
                "lastTimestamp": event.last or None,
                "type": event.type,
                "reason": event.reason,
                "involvedObject": {
                    "kind": event.kind,
                    "name": event.name,
                    "namespace": event.namespace,
                },
                "message": event.message,
                "count": event.count,
            }
        )
    return found


def list_objects(
    cluster: Any, kind: str, namespace: str | None, selector: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Objects of ``kind`` in ``namespace`` (None: every namespace) that ``selector`` selects,
    sorted by namespace and name as the API server lists them."""
    if is_cluster_scoped(kind):
        namespace = None
    if kind == "Endpoints":
        objects = endpoints_of(cluster, namespace)
    elif kind == "Event":
        objects = events_of(cluster, namespace)
    else:
        objects = cluster.list(kind, namespace)
    if kind == "Ingress":
        objects = [as_served(cluster, o) for o in objects]
    if selector is not None:
        objects = [o for o in objects if matches(selector, o["metadata"].get("labels") or {})]
    if kind == "Event":
        return objects
    return sorted(
        objects, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])
    )


def get_object(cluster: Any, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    if kind in ("Endpoints", "Event"):
        return next(
            (o for o in list_objects(cluster, kind, namespace) if o["metadata"]["name"] == name),
            None,
        )
    obj = cluster.get(kind, "" if is_cluster_scoped(kind) else namespace, name)
    return as_served(cluster, obj) if obj is not None and kind == "Ingress" else obj


def as_served(cluster: Any, ingress: dict[str, Any]) -> dict[str, Any]:
    """An Ingress with the address ingress-nginx publishes in its status (its controller
    Service's load balancer), as the Kubernetes-compatible API serves it to kubectl."""
    controller = cluster.get("Service", "ingress-nginx", "ingress-nginx-controller")
    if controller is None or ((ingress.get("status") or {}).get("loadBalancer") or {}).get(
        "ingress"
    ):
        return ingress
    return with_load_balancer(ingress, controller)
