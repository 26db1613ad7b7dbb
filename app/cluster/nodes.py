"""Nodes joining, leaving and failing, and scaling a Deployment (``kubectl scale``).

When a node stops reporting (NotReady), the node lifecycle controller marks its pods not
ready, so they leave every EndpointSlice, and taint-based eviction removes the pods that do
not tolerate ``node.kubernetes.io/unreachable`` (after five minutes in a real cluster; at once
here). ReplicaSets replace theirs on healthy nodes; a bare pod is not replaced: nothing owns it.
DaemonSet pods tolerate the taint and stay.
"""

from __future__ import annotations

from app.cluster import bootstrap
from app.cluster.apply import change_since, upsert
from app.cluster.cluster import Change, Cluster
from app.cluster.controllers import workloads
from app.cluster.controllers.scheduling import node_internal_ips, node_is_ready
from app.cluster.deletion import delete_object
from app.cluster.objects import ObjectKey, deep_copy
from app.errors import Conflict, FieldError, Forbidden, InvalidObjects, NotFound

UNREACHABLE_TAINT = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
UNREACHABLE_NOSCHEDULE = {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}


def add_node(cluster: Cluster, name: str | None = None) -> Change:
    """A new worker joins the cluster (``kubeadm join``).

    Parameters
    ----------
    cluster : Cluster
    name : str, optional
        Defaults to the next free ``worker-N``.

    Returns
    -------
    Change
        The Node and the DaemonSet pods (kube-proxy, the CNI agent) that start on it.

    Raises
    ------
    Conflict
        When a node of that name exists.
    InvalidObjects
        When the name is not a valid node name.
    Forbidden
        When the workspace already has its maximum of workers.

    Examples
    --------
    >>> cluster = Cluster.create(seed=2)
    >>> change = add_node(cluster)
    >>> [str(k) for k in change.created if k.kind == "Node"]
    ['Node/worker-3']
    """
    from app.cluster.apply import apply_documents
    from app.cluster.manifests import Document

    state = cluster.state
    workers = state.count("Node") - 1
    if workers >= cluster.config.max_workers:
        raise Forbidden(
            f"this workspace may have at most {cluster.config.max_workers} worker nodes"
        )
    if name is None:
        number = 1
        while state.get("Node", "", bootstrap.worker_name(number)) is not None:
            number += 1
        name = bootstrap.worker_name(number)
    elif state.get("Node", "", name) is not None:
        raise Conflict(
            f'nodes "{name}" already exists',
            [FieldError("metadata.name", f'Duplicate value: "{name}"', "FieldValueDuplicate")],
        )
    manifest = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}
    result = apply_documents(cluster, [Document(1, 1, manifest)])
    # A node that joins by Podpath's button is the system's, not a manifest the learner wrote.
    state.applied.pop(ObjectKey("Node", "", name), None)
    return result.change


def remove_node(cluster: Cluster, name: str) -> Change:
    """``kubectl delete node``: the node's pods are deleted and their owners replace them."""
    return delete_object(cluster, "Node", "", name)


def set_node_ready(cluster: Cluster, name: str, ready: bool) -> Change:
    """Make a node stop (``ready=False``) or resume posting status.

    Raises
    ------
    NotFound
        When there is no such node.
    """
    state = cluster.state
    node = state.get("Node", "", name)
    if node is None:
        raise NotFound(f'nodes "{name}" not found')
    mark = (state.event_seq, set(state.objects))
    if node_is_ready(node) == ready:
        return Change()
    node = deep_copy(node)
    node["status"] = bootstrap.node_status(node_internal_ips(node), name, ready)
    taints = [
        t
        for t in node.setdefault("spec", {}).get("taints") or []
        if t.get("key") != UNREACHABLE_TAINT["key"]
    ]
    if not ready:
        taints += [dict(UNREACHABLE_NOSCHEDULE), dict(UNREACHABLE_TAINT)]
    if taints:
        node["spec"]["taints"] = taints
    else:
        node["spec"].pop("taints", None)
    state.put(node)
    key = ObjectKey("Node", "", name)
    if ready:
        state.record("Normal", "NodeReady", key, f"Node {name} status is now: NodeReady")
    else:
        state.record("Normal", "NodeNotReady", key, f"Node {name} status is now: NodeNotReady")
        _evict(cluster, name)
    cluster.reconcile()
    return change_since(cluster, mark)


def _evict(cluster: Cluster, node: str) -> None:
    state = cluster.state
    for key in sorted(state.pods_by_node.get(node, ())):
        pod = state.objects[key]
        owner = workloads.controller_kind(pod)
        if owner == "ReplicaSet":
            state.record(
                "Normal",
                "TaintManagerEviction",
                key,
                f"Marking for deletion Pod {key.namespace}/{key.name}",
            )
            workloads.delete_pod(state, key)


def scale(cluster: Cluster, namespace: str, name: str, replicas: int) -> Change:
    """``kubectl scale deployment/<name> --replicas=N``.

    Raises
    ------
    NotFound
        When there is no such Deployment.
    InvalidObjects
        When ``replicas`` is negative.
    Forbidden
        When the pods would exceed the workspace's quota.
    """
    state = cluster.state
    deployment = state.get("Deployment", namespace, name)
    if deployment is None:
        raise NotFound(f'deployments.apps "{name}" not found')
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise InvalidObjects(
            f'Deployment.apps "{name}" is invalid',
            [
                FieldError(
                    "spec.replicas",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                    kind="Deployment",
                    name=name,
                    namespace=namespace,
                )
            ],
        )
    pods_after = state.count("Pod") - deployment["spec"].get("replicas", 1) + replicas
    if pods_after > cluster.config.max_pods:
        raise Forbidden(
            f"exceeded quota: pods: this workspace may hold at most {cluster.config.max_pods}, "
            f"scaling would make {pods_after}"
        )
    mark = (state.event_seq, set(state.objects))
    key = ObjectKey("Deployment", namespace, name)
    written = state.applied.get(key)
    manifest = _manifest_of(deployment)
    manifest["spec"]["replicas"] = replicas
    if written is not None:
        written = deep_copy(written)
        written["spec"]["replicas"] = replicas
    upsert(cluster, manifest, written=written)
    cluster.reconcile()
    return change_since(cluster, mark)


def _manifest_of(obj: dict) -> dict:
    manifest = deep_copy(obj)
    manifest.pop("status", None)
    for field in ("uid", "resourceVersion", "generation"):
        manifest["metadata"].pop(field, None)
    return manifest
