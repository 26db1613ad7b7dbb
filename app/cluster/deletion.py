"""``kubectl delete``: an object goes, and the controllers react (a Deployment's pod comes
back with a new name and IP; a Namespace takes everything in it along; a Node evicts its pods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.cluster import constants as c
from app.cluster import services
from app.cluster.change import Change, change_since
from app.cluster.controllers import workloads
from app.cluster.objects import CLUSTER_SCOPED, ObjectKey
from app.errors import Forbidden

if TYPE_CHECKING:  # pragma: no cover
    from app.cluster.cluster import Cluster


def delete_object(cluster: Cluster, kind: str, namespace: str, name: str) -> Change:
    """See :meth:`Cluster.delete`."""
    state = cluster.state
    key = ObjectKey(kind, "" if kind in CLUSTER_SCOPED else namespace, name)
    cluster.require(kind, namespace, name)  # NotFound, worded as the API server words it
    if kind == "Namespace" and name in c.PROTECTED_NAMESPACES:
        raise Forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted')
    if kind == "Node" and name == c.CONTROL_PLANE_NAME:
        raise Forbidden(
            f'nodes "{name}" is forbidden: Podpath keeps the control-plane node '
            "(it runs the API server, etcd and the scheduler)"
        )
    mark = (state.event_seq, set(state.objects))
    if kind == "Namespace":
        for other in [k for k in state.objects if k.namespace == name]:
            _remove(cluster, other)
    _remove(cluster, key)
    cluster.reconcile()
    return change_since(cluster, mark)


def deletion_lines(cluster: Cluster, kind: str, name: str, change: Change) -> list[str]:
    """What a delete did, as the sandbox says it: the object gone, then each pod the
    controllers made in its place with its new IP and node.

    >>> from app.cluster.apply import apply_text
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, "apiVersion: v1\\nkind: Namespace\\nmetadata: {name: shop}\\n")
    >>> deletion_lines(cluster, "Namespace", "shop", cluster.delete("Namespace", "", "shop"))
    ['namespace/shop deleted']
    """
    lines = [f"{kind.lower()}/{name} deleted"]
    for key in change.created:
        obj = cluster.state.objects.get(key)
        if key.kind == "Pod" and obj is not None:
            ip = (obj.get("status") or {}).get("podIP") or "no IP yet"
            lines.append(f"then: pod/{key.name} created ({ip} on {obj['spec'].get('nodeName')})")
    return lines


def _remove(cluster: Cluster, key: ObjectKey) -> None:
    state = cluster.state
    obj = state.objects.get(key)
    if obj is None:
        return
    if key.kind == "Pod":
        workloads.delete_pod(state, key)
        state.record("Normal", "Killing", key, f"Stopping container {_containers(obj)}")
        return
    if key.kind == "Service":
        services.release(state, obj)
    if key.kind == "Node":
        for pod_key in sorted(state.pods_by_node.get(key.name, ())):
            workloads.delete_pod(state, pod_key)
        state.ipam.remove_node(key.name)
        state.record(
            "Normal",
            "RemovingNode",
            key,
            f"Node {key.name} event: Removing Node {key.name} from Controller",
        )
    if key.kind == "ReplicaSet" or key.kind == "DaemonSet":
        for owner in obj["metadata"].get("ownerReferences") or ():
            state.dirty[owner["kind"]].add(ObjectKey(owner["kind"], key.namespace, owner["name"]))
    if key.kind == "EndpointSlice":
        service = (obj["metadata"].get("labels") or {}).get(c.SERVICE_NAME_LABEL)
        if service:
            state.dirty["Service"].add(ObjectKey("Service", key.namespace, service))
    state.remove(key)


def _containers(pod: dict[str, Any]) -> str:
    return ", ".join(ct["name"] for ct in pod["spec"].get("containers") or [])
