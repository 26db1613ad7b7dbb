"""View models for the sandbox's side panel: what a trace can start from and be sent to, the
points a trace's packet moves through on the map, and the DNS and rules tabs."""

from __future__ import annotations

from typing import Any

from app.cluster.objects import GATEWAY_KINDS
from app.render.gateway_view import gateway_details

SYSTEM_NAMESPACES = {
    "kube-system",
    "kube-flannel",
    "ingress-nginx",
    "envoy-gateway-system",
    "kube-public",
    "kube-node-lease",
}


def source_options(cluster: Any) -> list[dict[str, str]]:
    """Where a trace can start: the learner's pods first, then nodes, the outside, system pods.

    >>> from app.cluster.cluster import Cluster
    >>> options = source_options(Cluster.create(seed=1))
    >>> options[0]["value"], options[0]["group"]
    ('node/control-plane', 'Nodes (host network)')
    >>> any(o["value"] == "external" for o in options)
    True
    """
    options: list[dict[str, str]] = []
    system: list[dict[str, str]] = []
    for pod in cluster.list("Pod"):
        status = pod.get("status") or {}
        if not status.get("podIP") or pod["spec"].get("hostNetwork"):
            continue
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        entry = {"value": f"pod/{ns}/{name}", "label": f"{ns}/{name} ({status['podIP']})"}
        if ns in SYSTEM_NAMESPACES:
            system.append({**entry, "group": "System pods"})
        else:
            options.append({**entry, "group": "Pods"})
    for node in cluster.list("Node"):
        summary = cluster.node_summary(node)
        options.append(
            {
                "value": f"node/{summary['name']}",
                "label": f"{summary['name']} ({summary['internalIP']})",
                "group": "Nodes (host network)",
            }
        )
    options.append(
        {"value": "external", "label": "a browser outside (198.51.100.7)", "group": "Outside"}
    )
    order = {"Pods": 0, "Nodes (host network)": 1, "Outside": 2}
    options.sort(key=lambda o: order[o["group"]])
    return options + system


def target_suggestions(cluster: Any) -> list[str]:
    """What a learner might send a request to: Service names and FQDNs, ClusterIP:port, node
    IP:NodePort, LoadBalancer IPs, Ingress hosts and paths."""
    found: list[str] = []
    nodes = [cluster.node_summary(n)["internalIP"] for n in cluster.list("Node")]
    for service in cluster.list("Service"):
        ns, name = service["metadata"]["namespace"], service["metadata"]["name"]
        spec = service.get("spec") or {}
        if ns in SYSTEM_NAMESPACES and name != "kube-dns":
            continue
        ports = spec.get("ports") or []
        first = ports[0]["port"] if ports else 80
        scheme = "http://" if first in (80, 8080) else ""
        suffix = "/" if scheme else f":{first}"
        found.append(f"{scheme}{name}{'' if first == 80 or not scheme else f':{first}'}{suffix}")
        found.append(
            f"{scheme}{name}.{ns}.svc.cluster.local{'' if first == 80 or not scheme else f':{first}'}{suffix}"
        )
        if spec.get("clusterIP") not in (None, "None"):
            found.append(f"{spec['clusterIP']}:{first}")
        for port in ports:
            if port.get("nodePort"):
                found.extend(f"http://{ip}:{port['nodePort']}/" for ip in nodes[1:3])
        for ingress in ((service.get("status") or {}).get("loadBalancer") or {}).get(
            "ingress"
        ) or []:
            found.append(f"http://{ingress['ip']}/")
    for ingress in cluster.list("Ingress"):
        for rule in (ingress.get("spec") or {}).get("rules") or []:
            host = rule.get("host")
            if not host or host.startswith("*."):
                continue
            for path in (rule.get("http") or {}).get("paths") or []:
                found.append(f"http://{host}{path.get('path', '/')}")
    return list(dict.fromkeys(found))


def with_shares(traffic: dict[str, Any]) -> dict[str, Any]:
    """``send_traffic``'s answer with each endpoint's bar length (``share``, 0-100, of the
    busiest endpoint).

    >>> with_shares({"endpoints": [{"requests": 30}, {"requests": 60}]})["endpoints"]
    [{'requests': 30, 'share': 50}, {'requests': 60, 'share': 100}]
    """
    top = max([e["requests"] for e in traffic["endpoints"]] or [1]) or 1
    for endpoint in traffic["endpoints"]:
        endpoint["share"] = round(100 * endpoint["requests"] / top)
    return traffic


