"""The Service and Ingress forms: their fields turned into manifests, with the fields a
Service's type does not use left out and the Ingress form's path rows numbered."""

from __future__ import annotations

import re
from typing import Any

from app.render.forms.fields import (
    Fields,
    Problems,
    field_int,
    field_labels,
    field_text,
    object_meta,
    port_ref,
)

#: The Service form's fields that only some types use (the rest every type but ExternalName
#: uses: selector, port, target port, protocol, session affinity). A field the chosen type
#: does not use is ignored, so a form shown whole (no JavaScript) still makes a clean object.
SERVICE_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "headless": ("ClusterIP",),
    "node_port": ("NodePort", "LoadBalancer"),
    "external_traffic_policy": ("NodePort", "LoadBalancer"),
    "health_check_node_port": ("LoadBalancer",),
    "external_name": ("ExternalName",),
}
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
_ROUTED_FIELDS = ("selector", "port", "target_port", "protocol", "session_affinity")


def service_fields(fields: Fields) -> dict[str, str]:
    """The Service form's fields with those its type does not use left out.

    ``type=headless`` (an older spelling) is ``type=ClusterIP`` with ``headless=on``.

    >>> service_fields({"name": "web", "type": "ClusterIP", "node_port": "30080",
    ...                 "external_name": "x.example.com", "selector": "app=web"})
    {'name': 'web', 'type': 'ClusterIP', 'selector': 'app=web'}
    >>> service_fields({"type": "ExternalName", "selector": "app=web", "port": "80",
    ...                 "external_name": "db.example.com"})
    {'type': 'ExternalName', 'external_name': 'db.example.com'}
    """
    values = dict(fields)
    if field_text(values, "type") == "headless":
        values.update(type="ClusterIP", headless="on")
    kind = field_text(values, "type", "ClusterIP")
    kept = {}
    for key, value in values.items():
        used_by = SERVICE_TYPE_FIELDS.get(key)
        if used_by is not None and kind not in used_by:
            continue
        if key in _ROUTED_FIELDS and kind == "ExternalName":
            continue
        kept[key] = value
    return kept


def service_manifest(fields: Fields) -> dict[str, Any]:
    """A v1 Service of any type; ``headless`` (on) makes a ClusterIP Service with
    ``clusterIP: None``.

    Fields: ``name``, ``namespace``, ``type``, ``headless``, ``selector``, ``port``,
    ``target_port`` (a number or a port name), ``node_port``, ``protocol``,
    ``external_name``, ``external_traffic_policy``, ``health_check_node_port`` and
    ``session_affinity``; empty ones are left out, so the API server's defaults apply, and
    so are those the type does not use (see ``service_fields``).

    >>> s = service_manifest({"name": "web", "type": "ClusterIP", "headless": "on",
    ...                       "selector": "app=web", "port": "80", "target_port": "http"})
    >>> s["spec"]
    {'clusterIP': 'None', 'selector': {'app': 'web'}, 'ports': [{'port': 80, 'targetPort': 'http'}]}
    """
    fields = service_fields(fields)
    problems = Problems("Service", fields)
    selector = field_labels(problems, fields, "selector", "spec.selector")
    kind = field_text(fields, "type", "ClusterIP")
    spec: dict[str, Any] = {}
    if kind == "ClusterIP" and field_text(fields, "headless"):
        spec["clusterIP"] = "None"
    elif kind != "ClusterIP":
        spec["type"] = kind
    if kind == "ExternalName":
        spec["externalName"] = field_text(fields, "external_name")
    if selector:
        spec["selector"] = selector
    port = field_int(problems, fields, "port", "spec.ports[0].port")
    node_port = field_int(problems, fields, "node_port", "spec.ports[0].nodePort")
    target = field_text(fields, "target_port")
    protocol = field_text(fields, "protocol", "TCP")
    if port is not None:
        entry: dict[str, Any] = {"port": port}
        if protocol != "TCP":
            entry["protocol"] = protocol
        if target:
            entry["targetPort"] = port_ref(target)
        if node_port is not None:
            entry["nodePort"] = node_port
        spec["ports"] = [entry]
    elif target or node_port is not None:
        problems.add("spec.ports[0].port", "Required value: a Service port needs its number")
    if field_text(fields, "external_traffic_policy"):
        spec["externalTrafficPolicy"] = field_text(fields, "external_traffic_policy")
    health = field_int(problems, fields, "health_check_node_port", "spec.healthCheckNodePort")
    if health is not None:
        spec["healthCheckNodePort"] = health
    if field_text(fields, "session_affinity", "None") != "None":
        spec["sessionAffinity"] = field_text(fields, "session_affinity")
    problems.raise_any()
    return {"apiVersion": "v1", "kind": "Service", "metadata": object_meta(fields), "spec": spec}


