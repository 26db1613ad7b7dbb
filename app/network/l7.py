"""The L7 proxies a trace hands an HTTP request to: each terminates the client's connection,
decides where the request goes and opens a second connection to a backend pod.

Two run in every sandbox: ingress-nginx's controller (Ingress) and Envoy Gateway's Envoy pods
(the Gateway API). A trace asks :func:`proxy_for` about the pod a request reached instead of
branching on names; each proxy is a function ``(run, pod, node, packet) -> None`` that adds
its hops and ends the trace (or carries it on to the backend).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Proxy = Callable[[Any, dict[str, Any], str, Any], None]


def _ingress_nginx(run: Any, pod: dict[str, Any], node: str, packet: Any) -> None:
    from app.network.outside import ingress_proxy

    ingress_proxy(run, pod, node, packet)


def _envoy(run: Any, pod: dict[str, Any], node: str, packet: Any) -> None:
    from app.network.gateway.proxy import envoy_proxy

    envoy_proxy(run, pod, node, packet)


def proxy_for(pod: dict[str, Any]) -> Proxy | None:
    """The L7 proxy ``pod`` runs, or None for an ordinary pod (known by its labels).

    >>> proxy_for({"metadata": {"labels": {"app.kubernetes.io/name": "ingress-nginx",
    ...     "app.kubernetes.io/component": "controller"}}}).__name__
    '_ingress_nginx'
    >>> proxy_for({"metadata": {"labels": {"app.kubernetes.io/name": "envoy",
    ...     "gateway.envoyproxy.io/owning-gateway-name": "eg"}}}).__name__
    '_envoy'
    >>> proxy_for({"metadata": {"labels": {"app": "web"}}}) is None
    True
    """
    labels = pod["metadata"].get("labels") or {}
    name = labels.get("app.kubernetes.io/name")
    if name == "ingress-nginx" and labels.get("app.kubernetes.io/component") == "controller":
        return _ingress_nginx
    if name == "envoy" and "gateway.envoyproxy.io/owning-gateway-name" in labels:
        return _envoy
    return None


def answered_by_proxy(
    run: Any, pod: dict[str, Any], node: str, packet: Any, status: int, reason: Any
) -> None:
    """End ``run``'s trace where the proxy in ``pod`` answered the request itself (a 404, a
    503, a redirect): the connection worked, so it is delivered, to the proxy's pod, with the
    HTTP ``status`` the client gets instead of an application's answer, for ``reason``."""
    run.trace.http_status = status
    run.trace.endpoint = {
        "kind": "pod",
        "namespace": pod["metadata"]["namespace"],
        "name": pod["metadata"]["name"],
        "ip": packet.dst_ip,
        "port": packet.dst_port,
        "node": node,
    }
    run.end("delivered", reason)
