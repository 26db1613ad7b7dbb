"""The tables of the workspace page's Objects tab (pods, Deployments, ReplicaSets,
Services, EndpointSlices, Ingresses, events), shaped like ``kubectl get -o wide`` prints them.
:mod:`app.render.tables` re-exports :func:`workspace_view`."""

from __future__ import annotations

from typing import Any

from app.cluster.cluster import Cluster
from app.render.gateway_view import gateway_api_view
from app.render.map_model import SYSTEM_NAMESPACES


def _ports(service: dict[str, Any]) -> str:
    parts = []
    for port in service["spec"].get("ports") or []:
        text = str(port["port"])
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        parts.append(f"{text}/{port.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _selector(service: dict[str, Any]) -> str:
    selector = service["spec"].get("selector") or {}
    return ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>"


def _ready(pod: dict[str, Any]) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len(pod["spec"].get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def workspace_view(cluster: Cluster) -> dict[str, Any]:
    """What the workspace page shows: settings, nodes, and the learner-facing tables."""
    summary = cluster.summary()
    pods = [
        {
            "namespace": p["metadata"]["namespace"],
            "name": p["metadata"]["name"],
            "ready": _ready(p),
            "status": (p.get("status") or {}).get("phase", "Pending"),
            "ip": (p.get("status") or {}).get("podIP") or "<none>",
            "node": p["spec"].get("nodeName") or "<none>",
            "system": p["metadata"]["namespace"] not in ("default",)
            and not cluster.is_user_made(p),
        }
        for p in cluster.list("Pod")
    ]
    deployments = [
        {
            "namespace": d["metadata"]["namespace"],
            "name": d["metadata"]["name"],
            "ready": f"{(d.get('status') or {}).get('readyReplicas', 0)}/{d['spec'].get('replicas', 1)}",
            "up_to_date": (d.get("status") or {}).get("updatedReplicas", 0),
            "available": (d.get("status") or {}).get("availableReplicas", 0),
            "selector": ",".join(
                f"{k}={v}"
                for k, v in ((d["spec"].get("selector") or {}).get("matchLabels") or {}).items()
            ),
            "system": d["metadata"]["namespace"] in SYSTEM_NAMESPACES,
        }
        for d in cluster.list("Deployment")
    ]
    replica_sets = [
        {
            "namespace": r["metadata"]["namespace"],
            "name": r["metadata"]["name"],
            "desired": r["spec"].get("replicas", 1),
            "current": (r.get("status") or {}).get("replicas", 0),
            "ready": (r.get("status") or {}).get("readyReplicas", 0),
            "owner": next(
                (o["name"] for o in r["metadata"].get("ownerReferences") or []), "<none>"
            ),
            "system": r["metadata"]["namespace"] in SYSTEM_NAMESPACES,
        }
        for r in cluster.list("ReplicaSet")
    ]
    services = []
    for s in cluster.list("Service"):
        ingress = ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        external = ",".join(i.get("ip", "") for i in ingress)
        if s["spec"].get("type") == "ExternalName":
            external = s["spec"].get("externalName", "")
        services.append(
            {
                "namespace": s["metadata"]["namespace"],
                "name": s["metadata"]["name"],
                "type": s["spec"].get("type", "ClusterIP"),
                "cluster_ip": s["spec"].get("clusterIP") or "<none>",
                "external_ip": external
                or ("<pending>" if s["spec"].get("type") == "LoadBalancer" else "<none>"),
                "ports": _ports(s),
                "selector": _selector(s),
            }
        )
    slices = [
        {
            "namespace": e["metadata"]["namespace"],
            "name": e["metadata"]["name"],
            "ports": ",".join(str(p.get("port")) for p in e.get("ports") or []) or "<unset>",
            "endpoints": ",".join(
                a for ep in e.get("endpoints") or [] for a in ep.get("addresses", [])
            )
            or "<unset>",
        }
        for e in cluster.list("EndpointSlice")
    ]
    ingresses = []
    for ing in cluster.list("Ingress"):
        spec = ing.get("spec") or {}
        hosts = sorted({r.get("host") or "*" for r in spec.get("rules") or []}) or ["*"]
        lb = cluster.get("Service", "ingress-nginx", "ingress-nginx-controller") or {}
        address = ",".join(
            i.get("ip", "")
            for i in ((lb.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        )
        ingresses.append(
            {
                "namespace": ing["metadata"]["namespace"],
                "name": ing["metadata"]["name"],
                "class": spec.get("ingressClassName") or "<none>",
                "hosts": ",".join(hosts),
                "address": address,
                "ports": "80, 443" if spec.get("tls") else "80",
            }
        )
    events = [e.to_dict() for e in reversed(cluster.events()[-30:])]
    return {
        "summary": summary,
        "pods": pods,
        "deployments": deployments,
        "replica_sets": replica_sets,
        "services": services,
        "slices": slices,
        "ingresses": ingresses,
        # kubectl get networkpolicy -A: NAME, POD-SELECTOR (empty: every pod of the namespace)
        "network_policies": [
            {
                "namespace": p["metadata"]["namespace"],
                "name": p["metadata"]["name"],
                "pod_selector": _selector_text((p.get("spec") or {}).get("podSelector") or {}),
            }
            for p in cluster.list("NetworkPolicy")
        ],
        "gateway_api": gateway_api_view(cluster),
        "events": events,
    }


def _selector_text(selector: dict[str, Any]) -> str:
    """A policy's pod selector as kubectl prints it (``<none>`` when it selects every pod).

    >>> _selector_text({"matchLabels": {"app": "db"}}), _selector_text({})
    ('app=db', '<none>')
    """
    from app.cluster.selectors import describe

    return describe(selector) or "<none>"
