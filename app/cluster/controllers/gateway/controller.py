"""Envoy Gateway's reconcile: the Envoy Deployment and Service of every accepted Gateway,
and the status of GatewayClasses, Gateways and HTTPRoutes.

It runs with the other controllers (:meth:`Cluster.reconcile
<app.cluster.cluster.Cluster.reconcile>`) whenever a kind it reads changed, recomputes
everything from the objects, and writes only what differs, so the controllers settle.
"""

from __future__ import annotations

from typing import Any

from app.cluster import services
from app.cluster.controllers.gateway import attachment as att
from app.cluster.controllers.gateway import infra, status
from app.cluster.controllers.workloads import owner_reference
from app.cluster.defaulting import apply_defaults
from app.cluster.objects import ObjectKey, canonical_json
from app.cluster.state import ClusterState

#: Kinds whose change can change what Envoy Gateway does.
WATCHED = frozenset(
    {"GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant", "Service", "Namespace", "Deployment"}
)


def needed(state: ClusterState, changed: set[str]) -> bool:
    """Whether a reconcile round that changed these kinds must run Envoy Gateway's sync: any
    round while a Gateway exists (its proxies' pods, load balancer and backends move with
    the rest), and the round that deletes the last one."""
    return bool(state.count("Gateway") or changed & {"Gateway", "GatewayClass"})


def sync(state: ClusterState) -> None:
    """Make the Envoy proxies match the Gateways, then write every status.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: gateway.networking.k8s.io/v1
    ... kind: Gateway
    ... metadata: {name: eg}
    ... spec:
    ...   gatewayClassName: eg
    ...   listeners: [{name: http, port: 80, protocol: HTTP}]
    ... ''')
    >>> svc = cluster.get("Service", "envoy-gateway-system", "envoy-default-eg-e41e7b31")
    >>> svc["spec"]["ports"][0]["targetPort"], svc["spec"]["type"]
    (10080, 'LoadBalancer')
    >>> gw = cluster.get("Gateway", "default", "eg")
    >>> gw["status"]["addresses"][0]["value"] == svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    True
    """
    gateways = att.controlled_gateways(state)
    classes = {
        gc["metadata"]["name"]: gc
        for gc in state.of_kind("GatewayClass")
        if (gc.get("spec") or {}).get("controllerName") == att.CONTROLLER_NAME
    }
    wanted = set()
    for gateway in gateways:
        gc = classes.get(gateway["spec"]["gatewayClassName"])
        owner = owner_reference(gc) if gc is not None else None
        if owner is not None:
            owner["controller"] = False  # Envoy Gateway names the class as owner, not controller
        wanted.add(infra.proxy_name(gateway["metadata"]["namespace"], gateway["metadata"]["name"]))
        _ensure(state, infra.proxy_deployment(gateway, owner))
        _ensure(state, infra.proxy_service(gateway, owner))
    for kind in ("Deployment", "Service"):
        for obj in state.of_kind(kind, infra.NAMESPACE):
            labels = obj["metadata"].get("labels") or {}
            if infra.OWNER_NAME in labels and obj["metadata"]["name"] not in wanted:
                _delete(state, ObjectKey(kind, infra.NAMESPACE, obj["metadata"]["name"]))
    _write_statuses(state, gateways, classes)


def _ensure(state: ClusterState, manifest: dict[str, Any]) -> None:
    key = ObjectKey(manifest["kind"], infra.NAMESPACE, manifest["metadata"]["name"])
    live = state.objects.get(key)
    digest = manifest["metadata"]["annotations"][infra.DIGEST]
    if live is not None and (live["metadata"].get("annotations") or {}).get(infra.DIGEST) == digest:
        return
    obj = apply_defaults(manifest)
    obj["metadata"]["namespace"] = infra.NAMESPACE
    if live is not None:
        obj["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
    else:
        obj["metadata"]["generation"] = 1
    if key.kind == "Service":
        services.allocate(state, obj, live)
    elif live is not None and "status" in live:
        obj["status"] = live["status"]
    state.put(obj)  # Envoy Gateway records no Event of its own; the Deployment's pods will


def _delete(state: ClusterState, key: ObjectKey) -> None:
    obj = state.objects.get(key)
    if obj is None:
        return
    if key.kind == "Service":
        services.release(state, obj)
    state.remove(key)


def _set_status(state: ClusterState, obj: dict[str, Any], value: dict[str, Any] | None) -> None:
    if value is None:
        return
    old = obj.get("status")
    if old is not None and canonical_json(old) == canonical_json(value):
        return
    key = ObjectKey(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
    state.modify(key, lambda o: o.__setitem__("status", value), status_only=True)
    state.dirty[key.kind].discard(key)


def _write_statuses(
    state: ClusterState, gateways: list[dict[str, Any]], classes: dict[str, dict[str, Any]]
) -> None:
    now = state.timestamp()
    for gc in classes.values():
        _set_status(state, gc, status.class_status(gc, now))
    found = att.attach(state)
    for gateway in gateways:
        name = infra.proxy_name(gateway["metadata"]["namespace"], gateway["metadata"]["name"])
        service = state.get("Service", infra.NAMESPACE, name) or {}
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        address = next((i.get("ip") for i in ingress if i.get("ip")), None)
        deployment = state.get("Deployment", infra.NAMESPACE, name) or {}
        replicas = (
            (deployment.get("status") or {}).get("availableReplicas", 0),
            (deployment.get("spec") or {}).get("replicas", 1),
        )
        _set_status(state, gateway, status.gateway_status(gateway, found, address, replicas, now))
    for route in state.of_kind("HTTPRoute"):
        _set_status(state, route, status.route_status(route, found, now))
