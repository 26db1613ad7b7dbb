"""Structural validation against the Kubernetes OpenAPI-derived JSON schemas.

The schemas are the "local strict" ones shipped in the ``kubernetes-validate`` package (every
object has ``additionalProperties: false``, as ``kubectl --validate=strict`` behaves). Instead
of a generic JSON-schema validator this module walks the schema directly, handling only the
keywords those files use for the kinds Podpath knows: ``$ref``, ``type``, ``properties``,
``additionalProperties``, ``items``, ``required``, ``enum``, ``oneOf`` of plain types and the
``int32``/``int64`` formats. Definitions load once per process; each schema node is compiled
once into a small tuple and cached.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path

from app.cluster.validation.semantic_meta import not_supported, required, type_invalid
from app.errors import UNKNOWN_FIELD, FieldError

_SCHEMA_DIR_RE = re.compile(r"v(\d+)\.(\d+)\.(\d+)-local-strict")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}

# (apiVersion, kind) -> schema file name inside the schema directory.
SCHEMA_FILES = {
    ("v1", "Namespace"): "namespace-v1.json",
    ("v1", "Node"): "node-v1.json",
    ("v1", "Pod"): "pod-v1.json",
    ("v1", "Service"): "service-v1.json",
    ("v1", "ConfigMap"): "configmap-v1.json",
    ("apps/v1", "Deployment"): "deployment-apps-v1.json",
    ("apps/v1", "DaemonSet"): "daemonset-apps-v1.json",
    ("discovery.k8s.io/v1", "EndpointSlice"): "endpointslice-discovery-v1.json",
    ("networking.k8s.io/v1", "Ingress"): "ingress-networking-v1.json",
    ("networking.k8s.io/v1", "IngressClass"): "ingressclass-networking-v1.json",
    ("networking.k8s.io/v1", "NetworkPolicy"): "networkpolicy-networking-v1.json",
}

# The Gateway API kinds are CRDs: checked against their CRD schemas (crd_schema.py).
GATEWAY_API_VERSIONS = ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1")
GATEWAY_KINDS = ("GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant")


@cache
def schema_dir() -> Path:
    """The newest ``v1.XX.0-local-strict`` directory of ``kubernetes-validate``.

    Returns
    -------
    Path
        The directory holding ``_definitions.json`` and the per-kind files.

    Examples
    --------
    >>> (schema_dir() / "_definitions.json").is_file()
    True
    """
    import kubernetes_validate

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    found = []
    for d in root.iterdir():
        m = _SCHEMA_DIR_RE.fullmatch(d.name)
        if m and d.is_dir():
            found.append((tuple(int(x) for x in m.groups()), d))
    if not found:
        raise RuntimeError(f"no *-local-strict schema directory under {root}")
    return max(found)[1]


@cache
def _definitions() -> dict:
    with open(schema_dir() / "_definitions.json", encoding="utf-8") as f:
        return json.load(f)["$defs"]


@cache
def _kind_schema(api_version: str, kind: str) -> dict:
    with open(schema_dir() / SCHEMA_FILES[(api_version, kind)], encoding="utf-8") as f:
        return json.load(f)


# A compiled node: (types, properties, additional, items, required, enum, one_of, int_range)
#   types: frozenset of allowed JSON types or None (anything)
#   properties: dict name -> raw schema, or None
#   additional: False (unknown fields forbidden), a raw schema (map values) or None (anything)
#   one_of: tuple of frozensets of types, or None
_Compiled = tuple
_compiled: dict[int, _Compiled] = {}  # keyed by id(): the schemas are cached for life


def _resolve(schema: dict) -> dict:
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        name = ref.rsplit("#/$defs/", 1)[-1]
        schema = _definitions()[name]
        seen += 1
    return schema


def _types(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset([value])
    return frozenset(value)


def _compile(schema: dict) -> _Compiled:
    key = id(schema)
    node = _compiled.get(key)
    if node is not None:
        return node
    target = _resolve(schema)
    one_of = None
    if "oneOf" in target:
        one_of = tuple(_types(_resolve(s).get("type")) or frozenset() for s in target["oneOf"])
    enum = target.get("enum")
    additional = target.get("additionalProperties")
    if additional is True:
        additional = None
    node = (
        _types(target.get("type")),
        target.get("properties"),
        additional,
        target.get("items"),
        tuple(target.get("required", ())),
        tuple(enum) if enum is not None else None,
        one_of,
        _INT_RANGES.get(target.get("format", "")),
    )
    _compiled[key] = node
    return node


def json_type(value: object) -> str:
    """The JSON Schema type of a decoded JSON value (``integer`` for ints, not ``number``).

    >>> json_type(3), json_type(True), json_type([]), json_type(None)
    ('integer', 'boolean', 'array', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "unknown"


def _type_ok(jtype: str, allowed: frozenset[str]) -> bool:
    return jtype in allowed or (jtype == "integer" and "number" in allowed)


def _expected(allowed: frozenset[str]) -> str:
    words = [_TYPE_WORDS[t] for t in sorted(allowed) if t in _TYPE_WORDS]
    return "must be " + " or ".join(words) if words else "must be null"


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def unknown_field(path: str, key: str, known: dict) -> FieldError:
    """The API server's strict-decoding error for ``key`` under ``path``, with the field of
    ``known`` it most likely meant."""
    full = _child(path, key)
    msg = f'unknown field "{full}"'
    lowered = {k.lower(): k for k in known}
    guess = lowered.get(key.lower())
    if guess is None:
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
        guess = close[0] if close else None
    if guess is not None:
        msg += f' (did you mean "{guess}"?)'
    return FieldError(full, msg, UNKNOWN_FIELD)


def _walk(value: object, schema: dict, path: str, in_status: bool, errs: list[FieldError]):
    types, props, additional, items, req, enum, one_of, int_range = _compile(schema)
    jtype = json_type(value)
    if one_of is not None:
        if not any(_type_ok(jtype, t) for t in one_of):
            union = frozenset().union(*one_of) - {"null"}
            errs.append(type_invalid(path, value, _expected(union)))
        return
    if types is not None and not _type_ok(jtype, types):
        errs.append(type_invalid(path, value, _expected(types - {"null"})))
        return
    if value is None:
        return
    if enum is not None and value not in enum:
        errs.append(not_supported(path, value, [str(e) for e in enum if e is not None]))
        return
    if int_range is not None and jtype == "integer":
        lo, hi = int_range
        if not lo <= value <= hi:  # type: ignore[operator]
            bits = "32" if hi == 2**31 - 1 else "64"
            errs.append(
                type_invalid(path, value, f"must fit in a {bits}-bit integer ({lo} to {hi})")
            )
        return
    if jtype == "object":
        assert isinstance(value, dict)
        if not in_status:
            for name in req:
                if name not in value:
                    errs.append(required(_child(path, name)))
        for key, sub in value.items():
            if not isinstance(key, str):
                errs.append(type_invalid(path, key, "field names must be strings"))
                continue
            if props is not None and key in props:
                child = _child(path, key)
                _walk(sub, props[key], child, in_status or child == "status", errs)
            elif additional is False:
                errs.append(unknown_field(path, key, props or {}))
            elif isinstance(additional, dict):
                _walk(sub, additional, f"{path}[{key}]", in_status, errs)
    elif jtype == "array" and items is not None:
        assert isinstance(value, list)
        for i, sub in enumerate(value):
            _walk(sub, items, f"{path}[{i}]", in_status, errs)


def validate_schema(obj: dict) -> list[FieldError]:
    """Check one object's structure against its kind's OpenAPI schema (strict).

    Parameters
    ----------
    obj : dict
        A manifest whose ``(apiVersion, kind)`` is one of :data:`SCHEMA_FILES`; for any other
        pair nothing is checked (the caller reports unsupported kinds).

    Returns
    -------
    list of FieldError
        Unknown fields (``FieldUnknown``, with a "did you mean" hint for near misses), wrong
        types (``FieldValueTypeInvalid``), missing required fields and unsupported enum values.

    Examples
    --------
    >>> dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    ...        "spec": {"replica": 3, "selector": {}, "template": {}}}
    >>> validate_schema(dep)[0].describe()
    'spec.replica: unknown field "spec.replica" (did you mean "replicas"?)'
    >>> dep["spec"] = {"replicas": "three", "selector": {}, "template": {}}
    >>> validate_schema(dep)[0].describe()
    'spec.replicas: Invalid value: "three": must be an integer'
    """
    if not isinstance(obj, dict):
        return [type_invalid("", obj, "must be an object")]
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key[0] in GATEWAY_API_VERSIONS and key[1] in GATEWAY_KINDS:
        from app.cluster.validation.crd_schema import validate_crd_schema  # uses unknown_field

        return validate_crd_schema(obj)
    if not all(isinstance(k, str) for k in key) or key not in SCHEMA_FILES:
        return []
    errs: list[FieldError] = []
    _walk(obj, _kind_schema(*key), "", False, errs)  # type: ignore[misc]
    return errs
