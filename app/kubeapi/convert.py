"""The model's objects in the shapes the API serves: lists, Tables, Scale, and the objects the
model keeps another way (v1 Endpoints from EndpointSlices, v1 Events from the event log).
"""

from __future__ import annotations

import hashlib
from typing import Any

from app.cluster.families import primary_family_slices
from app.cluster.objects import API_VERSIONS
from app.cluster.state import Event
from app.kubeapi.resources import Resource
from app.render.table_cells import selector_text
from app.render.tables import get_table

#: How much of each object a Table row carries (``?includeObject=``); kubectl asks for
#: Metadata (the default) to print namespaces and labels.
INCLUDE = ("None", "Metadata", "Object")


def stable_uid(*parts: str) -> str:
    """A uid made from the names of what an object is derived from (it has none of its own).

    >>> stable_uid("Endpoints", "default", "web") == stable_uid("Endpoints", "default", "web")
    True
    """
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


def endpoints_of(service: dict[str, Any], slices: list[dict[str, Any]]) -> dict[str, Any]:
    """The v1 Endpoints object the endpoints controller keeps for a Service, from its
    EndpointSlices: ready addresses, not-ready ones apart, and the slices' ports.

    >>> service = {"metadata": {"name": "web", "namespace": "default", "resourceVersion": "4"}}
    >>> slice_ = {"metadata": {"resourceVersion": "9"}, "ports": [{"name": "http", "port": 8080,
    ...           "protocol": "TCP"}], "endpoints": [{"addresses": ["10.244.1.5"],
    ...           "conditions": {"ready": True}, "nodeName": "worker-1"}]}
    >>> endpoints = endpoints_of(service, [slice_])
    >>> endpoints["subsets"][0]["addresses"][0]["ip"], endpoints["metadata"]["resourceVersion"]
    ('10.244.1.5', '9')
    """
    meta = service["metadata"]
    subsets = []
    for endpoint_slice in primary_family_slices(service, slices):
        ready, not_ready = [], []
        for endpoint in endpoint_slice.get("endpoints") or []:
            for ip in endpoint.get("addresses") or []:
                address: dict[str, Any] = {"ip": ip}
                if endpoint.get("nodeName"):
                    address["nodeName"] = endpoint["nodeName"]
                if endpoint.get("targetRef"):
                    address["targetRef"] = endpoint["targetRef"]
                is_ready = (endpoint.get("conditions") or {}).get("ready", True)
                (ready if is_ready else not_ready).append(address)
        if not ready and not not_ready:
            continue
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        subset["ports"] = [
            {k: v for k, v in port.items() if k in ("name", "port", "protocol")}
            for port in endpoint_slice.get("ports") or []
        ]
        subsets.append(subset)
    versions = [int(meta.get("resourceVersion") or 0)]
    versions += [int(s["metadata"].get("resourceVersion") or 0) for s in slices]
    endpoints: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace", "default"),
            "uid": stable_uid("Endpoints", meta.get("namespace", ""), meta["name"]),
            "resourceVersion": str(max(versions)),
        },
    }
    if meta.get("creationTimestamp"):  # the endpoints controller made it with the Service
        endpoints["metadata"]["creationTimestamp"] = meta["creationTimestamp"]
    if meta.get("labels"):
        endpoints["metadata"]["labels"] = dict(meta["labels"])
    if subsets:
        endpoints["subsets"] = subsets
    return endpoints


