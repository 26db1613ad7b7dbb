"""Reasons a learner can act on: the first cause of a failing or surprising trace, in the
learner's own objects, naming the object, the field and the value.

Each function here answers one question (why does this Service have no endpoints, why did this
pod refuse, why has this Service no such port) and never names an object the packet did not
meet on its way.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

from app.cluster.controllers.endpoints import find_port
from app.cluster.controllers.scheduling import node_is_ready
from app.cluster.controllers.workloads import pod_is_ready
from app.cluster.selectors import describe
from app.network.model import Packet

IGNORED_LABELS = ("pod-template-hash", "controller-revision-hash", "pod-template-generation")


class Reason(str):
    """A reason's text that also says which object field it blames (its ``cause``), so the
    page can point at that line of the object's YAML. It is a ``str`` everywhere else.

    >>> r = Reason("Service default/web has no endpoints.",
    ...            field_cause("Service", "default", "web", "spec.selector"))
    >>> r.startswith("Service"), r.cause["field"]
    (True, 'spec.selector')
    >>> cause_of(r + " More.") is None, cause_of(r)["name"]
    (True, 'web')
    """

    cause: dict[str, str] | None

    def __new__(cls, text: str, cause: dict[str, str] | None = None) -> Reason:
        made = super().__new__(cls, text)
        made.cause = cause
        return made


def field_cause(kind: str, namespace: str, name: str, field: str) -> dict[str, str]:
    """The cause a :class:`Reason` carries: an object and a field path in it."""
    return {"kind": kind, "namespace": namespace, "name": name, "field": field}


def cause_of(text: str) -> dict[str, str] | None:
    """The cause ``text`` carries, or None (plain text, or text built from a Reason)."""
    return getattr(text, "cause", None)


def declared_ports(pod: dict[str, Any]) -> list[tuple[int | None, str, str | None]]:
    """The ``(containerPort, protocol, name)`` of every port the pod's containers declare.

    >>> declared_ports({"spec": {"containers": [{"ports": [{"containerPort": 8080, "name": "http"}]}]}})
    [(8080, 'TCP', 'http')]
    """
    return [
        (port.get("containerPort"), port.get("protocol", "TCP"), port.get("name"))
        for container in (pod.get("spec") or {}).get("containers") or []
        for port in container.get("ports") or []
    ]


def ports_text(pod: dict[str, Any]) -> str:
    """The pod's declared ports as a learner reads them: ``8080/TCP (http), 9090/TCP``.

    >>> ports_text({"spec": {"containers": [{"ports": [{"containerPort": 8080, "name": "http"}]}]}})
    '8080/TCP (http)'
    >>> ports_text({"spec": {"containers": [{}]}})
    'no ports'
    """
    listed = [
        f"{number}/{protocol}" + (f" ({name})" if name else "")
        for number, protocol, name in declared_ports(pod)
    ]
    return ", ".join(listed) or "no ports"


def _pod_name(pod: dict[str, Any]) -> str:
    return f"Pod {pod['metadata']['namespace']}/{pod['metadata']['name']}"


def listening_problem(pod: dict[str, Any], packet: Packet) -> str | None:
    """Why the pod refuses the connection, or None when something listens on the port.

    A pod listens on the ports its containers declare; a pod that declares none is taken to
    listen on whatever it is sent (Kubernetes does not check ``containerPort``, so this is
    the most useful reading of such a pod).

    >>> pod = {"metadata": {"namespace": "default", "name": "web"},
    ...        "spec": {"containers": [{"ports": [{"containerPort": 8080, "name": "http"}]}]}}
    >>> listening_problem(pod, Packet("10.244.1.2", 40000, "10.244.2.3", 80))[:41]
    'Pod default/web does not listen on TCP 80'
    >>> listening_problem(pod, Packet("10.244.1.2", 40000, "10.244.2.3", 8080)) is None
    True
    """
    declared = declared_ports(pod)
    if not declared:
        return None
    if any(
        number == packet.dst_port and protocol == packet.protocol
        for number, protocol, _ in declared
    ):
        return None
    answer = (
        "answers with a TCP reset" if packet.protocol == "TCP" else "answers ICMP port unreachable"
    )
    return (
        f"{_pod_name(pod)} does not listen on {packet.protocol} {packet.dst_port}: its "
        f"containers declare {ports_text(pod)}, so it {answer}."
    )


def _service_port(service: dict[str, Any], port_name: str) -> tuple[int, dict[str, Any]] | None:
    for i, port in enumerate((service.get("spec") or {}).get("ports") or []):
        if port.get("name", "") == port_name:
            return i, port
    return None


def refused_by_pod(
    cluster: Any, pod: dict[str, Any], packet: Packet, via: tuple[str, str, str] | None
) -> str:
    """The verdict's reason when ``pod`` refuses ``packet`` (see :func:`listening_problem`).

    Parameters
    ----------
    cluster : Cluster
    pod : dict
        The pod that refused.
    packet : Packet
        The packet as it reached the pod.
    via : tuple or None
        ``(namespace, service, port name)`` of the Service port that chose this pod, or None
        when the client dialled the pod itself: only then is the Service's targetPort blamed.

    Returns
    -------
    str
        The cause: the Service's ``spec.ports[i].targetPort`` and its value when a Service
        sent it there, else the pod and the ports its containers declare.

    Examples
    --------
    >>> pod = {"metadata": {"namespace": "default", "name": "web"},
    ...        "spec": {"containers": [{"ports": [{"containerPort": 8080, "name": "http"}]}]}}
    >>> text = refused_by_pod(None, pod, Packet("10.244.1.2", 40000, "10.244.2.3", 9090), None)
    >>> "Service" in text, "8080/TCP (http)" in text
    (False, True)
    """
    problem = listening_problem(pod, packet) or ""
    service = cluster.get("Service", via[0], via[1]) if via and cluster is not None else None
    found = _service_port(service, via[2]) if service and via else None
    if found is None:
        numbers = ", ".join(
            str(n) for n, proto, _ in declared_ports(pod) if proto == packet.protocol
        )
        return (
            f"{problem} Send it to a port the pod declares ({numbers or 'none for ' + packet.protocol}), "
            f"or declare {packet.dst_port} in the pod's spec.containers[].ports and listen on it."
        )
    i, port = found
    target = port.get("targetPort", port["port"])
    names = [name for _, _, name in declared_ports(pod) if name]
    numbers = [str(number) for number, protocol, _ in declared_ports(pod) if number]
    choices = " or ".join(dict.fromkeys(numbers + names)) or "a port the pod listens on"
    return Reason(
        f"Service {via[0]}/{via[1]} sends port {port['port']} to targetPort {target} "
        f"(spec.ports[{i}].targetPort), but {problem} "
        f"Set spec.ports[{i}].targetPort to {choices}.",
        field_cause("Service", via[0], via[1], f"spec.ports[{i}].targetPort"),
    )


def _label_text(labels: dict[str, str]) -> str:
    shown = {k: v for k, v in labels.items() if k not in IGNORED_LABELS}
    return ",".join(f"{k}={v}" for k, v in sorted(shown.items())) or "no labels"


def _nearest(
    selector: dict[str, str], pods: list[dict[str, Any]], target: Any
) -> dict[str, Any] | None:
    """The pod whose labels agree with most of the selector, then share most of its keys,
    then declare the Service's targetPort (the pod it was most likely written for), then
    whose values are spelled most alike."""

    def score(pod: dict[str, Any]) -> tuple[int, int, bool, float]:
        labels = pod["metadata"].get("labels") or {}
        agree = sum(1 for k, v in selector.items() if labels.get(k) == v)
        shared = sum(1 for k in selector if k in labels)
        serves = any(target in (number, name) for number, _, name in declared_ports(pod))
        alike = sum(
            SequenceMatcher(None, str(v), str(labels[k])).ratio()
            for k, v in selector.items()
            if k in labels
        )
        return agree, shared, serves, alike

    scored = [(score(p), p) for p in pods if p["metadata"].get("labels")]
    best = max(scored, key=lambda item: item[0], default=None)
    if best is None or best[0][:2] == (0, 0):
        return None
    return best[1]


def _why_not_ready(cluster: Any, pod: dict[str, Any]) -> str:
    status = pod.get("status") or {}
    node_name = (pod.get("spec") or {}).get("nodeName")
    node = cluster.get("Node", "", node_name) if node_name else None
    if node is not None and not node_is_ready(node):
        return f"its node {node_name} is NotReady, so it is not ready"
    if not node_name:
        return "it is Pending: no node was chosen for it"
    if not status.get("podIP"):
        return f"it is {status.get('phase', 'Pending')} and has no IP yet"
    return f"it is {status.get('phase', 'Pending')}, and its Ready condition is False"


def service_without_endpoints(cluster: Any, namespace: str, name: str, port_name: str = "") -> str:
    """Why Service ``namespace/name`` has no ready endpoint for its port ``port_name``.

    Parameters
    ----------
    cluster : Cluster
    namespace, name : str
        The Service.
    port_name : str
        The name of the Service port (``""`` for a single unnamed port).

    Returns
    -------
    str
        One or two sentences (a :class:`Reason`, with its cause where it blames a field of the
        Service) naming the field and its value: a missing selector, a selector
        that matches no pod (with the labels the namespace's pods do have, the nearest match,
        and pods of the same labels in another namespace), pods that match but are not ready
        (and why: a NotReady node, no IP yet), or a named targetPort the pods do not declare.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: web, labels: {app: web}}
    ... spec: {containers: [{name: web, image: nginx}]}
    ... ---
    ... apiVersion: v1
    ... kind: Service
    ... metadata: {name: web}
    ... spec: {selector: {app: frontend}, ports: [{port: 80}]}
    ... ''')
    >>> print(service_without_endpoints(cluster, "default", "web"))  # doctest: +NORMALIZE_WHITESPACE
    Service default/web has no endpoints: its selector app=frontend (spec.selector) matches no
    pod in namespace default. Pods in default have app=web. The nearest match is Pod
    default/web, labelled app=web: it has app=web where the selector has app=frontend. Fix the
    selector or the pods' labels.
    """
    label = f"Service {namespace}/{name}"
    selector_cause = field_cause("Service", namespace, name, "spec.selector")
    obj = cluster.get("Service", namespace, name) or {}
    spec = obj.get("spec") or {}
    selector = spec.get("selector") or {}
    if not selector:
        return Reason(
            f"{label} has no endpoints: it has no selector (spec.selector), so its endpoints "
            "are only the EndpointSlices you write yourself, and there are none.",
            selector_cause,
        )
    wanted = describe({"matchLabels": selector})
    pods = [
        p
        for p in cluster.list("Pod", namespace)
        if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]

    def selected(pod: dict[str, Any]) -> bool:
        labels = pod["metadata"].get("labels") or {}
        return all(labels.get(k) == v for k, v in selector.items())

    matching = [p for p in pods if selected(p)]
    if not matching:
        text = (
            f"{label} has no endpoints: its selector {wanted} (spec.selector) matches no pod "
            f"in namespace {namespace}."
        )
        elsewhere = [
            p
            for p in cluster.list("Pod")
            if p["metadata"]["namespace"] != namespace and selected(p)
        ]
        if elsewhere:
            where = sorted({p["metadata"]["namespace"] for p in elsewhere})
            text += (
                f" Pods labelled {wanted} run in namespace {', '.join(where)} "
                f"({elsewhere[0]['metadata']['name']}), but a Service selects pods only in its "
                f"own namespace, {namespace}: create the Service in {where[0]}, or the pods in "
                f"{namespace}."
            )
            return Reason(text, selector_cause)
        values = sorted(
            {
                f"{k}={v}"
                for p in pods
                for k, v in (p["metadata"].get("labels") or {}).items()
                if k in selector
            }
        )
        if values:
            text += f" Pods in {namespace} have {', '.join(values)}."
        ports = spec.get("ports") or [{}]
        nearest = _nearest(selector, pods, ports[0].get("targetPort", ports[0].get("port")))
        if nearest is not None:
            labels = nearest["metadata"].get("labels") or {}
            text += f" The nearest match is {_pod_name(nearest)}, labelled {_label_text(labels)}"
            differ = [
                f"{k}={labels[k]} where the selector has {k}={v}"
                for k, v in sorted(selector.items())
                if k in labels and labels[k] != v
            ]
            missing = [f"{k}={v}" for k, v in sorted(selector.items()) if k not in labels]
            if differ:
                text += f": it has {'; '.join(differ)}"
            if missing:
                text += f"{',' if differ else ':'} it has no label {', '.join(missing)}"
            text += ". Fix the selector or the pods' labels."
        elif pods:
            sets = sorted({_label_text(p["metadata"].get("labels") or {}) for p in pods})
            text += f" The pods in {namespace} are labelled {'; '.join(sets[:5])}."
            text += " Fix the selector or the pods' labels."
        else:
            text += f" There are no pods in namespace {namespace} at all."
        return Reason(text, selector_cause)
    not_ready = [
        p for p in matching if not pod_is_ready(p) or not (p.get("status") or {}).get("podIP")
    ]
    if len(not_ready) == len(matching):
        states = "; ".join(
            f"{p['metadata']['name']}: {_why_not_ready(cluster, p)}" for p in matching[:3]
        )
        return (
            f"{label} has no ready endpoints: its selector {wanted} matches "
            f"{len(matching)} pod(s), and none is ready ({states})."
        )
    found = _service_port(obj, port_name)
    if found is not None:
        i, port = found
        target = port.get("targetPort", port["port"])
        ready = [p for p in matching if p not in not_ready]
        if all(find_port(p, port) is None for p in ready):
            pod = ready[0]
            return Reason(
                f"{label} has no endpoints for port {port['port']}: its targetPort {target} "
                f"(spec.ports[{i}].targetPort) is a port name, and no container of the "
                f"{len(ready)} pod(s) its selector {wanted} matches declares a port named "
                f"{target} ({_pod_name(pod)} declares {ports_text(pod)}). Use one of those "
                "names or numbers.",
                field_cause("Service", namespace, name, f"spec.ports[{i}].targetPort"),
            )
    return f"{label} has no ready endpoints for this port."


def no_endpoints_reason(cluster: Any, decision: Any, packet: Packet) -> str:
    """Why kube-proxy rejected a Service's traffic: it has no ready endpoint.

    Parameters
    ----------
    cluster : Cluster
    decision : Decision
        kube-proxy's decision (``reject``), with the Service port it matched.
    packet : Packet
        The packet as it reached kube-proxy's rules.

    Returns
    -------
    str
        The cause from :func:`service_without_endpoints`, then what kube-proxy does about it.
    """
    service = decision.service
    if service is None:
        return f"kube-proxy rejected {packet.dst}: {decision.reason}"
    cause = service_without_endpoints(
        cluster, service.namespace, service.service, service.port_name
    )
    return Reason(
        f"{cause} kube-proxy REJECTs the connection at once (connection refused).",
        cause_of(cause),
    )


def missing_service_port(
    ingress_name: str, field: str, port: int | str, service: dict[str, Any]
) -> str:
    """An Ingress backend that names a port its Service does not have.

    ingress-nginx looks the backend's port up among the Service's ports (by ``port``, by
    ``name``, and, as a quirk of its own, by ``targetPort``); when none matches, the upstream
    has no endpoints and it answers 503.

    Parameters
    ----------
    ingress_name : str
        ``namespace/name`` of the Ingress.
    field : str
        The backend's field path, e.g. ``spec.rules[0].http.paths[0].backend.service``.
    port : int or str
        The backend's port number or name.
    service : dict
        The Service the backend names.

    Returns
    -------
    Reason
        The text, with the backend's ``port.number`` (or ``port.name``) as its cause.

    Examples
    --------
    >>> svc = {"metadata": {"namespace": "default", "name": "api"},
    ...        "spec": {"ports": [{"port": 80, "targetPort": "http"}]}}
    >>> print(missing_service_port(
    ...     "default/shop", "spec.rules[0].http.paths[0].backend.service", 8080, svc
    ... ))  # doctest: +NORMALIZE_WHITESPACE
    Ingress default/shop's spec.rules[0].http.paths[0].backend.service.port.number is 8080, but
    Service default/api has no port 8080 (its ports: 80), so ingress-nginx finds no upstream
    for it and answers 503 Service Temporarily Unavailable. Set port.number to 80: an Ingress
    backend names the Service's port, not the container's.
    """
    key = "name" if isinstance(port, str) else "number"
    ports = (service.get("spec") or {}).get("ports") or []
    listed = ", ".join(f"{p['port']}" + (f" ({p['name']})" if p.get("name") else "") for p in ports)
    svc = f"Service {service['metadata']['namespace']}/{service['metadata']['name']}"
    what = f"port named {port}" if key == "name" else f"port {port}"
    first = ports[0] if ports else None
    fix = (
        f" Set port.{key} to {first['port'] if key == 'number' else first.get('name') or first['port']}"
        + ": an Ingress backend names the Service's port, not the container's."
        if first
        else ""
    )
    namespace, _, name = ingress_name.partition("/")
    return Reason(
        f"Ingress {ingress_name}'s {field}.port.{key} is {port}, but {svc} has no {what} "
        f"(its ports: {listed or 'none'}), so ingress-nginx finds no upstream for it and "
        f"answers 503 Service Temporarily Unavailable.{fix}",
        field_cause("Ingress", namespace, name, f"{field}.port.{key}") if name else None,
    )
