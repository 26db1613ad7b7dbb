"""Small helpers for Kubernetes objects held as plain JSON-like dicts."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

# Kinds whose objects live outside namespaces.
CLUSTER_SCOPED = frozenset({"Namespace", "Node", "IngressClass", "GatewayClass"})

# The Gateway API's group; its kinds are CRDs (installed with the Gateway API release).
GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_KINDS = ("GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant")

# The group/version each kind is served at, as ``kubectl api-resources`` lists it.
API_VERSIONS = {
    "Namespace": "v1",
    "Node": "v1",
    "Pod": "v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "EndpointSlice": "discovery.k8s.io/v1",
    "Ingress": "networking.k8s.io/v1",
    "IngressClass": "networking.k8s.io/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "GatewayClass": GATEWAY_API,
    "Gateway": GATEWAY_API,
    "HTTPRoute": GATEWAY_API,
    "GRPCRoute": GATEWAY_API,
    "ReferenceGrant": GATEWAY_API,
}

# What ``kubectl get <resource>`` accepts for each kind, so URLs may say ``pods`` or ``svc``.
KIND_ALIASES = {
    "namespace": "Namespace",
    "namespaces": "Namespace",
    "ns": "Namespace",
    "node": "Node",
    "nodes": "Node",
    "no": "Node",
    "pod": "Pod",
    "pods": "Pod",
    "po": "Pod",
    "service": "Service",
    "services": "Service",
    "svc": "Service",
    "configmap": "ConfigMap",
    "configmaps": "ConfigMap",
    "cm": "ConfigMap",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "replicaset": "ReplicaSet",
    "replicasets": "ReplicaSet",
    "rs": "ReplicaSet",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "ds": "DaemonSet",
    "endpointslice": "EndpointSlice",
    "endpointslices": "EndpointSlice",
    "ingress": "Ingress",
    "ingresses": "Ingress",
    "ing": "Ingress",
    "ingressclass": "IngressClass",
    "ingressclasses": "IngressClass",
    "networkpolicy": "NetworkPolicy",
    "networkpolicies": "NetworkPolicy",
    "netpol": "NetworkPolicy",
    # The Gateway API CRDs' names and shortNames (HTTPRoute and GRPCRoute define none).
    "gatewayclass": "GatewayClass",
    "gatewayclasses": "GatewayClass",
    "gc": "GatewayClass",
    "gateway": "Gateway",
    "gateways": "Gateway",
    "gtw": "Gateway",
    "httproute": "HTTPRoute",
    "httproutes": "HTTPRoute",
    "grpcroute": "GRPCRoute",
    "grpcroutes": "GRPCRoute",
    "referencegrant": "ReferenceGrant",
    "referencegrants": "ReferenceGrant",
    "refgrant": "ReferenceGrant",
}


class ObjectKey(NamedTuple):
    """What names one object: its kind, namespace (``""`` when cluster-scoped) and name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{where}{self.name}"


def kind_from_alias(text: str) -> str | None:
    """The kind a ``kubectl get`` resource name means.

    >>> kind_from_alias("svc"), kind_from_alias("Deployment"), kind_from_alias("widgets")
    ('Service', 'Deployment', None)
    """
    if text in API_VERSIONS:
        return text
    return KIND_ALIASES.get(text.lower())


def key_of(obj: dict[str, Any]) -> ObjectKey:
    """The key of an object.

    >>> key_of({"kind": "Pod", "metadata": {"name": "a", "namespace": "shop"}})
    ObjectKey(kind='Pod', namespace='shop', name='a')
    """
    meta = obj.get("metadata") or {}
    kind = obj["kind"]
    namespace = "" if kind in CLUSTER_SCOPED else meta.get("namespace") or "default"
    return ObjectKey(kind, namespace, meta["name"])


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def deep_copy(value: Any) -> Any:
    """A deep copy of a JSON-like value (dicts, lists, strings, numbers, booleans, None).

    Faster than :func:`copy.deepcopy`, which must handle every type and cycle.

    >>> original = {"a": [1, {"b": None}]}
    >>> copied = deep_copy(original)
    >>> copied == original, copied["a"] is original["a"]
    (True, False)
    """
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """JSON with sorted keys: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def fnv32a(data: bytes) -> int:
    """The 32-bit FNV-1a hash Kubernetes uses for ``pod-template-hash``.

    >>> fnv32a(b"")
    2166136261
    """
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str, alphabet: str) -> str:
    """Kubernetes' ``rand.SafeEncodeString``: map each byte onto an alphabet with no vowels.

    >>> safe_encode("123", "bcdfghjklmnpqrstvwxz2456789")
    '567'
    """
    return "".join(alphabet[b % len(alphabet)] for b in text.encode())


def template_hash(template: dict[str, Any], alphabet: str) -> str:
    """The ``pod-template-hash`` label value of a pod template (fnv32a, safe-encoded)."""
    digest = fnv32a(canonical_json(template).encode())
    return safe_encode(str(digest), alphabet)


__all__ = [
    "API_VERSIONS",
    "CLUSTER_SCOPED",
    "GATEWAY_API",
    "GATEWAY_KINDS",
    "ObjectKey",
    "canonical_json",
    "deep_copy",
    "key_of",
    "labels_of",
    "template_hash",
]
