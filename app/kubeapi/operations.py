"""The API verbs on a cluster: read, create, replace, patch, delete and scale one resource.

Every write goes through the cluster model's apply (validation, allocation, controllers),
so an object made with kubectl is the same as one made with a form or pasted YAML. The
learner's own manifest (what export gives back) follows each change: a patch is replayed on
it, so it does not fill up with the server's defaults.
"""

from __future__ import annotations

from typing import Any

from app.cluster.apply import SERVER_METADATA, apply_documents
from app.cluster.cluster import Cluster
from app.cluster.controllers.workloads import random_suffix
from app.cluster.manifests import Document
from app.cluster.objects import ObjectKey, deep_copy
from app.errors import PodpathError
from app.kubeapi import convert, fields, patches
from app.kubeapi.openapi import kind_schema
from app.kubeapi.resources import Resource, by_kind
from app.kubeapi.status import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    from_podpath,
    method_not_allowed,
    not_found,
)

#: Where client-side ``kubectl apply`` keeps the manifest it last applied.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def resource_version(cluster: Cluster) -> str:
    """The cluster's current resourceVersion (every write bumps it)."""
    return str(cluster.state.resource_version)


def objects(cluster: Cluster, resource: Resource, namespace: str | None) -> list[dict[str, Any]]:
    """The objects of a resource, in one namespace or all (None), sorted by namespace, name.

    >>> from app.kubeapi.resources import by_kind
    >>> cluster = Cluster.create(seed=1)
    >>> [e["metadata"]["name"] for e in objects(cluster, by_kind("Endpoints"), "kube-system")]
    ['kube-dns']
    """
    scope = namespace if resource.namespaced else None
    if resource.kind == "Endpoints":
        found = []
        for service in cluster.list("Service", scope):
            spec = service.get("spec") or {}
            if spec.get("type") == "ExternalName":
                continue
            key = (service["metadata"]["namespace"], service["metadata"]["name"])
            slice_keys = sorted(cluster.state.slices_by_service.get(key, ()))
            slices = [cluster.state.objects[k] for k in slice_keys]
            if spec.get("selector") or slices:
                found.append(convert.endpoints_of(service, slices))
        return found
    if resource.kind == "Event":
        events = [
            convert.event_object(e, _uid(cluster, e.kind, e.namespace, e.name))
            for e in cluster.events()
        ]
        return [e for e in events if scope is None or e["metadata"]["namespace"] == scope]
    found = cluster.list(resource.kind, scope)
    if resource.kind == "Ingress":
        found = [_ingress_as_served(cluster, i) for i in found]
    return found


def _ingress_as_served(cluster: Cluster, ingress: dict[str, Any]) -> dict[str, Any]:
    """An Ingress with the address ingress-nginx writes into its status: the controller
    Service's load balancer address (the model keeps it on the Service only)."""
    controller = cluster.get("Service", "ingress-nginx", "ingress-nginx-controller")
    if controller is None or (ingress.get("status") or {}).get("loadBalancer", {}).get("ingress"):
        return ingress
    return convert.with_load_balancer(ingress, controller)


def _uid(cluster: Cluster, kind: str, namespace: str, name: str) -> str | None:
    obj = cluster.get(kind, namespace, name)
    return obj["metadata"].get("uid") if obj is not None else None


