"""What the Build forms show: the cluster's namespaces, nodes, Deployments, Services and pod
labels to pick from, and which pods a selector would pick."""

from __future__ import annotations

from typing import Any

from app.cluster.selectors import service_selector_matches
from app.errors import InvalidObjects
from app.render.forms.fields import parse_labels
from app.render.sandbox import SYSTEM_NAMESPACES

#: Labels the controllers add; a learner does not select on them.
HIDDEN_LABELS = {"pod-template-hash", "controller-revision-hash", "pod-template-generation"}


def _user_namespace(namespace: str) -> bool:
    return namespace not in SYSTEM_NAMESPACES


def _pod_labels(pod: dict[str, Any]) -> dict[str, str]:
    labels = pod["metadata"].get("labels") or {}
    return {k: v for k, v in labels.items() if k not in HIDDEN_LABELS}


def selector_preview(cluster: Any, namespace: str, selector_text: str) -> dict[str, Any]:
    """Which pods of ``namespace`` a Service selector (``app=web``) would pick.

    Returns ``matches`` (how many), ``pods`` (their names), ``labels_seen`` (every
    ``key=value`` the namespace's pods carry, to pick from), ``selector`` and ``error`` (why
    the text is not a selector, or None).

    >>> from app.cluster.cluster import Cluster
    >>> selector_preview(Cluster.create(seed=1), "default", "app")["error"]
    'Invalid value: "app": write each label as key=value, separated by commas (app=web,tier=front)'
    """
    namespace = namespace.strip() or "default"
    pods = [p for p in cluster.list("Pod", namespace) if not p["metadata"].get("deletionTimestamp")]
    seen = sorted({f"{k}={v}" for p in pods for k, v in _pod_labels(p).items()})
    result: dict[str, Any] = {
        "namespace": namespace,
        "selector_text": selector_text,
        "selector": {},
        "matches": 0,
        "pods": [],
        "labels_seen": seen,
        "error": None,
    }
    try:
        selector = parse_labels(selector_text, "spec.selector")
    except InvalidObjects as error:
        result["error"] = error.errors[0].message
        return result
    result["selector"] = selector
    if selector:
        chosen = [
            p["metadata"]["name"]
            for p in pods
            if service_selector_matches(selector, p["metadata"].get("labels") or {})
        ]
        result["matches"] = len(chosen)
        result["pods"] = chosen
    return result


def forms_view(cluster: Any) -> dict[str, Any]:
    """What the Build forms offer to pick from: namespaces, nodes, the learner's
    Deployments and Services, and the labels their pods carry (to pick a selector from).

    >>> from app.cluster.cluster import Cluster
    >>> view = forms_view(Cluster.create(seed=1))
    >>> view["namespaces"], [(n["name"], n["roles"]) for n in view["nodes"]]
    (['default'], [('control-plane', 'control-plane'), ('worker-1', '<none>'), ('worker-2', '<none>')])
    """
    namespaces = [
        ns["metadata"]["name"]
        for ns in cluster.list("Namespace")
        if _user_namespace(ns["metadata"]["name"])
        and ns["metadata"]["name"] not in ("kube-public", "kube-node-lease")
    ]
    namespaces.sort(key=lambda n: (n != "default", n))
    nodes = [cluster.node_summary(n) for n in cluster.list("Node")]
    deployments = [
        {
            "namespace": d["metadata"]["namespace"],
            "name": d["metadata"]["name"],
            "replicas": d["spec"].get("replicas", 1),
            "ready": (d.get("status") or {}).get("readyReplicas", 0),
        }
        for d in cluster.list("Deployment")
        if cluster.is_user_made(d)
    ]
    services = [
        {
            "namespace": s["metadata"]["namespace"],
            "name": s["metadata"]["name"],
            "ports": [p.get("name") or p["port"] for p in s["spec"].get("ports") or []],
        }
        for s in cluster.list("Service")
        if _user_namespace(s["metadata"]["namespace"]) and s["metadata"]["name"] != "kubernetes"
    ]
    labels = sorted(
        {
            f"{k}={v}"
            for p in cluster.list("Pod")
            if _user_namespace(p["metadata"]["namespace"])
            for k, v in _pod_labels(p).items()
        }
    )
    return {
        "namespaces": namespaces or ["default"],
        "nodes": nodes,
        "deployments": deployments,
        "services": services,
        "labels": labels,
        # The HTTPRoute form's parents and the Gateway form's classes.
        "gateways": [
            {
                "value": f"{g['metadata']['namespace']}/{g['metadata']['name']}",
                "listeners": [li.get("name", "") for li in g["spec"].get("listeners") or []],
            }
            for g in cluster.list("Gateway")
        ],
        "gateway_classes": [gc["metadata"]["name"] for gc in cluster.list("GatewayClass")],
    }
