"""The scheduler, the kubelet's part in starting a pod, and the node lifecycle controller.

The scheduler filters nodes as kube-scheduler's default plugins do (NodeName, NodeReady,
NodeUnschedulable, TaintToleration, NodeAffinity for ``nodeSelector``), then prefers the node
with the fewest pods of the same owner (default topology spreading) and then the fewest pods,
breaking ties at random from the cluster's seed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.cluster.objects import ObjectKey, canonical_json
from app.cluster.state import ClusterState, controller_of


def node_is_ready(node: dict[str, Any]) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def tolerates(tolerations: list[dict[str, Any]], taints: list[dict[str, Any]]) -> bool:
    """Whether every NoSchedule/NoExecute taint is tolerated (PreferNoSchedule never blocks).

    >>> taint = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    >>> tolerates([], [taint])
    False
    >>> tolerates([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}], [taint])
    True
    >>> tolerates([{"operator": "Exists"}], [taint])
    True
    """
    for taint in taints:
        if taint.get("effect") == "PreferNoSchedule":
            continue
        if not any(_tolerates_one(t, taint) for t in tolerations):
            return False
    return True


def _tolerates_one(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    operator = toleration.get("operator", "Equal")
    key = toleration.get("key")
    if operator == "Exists":
        return not key or key == taint.get("key")
    return key == taint.get("key") and toleration.get("value", "") == taint.get("value", "")


MAX_PODS_PER_NODE = 110  # the kubelet's --max-pods default


def _why_not(pod: dict[str, Any], node: dict[str, Any]) -> str | None:
    """Why the static filters reject ``node`` for ``pod``, or None when it passes them.

    The filters run in kube-scheduler's order (NodeUnschedulable, TaintToleration,
    NodeAffinity) and the first that fails names the reason, as the scheduler reports it.
    A NotReady node fails on its ``node.kubernetes.io/unreachable`` taint.
    """
    spec = pod["spec"]
    if (node.get("spec") or {}).get("unschedulable"):
        return "node(s) were unschedulable"
    tolerations = spec.get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") == "PreferNoSchedule":
            continue
        if not any(_tolerates_one(t, taint) for t in tolerations):
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return "node(s) didn't match Pod's node affinity/selector"
    return None


def _filter_nodes(state: ClusterState, pod: dict[str, Any]) -> tuple[list[str], Counter[str]]:
    """The nodes that pass the static filters for pods like this one (cached per profile)."""
    spec = pod["spec"]
    tolerations, selector = spec.get("tolerations"), spec.get("nodeSelector")
    profile = canonical_json([tolerations, selector]) if tolerations or selector else ""
    cached = state.feasible_nodes.get(profile)
    if cached is None:
        reasons: Counter[str] = Counter()
        feasible = []
        for node in sorted(state.of_kind("Node"), key=lambda n: n["metadata"]["name"]):
            problem = _why_not(pod, node)
            if problem:
                reasons[problem] += 1
            else:
                feasible.append(node["metadata"]["name"])
        cached = state.feasible_nodes[profile] = (feasible, reasons)
    return cached


def schedule(state: ClusterState, key: ObjectKey) -> None:
    """Bind a pending pod to a node, or leave a FailedScheduling event saying why not."""
    pod = state.objects.get(key)
    if pod is None or pod["spec"].get("nodeName"):
        return
    feasible, static_reasons = _filter_nodes(state, pod)
    reasons = Counter(static_reasons)
    full = [
        n
        for load, nodes in state.nodes_by_load.items()
        if load >= MAX_PODS_PER_NODE
        for n in nodes
        if n in feasible
    ]
    if full:
        reasons["Too many pods"] += len(full)
        feasible = [n for n in feasible if n not in set(full)]
    if not feasible:
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        total = state.count("Node")
        message = (
            f"0/{total} nodes are available: {detail}. preemption: 0/{total} nodes are "
            f"available: {total} Preemption is not helpful for scheduling."
        )
        state.record("Warning", "FailedScheduling", key, message)
        _set_unschedulable(state, pod, message)
        return
    owner = controller_of(pod)
    siblings_on: Counter[str] = Counter()
    if owner:
        for sibling in state.pods_by_owner.get((owner[0], key.namespace, owner[1]), ()):
            node = state.objects[sibling]["spec"].get("nodeName")
            if node:
                siblings_on[node] += 1
    choices = _least_loaded_without_siblings(state, feasible, siblings_on)
    if not choices:
        scores = {n: (siblings_on[n], len(state.pods_by_node.get(n, ()))) for n in feasible}
        best = min(scores.values())
        choices = [n for n in feasible if scores[n] == best]
    chosen = state.rng().choice(choices)
    state.bind(key, chosen)
    state.record(
        "Normal", "Scheduled", key, f"Successfully assigned {key.namespace}/{key.name} to {chosen}"
    )


def _least_loaded_without_siblings(
    state: ClusterState, feasible: list[str], siblings_on: Counter[str]
) -> list[str]:
    """The feasible nodes with none of the pod's siblings and the fewest pods, found through
    the load buckets instead of scoring every node; empty when every node has a sibling."""
    allowed = set(feasible)
    for load in sorted(state.nodes_by_load):
        nodes = [n for n in state.nodes_by_load[load] if n in allowed and not siblings_on[n]]
        if nodes:
            return sorted(nodes)
    return []


def _set_unschedulable(state: ClusterState, pod: dict[str, Any], message: str) -> None:
    status = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
            }
        ],
        "qosClass": "BestEffort",
    }
    if pod.get("status") != status:
        key = ObjectKey("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
        state.modify(key, lambda obj: obj.__setitem__("status", status), status_only=True)
        state.dirty["Pod"].discard(key)


def start(state: ClusterState, key: ObjectKey) -> None:
    """The kubelet's part: give a bound pod its IP (or the node's, with hostNetwork), start
    its containers and report Ready as the node's health allows."""
    pod = state.objects.get(key)
    if pod is None or not pod["spec"].get("nodeName"):
        return
    node = state.get("Node", "", pod["spec"]["nodeName"])
    if node is None:
        return  # bound to a node that does not exist: it stays Pending, as in Kubernetes
    status = pod.get("status") or {}
    ready = node_is_ready(node)
    if status.get("podIP") and _ready_of(status) == ready:
        return
    status = dict(pod.get("status") or {})
    fresh = not status.get("podIP")
    node_ip = node_internal_ip(node)
    if fresh:
        # One address per family, primary first, as the kubelet reports what the CNI gave
        # (a host-network pod has its node's).
        node_ips = node_internal_ips(node)
        if pod["spec"].get("hostNetwork"):
            ips = node_ips
        else:
            ips = [ipam.allocate(pod["spec"]["nodeName"]) for ipam in state.ipams()]
        status.update(
            {
                "phase": "Running",
                "hostIP": node_ip,
                "hostIPs": [{"ip": ip} for ip in node_ips],
                "podIP": ips[0],
                "podIPs": [{"ip": ip} for ip in ips],
                "qosClass": "BestEffort",
                "startTime": state.timestamp(),  # when the kubelet took it (describe's Start Time)
            }
        )
        status["containerStatuses"] = [
            {
                "name": container["name"],
                "image": container.get("image", ""),
                # Required in core/v1 ContainerStatus (json:"imageID", no omitempty), so the API
                # server always sends it; empty, as before the kubelet reports a pulled image's
                # digest (no image is pulled here). Typed clients (the kubernetes package) need it.
                "imageID": "",
                "ready": ready,
                "started": True,
                "restartCount": 0,
                "state": {"running": {}},
            }
            for container in pod["spec"].get("containers") or []
        ]
    flag = "True" if ready else "False"
    status["conditions"] = [
        {"type": "PodReadyToStartContainers", "status": "True"},
        {"type": "Initialized", "status": "True"},
        {"type": "Ready", "status": flag},
        {"type": "ContainersReady", "status": flag},
        {"type": "PodScheduled", "status": "True"},
    ]
    if not ready:
        status["conditions"][2]["reason"] = "NodeNotReady"
    for container in status.get("containerStatuses") or []:
        container["ready"] = ready
    state.modify(key, lambda obj: obj.__setitem__("status", status), status_only=True)
    state.dirty["Pod"].discard(key)
    if fresh:
        names = ", ".join(c["name"] for c in pod["spec"].get("containers") or [])
        state.record(
            "Normal", "Started", key, f"Started container {names} (pod IP {status['podIP']})"
        )


def _ready_of(status: dict[str, Any]) -> bool:
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def node_internal_ips(node: dict[str, Any]) -> list[str]:
    """Every InternalIP of a node (one per family on a dual-stack cluster), primary first."""
    found = [
        address["address"]
        for address in (node.get("status") or {}).get("addresses") or ()
        if address.get("type") == "InternalIP"
    ]
    return found or [""]


def node_internal_ip(node: dict[str, Any]) -> str:
    for address in (node.get("status") or {}).get("addresses") or ():
        if address.get("type") == "InternalIP":
            return address["address"]
    return ""
