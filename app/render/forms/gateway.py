"""The Gateway and HTTPRoute forms: one listener, or one rule with a path match and up to a
few weighted backends, turned into gateway.networking.k8s.io/v1 manifests. What the form
leaves empty is left out, so the CRD's defaults apply (a listener takes routes from its own
namespace; a backend's weight is 1) and ``apply`` reports what the API server would."""

from __future__ import annotations

import re
from typing import Any

from app.cluster.objects import GATEWAY_API
from app.render.forms.fields import Fields, Problems, field_int, field_text, object_meta

#: The fields of one backend row of the HTTPRoute form; row ``i`` names them ``backend_i``…
ROUTE_BACKEND_FIELDS = ("backend", "backend_port", "weight")
LISTENER_PROTOCOLS = ("HTTP", "HTTPS", "TLS", "TCP", "UDP")
PATH_MATCH_TYPES = ("PathPrefix", "Exact", "RegularExpression")
#: The GatewayClass Envoy Gateway's install makes, which the form preselects.
DEFAULT_CLASS = "eg"


def gateway_manifest(fields: Fields) -> dict[str, Any]:
    """A Gateway with one listener.

    Fields: ``name``, ``namespace``, ``class_name`` (``eg`` when empty), ``listener``
    (the listener's name, ``http`` when empty), ``port``, ``protocol`` (HTTP when empty),
    ``hostname`` (any host when empty) and ``routes_from`` (Same, All; Same when empty, the
    CRD's default).

    >>> g = gateway_manifest({"name": "web-gw", "port": "80", "hostname": "*.example.com"})
    >>> g["spec"]
    {'gatewayClassName': 'eg', 'listeners': [{'name': 'http', 'port': 80, 'protocol': 'HTTP', 'hostname': '*.example.com'}]}
    """
    problems = Problems("Gateway", fields)
    listener: dict[str, Any] = {"name": field_text(fields, "listener", "http")}
    port = field_int(problems, fields, "port", "spec.listeners[0].port")
    if port is not None:
        listener["port"] = port
    listener["protocol"] = field_text(fields, "protocol", "HTTP")
    if field_text(fields, "hostname"):
        listener["hostname"] = field_text(fields, "hostname")
    routes_from = field_text(fields, "routes_from", "Same")
    if routes_from != "Same":
        listener["allowedRoutes"] = {"namespaces": {"from": routes_from}}
    problems.raise_any()
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": object_meta(fields),
        "spec": {
            "gatewayClassName": field_text(fields, "class_name", DEFAULT_CLASS),
            "listeners": [listener],
        },
    }


def route_backend_rows(fields: Fields) -> list[dict[str, str]]:
    """The backend rows filled in, in row order (``backend_0``, ``backend_port_0``,
    ``weight_0``…); unnumbered fields are row 0's. A row without a Service is skipped.

    >>> [r["backend"] for r in route_backend_rows({"backend": "web", "backend_2": "canary",
    ...                                             "backend_1": ""})]
    ['web', 'canary']
    """
    values = dict(fields)
    for key in ROUTE_BACKEND_FIELDS:
        if key in values and f"{key}_0" not in values:
            values[f"{key}_0"] = values.pop(key)
    indexes = sorted(
        {
            int(m.group(2))
            for k in values
            if (m := re.fullmatch(r"(backend|backend_port|weight)_(\d+)", k))
        }
    )
    rows = [
        {"index": str(i), **{f: field_text(values, f"{f}_{i}") for f in ROUTE_BACKEND_FIELDS}}
        for i in indexes
    ]
    return [r for r in rows if r["backend"]]


def _parent(fields: Fields, namespace: str) -> dict[str, Any]:
    """``gateway`` is ``name`` or ``namespace/name``; the namespace is written only when it
    is not the route's own (a cross-namespace parent)."""
    text = field_text(fields, "gateway")
    gw_namespace, _, name = text.rpartition("/")
    parent: dict[str, Any] = {"name": name}
    if gw_namespace and gw_namespace != namespace:
        parent["namespace"] = gw_namespace
    if field_text(fields, "section"):
        parent["sectionName"] = field_text(fields, "section")
    return parent


def httproute_manifest(fields: Fields) -> dict[str, Any]:
    """An HTTPRoute with one parent Gateway and one rule.

    Fields: ``name``, ``namespace``, ``gateway`` (``name`` or ``namespace/name``),
    ``section`` (a listener name, optional), ``hostnames`` (commas or spaces; any host when
    empty), ``path_type`` and ``path`` (no match written when both are empty: the CRD's
    default PathPrefix ``/``), and backend rows ``backend_i``, ``backend_port_i``,
    ``weight_i`` (see :func:`route_backend_rows`).

    >>> r = httproute_manifest({"name": "shop", "gateway": "web-gw",
    ...     "hostnames": "shop.example.com", "path_type": "PathPrefix", "path": "/cart",
    ...     "backend_0": "cart", "backend_port_0": "80", "weight_0": "90",
    ...     "backend_1": "cart-canary", "backend_port_1": "80", "weight_1": "10"})
    >>> r["spec"]["parentRefs"], r["spec"]["hostnames"]
    ([{'name': 'web-gw'}], ['shop.example.com'])
    >>> r["spec"]["rules"][0]["matches"]
    [{'path': {'type': 'PathPrefix', 'value': '/cart'}}]
    >>> [(b["name"], b["weight"]) for b in r["spec"]["rules"][0]["backendRefs"]]
    [('cart', 90), ('cart-canary', 10)]
    """
    problems = Problems("HTTPRoute", fields)
    namespace = field_text(fields, "namespace", "default")
    spec: dict[str, Any] = {}
    if field_text(fields, "gateway"):
        spec["parentRefs"] = [_parent(fields, namespace)]
    hostnames = [h for h in re.split(r"[,\s]+", field_text(fields, "hostnames")) if h]
    if hostnames:
        spec["hostnames"] = hostnames
    rule: dict[str, Any] = {}
    path_type, path = field_text(fields, "path_type"), field_text(fields, "path")
    if path:
        rule["matches"] = [{"path": {"type": path_type or "PathPrefix", "value": path}}]
    backends = []
    for n, row in enumerate(route_backend_rows(fields)):
        ref: dict[str, Any] = {"name": row["backend"]}
        where = f"spec.rules[0].backendRefs[{n}]"
        port = field_int(problems, row, "backend_port", f"{where}.port")
        if port is not None:
            ref["port"] = port
        weight = field_int(problems, row, "weight", f"{where}.weight")
        if weight is not None:
            ref["weight"] = weight
        backends.append(ref)
    if backends:
        rule["backendRefs"] = backends
    spec["rules"] = [rule]
    problems.raise_any()
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": object_meta(fields),
        "spec": spec,
    }


__all__ = [
    "DEFAULT_CLASS",
    "LISTENER_PROTOCOLS",
    "PATH_MATCH_TYPES",
    "ROUTE_BACKEND_FIELDS",
    "gateway_manifest",
    "httproute_manifest",
    "route_backend_rows",
]
