"""Validation of one manifest before defaults, the way the API server validates it.

:func:`validate_manifest` checks, in order: the document is a mapping with ``apiVersion`` and
``kind``; the pair is a kind Podpath models; ``metadata.name`` is present; the structure
matches the kind's OpenAPI schema (strict: unknown fields are errors); and, only when the
structure is sound, the semantic rules of that kind. :func:`validate_update` holds the rules
between a stored object and its replacement.
"""

from __future__ import annotations

from collections.abc import Callable

from app.cluster.objects import deep_copy
from app.cluster.validation import semantic_meta as fe
from app.cluster.validation.crd_schema import CRD_FILES, apply_crd_defaults
from app.cluster.validation.immutability import validate_update
from app.cluster.validation.schema import validate_schema
from app.cluster.validation.semantic_cluster import (
    validate_endpoint_slice,
    validate_namespace,
    validate_node,
)
from app.cluster.validation.semantic_config import validate_config_map
from app.cluster.validation.semantic_gateway import (
    validate_gateway,
    validate_gateway_class,
    validate_reference_grant,
)
from app.cluster.validation.semantic_networking import (
    validate_ingress,
    validate_ingress_class,
    validate_network_policy,
)
from app.cluster.validation.semantic_pod import validate_pod
from app.cluster.validation.semantic_routes import validate_grpc_route, validate_http_route
from app.cluster.validation.semantic_service import validate_service
from app.cluster.validation.semantic_workloads import validate_daemonset, validate_deployment
from app.errors import NOT_SUPPORTED, TYPE_INVALID, UNKNOWN_FIELD, FieldError

__all__ = ["SUPPORTED_KINDS", "validate_manifest", "validate_update"]

CLUSTER = "cluster"
NAMESPACED = "namespaced"

SUPPORTED_KINDS: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): CLUSTER,
    ("v1", "Node"): CLUSTER,
    ("v1", "Pod"): NAMESPACED,
    ("v1", "Service"): NAMESPACED,
    ("v1", "ConfigMap"): NAMESPACED,
    ("apps/v1", "Deployment"): NAMESPACED,
    ("apps/v1", "DaemonSet"): NAMESPACED,
    ("discovery.k8s.io/v1", "EndpointSlice"): NAMESPACED,
    ("networking.k8s.io/v1", "Ingress"): NAMESPACED,
    ("networking.k8s.io/v1", "IngressClass"): CLUSTER,
    ("networking.k8s.io/v1", "NetworkPolicy"): NAMESPACED,
    # The Gateway API CRDs (standard channel) serve v1beta1 beside v1 with the same schema;
    # v1 is listed last so that it is the version an error message suggests.
    ("gateway.networking.k8s.io/v1beta1", "GatewayClass"): CLUSTER,
    ("gateway.networking.k8s.io/v1beta1", "Gateway"): NAMESPACED,
    ("gateway.networking.k8s.io/v1beta1", "HTTPRoute"): NAMESPACED,
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"): NAMESPACED,
    ("gateway.networking.k8s.io/v1", "GatewayClass"): CLUSTER,
    ("gateway.networking.k8s.io/v1", "Gateway"): NAMESPACED,
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): NAMESPACED,
    ("gateway.networking.k8s.io/v1", "GRPCRoute"): NAMESPACED,
    ("gateway.networking.k8s.io/v1", "ReferenceGrant"): NAMESPACED,
}

_SEMANTIC: dict[str, Callable[[dict], list[FieldError]]] = {
    "Namespace": validate_namespace,
    "Node": validate_node,
    "Pod": validate_pod,
    "Service": validate_service,
    "ConfigMap": validate_config_map,
    "Deployment": validate_deployment,
    "DaemonSet": validate_daemonset,
    "EndpointSlice": validate_endpoint_slice,
    "Ingress": validate_ingress,
    "IngressClass": validate_ingress_class,
    "NetworkPolicy": validate_network_policy,
    "GatewayClass": validate_gateway_class,
    "Gateway": validate_gateway,
    "HTTPRoute": validate_http_route,
    "GRPCRoute": validate_grpc_route,
    "ReferenceGrant": validate_reference_grant,
}

