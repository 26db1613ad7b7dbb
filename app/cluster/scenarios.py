"""Ready scenarios an instructor starts a class from, each with something to trace at once.

A scenario is data: real Kubernetes manifests applied on top of the default kubeadm cluster
with a fixed seed (so pod names, IPs and ClusterIPs are the same every time it is opened),
and the requests worth tracing first. The workspace remembers which scenario it came from in
``cluster.state.notes["scenario"]`` (saved with it; see :func:`scenario_of`).

>>> [s.name for s in SCENARIOS]
['web-service', 'ingress-two-apps', 'nodeport-policies', 'empty']
>>> scenario_requests("web-service")[0].to
'http://web/'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.cluster import families
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import FieldError, InvalidObjects

#: What the JSON API has always called a fresh cluster with no scenario (and a random seed).
DEFAULT = "default"

#: Where the workspace keeps its scenario's slug.
NOTE = "scenario"


@dataclass(frozen=True)
class SuggestedRequest:
    """A request worth tracing: ``source`` and ``to`` as :func:`app.network.trace.trace`
    reads them, a short label, and the verdict the engine gives (tests hold it to that)."""

    source: str
    to: str
    label: str
    verdict: str
    # Where a plugin's datapath answers differently: (cni, label, verdict). Cilium answers a
    # NodePort with externalTrafficPolicy: Local on a node without a backend with ICMP port
    # unreachable (tail_no_service_ipv4) where kube-proxy drops it.
    by_cni: tuple[tuple[str, str, str], ...] = ()

    def for_cni(self, cni: str) -> SuggestedRequest:
        """This request as ``cni``'s datapath answers it.

        >>> r = SuggestedRequest("external", "http://x/", "dropped", "dropped",
        ...                      (("cilium", "refused", "refused"),))
        >>> r.for_cni("cilium").verdict, r.for_cni("flannel").verdict
        ('refused', 'dropped')
        """
        for name, label, verdict in self.by_cni:
            if name == cni:
                return SuggestedRequest(self.source, self.to, label, verdict)
        return self

    def to_dict(self) -> dict[str, str]:
        return {"from": self.source, "to": self.to, "label": self.label, "verdict": self.verdict}


@dataclass(frozen=True)
class Scenario:
    name: str  # the slug the API and the home page use
    title: str
    description: str  # one line
    manifests: str  # YAML, applied as ``kubectl apply -f`` would
    requests: tuple[SuggestedRequest, ...]
    seed: int
    min_workers: int = 2  # the requests and nodeSelectors name worker-1 and worker-2

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "minWorkers": self.min_workers,
            "requests": [r.to_dict() for r in self.requests],
        }


WEB_SERVICE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginxinc/nginx-unprivileged:1.27
        ports:
        - {name: http, containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  labels: {app: client}
spec:
  nodeSelector: {kubernetes.io/hostname: worker-1}
  containers:
  - name: client
    image: curlimages/curl:8.11.1
    command: [sleep, infinity]
"""


def _app(name: str, replicas: int, node: str | None = None) -> str:
    """A Deployment ``name`` (port ``http`` 8080) and its ClusterIP or NodePort Service.

    The image is NGINX's unprivileged build, which listens on 8080 (the stock ``nginx`` image
    listens on 80), so the manifests work as they are on a real cluster.
    """
    selector = f"\n      nodeSelector: {{kubernetes.io/hostname: {node}}}" if node else ""
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:{selector}
      containers:
      - name: {name}
        image: nginxinc/nginx-unprivileged:1.27
        ports:
        - {{name: http, containerPort: 8080}}
"""


INGRESS_TWO_APPS = (
    _app("shop", 2)
    + """\
---
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {app: shop}
  ports:
  - {name: http, port: 80, targetPort: http}
---
"""
    + _app("blog", 2)
    + """\
---
apiVersion: v1
kind: Service
metadata:
  name: blog
spec:
  selector: {app: blog}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sites
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: shop
            port: {number: 80}
  - host: blog.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: blog
            port: {number: 80}
"""
)

#: The address the simulated cloud gives the first LoadBalancer Service: the ingress
#: controller's, made with the cluster.
INGRESS_LB_IP = "203.0.113.10"

#: The NodePorts the NodePort scenario asks for (the default range is 30000-32767).
CLUSTER_NODE_PORT = 30080
LOCAL_NODE_PORT = 30081

NODEPORT_POLICIES = (
    _app("web", 2, node="worker-1")
    + f"""\
---
apiVersion: v1
kind: Service
metadata:
  name: web-cluster
spec:
  type: NodePort
  externalTrafficPolicy: Cluster
  selector: {{app: web}}
  ports:
  - {{name: http, port: 80, targetPort: http, nodePort: {CLUSTER_NODE_PORT}}}
---
apiVersion: v1
kind: Service
metadata:
  name: web-local
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {{app: web}}
  ports:
  - {{name: http, port: 80, targetPort: http, nodePort: {LOCAL_NODE_PORT}}}