def find(cluster: Cluster, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
    """One object, or a NotFound Status.

    >>> from app.kubeapi.resources import by_kind
    >>> find(Cluster.create(seed=1), by_kind("Pod"), "default", "nope")
    Traceback (most recent call last):
    ...
    app.kubeapi.status.ApiError: ...pods "nope" not found...
    """
    if resource.kind in ("Endpoints", "Event"):
        for obj in objects(cluster, resource, namespace):
            if obj["metadata"]["name"] == name:
                return obj
        raise not_found(resource, name)
    obj = cluster.get(resource.kind, namespace, name)
    if obj is None:
        raise not_found(resource, name)
    return _ingress_as_served(cluster, obj) if resource.kind == "Ingress" else obj


def _writable(resource: Resource, verb: str) -> None:
    if verb not in resource.verbs:
        raise method_not_allowed()


def _check_body(resource: Resource, body: Any, namespace: str | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("the body of the request must be a JSON or YAML object")
    body = deep_copy(body)
    body.setdefault("apiVersion", resource.group_version)
    body.setdefault("kind", resource.kind)
    if body["kind"] != resource.kind or body["apiVersion"] != resource.group_version:
        raise bad_request(
            f"the API version in the data ({body['apiVersion']}) does not match the expected "
            f"API version ({resource.group_version})"
            if body["kind"] == resource.kind
            else f"the kind in the data ({body['kind']}) does not match {resource.kind}"
        )
    meta = body.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    if resource.namespaced and namespace:
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = namespace
    return body


def _need_namespace(cluster: Cluster, resource: Resource, namespace: str | None) -> None:
    if resource.namespaced and namespace and cluster.get("Namespace", "", namespace) is None:
        namespaces = by_kind("Namespace")
        assert namespaces is not None
        raise not_found(namespaces, namespace)


def _store(
    cluster: Cluster, resource: Resource, body: dict[str, Any], written: Any = ...
) -> dict[str, Any]:
    """Apply one object through the model; ``written`` as :func:`apply_documents` takes it
    (``...``: the body itself is the learner's manifest)."""
    name = body["metadata"].get("name", "")
    overrides = None
    if written is not ...:
        overrides = {ObjectKey(resource.kind, _scope(resource, body), name): written}
    try:
        apply_documents(cluster, [Document(1, 1, body)], written=overrides)
    except PodpathError as error:
        raise from_podpath(error, resource, name) from None
    return find(cluster, resource, _scope(resource, body), name)


def _scope(resource: Resource, body: dict[str, Any]) -> str:
    return body["metadata"].get("namespace", "default") if resource.namespaced else ""


def create(
    cluster: Cluster, resource: Resource, namespace: str | None, body: Any
) -> dict[str, Any]:
    """POST: a new object; AlreadyExists when the name is taken.

    >>> from app.kubeapi.resources import by_kind
    >>> cluster = Cluster.create(seed=1)
    >>> ns = create(cluster, by_kind("Namespace"), None, {"metadata": {"name": "shop"}})
    >>> ns["metadata"]["name"], cluster.is_user_made(ns)
    ('shop', True)
    >>> create(cluster, by_kind("Namespace"), None, {"metadata": {"name": "shop"}})
    Traceback (most recent call last):
    ...
    app.kubeapi.status.ApiError: ...namespaces "shop" already exists...
    """
    _writable(resource, "create")
    body = _check_body(resource, body, namespace)
    meta = body["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + random_suffix(cluster.state)
    _need_namespace(cluster, resource, meta.get("namespace"))
    name = meta.get("name") or ""
    if name and cluster.get(resource.kind, meta.get("namespace", ""), name) is not None:
        raise already_exists(resource, name)
    return _store(cluster, resource, body, _tidy(body))


def _tidy(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what the server keeps for itself (status, uid, versions...) and
    without the copy of itself client-side ``kubectl apply`` keeps in an annotation: what
    the learner wrote, as export gives it back.

    >>> _tidy({"metadata": {"name": "a", "uid": "u", "annotations": {LAST_APPLIED: "{}"}},
    ...        "spec": {}, "status": {}})
    {'metadata': {'name': 'a'}, 'spec': {}}
    """
    tidy = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_METADATA}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED}
    meta.pop("annotations", None)
    if annotations:
        meta["annotations"] = annotations
    tidy["metadata"] = meta
    return tidy


def replace(
    cluster: Cluster, resource: Resource, namespace: str | None, name: str, body: Any
) -> dict[str, Any]:
    """PUT: the whole object anew (``kubectl replace``, ``kubectl edit``'s fallback); a
    Conflict when its resourceVersion is not the live one.

    >>> from app.kubeapi.resources import by_kind
    >>> cluster = Cluster.create(seed=1)
    >>> live = find(cluster, by_kind("Namespace"), "", "default")
    >>> stale = {**live, "metadata": {**live["metadata"], "resourceVersion": "999"}}
    >>> replace(cluster, by_kind("Namespace"), None, "default", stale)
    Traceback (most recent call last):
    ...
    app.kubeapi.status.ApiError: ...the object has been modified...
    """
    _writable(resource, "update")
    body = _check_body(resource, body, namespace)
    if body["metadata"].get("name", name) != name:
        raise bad_request("the name of the object does not match the name on the URL")
    body["metadata"]["name"] = name
    live = find(cluster, resource, namespace or "", name)
    sent_version = body["metadata"].get("resourceVersion")
    if sent_version and sent_version != live["metadata"].get("resourceVersion"):
        raise conflict(resource, name)
    return _update(cluster, resource, live, body)


def _update(
    cluster: Cluster, resource: Resource, live: dict[str, Any], new: dict[str, Any]
) -> dict[str, Any]:
    written: Any = None  # a controller's or the system's object stays theirs
    key = ObjectKey(resource.kind, _scope(resource, live), live["metadata"]["name"])
    learners = cluster.state.applied.get(key)
    if learners is not None:
        written = patches.merge_patch(learners, patches.merge_diff(_tidy(live), _tidy(new)))
    return _keep_managed(cluster, resource, _store(cluster, resource, new, written), new)


def patch(
    cluster: Cluster,
    resource: Resource,
    namespace: str | None,
    name: str,
    content_type: str,
    body: Any,
    manager: str = "kubectl",
) -> dict[str, Any]:
    """PATCH with any of the patch types (:mod:`app.kubeapi.patches`). A server-side apply
    of an object that does not exist creates it.

    >>> from app.kubeapi.resources import by_kind
    >>> cluster = Cluster.create(seed=1)
    >>> ns = patch(cluster, by_kind("Namespace"), None, "default", patches.MERGE_PATCH,
    ...            {"metadata": {"labels": {"team": "a"}}})
    >>> ns["metadata"]["labels"]["team"]
    'a'
    """
    _writable(resource, "patch")
    media = content_type.split(";")[0].strip().lower()
    schema = kind_schema(resource.group, resource.version, resource.kind)
    if media == patches.APPLY_PATCH:
        return _server_side_apply(cluster, resource, namespace, name, body, manager)
    live = find(cluster, resource, namespace or "", name)
    if media == patches.JSON_PATCH:
        new = patches.json_patch(live, body)
    elif media == patches.MERGE_PATCH:
        new = patches.merge_patch(live, body)
    elif media == patches.STRATEGIC_PATCH:
        new = patches.strategic_merge(live, body, schema)
    else:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: {', '.join((patches.JSON_PATCH, patches.MERGE_PATCH, patches.STRATEGIC_PATCH, patches.APPLY_PATCH))}",
        )
    sent_version = (
        (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
    )
    if sent_version and sent_version != live["metadata"].get("resourceVersion"):
        raise conflict(resource, name)
    new = _check_body(resource, new, namespace)
    if new["metadata"].get("name") != name:
        raise bad_request("the name of the object may not be changed by a patch")
    return _update(cluster, resource, live, new)


def _server_side_apply(
    cluster: Cluster,
    resource: Resource,
    namespace: str | None,
    name: str,
    body: Any,
    manager: str,
) -> dict[str, Any]:
    config = _check_body(resource, body, namespace)
    if config["metadata"].get("name", name) != name:
        raise bad_request("the name of the object does not match the name on the URL")
    config["metadata"]["name"] = name
    schema = kind_schema(resource.group, resource.version, resource.kind)
    live = cluster.get(resource.kind, _scope(resource, config), name)
    if live is None:
        created = create(cluster, resource, namespace, config)
        return _keep_managed(
            cluster, resource, created, fields.apply_config(created, manager, config, schema)
        )
    return _update(cluster, resource, live, fields.apply_config(live, manager, config, schema))


def _keep_managed(
    cluster: Cluster, resource: Resource, stored: dict[str, Any], new: dict[str, Any]
) -> dict[str, Any]:
    """Put the managedFields of ``new`` on the stored object (the model's apply keeps no
    server metadata of what it is given)."""
    managed = (new.get("metadata") or {}).get("managedFields")
    if not managed or stored["metadata"].get("managedFields") == managed:
        return stored
    key = ObjectKey(resource.kind, _scope(resource, stored), stored["metadata"]["name"])

    def keep(obj: dict[str, Any]) -> None:
        obj["metadata"]["managedFields"] = deep_copy(managed)

    return cluster.state.modify(key, keep, status_only=True)


def delete(
    cluster: Cluster, resource: Resource, namespace: str | None, name: str
) -> dict[str, Any]:
    """DELETE: the object goes and the controllers react; the answer is the object as it
    was (kubectl prints ``pod "web" deleted`` from it).

    >>> from app.kubeapi.resources import by_kind
    >>> cluster = Cluster.create(seed=1)
    >>> pod = objects(cluster, by_kind("Pod"), "kube-system")[0]["metadata"]["name"]
    >>> delete(cluster, by_kind("Pod"), "kube-system", pod)["metadata"]["name"] == pod
    True
    >>> delete(cluster, by_kind("Endpoints"), "default", "kubernetes")
    Traceback (most recent call last):
    ...
    app.kubeapi.status.ApiError: ...the server does not allow this method...
    """
    _writable(resource, "delete")
    obj = deep_copy(find(cluster, resource, namespace or "", name))
    try:
        cluster.delete(resource.kind, namespace or "", name)
    except PodpathError as error:
        raise from_podpath(error, resource, name) from None
    return obj


def get_scale(cluster: Cluster, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
    if not resource.scalable:
        raise not_found(resource, name)
    return convert.scale_of(resource, find(cluster, resource, namespace, name))


MERGE = patches.MERGE_PATCH


def set_scale(
    cluster: Cluster,
    resource: Resource,
    namespace: str,
    name: str,
    content_type: str | None,
    body: Any,
) -> dict[str, Any]:
    """PATCH or PUT of the ``scale`` subresource (``kubectl scale``).

    >>> from app.kubeapi.resources import by_kind
    >>> cluster = Cluster.create(seed=1)
    >>> scale = set_scale(cluster, by_kind("Deployment"), "kube-system", "coredns",
    ...                   MERGE, {"spec": {"replicas": 3}})
    >>> scale["spec"], len(cluster.state.pods_by_owner) > 0
    ({'replicas': 3}, True)
    """
    current = get_scale(cluster, resource, namespace, name)
    media = (content_type or "").split(";")[0].strip().lower()
    if media == patches.JSON_PATCH:
        scale = patches.json_patch(current, body)
    elif media in (patches.MERGE_PATCH, patches.STRATEGIC_PATCH):
        scale = patches.merge_patch(current, body)
    else:
        scale = body
    replicas = (
        ((scale or {}).get("spec") or {}).get("replicas") if isinstance(scale, dict) else None
    )
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise bad_request("spec.replicas of a Scale must be an integer")
    obj = find(cluster, resource, namespace, name)
    new = patches.merge_patch(obj, {"spec": {"replicas": replicas}})
    return convert.scale_of(resource, _update(cluster, resource, obj, new))
