"""What Envoy Gateway installs, and what it creates for each Gateway it accepts.

The install (``envoy-gateway`` controller Deployment and Service in ``envoy-gateway-system``,
and the quickstart's GatewayClass ``eg``) comes with every sandbox, as ingress-nginx does.
For each Gateway of a class it controls, Envoy Gateway's Kubernetes infrastructure provider
(``internal/infrastructure/kubernetes/proxy``) creates, in ``envoy-gateway-system``:

- a Deployment of Envoy proxies and a ``LoadBalancer`` Service in front of them, both named
  ``envoy-<gateway namespace>-<gateway name>-<8 hex digits of sha256("<ns>/<name>")>``
  (the name part cut at 48 characters) and labelled with the owning Gateway
  (``gateway.envoyproxy.io/owning-gateway-name`` / ``-namespace``);
- one Service port per listener port, named ``<protocol>-<port>`` (``http-80``), whose
  ``targetPort`` is the port Envoy listens on: a privileged port (below 1024) is shifted by
  10000 (80 → 10080) so Envoy runs without ``CAP_NET_BIND_SERVICE``;
- ``externalTrafficPolicy: Local``, Envoy Gateway's default, so the client's address reaches
  Envoy (and ``X-Forwarded-For``).
"""

from __future__ import annotations

import hashlib
from typing import Any

NAMESPACE = "envoy-gateway-system"
GATEWAY_CLASS = "eg"
#: The release modelled (the one the kind export installs, built on Gateway API v1.6.1), and
#: the Envoy image it runs by default (its ``DefaultEnvoyProxyImage``).
ENVOY_GATEWAY_VERSION = "v1.9.0"
CONTROLLER_IMAGE = f"docker.io/envoyproxy/gateway:{ENVOY_GATEWAY_VERSION}"
ENVOY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.39.0"
OWNER_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNER_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
PROXY_LABELS = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}
CONTROLLER_LABELS = {"control-plane": "envoy-gateway", "app.kubernetes.io/name": "gateway-helm"}
PRIVILEGED_BELOW, PORT_SHIFT = 1024, 10000
#: Where a manifest keeps the digest of what made it, so an unchanged Gateway is not rewritten.
DIGEST = "podpath.dev/desired"


def hashed_name(namespace: str, name: str, length: int = 48) -> str:
    """Envoy Gateway's ``GetHashedName``: ``<ns>-<name>`` (cut at ``length``) + 8 hex digits.

    >>> hashed_name("default", "eg")
    'default-eg-e41e7b31'
    """
    text = f"{namespace}/{name}"
    digest = hashlib.sha256(text.encode()).hexdigest()
    readable = text.replace("/", "-")
    if len(readable) > length:
        readable = readable[:length].removesuffix("-")
    return f"{readable}-{digest[:8]}"


def proxy_name(namespace: str, name: str) -> str:
    """The name of a Gateway's Envoy Deployment and Service.

    >>> proxy_name("envoy-gateway-system", "eg")
    'envoy-envoy-gateway-system-eg-5391c79d'
    """
    return f"envoy-{hashed_name(namespace, name)}"


def container_port(port: int) -> int:
    """The port Envoy listens on for a listener port (privileged ports shifted by 10000).

    >>> container_port(80), container_port(443), container_port(8080)
    (10080, 10443, 8080)
    """
    return port + PORT_SHIFT if port < PRIVILEGED_BELOW else port


def proxy_labels(namespace: str, name: str) -> dict[str, str]:
    return {**PROXY_LABELS, OWNER_NAME: name, OWNER_NAMESPACE: namespace}


def listener_ports(gateway: dict[str, Any]) -> list[tuple[str, int, str]]:
    """``(port name, listener port, L4 protocol)`` for each distinct listener port."""
    seen: dict[int, tuple[str, int, str]] = {}
    for listener in (gateway.get("spec") or {}).get("listeners") or []:
        port, protocol = int(listener.get("port", 0)), str(listener.get("protocol", "HTTP"))
        if port and port not in seen:
            l4 = "UDP" if protocol == "UDP" else "TCP"
            seen[port] = (f"{protocol.lower()}-{port}", port, l4)
    return sorted(seen.values(), key=lambda p: p[1])


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def proxy_deployment(gateway: dict[str, Any], owner: dict[str, Any] | None) -> dict[str, Any]:
    """The Envoy Deployment Envoy Gateway makes for ``gateway`` (one replica)."""
    ns, name = gateway["metadata"]["namespace"], gateway["metadata"]["name"]
    labels = proxy_labels(ns, name)
    ports = [
        {"name": port_name, "containerPort": container_port(port), "protocol": l4}
        for port_name, port, l4 in listener_ports(gateway)
    ]
    ports.append({"name": "metrics", "containerPort": 19001, "protocol": "TCP"})
    meta: dict[str, Any] = {"name": proxy_name(ns, name), "namespace": NAMESPACE}
    meta["labels"] = dict(labels)
    meta["annotations"] = {DIGEST: _digest("deployment", ports)}
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": "envoy", "image": ENVOY_IMAGE, "ports": ports}]},
            },
        },
    }


def proxy_service(gateway: dict[str, Any], owner: dict[str, Any] | None) -> dict[str, Any]:
    """The LoadBalancer Service in front of a Gateway's Envoy pods."""
    ns, name = gateway["metadata"]["namespace"], gateway["metadata"]["name"]
    labels = proxy_labels(ns, name)
    ports = [
        {"name": port_name, "port": port, "protocol": l4, "targetPort": container_port(port)}
        for port_name, port, l4 in listener_ports(gateway)
    ]
    meta: dict[str, Any] = {"name": proxy_name(ns, name), "namespace": NAMESPACE}
    meta["labels"] = dict(labels)
    meta["annotations"] = {DIGEST: _digest("service", ports)}
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",
            "selector": dict(labels),
            "ports": ports,
        },
    }


def install_manifests() -> list[dict[str, Any]]:
    """Envoy Gateway's own objects in every sandbox: its namespace, controller Deployment and
    Service, and the GatewayClass ``eg`` of its quickstart."""
    labels = dict(CONTROLLER_LABELS)
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": GATEWAY_CLASS},
            "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "envoy-gateway", "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {
                        "containers": [
                            {
                                "name": "envoy-gateway",
                                "image": CONTROLLER_IMAGE,
                                "ports": [
                                    {"name": "grpc", "containerPort": 18000, "protocol": "TCP"},
                                    {
                                        "name": "ratelimit",
                                        "containerPort": 18001,
                                        "protocol": "TCP",
                                    },
                                    {"name": "wasm", "containerPort": 18002, "protocol": "TCP"},
                                    {"name": "metrics", "containerPort": 19001, "protocol": "TCP"},
                                ],
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "envoy-gateway", "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "selector": dict(labels),
                "ports": [
                    {"name": "grpc", "port": 18000, "targetPort": 18000, "protocol": "TCP"},
                    {"name": "ratelimit", "port": 18001, "targetPort": 18001, "protocol": "TCP"},
                    {"name": "wasm", "port": 18002, "targetPort": 18002, "protocol": "TCP"},
                    {"name": "metrics", "port": 19001, "targetPort": 19001, "protocol": "TCP"},
                ],
            },
        },
    ]
