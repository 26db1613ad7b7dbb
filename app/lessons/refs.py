"""How lesson files name things: pods, objects, trace sources and expected values.

A pod is named by ``name``, ``namespace/name`` or a label selector (``app=web``,
``shop/app=api,tier=backend``), which picks the first running pod it matches by name. A trace
starts from a pod, ``node:<name>`` or ``outside`` (the client on the internet). Objects are
``<Kind> <name>`` or ``<Kind> <namespace>/<name>``.
"""

from __future__ import annotations

import re
from typing import Any

from app.cluster.objects import CLUSTER_SCOPED, kind_from_alias
from app.errors import InvalidObjects, NotFound
from app.lessons import notes
from app.network.kubeproxy import service_table


class LessonRefError(InvalidObjects):
    """A lesson names something the cluster does not have (yet)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [])


def split_selector(text: str) -> tuple[str, dict[str, str]]:
    """``[namespace/]key=value[,key=value]`` to a namespace and labels.

    >>> split_selector("shop/app=api,tier=backend")
    ('shop', {'app': 'api', 'tier': 'backend'})
    >>> split_selector("app=web")
    ('default', {'app': 'web'})
    >>> split_selector("ingress-nginx/app.kubernetes.io/name=ingress-nginx")
    ('ingress-nginx', {'app.kubernetes.io/name': 'ingress-nginx'})
    >>> split_selector("app.kubernetes.io/name=ingress-nginx")
    ('default', {'app.kubernetes.io/name': 'ingress-nginx'})
    """
    # A namespace is a DNS label (no dots, no "="); a label key may carry a prefix with a
    # "/" of its own (app.kubernetes.io/name), so only a first part like that is a namespace.
    first, slash, rest = text.partition("/")
    if slash and "." not in first and "=" not in first:
        namespace, labels = first, rest
    else:
        namespace, labels = "", text
    pairs = {}
    for part in labels.split(","):
        key, _, value = part.strip().partition("=")
        pairs[key.strip()] = value.strip()
    return namespace or "default", pairs


def show_labels(labels: dict[str, str]) -> str:
    """``{'app': 'web'}`` as ``app=web``.

    >>> show_labels({"app": "web", "tier": "front"})
    'app=web,tier=front'
    """
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "(no labels)"


def is_running(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and bool(status.get("podIP"))


def matching_pods(cluster: Any, text: str) -> list[dict[str, Any]]:
    """The pods a pod reference can mean, sorted by name (any phase).

    >>> from app.cluster.cluster import Cluster
    >>> [p["metadata"]["name"][:7] for p in matching_pods(Cluster.create(seed=1), "kube-system/k8s-app=kube-dns")]
    ['coredns', 'coredns']
    """
    if "=" in text:
        namespace, labels = split_selector(text)
        pods = [
            p
            for p in cluster.list("Pod", namespace)
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
        ]
    else:
        namespace, _, name = text.rpartition("/")
        pod = cluster.get("Pod", namespace or "default", name)
        pods = [pod] if pod is not None else []
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def pod_of(cluster: Any, text: str) -> dict[str, Any]:
    """The running pod a reference names.

    Raises
    ------
    LessonRefError
        When no running pod matches.
    """
    pods = [p for p in matching_pods(cluster, text) if is_running(p)]
    if not pods:
        raise LessonRefError(f"no running pod matches {text}")
    return pods[0]


def source_of(cluster: Any, text: str) -> str:
    """A lesson's ``from`` as a trace source.

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> source_of(cluster, "outside"), source_of(cluster, "node:worker-1")
    ('external', 'node/worker-1')
    """
    text = text.strip()
    if text in ("outside", "external"):
        return "external"
    if text.startswith("node:"):
        return f"node/{text[5:]}"
    pod = pod_of(cluster, text)
    return f"pod/{pod['metadata']['namespace']}/{pod['metadata']['name']}"


def former_pod_ips(cluster: Any, text: str) -> list[str]:
    """The addresses that pods matching ``text`` held when a step of the open lesson began,
    and that no pod holds now: the old address of a deleted or replaced pod, oldest first.

    >>> from app.cluster.cluster import Cluster
    >>> former_pod_ips(Cluster.create(seed=1), "app=web")  # no lesson open: none
    []
    """
    slug = notes.active(cluster)
    if slug is None:
        return []
    if "=" in text:
        namespace, labels = split_selector(text)
    else:
        namespace, labels = text.rpartition("/")[0] or "default", {}
    name = text if "=" in text or "/" in text else f"default/{text}"
    pods = cluster.list("Pod")
    live = {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods}
    held = {(p.get("status") or {}).get("podIP") for p in pods}
    found: list[str] = []
    for entered in notes.progress(cluster, slug)["entered"].values():
        for key, pod in entered.get("baseline", {}).items():
            have = pod.get("labels") or {}
            matches = (
                key.startswith(f"{namespace}/") and all(have.get(k) == v for k, v in labels.items())
                if labels
                else key == name
            )
            ip = pod.get("ip")
            if matches and ip and key not in live and ip not in held and ip not in found:
                found.append(ip)
    return found


def object_ref(text: str) -> tuple[str, str, str]:
    """``Service shop/web`` to ``(kind, namespace, name)``; namespace ``default`` unless given
    (and empty for cluster-wide kinds).

    >>> object_ref("svc shop/web"), object_ref("Node worker-1")
    (('Service', 'shop', 'web'), ('Node', '', 'worker-1'))

    Raises
    ------
    LessonRefError
        For a kind Podpath does not know.
    """
    kind_text, _, rest = text.strip().partition(" ")
    kind = kind_from_alias(kind_text)
    if kind is None:
        raise LessonRefError(f'"{kind_text}" is not a kind Podpath knows')
    namespace, _, name = rest.strip().rpartition("/")
    if kind in CLUSTER_SCOPED:
        return kind, "", name
    return kind, namespace or "default", name


def get_path(obj: Any, dotted: str) -> Any:
    """A field by its dotted path (``spec.ports.0.port``); ``None`` when absent.

    >>> get_path({"spec": {"ports": [{"port": 80}]}}, "spec.ports.0.port")
    80
    """
    for part in dotted.split("."):
        if isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        elif isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


def expected_values(cluster: Any, spec: dict[str, Any]) -> list[str]:
    """What an ``answer`` or ``address`` may be: the value a lesson's expression names,
    read from the cluster now.

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> expected_values(cluster, {"service_ip": "kube-system/kube-dns"})
    ['10.96.0.10']
    >>> expected_values(cluster, {"node_ip": "worker-2"})
    ['10.0.0.12']
    >>> expected_values(cluster, {"router_ip": "worker-2"})
    ['10.244.2.1']
    >>> expected_values(cluster, {"node_port": "ingress-nginx/ingress-nginx-controller:80"})
    ['31968']

    Raises
    ------
    LessonRefError, NotFound
        When the thing named does not exist.
    """
    ((kind, value),) = spec.items()
    if kind == "value":
        return [str(value)]
    if kind == "one_of":
        return [str(v) for v in value]
    if kind == "pod_ip":
        return [pod_of(cluster, value)["status"]["podIP"]]
    if kind == "former_pod_ip":
        return former_pod_ips(cluster, str(value))
    if kind == "node_ip":
        node = cluster.require("Node", "", value)
        return [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
    if kind == "router_ip":  # the node's pod gateway: cni0's or cilium_host's address
        gateway = cluster.node_summary(cluster.require("Node", "", value))["gateway"]
        return [gateway["ip"]] if gateway else []
    namespace, _, name = str(value).rpartition("/")
    name, _, port = name.partition(":")
    if kind == "svc_chain":  # kube-proxy's KUBE-SVC-<hash> chain for each of the ports
        prefix = f"{namespace or 'default'}/{name}"
        return [p.chain for p in service_table(cluster) if p.name.split(":")[0] == prefix] or [
            f"(no chain: {prefix} has no proxied port)"
        ]
    service = cluster.get("Service", namespace or "default", name)
    if service is None:
        raise NotFound(f'services "{name}" not found')
    if kind == "service_ip":
        return [service["spec"].get("clusterIP") or ""]
    if kind == "node_port":
        ports = [p for p in service["spec"].get("ports", []) if p.get("nodePort")]
        if port:  # service:80 names one port
            ports = [p for p in ports if str(p.get("port")) == port or p.get("name") == port]
        return [str(p["nodePort"]) for p in ports]
    ingress = (service.get("status") or {}).get("loadBalancer", {}).get("ingress") or []
    return [i["ip"] for i in ingress if i.get("ip")]


_PLACEHOLDER = re.compile(
    r"\{(pod_ip|former_pod_ip|service_ip|node_ip|router_ip|lb_ip|node_port|svc_chain):([^}]+)\}"
)


def expand(cluster: Any, text: str) -> str:
    """Fill in ``{pod_ip:web-a}``-style placeholders with the cluster's values now, so a
    lesson can name an address it cannot know in advance.

    >>> from app.cluster.cluster import Cluster
    >>> expand(Cluster.create(seed=1), "http://{service_ip:kube-system/kube-dns}:53/")
    'http://10.96.0.10:53/'

    Raises
    ------
    LessonRefError, NotFound
        When the thing named does not exist.
    """

    def fill(match: re.Match[str]) -> str:
        values = expected_values(cluster, {match.group(1): match.group(2).strip()})
        if not values:
            raise LessonRefError(f"{match.group(0)} has no value yet")
        return values[0]

    return _PLACEHOLDER.sub(fill, text)
