"""The Deployment, ReplicaSet and DaemonSet controllers.

A Deployment owns one ReplicaSet per pod template, named ``<deployment>-<pod-template-hash>``;
each ReplicaSet owns pods named ``<replicaset>-<5 random characters>``. A new template rolls
out at once here (the rollout's intermediate steps are not modelled): the new ReplicaSet is
scaled up and the old ones down to zero, and kept as revision history as Kubernetes keeps them.
"""

from __future__ import annotations

from typing import Any

from app.cluster import constants as c
from app.cluster.controllers.scheduling import tolerates
from app.cluster.objects import ObjectKey, deep_copy, template_hash
from app.cluster.state import ClusterState


def owner_reference(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def random_suffix(state: ClusterState) -> str:
    rng = state.rng()
    return "".join(rng.choices(c.NAME_SUFFIX_ALPHABET, k=c.NAME_SUFFIX_LENGTH))


def new_pod(
    state: ClusterState,
    namespace: str,
    prefix: str,
    template: dict[str, Any],
    owner: dict[str, Any] | None,
) -> dict[str, Any]:
    """Create a pod from a template, named ``<prefix>-<5 random characters>``."""
    while True:
        name = f"{prefix}-{random_suffix(state)}"
        if state.get("Pod", namespace, name) is None:
            break
    meta: dict[str, Any] = {
        "name": name,
        "generateName": f"{prefix}-",
        "namespace": namespace,
        "labels": dict((template.get("metadata") or {}).get("labels") or {}),
    }
    annotations = (template.get("metadata") or {}).get("annotations")
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner is not None:
        meta["ownerReferences"] = [owner_reference(owner)]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": deep_copy(template.get("spec") or {}),
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }
    return state.put(pod)


def delete_pod(state: ClusterState, key: ObjectKey, reason: str = "Killing") -> None:
    pod = state.remove(key)
    if pod is None:
        return
    status = pod.get("status") or {}
    if not (pod.get("spec") or {}).get("hostNetwork"):
        ips = [entry.get("ip") for entry in status.get("podIPs") or ()] or [status.get("podIP")]
        for ipam, ip in zip(state.ipams(), ips, strict=False):
            if ip:
                ipam.release(ip)


# --- Deployments ----------------------------------------------------------------------------


def sync_deployment(state: ClusterState, key: ObjectKey) -> None:
    deployment = state.objects.get(key)
    owned = state.children_of("Deployment", key.namespace, key.name, "ReplicaSet")
    if deployment is None:
        for rs in owned:
            delete_replicaset(state, ObjectKey("ReplicaSet", key.namespace, rs["metadata"]["name"]))
        return
    spec = deployment["spec"]
    template = spec["template"]
    pod_hash = template_hash(template, c.NAME_SUFFIX_ALPHABET)
    replicas = spec.get("replicas", 1)
    current_name = f"{key.name}-{pod_hash}"
    for rs in owned:
        name = rs["metadata"]["name"]
        if name != current_name and rs["spec"]["replicas"] != 0:
            _scale_replicaset(state, deployment, rs, 0)
    current = state.get("ReplicaSet", key.namespace, current_name)
    if current is None:
        template = deep_copy(template)
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        labels[c.POD_TEMPLATE_HASH_LABEL] = pod_hash
        selector = deep_copy(spec["selector"])
        selector.setdefault("matchLabels", {})[c.POD_TEMPLATE_HASH_LABEL] = pod_hash
        revision = 1 + max((_revision(rs) for rs in owned), default=0)
        current = state.put(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": current_name,
                    "namespace": key.namespace,
                    "labels": dict(labels),
                    "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                    "ownerReferences": [owner_reference(deployment)],
                },
                "spec": {"replicas": 0, "selector": selector, "template": template},
                "status": {"replicas": 0},
            }
        )
    if current["spec"]["replicas"] != replicas:
        _scale_replicaset(state, deployment, current, replicas)
    _prune_history(state, deployment, owned, current_name)


