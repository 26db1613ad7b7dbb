"""Checks on the objects in the workspace: an object and its fields, pods, replacements,
and the cluster's CNI plugin or kube-proxy mode."""

from __future__ import annotations

from typing import Any

from app.cluster.cilium_config import replaces_kube_proxy
from app.lessons.outcome import Outcome, StepState
from app.lessons.refs import (
    get_path,
    is_running,
    matching_pods,
    object_ref,
    show_labels,
    split_selector,
)


def _object(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    kind, namespace, name = object_ref(spec["object"])
    label = f"{kind} {namespace + '/' if namespace else ''}{name}"
    obj = cluster.get(kind, namespace, name)
    if spec.get("exists", True) is False:
        if obj is None:
            return Outcome(True, f"{label} is gone.")
        return Outcome(False, f"{label} still exists.")
    if obj == None:  # noqa: E711 - a missing object
        return Outcome(False, f"There is no {label} yet.")
    problems: list[str] = []
    obj_spec = obj.get("spec") or {}
    if "type" in spec:
        actual = obj_spec.get("type", "ClusterIP")
        if actual != spec["type"]:
            problems.append(f"{label} is of type {actual}; this step needs type {spec['type']}.")
    if "selects" in spec:
        problems += _selects(cluster, obj, label, spec["selects"])
    if "replicas" in spec:
        replicas = obj_spec.get("replicas", 1)
        if replicas != spec["replicas"]:
            problems.append(
                f"{label} asks for {replicas} replicas; this step needs {spec['replicas']}."
            )
    if any(k in spec for k in ("port", "targetPort", "nodePort")):
        problems += _ports(obj_spec, label, spec)
    if "endpoints" in spec:
        ready = ready_endpoints(cluster, namespace, name)
        if len(ready) != spec["endpoints"]:
            problems.append(
                f"{label} has {len(ready)} ready endpoint{'s' if len(ready) != 1 else ''}"
                f"{' (' + ', '.join(ready) + ')' if ready else ''}; this step needs {spec['endpoints']}."
            )
    for path, wanted in (spec.get("fields") or {}).items():
        actual = get_path(obj, path)
        if actual != wanted:
            shown = "not set" if actual is None else f"{actual}"
            problems.append(f"{label} has {path}: {shown}; this step needs {wanted}.")
    if problems:
        return Outcome(False, " ".join(problems))
    return Outcome(True, f"{label} is as it should be.")


def _selects(cluster: Any, obj: dict[str, Any], label: str, wanted_text: str) -> list[str]:
    _, wanted = split_selector(wanted_text)
    selector = (obj.get("spec") or {}).get("selector")
    if obj["kind"] != "Service" and isinstance(selector, dict):
        selector = selector.get("matchLabels")
    if not selector:
        return [f"{label} has no selector, so no pods are chosen for it."]
    pods = [
        p
        for p in cluster.list("Pod", obj["metadata"]["namespace"])
        if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
    ]
    if any(wanted.get(k) != v for k, v in selector.items()):
        return [
            f"Your {obj['kind']} selects {show_labels(selector)}, but the pods are labelled "
            f"{show_labels(wanted)}: a selector picks only pods with every label it names."
        ]
    if not pods:
        return [f"{label} selects {show_labels(selector)}, but no pod has those labels yet."]
    return []


def _ports(obj_spec: dict[str, Any], label: str, spec: dict[str, Any]) -> list[str]:
    ports = obj_spec.get("ports") or []
    if "port" in spec:
        chosen = next((p for p in ports if p.get("port") == spec["port"]), None)
        if chosen is None:
            have = ", ".join(str(p.get("port")) for p in ports) or "none"
            return [f"{label} exposes port {have}; this step needs port {spec['port']}."]
    else:
        chosen = ports[0] if ports else None
        if chosen is None:
            return [f"{label} has no ports."]
    problems = []
    if "targetPort" in spec:
        target = chosen.get("targetPort", chosen.get("port"))
        if str(target) != str(spec["targetPort"]):
            problems.append(
                f"{label} sends port {chosen.get('port')} to targetPort {target}, but the pods "
                f"listen on {spec['targetPort']}."
            )
    if "nodePort" in spec and chosen.get("nodePort") != spec["nodePort"]:
        problems.append(
            f"{label} has nodePort {chosen.get('nodePort') or 'none'}; this step needs {spec['nodePort']}."
        )
    return problems


def ready_endpoints(cluster: Any, namespace: str, service: str) -> list[str]:
    """The ready addresses of a Service's EndpointSlices, sorted.

    >>> from app.cluster.cluster import Cluster
    >>> ready_endpoints(Cluster.create(seed=1), "kube-system", "kube-dns")
    ['10.244.1.3', '10.244.2.2']
    """
    addresses = set()
    for eps in cluster.list("EndpointSlice", namespace):
        if (eps["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != service:
            continue
        for endpoint in eps.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready", True):
                addresses.update(endpoint.get("addresses") or [])
    return sorted(addresses)


def _pods(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    pods = [
        p
        for p in matching_pods(cluster, spec["pods"])
        if not p["metadata"].get("deletionTimestamp")
    ]
    running = [p for p in pods if is_running(p)]
    problems = []
    if "count" in spec and len(pods) != spec["count"]:
        problems.append(f"{len(pods)} pods match {spec['pods']}; this step needs {spec['count']}.")
    if "ready" in spec and len(running) != spec["ready"]:
        problems.append(
            f"{len(running)} pods matching {spec['pods']} are running; this step needs {spec['ready']}."
        )
    if problems:
        return Outcome(False, " ".join(problems))
    return Outcome(True, f"{len(running)} pods matching {spec['pods']} are running.")


def _replaced(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    before = {k for k, v in state.baseline.items() if _matches(spec["replaced"], k, v)}
    now = {
        f"{p['metadata']['namespace']}/{p['metadata']['name']}": p
        for p in matching_pods(cluster, spec["replaced"])
    }
    gone = sorted(before - set(now))
    if not gone:
        return Outcome(
            False,
            f"The pods matching {spec['replaced']} are the ones that were there when this step "
            "began: delete one and watch what happens.",
        )
    new = [n for n, p in now.items() if n not in state.baseline and is_running(p)]
    if not new:
        return Outcome(False, f"{gone[0]} is gone, but nothing has replaced it.")
    pod = now[new[0]]
    return Outcome(
        True,
        f"{gone[0]} ({state.baseline[gone[0]]['ip']}) was replaced by {new[0]} with a new IP, "
        f"{pod['status']['podIP']}.",
    )


def _matches(ref: str, key: str, recorded: dict[str, Any]) -> bool:
    if "=" not in ref:
        return key == (ref if "/" in ref else f"default/{ref}")
    namespace, labels = split_selector(ref)
    have = recorded.get("labels") or {}
    return key.startswith(f"{namespace}/") and all(have.get(k) == v for k, v in labels.items())


def _cluster(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    config = cluster.config
    wanted = spec["cluster"]
    problems = [
        f"The cluster runs {getattr(config, key)} as its {label}; this step needs {wanted[key]}."
        for key, label in (("cni", "CNI plugin"), ("proxy_mode", "kube-proxy mode"))
        if key in wanted and getattr(config, key) != wanted[key]
    ]
    replaced = replaces_kube_proxy(config)
    # On another plugin than the one asked for, switching plugins is the first thing to say.
    if (
        not problems
        and "kube_proxy_replacement" in wanted
        and replaced != wanted["kube_proxy_replacement"]
    ):
        problems.append(
            "Cilium's eBPF replaces kube-proxy on this cluster; this step needs kube-proxy."
            if replaced
            else "kube-proxy serves Services on this cluster; this step needs Cilium with "
            "kubeProxyReplacement: true."
        )
    if (
        "routing_mode" in wanted
        and config.cni == "cilium"
        and config.routing_mode != wanted["routing_mode"]
    ):
        problems.append(
            f"Cilium runs with routingMode: {config.routing_mode}; this step needs "
            f"routingMode: {wanted['routing_mode']}."
        )
    if problems:
        return Outcome(False, " ".join(problems))
    if replaced:
        return Outcome(
            True,
            f"The cluster runs cilium (routingMode: {config.routing_mode}), and Cilium's eBPF "
            "replaces kube-proxy (kubeProxyReplacement: true).",
        )
    return Outcome(
        True, f"The cluster runs {config.cni} with kube-proxy in {config.proxy_mode} mode."
    )


OBJECT_CHECKS = {
    "object": _object,
    "pods": _pods,
    "replaced": _replaced,
    "cluster": _cluster,
}
