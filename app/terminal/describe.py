"""``kubectl describe``: pods, services, endpoints, nodes, ingresses and deployments in the
layout of kubectl's describers (``k8s.io/kubectl/pkg/describe``, v1.34), with their events.

Each describer writes lines with tab-ended labels, as kubectl does, and
:func:`app.terminal.tabwriter.tabwrite` aligns them. The cluster keeps no times, so an
event's age reads ``<unknown>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.terminal import kube_objects as ko
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

NONE = "<none>"
#: Which component reports each event reason (the From column).
SOURCES = {
    "Scheduled": "default-scheduler",
    "FailedScheduling": "default-scheduler",
    "ScalingReplicaSet": "deployment-controller",
    "SuccessfulCreate": "replicaset-controller",
    "SuccessfulDelete": "replicaset-controller",
    "Pulled": "kubelet",
    "Created": "kubelet",
    "Started": "kubelet",
    "Killing": "kubelet",
    "EnsuringLoadBalancer": "service-controller",
    "EnsuredLoadBalancer": "service-controller",
    "Sync": "nginx-ingress-controller",
}


def _map_lines(label: str, values: dict[str, str] | None, sep: str = "=") -> list[str]:
    """``Labels:\\tapp=web`` and each further pair on its own line, as kubectl prints maps."""
    items = sorted((values or {}).items())
    if not items:
        return [f"{label}\t{NONE}"]
    first, *rest = (f"{k}{sep}{v}" for k, v in items)
    return [f"{label}\t{first}", *(f"\t{item}" for item in rest)]


def _events(cluster: Any, kind: str, namespace: str, name: str) -> list[str]:
    found = [
        e
        for e in cluster.events()
        if e.kind == kind and e.name == name and e.namespace in (namespace, "")
    ]
    if not found:
        return [f"Events:\t{NONE}"]
    lines = ["Events:", "  Type\tReason\tAge\tFrom\tMessage", "  ----\t------\t----\t----\t-------"]
    for e in found:
        age = "<unknown>" if e.count == 1 else f"<unknown> (x{e.count} over <unknown>)"
        lines.append(f"  {e.type}\t{e.reason}\t{age}\t{SOURCES.get(e.reason, '')}\t{e.message}")
    return lines


def _port_text(port: dict[str, Any]) -> str:
    text = f"{port['containerPort']}/{port.get('protocol', 'TCP')}"
    return f"{text} ({port['name']})" if port.get("name") else text


def _containers(
    spec: dict[str, Any], statuses: list[dict[str, Any]] | None, indent: str
) -> list[str]:
    lines = []
    by_name = {s["name"]: s for s in statuses or []}
    for container in spec.get("containers") or []:
        lines.append(f"{indent}{container['name']}:")
        inner = "    "  # kubectl: a pod's container at 2 spaces, a template's at 3; fields at 4
        lines.append(f"{inner}Image:\t{container.get('image', '')}")
        ports = container.get("ports") or []
        lines.append(f"{inner}Port:\t{', '.join(_port_text(p) for p in ports) or NONE}")
        host_ports = ", ".join(
            _port_text({**p, "containerPort": p.get("hostPort", 0)}) for p in ports
        )
        lines.append(f"{inner}Host Port:\t{host_ports or NONE}")
        for field, title in (("command", "Command"), ("args", "Args")):
            if container.get(field):
                lines.append(f"{inner}{title}:")
                lines.extend(f"{inner}  {word}" for word in container[field])
        status = by_name.get(container["name"])
        if status is not None:
            state = next(iter(status.get("state") or {"waiting": {}}), "waiting").capitalize()
            lines.append(f"{inner}State:\t{state}")
            lines.append(f"{inner}Ready:\t{'True' if status.get('ready') else 'False'}")
            lines.append(f"{inner}Restart Count:\t{status.get('restartCount', 0)}")
        env = container.get("env") or []
        lines.append(f"{inner}Environment:\t{NONE if not env else ''}")
        lines.extend(f"{inner}  {e['name']}:\t{e.get('value', '')}" for e in env)
        lines.append(f"{inner}Mounts:\t{NONE}")
    return lines


def describe_pod(cluster: Any, pod: dict[str, Any]) -> list[str]:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    node = spec.get("nodeName")
    lines = [
        f"Name:\t{meta['name']}",
        f"Namespace:\t{meta['namespace']}",
        f"Priority:\t{spec.get('priority', 0)}",
        f"Service Account:\t{spec.get('serviceAccountName', 'default')}",
        f"Node:\t{f'{node}/' + status.get('hostIP', '') if node else NONE}",
        *_map_lines("Labels:", meta.get("labels")),
        *_map_lines("Annotations:", meta.get("annotations"), ": "),
        f"Status:\t{status.get('phase', 'Pending')}",
        f"IP:\t{status.get('podIP', '')}",
        "IPs:",
    ]
    lines += [f"  IP:\t{ip['ip']}" for ip in status.get("podIPs") or []] or [f"  {NONE}"]
    lines.append("Containers:")
    lines += _containers(spec, status.get("containerStatuses"), "  ")
    conditions = status.get("conditions") or []
    if conditions:
        lines += ["Conditions:", "  Type\tStatus"]
        lines += [f"  {c['type']}\t{c['status']} " for c in conditions]
    lines += [
        f"QoS Class:\t{status.get('qosClass', 'BestEffort')}",
        *_map_lines("Node-Selectors:", spec.get("nodeSelector")),
        "Tolerations:\tnode.kubernetes.io/not-ready:NoExecute op=Exists for 300s",
        "\tnode.kubernetes.io/unreachable:NoExecute op=Exists for 300s",
        *_events(cluster, "Pod", meta["namespace"], meta["name"]),
    ]
    return lines


def _endpoints_text(cluster: Any, namespace: str, name: str) -> str:
    endpoints = ko.get_object(cluster, "Endpoints", namespace, name)
    pairs = []
    for subset in (endpoints or {}).get("subsets") or []:
        for address in subset.get("addresses") or []:
            for port in subset.get("ports") or []:
                pairs.append(f"{address['ip']}:{port['port']}")
    return ",".join(pairs)


def describe_service(cluster: Any, service: dict[str, Any]) -> list[str]:
    meta, spec = service["metadata"], service.get("spec") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    type_ = spec.get("type", "ClusterIP")
    lines = [
        f"Name:\t{meta['name']}",
        f"Namespace:\t{meta['namespace']}",
        *_map_lines("Labels:", meta.get("labels")),
        *_map_lines("Annotations:", meta.get("annotations"), ": "),
        f"Selector:\t{selector or NONE}",
        f"Type:\t{type_}",
    ]
    if type_ == "ExternalName":
        lines.append(f"External Name:\t{spec.get('externalName', '')}")
    else:
        lines += [
            f"IP Family Policy:\t{spec.get('ipFamilyPolicy', 'SingleStack')}",
            f"IP Families:\t{','.join(spec.get('ipFamilies') or ['IPv4'])}",
            f"IP:\t{spec.get('clusterIP', '')}",
            f"IPs:\t{','.join(spec.get('clusterIPs') or [spec.get('clusterIP', '')])}",
        ]
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        lines.append(
            f"LoadBalancer Ingress:\t{', '.join(i.get('ip', '') + ' (VIP)' for i in ingress)}"
        )
    endpoints = _endpoints_text(cluster, meta["namespace"], meta["name"])
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol", "TCP")
        lines.append(f"Port:\t{name}  {port['port']}/{protocol}")
        lines.append(f"TargetPort:\t{port.get('targetPort', port['port'])}/{protocol}")
        if port.get("nodePort"):
            lines.append(f"NodePort:\t{name}  {port['nodePort']}/{protocol}")
        if type_ != "ExternalName":
            lines.append(f"Endpoints:\t{endpoints}")
    lines.append(f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}")
    if type_ in ("NodePort", "LoadBalancer"):
        lines.append(f"External Traffic Policy:\t{spec.get('externalTrafficPolicy', 'Cluster')}")
    if type_ != "ExternalName":
        lines.append(f"Internal Traffic Policy:\t{spec.get('internalTrafficPolicy', 'Cluster')}")
    lines += _events(cluster, "Service", meta["namespace"], meta["name"])
    return lines


def describe_endpoints(cluster: Any, endpoints: dict[str, Any]) -> list[str]:
    meta = endpoints["metadata"]
    lines = [
        f"Name:\t{meta['name']}",
        f"Namespace:\t{meta['namespace']}",
        *_map_lines("Labels:", meta.get("labels")),
        f"Annotations:\t{NONE}",
        "Subsets:",
    ]
    for subset in endpoints.get("subsets") or []:
        ready = ",".join(a["ip"] for a in subset.get("addresses") or []) or NONE
        not_ready = ",".join(a["ip"] for a in subset.get("notReadyAddresses") or []) or NONE
        lines += [f"  Addresses:\t{ready}", f"  NotReadyAddresses:\t{not_ready}", "  Ports:"]
        lines += ["    Name\tPort\tProtocol", "    ----\t----\t--------"]
        for port in subset.get("ports") or []:
            lines.append(
                f"    {port.get('name') or '<unset>'}\t{port['port']}\t{port.get('protocol', 'TCP')}"
            )
        lines.append("")
    return [*lines, *_events(cluster, "Endpoints", meta["namespace"], meta["name"])]


def describe_node(cluster: Any, node: dict[str, Any]) -> list[str]:
    meta, spec, status = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    labels = meta.get("labels") or {}
    roles = ",".join(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    taints = [f"{t['key']}:{t['effect']}" for t in spec.get("taints") or []]
    lines = [
        f"Name:\t{meta['name']}",
        f"Roles:\t{roles or NONE}",
        *_map_lines("Labels:", labels),
        *_map_lines("Annotations:", meta.get("annotations"), ": "),
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
    return [*lines, *_events(cluster, "Node", "", meta["name"])]


def describe_deployment(cluster: Any, deployment: dict[str, Any]) -> list[str]:
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
        *_map_lines("Labels:", meta.get("labels")),
        *_map_lines(
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
        *_map_lines("  Labels:", (template.get("metadata") or {}).get("labels")),
        "  Containers:",
        *_containers(template.get("spec") or {}, None, "   "),
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
    return [*lines, *_events(cluster, "Deployment", meta["namespace"], meta["name"])]


def describe_ingress(cluster: Any, ingress: dict[str, Any]) -> list[str]:
    meta, spec = ingress["metadata"], ingress.get("spec") or {}
    namespace = meta["namespace"]
    address = ",".join(
        i.get("ip", "")
        for i in ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    )
    lines = [
        f"Name:\t{meta['name']}",
        *_map_lines("Labels:", meta.get("labels")),
        f"Namespace:\t{namespace}",
        f"Address:\t{address}",
        f"Ingress Class:\t{spec.get('ingressClassName') or '<none>'}",
        f"Default backend:\t{_backend(cluster, namespace, spec.get('defaultBackend')) if spec.get('defaultBackend') else '<default>'}",
        "Rules:",
        "  Host\tPath\tBackends",
        "  ----\t----\t--------",
    ]
    for rule in spec.get("rules") or []:
        lines.append(f"  {rule.get('host') or '*'}\t")
        for path in (rule.get("http") or {}).get("paths") or []:
            # kubectl writes "  \t%s \t%s": a space after the path.
            lines.append(
                f"  \t{path.get('path', '/')} \t{_backend(cluster, namespace, path.get('backend'))}"
            )
    lines += _map_lines("Annotations:", meta.get("annotations"), ": ")
    return [*lines, *_events(cluster, "Ingress", namespace, meta["name"])]


def _backend(cluster: Any, namespace: str, backend: dict[str, Any] | None) -> str:
    service = (backend or {}).get("service") or {}
    port = service.get("port") or {}
    name = service.get("name", "")
    endpoints = _endpoints_text(cluster, namespace, name)
    if cluster.get("Service", namespace, name) is None:
        endpoints = f'error: services "{name}" not found'
    return f"{name}:{port.get('number') or port.get('name', '')} ({endpoints or NONE})"


DESCRIBERS: dict[str, Callable[[Any, dict[str, Any]], list[str]]] = {
    "Pod": describe_pod,
    "Service": describe_service,
    "Endpoints": describe_endpoints,
    "Node": describe_node,
    "Deployment": describe_deployment,
    "Ingress": describe_ingress,
}


def describe(cluster: Any, args: Args) -> Output:
    """``kubectl describe TYPE [NAME…] | TYPE/NAME [-n NS] [-l SEL]``."""
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
    texts = [tabwrite("\n".join(describer(cluster, obj))) + "\n" for obj in objects]
    return output.out("\n\n".join(texts))