def rules_view(ruleset: Any, highlight: list[str] | None = None) -> dict[str, Any]:
    """The node's rules as lines, the ones a trace matched marked."""
    marked = set(highlight or [])
    lines = [{"text": line, "hit": line.strip() in marked} for line in ruleset.text.splitlines()]
    hits = sum(1 for line in lines if line["hit"])
    return {"node": ruleset.node, "mode": ruleset.mode, "lines": lines, "hits": hits}


def object_details(cluster: Any, obj: dict[str, Any]) -> dict[str, Any]:
    """What the details drawer shows for one object: facts, owner, YAML, and whether the
    learner may delete it."""
    from app.cluster.manifests import dump_manifests

    meta = obj["metadata"]
    kind = obj["kind"]
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    facts: list[tuple[str, str]] = []
    gateway: dict[str, Any] | None = None
    if kind == "Pod":
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        facts += [
            ("Phase", status.get("phase", "Pending")),
            ("Ready", "yes" if ready else "no"),
            ("Pod IP", status.get("podIP") or "none yet"),
            ("Node", spec.get("nodeName") or "not scheduled"),
        ]
        labels = meta.get("labels") or {}
        facts.append(
            (
                "Labels",
                ", ".join(f"{k}={v}" for k, v in labels.items() if k != "pod-template-hash")
                or "none",
            )
        )
        if cluster.list("NetworkPolicy", meta.get("namespace")):
            from app.render.reachability import isolation_text

            facts.append(("NetworkPolicy", isolation_text(cluster, obj)))
    elif kind == "NetworkPolicy":
        from app.render.reachability import policy_facts

        facts += policy_facts(cluster, obj)
    elif kind == "Service":
        facts += [
            ("Type", spec.get("type", "ClusterIP")),
            ("ClusterIP", spec.get("clusterIP") or "none"),
        ]
        facts.append(
            (
                "Ports",
                ", ".join(
                    f"{p['port']}→{p.get('targetPort', p['port'])}/{p.get('protocol', 'TCP')}"
                    + (f" nodePort {p['nodePort']}" if p.get("nodePort") else "")
                    for p in spec.get("ports") or []
                )
                or "none",
            )
        )
        selector = spec.get("selector") or {}
        facts.append(("Selector", ", ".join(f"{k}={v}" for k, v in selector.items()) or "none"))
        endpoints = [
            a
            for s in cluster.list("EndpointSlice", meta.get("namespace"))
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == meta["name"]
            for e in s.get("endpoints") or []
            if (e.get("conditions") or {}).get("ready")
            for a in e.get("addresses") or []
        ]
        facts.append(("Ready endpoints", ", ".join(endpoints) or "none"))
    elif kind in GATEWAY_KINDS:
        gateway = gateway_details(obj)
        facts += gateway.pop("facts")
    elif kind == "Node":
        summary = cluster.node_summary(obj)
        facts += [
            ("Status", "Ready" if summary["ready"] else "NotReady"),
            ("InternalIP", summary["internalIP"]),
            ("Pod CIDR", ", ".join(summary["podCIDRs"])),
            ("Pods", str(summary["pods"])),
        ]
    owner = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    note = ""
    scale = None
    if owner and owner.get("kind") == "ReplicaSet":
        deployment = owner["name"].rsplit("-", 1)[0]
        live = cluster.get("Deployment", meta.get("namespace", ""), deployment)
        if live is not None:
            scale = {"name": deployment, "replicas": (live.get("spec") or {}).get("replicas", 1)}
        note = (
            f"Owned by ReplicaSet {owner['name']} of Deployment {deployment}: delete this pod "
            "and the ReplicaSet replaces it at once, with a new name and a new IP."
        )
    elif owner:
        note = f"Owned by {owner['kind']} {owner['name']}, which keeps it running."
    shown = {k: v for k, v in obj.items() if k != "metadata"}
    shown = {"metadata": {k: v for k, v in meta.items() if k not in ("managedFields",)}, **shown}
    protected = kind == "Namespace" and meta["name"] in SYSTEM_NAMESPACES | {"default"}
    return {
        "kind": kind,
        "name": meta["name"],
        "namespace": meta.get("namespace", ""),
        "facts": facts,
        "note": note,
        "yaml": dump_manifests([shown]),
        "scale": scale,
        "gateway": gateway,
        "deletable": not protected and not (kind == "Node" and meta["name"] == "control-plane"),
        "editable": kind
        in ("Pod", "Service", "Deployment", "Namespace", "Ingress", "NetworkPolicy", "DaemonSet")
        or kind in GATEWAY_KINDS,
    }
