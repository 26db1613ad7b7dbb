"""``kubectl describe`` for what routes traffic: Services, Endpoints and Ingresses, in the
layout of kubectl's describers (``k8s.io/kubectl/pkg/describe``, v1.34)."""

from __future__ import annotations

from typing import Any

from app.cluster.families import bracketed
from app.terminal import kube_objects as ko
from app.terminal.describe_lines import NONE, event_lines, map_lines


def endpoints_text(cluster: Any, namespace: str, name: str) -> str:
    endpoints = ko.get_object(cluster, "Endpoints", namespace, name)
    pairs = []
    for subset in (endpoints or {}).get("subsets") or []:
        for address in subset.get("addresses") or []:
            for port in subset.get("ports") or []:
                # net.JoinHostPort, as kubectl writes it: an IPv6 address in brackets.
                pairs.append(f"{bracketed(address['ip'])}:{port['port']}")
    return ",".join(pairs)


def describe_service(cluster: Any, service: dict[str, Any], now: float | None = None) -> list[str]:
    meta, spec = service["metadata"], service.get("spec") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    type_ = spec.get("type", "ClusterIP")
    lines = [
        f"Name:\t{meta['name']}",
        f"Namespace:\t{meta['namespace']}",
        *map_lines("Labels:", meta.get("labels")),
        *map_lines("Annotations:", meta.get("annotations"), ": "),
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
    endpoints = endpoints_text(cluster, meta["namespace"], meta["name"])
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
    lines += event_lines(cluster, "Service", meta["namespace"], meta["name"], now)
    return lines


def describe_endpoints(
    cluster: Any, endpoints: dict[str, Any], now: float | None = None
) -> list[str]:
    meta = endpoints["metadata"]
    lines = [
        f"Name:\t{meta['name']}",
        f"Namespace:\t{meta['namespace']}",
        *map_lines("Labels:", meta.get("labels")),
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
    return [*lines, *event_lines(cluster, "Endpoints", meta["namespace"], meta["name"], now)]


def describe_ingress(cluster: Any, ingress: dict[str, Any], now: float | None = None) -> list[str]:
    meta, spec = ingress["metadata"], ingress.get("spec") or {}
    namespace = meta["namespace"]
    address = ",".join(
        i.get("ip", "")
        for i in ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    )
    lines = [
        f"Name:\t{meta['name']}",
        *map_lines("Labels:", meta.get("labels")),
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
    lines += map_lines("Annotations:", meta.get("annotations"), ": ")
    return [*lines, *event_lines(cluster, "Ingress", namespace, meta["name"], now)]


def _backend(cluster: Any, namespace: str, backend: dict[str, Any] | None) -> str:
    service = (backend or {}).get("service") or {}
    port = service.get("port") or {}
    name = service.get("name", "")
    endpoints = endpoints_text(cluster, namespace, name)
    if cluster.get("Service", namespace, name) is None:
        endpoints = f'error: services "{name}" not found'
    return f"{name}:{port.get('number') or port.get('name', '')} ({endpoints or NONE})"
