"""Storing one object: created, configured or unchanged, as ``kubectl apply`` reports it.

An object is stored the way the API server stores it: the fields the server sets are dropped
from what was written, the defaults are filled in, and what the learner left out of an update
is kept from the live object (a Service's ClusterIP, a pod's node). A new Node joins the
cluster with an address and a pod range; a new Service gets its ClusterIP and ports.

Everything here takes a :class:`~app.cluster.cluster.Cluster` but does not import it, so
that ``Cluster.create`` can install its system objects through it with no import circle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.cluster import bootstrap, families, services
from app.cluster.defaulting import apply_defaults
from app.cluster.objects import CLUSTER_SCOPED, ObjectKey, canonical_json, deep_copy, key_of
from app.cluster.validation import validate_manifest

if TYPE_CHECKING:  # pragma: no cover
    from app.cluster.cluster import Cluster

# Fields the server sets; a manifest that carries them (an exported ``kubectl get -o yaml``)
# has them ignored, as the API server ignores them on apply.
SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
    "ownerReferences",
)


def strip_server_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a manifest without what the server sets, in its namespace.

    Parameters
    ----------
    body : dict
        A well-formed manifest (a mapping with ``kind`` and ``metadata``).

    Returns
    -------
    dict
        A deep copy without ``status`` and :data:`SERVER_METADATA`; a namespaced object
        without a namespace is put in ``default``, a cluster-scoped one loses its namespace.

    Examples
    --------
    >>> strip_server_fields({"kind": "Pod", "metadata": {"name": "a", "uid": "1"}, "status": {}})
    {'kind': 'Pod', 'metadata': {'name': 'a', 'namespace': 'default'}}
    >>> strip_server_fields({"kind": "Namespace", "metadata": {"name": "s", "namespace": "x"}})
    {'kind': 'Namespace', 'metadata': {'name': 's'}}
    """
    manifest = deep_copy(body)
    manifest.pop("status", None)
    meta = manifest["metadata"]
    for name in SERVER_METADATA:
        meta.pop(name, None)
    if manifest["kind"] in CLUSTER_SCOPED:
        meta.pop("namespace", None)
    else:
        meta.setdefault("namespace", "default")
    return manifest


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    """A manifest as the API server would store it: :func:`strip_server_fields`, then the
    defaults filled in (:func:`app.cluster.defaulting.apply_defaults`).

    Examples
    --------
    >>> service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
    ...            "spec": {"ports": [{"port": 80}]}}
    >>> stored = normalise(service)
    >>> spec = stored["spec"]
    >>> stored["metadata"]["namespace"], spec["type"], spec["ports"][0]["protocol"]
    ('default', 'ClusterIP', 'TCP')
    """
    return apply_defaults(strip_server_fields(body))