def with_load_balancer(ingress: dict[str, Any], controller: dict[str, Any]) -> dict[str, Any]:
    """A copy of an Ingress whose status holds its controller Service's load balancer
    addresses, as ingress-nginx publishes them.

    >>> ingress = {"metadata": {"name": "shop"}}
    >>> service = {"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}
    >>> with_load_balancer(ingress, service)["status"]
    {'loadBalancer': {'ingress': [{'ip': '203.0.113.10'}]}}
    """
    addresses = ((controller.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if not addresses:
        return ingress
    published = [{k: v for k, v in a.items() if k in ("ip", "hostname")} for a in addresses]
    return {**ingress, "status": {"loadBalancer": {"ingress": published}}}


def event_object(event: Event, involved_uid: str | None = None) -> dict[str, Any]:
    """A v1 Event from the cluster's event log; events about cluster-scoped objects live in
    ``default``, as the API server keeps them.

    >>> from app.cluster.state import Event
    >>> e = event_object(Event(7, "Normal", "Scheduled", "Pod", "shop", "web", "Assigned", 1, 7))
    >>> e["metadata"]["name"], e["involvedObject"]["kind"], e["metadata"]["namespace"]
    ('web.0000000000000007', 'Pod', 'shop')
    """
    namespace = event.namespace or "default"
    involved: dict[str, Any] = {
        "kind": event.kind,
        "name": event.name,
        "apiVersion": API_VERSIONS.get(event.kind, "v1"),
    }
    if event.namespace:
        involved["namespace"] = event.namespace
    if involved_uid:  # kubectl describe finds an object's events by its uid too
        involved["uid"] = involved_uid
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{event.name}.{event.id:016x}",
            "namespace": namespace,
            "uid": stable_uid("Event", str(event.id)),
            "resourceVersion": str(event.seq),
            **({"creationTimestamp": event.first} if event.first else {}),
        },
        "involvedObject": involved,
        "reason": event.reason,
        "message": event.message,
        "source": {"component": _component(event.reason)},
        "firstTimestamp": event.first or None,
        "lastTimestamp": event.last or None,
        "count": event.count,
        "type": event.type,
        "reportingComponent": _component(event.reason),
        "reportingInstance": "",
    }


def _component(reason: str) -> str:
    if reason in ("Scheduled", "FailedScheduling"):
        return "default-scheduler"
    if reason in ("Pulled", "Created", "Started", "Killing", "Pulling"):
        return "kubelet"
    return "podpath-controllers"


def scale_of(resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    """The ``autoscaling/v1`` Scale of a Deployment.

    >>> from app.kubeapi.resources import by_kind
    >>> scale = scale_of(by_kind("Deployment"), {"metadata": {"name": "web", "namespace": "d"},
    ...     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
    ...     "status": {"replicas": 2}})
    >>> scale["spec"], scale["status"]
    ({'replicas': 2}, {'replicas': 2, 'selector': 'app=web'})
    """
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion") if k in meta
        },
        "spec": {"replicas": obj["spec"].get("replicas", 1)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": selector_text(obj["spec"].get("selector")),
        },
    }


def served_as(resource: Resource, obj: Any) -> Any:
    """An object as served at the resource's version: a custom resource stored at v1 and
    asked for at v1beta1 comes back as v1beta1 (the Gateway API CRDs convert with
    ``strategy: None``, which rewrites only apiVersion). Anything else is returned as is.

    >>> from app.kubeapi.resources import by_plural
    >>> beta = by_plural("gateway.networking.k8s.io", "referencegrants", "v1beta1")
    >>> served_as(beta, {"apiVersion": "gateway.networking.k8s.io/v1",
    ...                  "kind": "ReferenceGrant"})["apiVersion"]
    'gateway.networking.k8s.io/v1beta1'
    """
    if (
        isinstance(obj, dict)
        and obj.get("kind") == resource.kind
        and obj.get("apiVersion") != resource.group_version
    ):
        return {**obj, "apiVersion": resource.group_version}
    return obj


def list_of(resource: Resource, items: list[dict[str, Any]], version: str) -> dict[str, Any]:
    """A ``<Kind>List`` at a resourceVersion."""
    return {
        "kind": f"{resource.kind}List",
        "apiVersion": resource.group_version,
        "metadata": {"resourceVersion": version},
        "items": [served_as(resource, item) for item in items],
    }


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def table_of(
    resource: Resource,
    objects: list[dict[str, Any]],
    version: str,
    include: str = "Metadata",
    now: float | None = None,
    headers: bool = True,
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of objects, with the columns ``kubectl get`` prints.

    >>> from app.kubeapi.resources import by_kind
    >>> table = table_of(by_kind("Namespace"), [{"metadata": {"name": "shop"}}], "5")
    >>> [c["name"] for c in table["columnDefinitions"]], table["rows"][0]["cells"]
    (['Name', 'Status', 'Age'], ['shop', 'Active', '<unknown>'])
    """
    table = get_table(resource.kind, objects, now)
    rows = []
    for obj, cells in table.rows:
        row: dict[str, Any] = {"cells": cells}
        if include == "Object":
            row["object"] = obj
        elif include == "Metadata":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": version},
        "columnDefinitions": [c.to_dict() for c in table.columns] if headers else [],
        "rows": rows,
    }


def wants_table(accept: str) -> bool:
    """Whether an Accept header asks for a Table (``as=Table;g=meta.k8s.io``).

    >>> wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    True
    """
    compact = accept.replace(" ", "")
    return "as=Table" in compact and "g=meta.k8s.io" in compact
