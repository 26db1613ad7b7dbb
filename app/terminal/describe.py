"""``kubectl describe``: pods, services, endpoints, nodes, ingresses and deployments in the
layout of kubectl's describers (``k8s.io/kubectl/pkg/describe``, v1.34), with their events;
the Gateway API kinds with its generic describer for custom resources.

Each describer writes lines with tab-ended labels, as kubectl does, and
:func:`app.terminal.tabwriter.tabwrite` aligns them. Times (a pod's Start Time, an object's
CreationTimestamp) are printed in UTC; an event's age counts from the time the terminal was
given (``<unknown>`` without one, or for an event saved before times were kept).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.cluster.objects import GATEWAY_KINDS
from app.terminal import kube_objects as ko
from app.terminal.describe_custom import describe_custom
from app.terminal.describe_lines import (
    NONE,
    container_lines,
    event_lines,
    map_lines,
    time_text,
)
from app.terminal.describe_network import describe_endpoints, describe_ingress, describe_service
from app.terminal.kubectl_args import (
    Args,
    is_cluster_scoped,
    not_found,
    resolve_kind,
    selector_from_text,
    unknown_resource,
)
from app.terminal.output import Output, failed
from app.terminal.tabwriter import tabwrite


def describe_pod(cluster: Any, pod: dict[str, Any], now: float | None = None) -> list[str]:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    node = spec.get("nodeName")
    lines = [
        f"Name:\t{meta['name']}",
        f"Namespace:\t{meta['namespace']}",
        f"Priority:\t{spec.get('priority', 0)}",
        f"Service Account:\t{spec.get('serviceAccountName', 'default')}",
        f"Node:\t{f'{node}/' + status.get('hostIP', '') if node else NONE}",
        *([f"Start Time:\t{time_text(status['startTime'])}"] if status.get("startTime") else []),
        *map_lines("Labels:", meta.get("labels")),
        *map_lines("Annotations:", meta.get("annotations"), ": "),
        f"Status:\t{status.get('phase', 'Pending')}",
        f"IP:\t{status.get('podIP', '')}",
        "IPs:",
    ]
    lines += [f"  IP:\t{ip['ip']}" for ip in status.get("podIPs") or []] or [f"  {NONE}"]
    owner = next((o for o in meta.get("ownerReferences") or [] if o.get("controller")), None)
    if owner:
        lines.append(f"Controlled By:\t{owner['kind']}/{owner['name']}")
    lines.append("Containers:")
    lines += container_lines(spec, status.get("containerStatuses"), "  ")
    conditions = status.get("conditions") or []
    if conditions:
        lines += ["Conditions:", "  Type\tStatus"]
        lines += [f"  {c['type']}\t{c['status']} " for c in conditions]
    lines += [
        f"QoS Class:\t{status.get('qosClass', 'BestEffort')}",
        *map_lines("Node-Selectors:", spec.get("nodeSelector")),
        "Tolerations:\tnode.kubernetes.io/not-ready:NoExecute op=Exists for 300s",
        "\tnode.kubernetes.io/unreachable:NoExecute op=Exists for 300s",
        *event_lines(cluster, "Pod", meta["namespace"], meta["name"], now),
    ]
    return lines


def describe_node(cluster: Any, node: dict[str, Any], now: float | None = None) -> list[str]:
    meta, spec, status = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    labels = meta.get("labels") or {}
    roles = ",".join(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    taints = [f"{t['key']}:{t['effect']}" for t in spec.get("taints") or []]
    lines = [
        f"Name:\t{meta['name']}",
        f"Roles:\t{roles or NONE}",
        *map_lines("Labels:", labels),
        *map_lines("Annotations:", meta.get("annotations"), ": "),
        f"CreationTimestamp:\t{time_text(meta.get('creationTimestamp'))}",
        f"Taints:\t{taints[0] if taints else NONE}",
        *(f"\t{t}" for t in taints[1:]),
        f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}",
        "Conditions:",
        "  Type\tStatus\tReason\tMessage",
        "  ----\t------\t------\t-------",
        *(
            f"  {c['type']}\t{c['status']}\t{c.get('reason', '')}\t{c.get('message', '')}"
            for c in status.get("conditions") or []
        ),
        "Addresses:",
        *(f"  {a['type']}:\t{a['address']}" for a in status.get("addresses") or []),
    ]
    for title in ("capacity", "allocatable"):
        lines.append(f"{title.capitalize()}:")
        lines += [f"  {k}:\t{v}" for k, v in (status.get(title) or {}).items()]
    info = status.get("nodeInfo") or {}
    lines += [
        "System Info:",
        f"  Kernel Version:\t{info.get('kernelVersion', '')}",
        f"  OS Image:\t{info.get('osImage', '')}",
        f"  Container Runtime Version:\t{info.get('containerRuntimeVersion', '')}",
        f"  Kubelet Version:\t{info.get('kubeletVersion', '')}",
        f"PodCIDR:\t{spec.get('podCIDR', '')}",
        f"PodCIDRs:\t{','.join(spec.get('podCIDRs') or [])}",
    ]
    pods = [p for p in cluster.list("Pod") if (p.get("spec") or {}).get("nodeName") == meta["name"]]
    lines += [
        f"Non-terminated Pods:\t({len(pods)} in total)",
        "  Namespace\tName\tIP",
        "  ---------\t----\t--",
    ]
    lines += [
        f"  {p['metadata']['namespace']}\t{p['metadata']['name']}\t{(p.get('status') or {}).get('podIP', '')}"
        for p in sorted(pods, key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
    ]
    return [*lines, *event_lines(cluster, "Node", "", meta["name"], now)]


def describe_deployment(
    cluster: Any, deployment: dict[str, Any], now: float | None = None
) -> list[str]:
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    selector = ",".join(
        f"{k}={v}"
        for k, v in sorted(((spec.get("selector") or {}).get("matchLabels") or {}).items())
    )
    replicas = spec.get("replicas", 1)
    total, updated = status.get("replicas", 0), status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    template = spec.get("template") or {}
    owned = [
        r
        for r in cluster.list("ReplicaSet", meta["namespace"])
        if any(o.get("name") == meta["name"] for o in r["metadata"].get("ownerReferences") or [])
    ]
    newest = owned[-1] if owned else None
    lines = [
        f"Name:\t{meta['name']}",
        f"Namespace:\t{meta['namespace']}",
        f"CreationTimestamp:\t{time_text(meta.get('creationTimestamp'))}",
        *map_lines("Labels:", meta.get("labels")),
        *map_lines(
            "Annotations:",
            meta.get("annotations") or {"deployment.kubernetes.io/revision": "1"},
            ": ",
        ),
        f"Selector:\t{selector or NONE}",
        f"Replicas:\t{replicas} desired | {updated} updated | {total} total | {available} available | "
        f"{max(total - available, 0)} unavailable",
        f"StrategyType:\t{(spec.get('strategy') or {}).get('type', 'RollingUpdate')}",
        f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}",
        f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable', '25%')} max unavailable, "
        f"{rolling.get('maxSurge', '25%')} max surge",
        "Pod Template:",
        *map_lines("  Labels:", (template.get("metadata") or {}).get("labels")),
        "  Containers:",
        *container_lines(template.get("spec") or {}, None, "   "),
        f"  Volumes:\t{NONE}",
        f"  Node-Selectors:\t{NONE}",
        f"  Tolerations:\t{NONE}",
        "Conditions:",
        "  Type\tStatus\tReason",
        "  ----\t------\t------",
        *(
            f"  {c['type']}\t{c['status']}\t{c.get('reason', '')}"
            for c in status.get("conditions") or []
        ),
        f"OldReplicaSets:\t{NONE}",
    ]
    if newest is not None:
        ready = (newest.get("status") or {}).get("replicas", 0)
        lines.append(
            f"NewReplicaSet:\t{newest['metadata']['name']} ({ready}/{newest['spec'].get('replicas', 1)} replicas created)"
        )
    else:
        lines.append(f"NewReplicaSet:\t{NONE}")
    return [*lines, *event_lines(cluster, "Deployment", meta["namespace"], meta["name"], now)]


DESCRIBERS: dict[str, Callable[[Any, dict[str, Any], float | None], list[str]]] = {
    "Pod": describe_pod,
    "Service": describe_service,
    "Endpoints": describe_endpoints,
    "Node": describe_node,
    "Deployment": describe_deployment,
    "Ingress": describe_ingress,
    **dict.fromkeys(GATEWAY_KINDS, describe_custom),
}


def describe(cluster: Any, args: Args, now: float | None = None) -> Output:
    """``kubectl describe TYPE [NAME…] | TYPE/NAME [-n NS] [-l SEL]``; ``now`` (seconds since
    1970) gives the events' ages."""
    words = args.words[1:]
    if not words:
        return failed("error: Required resource not specified.\n", 1)
    if "/" in words[0]:
        type_, _, name = words[0].partition("/")
        names: list[str] = [name]
    else:
        type_, names = words[0], words[1:]
    kind = resolve_kind(type_)
    if kind is None:
        return failed(unknown_resource(type_), 1)
    describer = DESCRIBERS.get(kind)
    if describer is None:
        return failed(
            f"Podpath: describe knows {', '.join(k.lower() + 's' for k in DESCRIBERS)}\n", 1
        )
    namespace = args.get("-n", "--namespace", default="default") or "default"
    output = Output()
    if names:
        objects = []
        for name in names:
            obj = ko.get_object(cluster, kind, namespace, name)
            if obj is None:
                output.err(not_found(kind, name))
                output.status = 1
            else:
                objects.append(obj)
    else:
        selector = (
            selector_from_text(args.get("-l", "--selector") or "")
            if args.has("-l", "--selector")
            else None
        )
        objects = ko.list_objects(
            cluster, kind, None if is_cluster_scoped(kind) else namespace, selector
        )
        if not objects:
            where = "" if is_cluster_scoped(kind) else f" in {namespace} namespace"
            return output.err(f"No resources found{where}.\n")
    texts = [tabwrite("\n".join(describer(cluster, obj, now))) + "\n" for obj in objects]
    return output.out("\n\n".join(texts))