def merge_for_update(live: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The object the API server would store: the new manifest plus what apply keeps from the
    live object when the manifest leaves it out (allocated addresses, the pod's node).

    Parameters
    ----------
    live : dict
        The object as the cluster holds it.
    manifest : dict
        The new manifest, defaults filled in.

    Returns
    -------
    dict
        A new object; neither argument is changed.

    Examples
    --------
    >>> live = {"kind": "Pod", "metadata": {"name": "a"}, "spec": {"nodeName": "worker-1"}}
    >>> merge_for_update(live, {"kind": "Pod", "metadata": {"name": "a"}, "spec": {}})["spec"]
    {'nodeName': 'worker-1'}
    """
    candidate = deep_copy(manifest)
    candidate["metadata"] = {**deep_copy(manifest["metadata"])}
    spec, live_spec = candidate.get("spec"), live.get("spec") or {}
    if manifest["kind"] == "Service" and isinstance(spec, dict):
        services.keep_allocations(spec, live_spec)
    pod_left_node_out = (
        manifest["kind"] == "Pod" and isinstance(spec, dict) and not spec.get("nodeName")
    )
    if pod_left_node_out and live_spec.get("nodeName"):
        spec["nodeName"] = live_spec["nodeName"]
    return candidate


def upsert(
    cluster: Cluster, manifest: dict[str, Any], written: dict[str, Any] | None = None
) -> str:
    """Create or configure one object, without reconciling (the caller does).

    Parameters
    ----------
    cluster : Cluster
        The cluster to change.
    manifest : dict
        The object with the defaults filled in (:func:`normalise`), already validated.
    written : dict, optional
        The manifest as the learner wrote it, kept for export; None for the system's own
        objects, which are not the learner's to export.

    Returns
    -------
    str
        ``created``, ``configured`` or ``unchanged`` (the learner's manifest is the one
        already applied).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> shop = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    >>> upsert(cluster, normalise(shop), written=shop), upsert(cluster, normalise(shop), shop)
    ('created', 'unchanged')
    """
    state = cluster.state
    key = key_of(manifest)
    live = state.objects.get(key)
    user_made = written is not None
    if live is not None and user_made and _same(state.applied.get(key), written):
        return "unchanged"
    obj = merge_for_update(live, manifest) if live is not None else deep_copy(manifest)
    meta = obj["metadata"]
    if live is None:
        meta["generation"] = 1
    else:
        old_spec = canonical_json(
            {k: v for k, v in live.items() if k not in ("metadata", "status")}
        )
        new_spec = canonical_json({k: v for k, v in obj.items() if k not in ("metadata", "status")})
        changed = old_spec != new_spec
        meta["generation"] = live["metadata"].get("generation", 1) + (1 if changed else 0)
        if live["metadata"].get("ownerReferences") and not user_made:
            meta["ownerReferences"] = live["metadata"]["ownerReferences"]
    if key.kind == "Service":
        services.allocate(state, obj, live)
    elif key.kind == "Node":
        _join_node(cluster, obj, live)
    elif "status" in (live or {}):
        obj["status"] = live["status"]
    elif key.kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    state.put(obj)
    if written is not None:
        state.applied[key] = deep_copy(written)
    return "created" if live is None else "configured"


def _same(applied: dict[str, Any] | None, manifest: dict[str, Any]) -> bool:
    return applied is not None and canonical_json(applied) == canonical_json(manifest)


def _join_node(cluster: Cluster, node: dict[str, Any], live: dict[str, Any] | None) -> None:
    """A new Node joins: it gets the next InternalIP and its pod range; an existing one keeps
    its status, and is cordoned or tainted as its spec now says."""
    state = cluster.state
    name = node["metadata"]["name"]
    labels = node["metadata"].setdefault("labels", {})
    for label, value in bootstrap.node_manifest(name, "", False)["metadata"]["labels"].items():
        labels.setdefault(label, value)
    if live is not None:
        node["status"] = live["status"]
        return
    taken = {
        address["address"]
        for n in state.of_kind("Node")
        for address in n["status"]["addresses"]
        if address["type"] == "InternalIP"
    }
    number = 0
    while families.node_ips(cluster.config, bootstrap.node_ip(number))[0] in taken:
        number += 1
    ips = families.node_ips(cluster.config, bootstrap.node_ip(number))
    node["status"] = bootstrap.node_status(ips, name, ready=True)
    # kube-controller-manager gives a node one range per family (--cluster-cidr lists both on
    # a dual-stack cluster), primary first.
    ranges = [ipam.add_node(name).ranges[0] for ipam in state.ipams()]
    if cluster.config.cni != "weave":
        node.setdefault("spec", {})["podCIDR"] = ranges[0]
        node["spec"]["podCIDRs"] = ranges
    state.record(
        "Normal",
        "RegisteredNode",
        ObjectKey("Node", "", name),
        f"Node {name} event: Registered Node {name} in Controller",
    )


def install_system_manifest(cluster: Cluster, manifest: dict[str, Any]) -> None:
    """Store one of Podpath's own objects (from :mod:`app.cluster.bootstrap`) as the system's,
    not the learner's; the caller reconciles.

    Raises
    ------
    RuntimeError
        When the manifest is invalid: a bug in Podpath, not a user error.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> install_system_manifest(cluster, bootstrap.namespaces("flannel")[-1])
    >>> cluster.get("Namespace", "", "kube-flannel") is not None
    True
    """
    problems = validate_manifest(manifest)
    if problems:  # a bug in Podpath's own manifests
        raise RuntimeError(f"system manifest {key_of(manifest)} is invalid: {problems}")
    upsert(cluster, normalise(manifest))
