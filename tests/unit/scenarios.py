"""Small named scenarios built in code, shared by the cluster tests."""

from __future__ import annotations

from typing import Any

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig


def cluster(cni: str = "flannel", workers: int = 2, seed: int = 7, **limits: int) -> Cluster:
    return Cluster.create(ClusterConfig(cni=cni, workers=workers, **limits), seed=seed)


def deployment(
    name: str,
    replicas: int = 2,
    labels: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    namespace: str = "default",
) -> str:
    labels = labels or {"app": name}
    label_text = ", ".join(f"{k}: {v}" for k, v in labels.items())
    port_text = ""
    if ports is None:
        ports = [{"name": "http", "containerPort": 8080}]
    if ports:
        items = ", ".join("{" + ", ".join(f"{k}: {v}" for k, v in p.items()) + "}" for p in ports)
        port_text = f", ports: [{items}]"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{{label_text}}}}}
  template:
    metadata: {{labels: {{{label_text}}}}}
    spec:
      containers: [{{name: app, image: nginx{port_text}}}]
"""


def service(
    name: str,
    selector: dict[str, str] | None = None,
    port: int = 80,
    target: int | str = "http",
    type_: str = "ClusterIP",
    namespace: str = "default",
    extra: str = "",
) -> str:
    selector = {"app": name} if selector is None else selector
    selector_text = ", ".join(f"{k}: {v}" for k, v in selector.items())
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  type: {type_}
  selector: {{{selector_text}}}
  ports: [{{port: {port}, targetPort: {target}}}]
{extra}"""


def web_app(cluster_: Cluster, replicas: int = 3, type_: str = "ClusterIP") -> Cluster:
    """The classic: Deployment ``web`` (app=web, port ``http`` 8080) behind Service ``web``."""
    apply_text(cluster_, deployment("web", replicas) + "---\n" + service("web", type_=type_))
    return cluster_


def pods_of(cluster_: Cluster, prefix: str, namespace: str = "default") -> list[dict[str, Any]]:
    return [p for p in cluster_.list("Pod", namespace) if p["metadata"]["name"].startswith(prefix)]


def endpoint_ips(
    cluster_: Cluster, service_name: str, namespace: str = "default", ready: bool = True
):
    ips = set()
    for s in cluster_.list("EndpointSlice", namespace):
        if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != service_name:
            continue
        for endpoint in s.get("endpoints") or []:
            if not ready or endpoint["conditions"].get("ready"):
                ips.update(endpoint["addresses"])
    return ips
