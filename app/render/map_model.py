"""The cluster map's view-model classes, and the helpers that read the cluster for it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from app.render.map_layout import Rect, dom_id, shorten_name, truncate

#: System pods that requests pass through, drawn even while system pods are hidden: CoreDNS
#: answers every lookup, the ingress controller proxies every Ingress request and a Gateway's
#: Envoy pods every request to that Gateway.
TRAFFIC_POD_LABELS = (
    ("kube-system", "k8s-app", "kube-dns"),
    ("ingress-nginx", "app.kubernetes.io/component", "controller"),
    ("envoy-gateway-system", "app.kubernetes.io/component", "proxy"),
)
SYSTEM_NAMESPACES = frozenset(
    {
        "kube-system",
        "kube-flannel",
        "ingress-nginx",
        "envoy-gateway-system",
        "kube-public",
        "kube-node-lease",
    }
)
HIDDEN_LABELS = frozenset(
    {"pod-template-hash", "controller-revision-hash", "pod-template-generation"}
)


@dataclass
class Device:
    """A network device a packet can be at: a box on the map and the anchor at its centre."""

    anchor: str
    name: str
    ip: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    note: str = ""  # what the box says under the name when it has no IP to show
    dom_id: str = ""

    def __post_init__(self) -> None:
        self.dom_id = dom_id(self.anchor)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)


@dataclass
class PodView:
    name: str
    namespace: str
    node: str
    ip: str
    labels: dict[str, str]
    labels_text: str
    app: str
    colour: int
    system: bool
    ready: bool
    host_network: bool
    phase: str
    x: float
    y: float
    w: float
    h: float
    anchor: str = ""
    dom_id: str = ""
    label: str = ""  # the name as drawn (cut to fit)
    detail: str = ""  # the third line: labels, or why the pod is not ready
    # A dual-stack pod's second (IPv6) address: the third line shows it in place of the
    # labels (the stripe's colour stands for the app; the tooltip keeps the labels).
    ip6: str = ""

    def __post_init__(self) -> None:
        self.anchor = f"pod/{self.namespace}/{self.name}"
        self.dom_id = dom_id(self.anchor)
        self.label = shorten_name(self.name, 14)
        self.detail = (
            truncate(self.labels_text, 21) if self.ready else f"⚠ not ready · {self.phase}"
        )
        if self.ip6 and self.ready:
            self.detail = self.ip6


@dataclass
class MoreTile:
    """The tile that stands for a node's pods collapsed into "+N more"."""

    count: int
    x: float
    y: float
    w: float
    h: float


@dataclass
class NodeView:
    name: str
    internal_ip: str
    pod_cidrs: list[str]
    ready: bool
    role: str
    x: float
    y: float
    w: float
    h: float
    host: Device
    gateway: Device
    tunnel: Device | None  # None: no tunnel device (Cilium's native routing)
    netfilter: Device  # where kube-proxy's rules (or Cilium's eBPF) rewrite packets
    pods: list[PodView]
    more: MoreTile | None
    hidden_pods: int
    hidden_system: int
    note: str
    note_y: float
    note_in_head: bool = False  # the note sits at the right of the node's name line


@dataclass
class LineView:
    """A line from a Service (or the ingress controller) to one endpoint pod drawn."""

    pod: str
    colour: int | None
    x1: float
    y1: float
    x2: float
    y2: float
    d: str


@dataclass
class ServiceView:
    name: str
    namespace: str
    type: str
    cluster_ip: str
    ports: str
    external_ip: str
    endpoints: int
    hidden_endpoints: int
    empty: bool
    system: bool
    colour: int | None
    x: float
    y: float
    w: float
    h: float
    lines: list[LineView] = field(default_factory=list)
    at: str = ""  # its data-at on the map: service/<namespace>/<name>
    virtual_ips: list[str] = field(default_factory=list)  # ClusterIP and LoadBalancer IPs
    cluster_ip6: str = ""  # a dual-stack Service's second ClusterIP (its tooltip names it)
    node_ports: list[int] = field(default_factory=list)
    label: str = ""
    type_text: str = ""
    ports_label: str = ""
    status: str = ""


@dataclass
class IngressView:
    """The ingress controller box and the rules of every Ingress."""

    name: str
    namespace: str
    external_ip: str
    cluster_ip: str
    nodes: list[str]
    rules: list[str]
    more_rules: int
    x: float
    y: float
    w: float
    h: float
    lines: list[LineView] = field(default_factory=list)
    summary: str = ""
    at: str = "ingress"  # its data-at on the map: the Ingress rules the controller serves


@dataclass
class GatewayView:
    """A Gateway's box, drawn like the ingress controller's: its address, listeners and
    routes, with lines to the Envoy proxy pods the controller made for it. ``name`` and
    ``namespace`` are the proxy Service's (whose endpoints the lines go to); ``gateway``
    names the Gateway itself."""

    gateway: str  # <namespace>/<name>
    name: str
    namespace: str
    external_ip: str
    programmed: bool
    listeners: list[str]
    routes: list[str]
    more_routes: int
    x: float
    y: float
    w: float
    h: float
    lines: list[LineView] = field(default_factory=list)
    summary: str = ""
    at: str = ""  # its data-at on the map: gateway/<namespace>/<name>