def _revision(rs: dict[str, Any]) -> int:
    annotations = rs["metadata"].get("annotations") or {}
    return int(annotations.get("deployment.kubernetes.io/revision", "0"))


def _prune_history(
    state: ClusterState, deployment: dict[str, Any], owned: list[dict[str, Any]], current: str
) -> None:
    limit = deployment["spec"].get("revisionHistoryLimit", 10)
    old = sorted(
        (rs for rs in owned if rs["metadata"]["name"] != current), key=_revision, reverse=True
    )
    for rs in old[limit:]:
        delete_replicaset(
            state, ObjectKey("ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"])
        )


def _scale_replicaset(
    state: ClusterState, deployment: dict[str, Any], rs: dict[str, Any], replicas: int
) -> None:
    before = rs["spec"]["replicas"]
    rs_key = ObjectKey("ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"])
    state.modify(rs_key, lambda obj: obj["spec"].__setitem__("replicas", replicas))
    direction = "up" if replicas > before else "down"
    state.record(
        "Normal",
        "ScalingReplicaSet",
        ObjectKey("Deployment", rs["metadata"]["namespace"], deployment["metadata"]["name"]),
        f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {replicas}",
    )


def delete_replicaset(state: ClusterState, key: ObjectKey) -> None:
    state.remove(key)
    for pod_key in sorted(state.pods_by_owner.get(("ReplicaSet", key.namespace, key.name), ())):
        delete_pod(state, pod_key)


# --- ReplicaSets ----------------------------------------------------------------------------


def sync_replicaset(state: ClusterState, key: ObjectKey) -> None:
    rs = state.objects.get(key)
    pod_keys = sorted(state.pods_by_owner.get(("ReplicaSet", key.namespace, key.name), ()))
    if rs is None:
        for pod_key in pod_keys:
            delete_pod(state, pod_key)
        return
    wanted = rs["spec"].get("replicas", 1)
    have = len(pod_keys)
    for _ in range(wanted - have):
        pod = new_pod(state, key.namespace, key.name, rs["spec"]["template"], rs)
        state.record("Normal", "SuccessfulCreate", key, f"Created pod: {pod['metadata']['name']}")
    if have > wanted:
        pods = [state.objects[k] for k in pod_keys]
        for pod in sorted(pods, key=_deletion_rank)[: have - wanted]:
            delete_pod(state, ObjectKey("Pod", key.namespace, pod["metadata"]["name"]))
            state.record(
                "Normal", "SuccessfulDelete", key, f"Deleted pod: {pod['metadata']['name']}"
            )


def _deletion_rank(pod: dict[str, Any]) -> tuple[int, int, int]:
    """Which pods a ReplicaSet removes first when scaling down, as ActivePods ranks them:
    unscheduled before scheduled, not ready before ready, then the newest first."""
    scheduled = 1 if (pod.get("spec") or {}).get("nodeName") else 0
    ready = 1 if pod_is_ready(pod) else 0
    return (scheduled, ready, -int(pod["metadata"].get("resourceVersion", "0")))