"""
)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="web-service",
        title="A web app behind a Service",
        description="Three nginx pods behind the ClusterIP Service web and a client pod: "
        "DNS, DNAT, one endpoint picked.",
        manifests=WEB_SERVICE,
        requests=(
            SuggestedRequest(
                "pod/default/client", "http://web/", "client → the Service web", "delivered"
            ),
            SuggestedRequest(
                "pod/default/client",
                "http://web.default.svc.cluster.local/",
                "the same, by its full DNS name",
                "delivered",
            ),
            SuggestedRequest(
                "node/worker-2", "10.96.0.10:53/udp", "worker-2 → kube-dns", "delivered"
            ),
        ),
        seed=101,
    ),
    Scenario(
        name="ingress-two-apps",
        title="Two apps behind an Ingress",
        description="shop and blog routed by host name through one Ingress, served by "
        "ingress-nginx (retired March 2026: the Gateway API replaces it).",
        manifests=INGRESS_TWO_APPS,
        requests=(
            SuggestedRequest(
                "external", "http://shop.example.com/", "a browser → shop", "delivered"
            ),
            SuggestedRequest(
                "external", "http://blog.example.com/", "a browser → blog", "delivered"
            ),
            SuggestedRequest(
                "external",
                f"http://{INGRESS_LB_IP}/",
                "the bare load-balancer IP: no rule names it, 404",
                "delivered",
            ),
        ),
        seed=102,
        min_workers=1,
    ),
    Scenario(
        name="nodeport-policies",
        title="NodePort: Cluster vs Local",
        description="Pods on worker-1 only, behind two NodePort Services: Cluster (SNAT) vs "
        "Local (client IP kept, or dropped).",
        manifests=NODEPORT_POLICIES,
        requests=(
            SuggestedRequest(
                "external",
                f"http://10.0.0.12:{CLUSTER_NODE_PORT}/",
                "Cluster via worker-2: forwarded to worker-1, SNAT",
                "delivered",
            ),
            SuggestedRequest(
                "external",
                f"http://10.0.0.12:{LOCAL_NODE_PORT}/",
                "Local via worker-2: no pod there, dropped",
                "dropped",
                (("cilium", "Local via worker-2: no pod there, refused", "refused"),),
            ),
            SuggestedRequest(
                "external",
                f"http://10.0.0.11:{LOCAL_NODE_PORT}/",
                "Local via worker-1: the client IP is kept",
                "delivered",
            ),
        ),
        seed=103,
    ),
    Scenario(
        name="empty",
        title="An empty cluster",
        description="A fresh kubeadm cluster with CoreDNS, ingress-nginx and Envoy Gateway, "
        "and nothing of yours yet.",
        manifests="",
        requests=(
            SuggestedRequest(
                "node/worker-1",
                "https://10.96.0.1/",
                "worker-1 → the kubernetes Service (the API server)",
                "delivered",
            ),
            SuggestedRequest(
                "node/worker-2", "10.96.0.10:53/udp", "worker-2 → kube-dns", "delivered"
            ),
        ),
        seed=104,
    ),
)

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}

#: Every value the API's ``scenario`` field takes.
NAMES: tuple[str, ...] = (DEFAULT, *BY_NAME)


def get(name: str) -> Scenario:
    """The scenario called ``name``.

    Raises
    ------
    InvalidObjects
        For a name that is not one, in the API server's "Unsupported value" words.

    >>> get("nope")
    Traceback (most recent call last):
    ...
    app.errors.InvalidObjects: unknown scenario "nope"
    """
    scenario = BY_NAME.get(name)
    if scenario is None:
        listed = ", ".join(f'"{s}"' for s in NAMES)
        raise InvalidObjects(
            f'unknown scenario "{name[:80]}"',
            [
                FieldError(
                    "scenario", f'Unsupported value: "{name[:80]}": supported values: {listed}'
                )
            ],
        )
    return scenario


def scenario_requests(name: str, cni: str = "", ip_family: str = "ipv4") -> list[SuggestedRequest]:
    """The requests worth tracing in scenario ``name``, the first one first (as ``cni``'s
    datapath answers them); none for an unknown name (a workspace that came from no
    scenario). On an IPv6 cluster (``ip_family`` ``ipv6``) the cluster's own IPv4 addresses
    in them read as their IPv6 counterparts.

    >>> scenario_requests("empty", ip_family="ipv6")[-1].to
    '[fd00:10:96::a]:53/udp'
    """
    scenario = BY_NAME.get(name)
    requests = [r.for_cni(cni) for r in scenario.requests] if scenario else []
    if ip_family == "ipv6":
        requests = [replace(r, to=families.ipv6_target(r.to)) for r in requests]
    return requests


def build(
    name: str,
    config: ClusterConfig | None = None,
    seed: int | None = None,
    now: float | None = None,
) -> Cluster:
    """A new cluster for scenario ``name``: the default cluster (``config``) made with the
    scenario's seed (or ``seed``) at time ``now`` (see :meth:`Cluster.create`), its manifests
    applied, the scenario's name noted.

    >>> cluster = build("web-service")
    >>> scenario_of(cluster), len(cluster.list("Pod", "default"))
    ('web-service', 4)
    """
    scenario = get(name)
    config = config or ClusterConfig()
    if config.workers < scenario.min_workers:
        message = (
            f"Invalid value: {config.workers}: scenario {scenario.name} needs at least "
            f"{scenario.min_workers} workers"
        )
        raise InvalidObjects(f"workers: {message}", [FieldError("workers", message)])
    cluster = Cluster.create(config, scenario.seed if seed is None else seed, now)
    if scenario.manifests:
        apply_text(cluster, scenario.manifests)
    cluster.state.notes[NOTE] = scenario.name
    return cluster


def scenario_of(cluster: Any) -> str | None:
    """The slug of the scenario this workspace was opened from, or None."""
    return cluster.state.notes.get(NOTE)