#: The fields of one path row of the Ingress form; row ``i`` names them ``path_i`` and so on.
INGRESS_PATH_FIELDS = ("path", "path_type", "service", "service_port")


def ingress_fields(fields: Fields) -> dict[str, str]:
    """The Ingress form's fields with the path rows numbered: ``path``, ``path_type``,
    ``service`` and ``service_port`` without a number (one path, as API clients send it)
    are row 0's when the form has no ``path_0`` and so on.

    >>> ingress_fields({"name": "shop", "path": "/", "service": "web"})
    {'name': 'shop', 'path_0': '/', 'service_0': 'web'}
    """
    numbered = any(re.fullmatch(r"(path|path_type|service|service_port)_\d+", k) for k in fields)
    values: dict[str, str] = {}
    for key, value in fields.items():
        if key in INGRESS_PATH_FIELDS:
            if not numbered:
                values[f"{key}_0"] = value
        else:
            values[key] = value
    return values


def ingress_path_rows(fields: Fields) -> list[dict[str, str]]:
    """The path rows the learner filled in, in row order, each with ``index`` and the row's
    four fields (empty strings when left empty). A row with neither a path nor a Service is
    skipped (the form offers spare rows), unless every row is empty: then row 0 stays, for
    the API server to say what is missing.

    >>> [r["service"] for r in ingress_path_rows({"service_0": "web", "path_1": "",
    ...                                          "service_2": "api", "path_2": "/api"})]
    ['web', 'api']
    """
    values = ingress_fields(fields)
    indexes = sorted(
        {
            int(m.group(2))
            for k in values
            if (m := re.fullmatch(r"(path|path_type|service|service_port)_(\d+)", k))
        }
    )
    rows = [
        {"index": str(i), **{f: field_text(values, f"{f}_{i}") for f in INGRESS_PATH_FIELDS}}
        for i in indexes
    ]
    filled = [r for r in rows if r["path"] or r["service"]]
    return filled or rows[:1] or [{"index": "0", **dict.fromkeys(INGRESS_PATH_FIELDS, "")}]


def ingress_manifest(fields: Fields) -> dict[str, Any]:
    """A networking.k8s.io/v1 Ingress with one rule (one host) and one path per row.

    Fields: ``name``, ``namespace``, ``host`` (any host when empty), ``tls`` (any value: on,
    with a ``<name>-tls`` Secret for the host), and for each path row ``i``: ``path_i``
    (``/`` when empty), ``path_type_i``, ``service_i`` and ``service_port_i`` (a number or a
    port name). Empty rows are skipped (see ``ingress_path_rows``).

    >>> i = ingress_manifest({"name": "shop", "host": "shop.example.com", "service_0": "web",
    ...                       "service_port_0": "80", "path_1": "/api", "service_1": "api",
    ...                       "service_port_1": "http", "tls": "on"})
    >>> [(p["path"], p["backend"]) for p in i["spec"]["rules"][0]["http"]["paths"]]
    [('/', {'service': {'name': 'web', 'port': {'number': 80}}}), ('/api', {'service': {'name': 'api', 'port': {'name': 'http'}}})]
    >>> i["spec"]["tls"]
    [{'hosts': ['shop.example.com'], 'secretName': 'shop-tls'}]
    """
    problems = Problems("Ingress", fields)
    host = field_text(fields, "host")
    paths = []
    for row in ingress_path_rows(fields):
        backend: dict[str, Any] = {"service": {"name": row["service"]}}
        if row["service_port"]:
            ref = port_ref(row["service_port"])
            backend["service"]["port"] = {"number": ref} if isinstance(ref, int) else {"name": ref}
        paths.append(
            {
                "path": row["path"] or "/",
                "pathType": row["path_type"] or "Prefix",
                "backend": backend,
            }
        )
    rule: dict[str, Any] = {"host": host} if host else {}
    rule["http"] = {"paths": paths}
    spec: dict[str, Any] = {}
    if field_text(fields, "tls"):
        tls: dict[str, Any] = {"hosts": [host]} if host else {}
        tls["secretName"] = f"{field_text(fields, 'name') or 'ingress'}-tls"
        spec["tls"] = [tls]
    spec["rules"] = [rule]
    problems.raise_any()
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": object_meta(fields),
        "spec": spec,
    }