def controller_kind(pod: dict[str, Any]) -> str | None:
    """The kind of the pod's controlling owner (ReplicaSet, DaemonSet, Node), if any."""
    for ref in pod["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("kind")
    return None


def pod_is_ready(pod: dict[str, Any]) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


# --- DaemonSets -----------------------------------------------------------------------------


def sync_daemonset(state: ClusterState, key: ObjectKey) -> None:
    ds = state.objects.get(key)
    pods = [state.objects[k] for k in sorted(state.pods_by_owner.get(("DaemonSet", *key[1:]), ()))]
    if ds is None:
        for pod in pods:
            delete_pod(state, ObjectKey("Pod", key.namespace, pod["metadata"]["name"]))
        return
    template = ds["spec"]["template"]
    eligible = {
        node["metadata"]["name"] for node in state.of_kind("Node") if _daemon_fits(template, node)
    }
    by_node: dict[str, dict[str, Any]] = {}
    for pod in pods:
        node = pod["spec"].get("nodeName")
        if node in eligible and node not in by_node:
            by_node[node] = pod
        else:
            delete_pod(state, ObjectKey("Pod", key.namespace, pod["metadata"]["name"]))
            state.record(
                "Normal", "SuccessfulDelete", key, f"Deleted pod: {pod['metadata']['name']}"
            )
    for node in sorted(eligible - by_node.keys()):
        node_template = deep_copy(template)
        node_template["spec"]["nodeName"] = node
        pod = new_pod(state, key.namespace, key.name, node_template, ds)
        state.record("Normal", "SuccessfulCreate", key, f"Created pod: {pod['metadata']['name']}")


def _daemon_fits(template: dict[str, Any], node: dict[str, Any]) -> bool:
    spec = template.get("spec") or {}
    node_labels = node["metadata"].get("labels") or {}
    selector = spec.get("nodeSelector") or {}
    if any(node_labels.get(k) != v for k, v in selector.items()):
        return False
    # DaemonSet pods tolerate a node being not-ready or unreachable (the controller adds those
    # tolerations), so only the node's own NoSchedule/NoExecute taints matter here.
    taints = [t for t in (node.get("spec") or {}).get("taints") or () if not _lifecycle_taint(t)]
    return tolerates(spec.get("tolerations") or [], taints)


def _lifecycle_taint(taint: dict[str, Any]) -> bool:
    return taint.get("key", "").startswith("node.kubernetes.io/")


# --- status ---------------------------------------------------------------------------------


def refresh_owner_status(state: ClusterState, kind: str, namespace: str, name: str) -> None:
    """Recount a ReplicaSet's or DaemonSet's pods into its status, and its Deployment's."""
    obj = state.get(kind, namespace, name)
    if obj is None:
        return
    pods = [state.objects[k] for k in state.pods_by_owner.get((kind, namespace, name), ())]
    ready = sum(1 for p in pods if pod_is_ready(p))
    if kind == "ReplicaSet":
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": obj["metadata"].get("generation", 1),
        }
    else:
        scheduled = sum(1 for p in pods if p["spec"].get("nodeName"))
        status = {
            "currentNumberScheduled": scheduled,
            "desiredNumberScheduled": len(pods),
            "numberReady": ready,
            "numberAvailable": ready,
            "updatedNumberScheduled": scheduled,
            "numberMisscheduled": 0,
        }
    if obj.get("status") != status:
        state.modify(
            ObjectKey(kind, namespace, name),
            lambda o: o.__setitem__("status", status),
            status_only=True,
        )
        state.dirty[kind].discard(ObjectKey(kind, namespace, name))
    if kind == "ReplicaSet":
        for ref in obj["metadata"].get("ownerReferences") or ():
            if ref.get("kind") == "Deployment":
                refresh_deployment_status(state, namespace, ref["name"])


def refresh_deployment_status(state: ClusterState, namespace: str, name: str) -> None:
    deployment = state.get("Deployment", namespace, name)
    if deployment is None:
        return
    owned = state.children_of("Deployment", namespace, name, "ReplicaSet")
    total = sum(rs["status"].get("replicas", 0) for rs in owned)
    ready = sum(rs["status"].get("readyReplicas", 0) for rs in owned)
    newest = max(owned, key=_revision, default=None)
    updated = newest["status"].get("replicas", 0) if newest else 0
    wanted = deployment["spec"].get("replicas", 1)
    available = ready >= wanted
    status = {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": max(0, total - ready),
        "conditions": [
            {
                "type": "Available",
                "status": "True" if available else "False",
                "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "message": "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
            }
        ],
    }
    if not status["unavailableReplicas"]:
        del status["unavailableReplicas"]
    if deployment.get("status") != status:
        key = ObjectKey("Deployment", namespace, name)
        state.modify(key, lambda o: o.__setitem__("status", status), status_only=True)
        state.dirty["Deployment"].discard(key)