@dataclass
class MapView:
    width: float
    height: float
    cni: str
    show_system: bool
    namespace: str | None
    internet: Device
    client_ip: str
    lb: Device
    lb_ips: list[str]
    lb_links: list[str]  # paths from the load balancer to the boxes its IPs lead to
    node_network: Device
    node_network_cidr: str
    networks_text: str  # the pod and Service networks, drawn beside the node network's name
    bars: list[Rect]
    trunk: list[float] | None  # x, y1, y2 of the line joining the bars of several rows
    services_y: float
    lanes_top: float
    services: list[ServiceView]
    ingresses: IngressView | None
    nodes: list[NodeView]
    app_colours: dict[str, int]
    anchors: dict[str, tuple[float, float]]
    stand_ins: dict[str, str]  # a pod not drawn -> the drawn element that stands for it
    apps: list[tuple[str, int]]  # the legend: each app drawn and its colour
    pending: int
    dense: bool  # many Service lines: drawn thinner and lighter
    title: str
    desc: str
    # pod anchor -> "in", "out" or "in+out": the pods a NetworkPolicy isolates (the badge)
    isolated: dict[str, str] = field(default_factory=dict)
    policies_enforced: bool = True  # False: the CNI plugin (flannel) ignores them
    gateways: list[GatewayView] = field(default_factory=list)  # the Gateway API's boxes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_system(obj: dict[str, Any]) -> bool:
    """Objects of the system namespaces, and the API server's ``default/kubernetes`` Service.

    >>> is_system({"kind": "Pod", "metadata": {"namespace": "kube-flannel", "name": "f"}})
    True
    >>> is_system({"kind": "Service", "metadata": {"namespace": "default", "name": "kubernetes"}})
    True
    """
    meta = obj["metadata"]
    namespace = meta.get("namespace", "")
    if namespace in SYSTEM_NAMESPACES:
        return True
    return obj.get("kind") == "Service" and namespace == "default" and meta["name"] == "kubernetes"


def is_traffic_pod(pod: dict[str, Any]) -> bool:
    """A system pod that requests pass through: a CoreDNS or ingress controller pod.

    >>> is_traffic_pod({"metadata": {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}})
    True
    >>> is_traffic_pod({"metadata": {"namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}}})
    False
    """
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    return any(
        meta.get("namespace") == ns and labels.get(key) == value
        for ns, key, value in TRAFFIC_POD_LABELS
    )


def natural_key(name: str) -> list[Any]:
    """Sort key that puts ``worker-2`` before ``worker-10``.

    >>> sorted(["worker-10", "worker-2", "control-plane"], key=natural_key)
    ['control-plane', 'worker-2', 'worker-10']
    """
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)
    ]


def app_of(cluster: Any, pod: dict[str, Any]) -> str:
    """The app a pod belongs to: its ``app`` label, ``app.kubernetes.io/name``, or its owner.

    The owner is the Deployment behind its ReplicaSet when there is one, else the owner itself
    (a DaemonSet), else a ``component``/``k8s-app`` label, else the pod's own name.
    """
    labels = pod["metadata"].get("labels") or {}
    for key in ("app", "app.kubernetes.io/name"):
        if labels.get(key):
            return labels[key]
    for owner in pod["metadata"].get("ownerReferences") or []:
        if owner.get("kind") == "ReplicaSet":
            rs = cluster.get("ReplicaSet", pod["metadata"]["namespace"], owner["name"])
            for up in ((rs or {}).get("metadata") or {}).get("ownerReferences") or []:
                if up.get("kind") == "Deployment":
                    return up["name"]
        return owner["name"]
    return labels.get("k8s-app") or labels.get("component") or pod["metadata"]["name"]


def ports_text(service: dict[str, Any], slices: list[dict[str, Any]]) -> str:
    """``80→8080/TCP``, with ``:30080`` after the port when it has a NodePort.

    A named targetPort is shown as the number the EndpointSlices resolved it to, when known.
    """
    resolved = {p.get("name") or "": p.get("port") for s in slices for p in s.get("ports") or []}
    parts = []
    for port in service["spec"].get("ports") or []:
        text = str(port["port"])
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        target = port.get("targetPort", port["port"])
        if isinstance(target, str):
            target = resolved.get(port.get("name") or "") or target
        parts.append(f"{text}→{target}/{port.get('protocol', 'TCP')}")
    return ", ".join(parts)


def external_ip(service: dict[str, Any]) -> str:
    if service["spec"].get("type") == "ExternalName":
        return service["spec"].get("externalName", "")
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ips = ", ".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    if not ips and service["spec"].get("type") == "LoadBalancer":
        return "<pending>"
    return ips


def slices_by_service(cluster: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in cluster.list("EndpointSlice"):
        owner = (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
        if owner:
            out.setdefault((s["metadata"]["namespace"], owner), []).append(s)
    return out


def ready_endpoint_pods(slices: list[dict[str, Any]]) -> list[str]:
    """The anchors of the pods behind the ready endpoints, in order, without repeats."""
    out: list[str] = []
    for s in slices:
        for endpoint in s.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            ref = endpoint.get("targetRef") or {}
            anchor = (
                f"pod/{ref.get('namespace')}/{ref.get('name')}"
                if ref.get("kind") == "Pod"
                else f"address/{','.join(endpoint.get('addresses') or [])}"
            )
            if anchor not in out:
                out.append(anchor)
    return out