_API_VERSION_OF = {kind: api for api, kind in SUPPORTED_KINDS}


def _kind_errors(api_version: object, kind: object) -> list[FieldError]:
    errs: list[FieldError] = []
    for field, value in (("apiVersion", api_version), ("kind", kind)):
        if value is None or value == "":
            errs.append(fe.required(field, f"{field} not set"))
        elif not isinstance(value, str):
            errs.append(fe.type_invalid(field, value, "must be a string"))
    if errs:
        return errs
    assert isinstance(api_version, str) and isinstance(kind, str)
    if (api_version, kind) in SUPPORTED_KINDS:
        return []
    if kind in _API_VERSION_OF:
        want = _API_VERSION_OF[kind]
        return [
            FieldError(
                "apiVersion",
                f'Unsupported value: "{api_version}": no matches for kind "{kind}" in version '
                f'"{api_version}"; use apiVersion "{want}"',
                NOT_SUPPORTED,
            )
        ]
    hint = ""
    for known in _API_VERSION_OF:
        if known.lower() == kind.lower():
            hint = f' (did you mean "{known}"?)'
    supported = ", ".join(f"{k} ({a})" for k, a in _API_VERSION_OF.items())
    return [
        FieldError(
            "kind",
            f'Unsupported value: "{kind}": no matches for kind "{kind}" in version '
            f'"{api_version}"{hint}; supported kinds: {supported}',
            NOT_SUPPORTED,
        )
    ]


def validate_manifest(obj: dict) -> list[FieldError]:
    """Validate one object before defaults: kind, name, schema, then the kind's rules.

    Never raises, whatever JSON-like value it is given.

    Parameters
    ----------
    obj : dict
        One parsed manifest document.

    Returns
    -------
    list of FieldError
        Everything wrong with it; empty when the API server would accept it.

    Examples
    --------
    >>> validate_manifest({"apiVersion": "v1", "kind": "Service",
    ...     "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
    []
    >>> e = validate_manifest({"apiVersion": "extensions/v1beta1", "kind": "Ingress",
    ...     "metadata": {"name": "web"}})[0]
    >>> e.field, e.message.split("; ")[1]
    ('apiVersion', 'use apiVersion "networking.k8s.io/v1"')
    """
    if not isinstance(obj, dict):
        return [fe.type_invalid("", obj, "a manifest must be a mapping (an object)")]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    errs = _kind_errors(api_version, kind)
    if errs:
        return errs
    meta = obj.get("metadata")
    if isinstance(meta, dict) or meta is None:
        meta = meta or {}
        name = meta.get("name")
        if name is None or name == "":
            if meta.get("generateName"):
                errs.append(
                    fe.forbidden(
                        "metadata.generateName",
                        "generateName is not supported here: set metadata.name",
                    )
                )
            else:
                errs.append(fe.required("metadata.name", "name or generateName is required"))
    schema_errs = validate_schema(obj)
    errs.extend(schema_errs)
    if kind in CRD_FILES:
        # A custom resource's CEL rules run on it with its schema defaults filled in (an
        # HTTPRoute rule then has its PathPrefix "/" match), and the API server skips them
        # only after a blocking error (a wrong type or a field the schema does not know);
        # a broken pattern or range is reported beside the broken CEL rules.
        if not any(e.reason in (TYPE_INVALID, UNKNOWN_FIELD) for e in schema_errs):
            defaulted = deep_copy(obj)
            apply_crd_defaults(defaulted)
            errs.extend(_SEMANTIC[kind](defaulted))
    elif not schema_errs:
        errs.extend(_SEMANTIC[kind](obj))  # type: ignore[index]
    return errs
