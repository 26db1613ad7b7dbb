"""Custom resources checked the way the API server checks them against their CRD's schema.

The Gateway API kinds are CustomResourceDefinitions, not built-in kinds, so the API server
(apiextensions-apiserver) checks them differently from a Pod: against the structural
``openAPIV3Schema`` of the CRD, with its own error wording (``spec.port in body should be
less than or equal to 65535``), and fills in the schema's ``default`` values. The schemas
live in ``crds/*.json``, taken from the Gateway API release's standard-channel CRDs by
``tools/gateway_crds.py`` (the release is named in each file's ``source``).

The CRDs' CEL rules (``x-kubernetes-validations``) are not evaluated here: they are written
out in Python in ``semantic_gateway.py`` and ``semantic_routes.py``, one function per rule.
"""

from __future__ import annotations

import ipaddress
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from app.cluster.objects import deep_copy
from app.cluster.validation.schema import json_type, unknown_field
from app.cluster.validation.semantic_meta import (
    duplicate,
    fmt_value,
    invalid,
    not_supported,
    required,
    too_long,
    too_many,
    type_invalid,
)
from app.errors import FieldError

CRD_DIR = Path(__file__).parent / "crds"
GATEWAY_GROUP = "gateway.networking.k8s.io"

# kind -> file in crds/ (one file per kind: every served version has the same schema).
CRD_FILES = {
    "GatewayClass": "gatewayclass.json",
    "Gateway": "gateway.json",
    "HTTPRoute": "httproute.json",
    "GRPCRoute": "grpcroute.json",
    "ReferenceGrant": "referencegrant.json",
}

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# Fields every object has, checked by the API server's metadata rules, not the CRD schema.
_ENVELOPE = ("apiVersion", "kind", "metadata")


@cache
def crd(kind: str) -> dict[str, Any]:
    """The stored CRD summary of a Gateway API kind.

    Parameters
    ----------
    kind : str
        One of :data:`CRD_FILES`.

    Returns
    -------
    dict
        ``group``, ``version``, ``served`` versions, ``plural``, ``singular``,
        ``shortNames``, ``scope``, ``printerColumns`` and the ``schema``.

    Raises
    ------
    KeyError
        For a kind that is not a Gateway API kind.

    Examples
    --------
    >>> crd("Gateway")["shortNames"], crd("GatewayClass")["scope"]
    (['gtw'], 'Cluster')
    """
    with open(CRD_DIR / CRD_FILES[kind], encoding="utf-8") as f:
        return json.load(f)


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _in_body(path: str, rule: str) -> str:
    # kube-openapi's wording, which the API server passes through for CRDs.
    return f"{path} in body {rule}"


def _format_errors(value: object, schema: dict, path: str) -> list[FieldError]:
    fmt = schema.get("format")
    if fmt in _INT_RANGES and isinstance(value, int):
        lo, hi = _INT_RANGES[fmt]
        if not lo <= value <= hi:
            return [invalid(path, value, _in_body(path, f"must be of type {fmt}"))]
    if fmt in ("ipv4", "ipv6") and isinstance(value, str):
        try:
            ok = ipaddress.ip_address(value).version == int(fmt[-1])
        except ValueError:
            ok = False
        if not ok:
            detail = _in_body(path, f"must be of type {fmt}: {fmt_value(value)}")
            return [invalid(path, value, detail)]
    return []


def _one_of_errors(value: dict, schema: dict, path: str) -> list[FieldError]:
    """The one ``oneOf`` these CRDs use: a Gateway address whose ``type`` is IPAddress must
    hold an IPv4 or IPv6 address (``anyOf`` two formats); any other type holds anything."""
    kind = value.get("type") or schema["properties"]["type"].get("default")
    for branch in schema["oneOf"]:
        want = branch.get("properties", {}).get("type", {}).get("enum")
        if not want or kind not in want:
            continue
        for field, sub in branch["properties"].items():
            if field == "type" or "anyOf" not in sub or not isinstance(value.get(field), str):
                continue
            tries = [_format_errors(value[field], alt, _child(path, field)) for alt in sub["anyOf"]]
            if all(tries):
                return tries[0]
    return []


def _scalar_errors(value: object, schema: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if "enum" in schema and value not in schema["enum"]:
        return [not_supported(path, value, [str(e) for e in schema["enum"]])]
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append(too_long(path, schema["maxLength"]))
        if "minLength" in schema and len(value) < schema["minLength"]:
            rule = f"should be at least {schema['minLength']} chars long"
            errs.append(invalid(path, value, _in_body(path, rule)))
        pattern = schema.get("pattern")
        if pattern and not _regex(pattern).search(value):
            errs.append(invalid(path, value, _in_body(path, f"should match '{pattern}'")))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            rule = f"should be greater than or equal to {schema['minimum']}"
            errs.append(invalid(path, value, _in_body(path, rule)))
        if "maximum" in schema and value > schema["maximum"]:
            rule = f"should be less than or equal to {schema['maximum']}"
            errs.append(invalid(path, value, _in_body(path, rule)))
    return errs + _format_errors(value, schema, path)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _list_errors(value: list, schema: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errs.append(too_many(path, len(value), schema["maxItems"]))
    if "minItems" in schema and len(value) < schema["minItems"]:
        rule = f"should have at least {schema['minItems']} items"
        errs.append(invalid(path, len(value), _in_body(path, rule)))
    list_type = schema.get("x-kubernetes-list-type")
    seen: set[str] = set()
    for i, item in enumerate(value):
        if list_type == "map" and isinstance(item, dict):
            keys = {k: item.get(k) for k in schema.get("x-kubernetes-list-map-keys", [])}
            marker = json.dumps(keys, sort_keys=True)
        elif list_type == "set":
            marker = json.dumps(item, sort_keys=True)
        else:
            continue
        if marker in seen:
            shown = keys if list_type == "map" else item
            errs.append(duplicate(f"{path}[{i}]", shown))
        seen.add(marker)
    return errs


def _walk(value: object, schema: dict, path: str, errs: list[FieldError]) -> None:
    want = schema.get("type")
    jtype = json_type(value)
    if value is None:
        # A null is dropped by the API server's pruning of a structural schema unless the
        # field is nullable; these CRDs mark nothing nullable, so null means "not set".
        return
    if want and not (jtype == want or (want == "number" and jtype == "integer")):
        detail = _in_body(path or "body", f"must be of type {want}: {fmt_value(jtype)}")
        errs.append(type_invalid(path, jtype, detail))
        return
    if jtype == "object":
        assert isinstance(value, dict)
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        for name in schema.get("required", ()):
            if value.get(name) is None and not (path == "" and name in _ENVELOPE):
                errs.append(required(_child(path, name)))
        if "oneOf" in schema:
            errs.extend(_one_of_errors(value, schema, path))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            errs.append(too_many(path, len(value), schema["maxProperties"]))
        for key, sub in value.items():
            if path == "" and (key in _ENVELOPE or key == "status"):
                continue
            if props is not None and key in props:
                _walk(sub, props[key], _child(path, key), errs)
            elif isinstance(additional, dict):
                _walk(sub, additional, f"{path}[{key}]", errs)
            elif props is not None:
                errs.append(unknown_field(path, key, props))
    elif jtype == "array":
        assert isinstance(value, list)
        errs.extend(_list_errors(value, schema, path))
        items = schema.get("items")
        if isinstance(items, dict):
            for i, sub in enumerate(value):
                _walk(sub, items, f"{path}[{i}]", errs)
    else:
        errs.extend(_scalar_errors(value, schema, path))


def validate_crd_schema(obj: dict) -> list[FieldError]:
    """Check a Gateway API object against its CRD's structural schema (status is skipped:
    the status subresource ignores it on create and update).

    Parameters
    ----------
    obj : dict
        A manifest whose kind is in :data:`CRD_FILES`.

    Returns
    -------
    list of FieldError
        Unknown fields, wrong types, missing required fields, and each ``pattern``,
        ``enum``, length, range and item-count rule broken, worded as the API server words
        them for custom resources.

    Examples
    --------
    >>> route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    ...     "metadata": {"name": "web"}, "spec": {"rules": [{"backendRefs": [
    ...         {"name": "web", "port": 80, "weight": 2000000}]}]}}
    >>> validate_crd_schema(route)[0].describe()  # doctest: +NORMALIZE_WHITESPACE
    'spec.rules[0].backendRefs[0].weight: Invalid value: 2000000:
     spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000'
    """
    errs: list[FieldError] = []
    _walk(obj, crd(obj["kind"])["schema"], "", errs)
    return errs


def _fill_defaults(value: object, schema: dict) -> None:
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if key not in value and "default" in sub:
                value[key] = deep_copy(sub["default"])
        for key, sub in value.items():
            if key in props:
                _fill_defaults(sub, props[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _fill_defaults(item, schema["items"])


def apply_crd_defaults(obj: dict) -> None:
    """Fill in the CRD schema's ``default`` values in place, as the API server does when it
    reads a custom resource (structural defaulting; status left alone).

    Examples
    --------
    >>> route = {"kind": "HTTPRoute", "spec": {"parentRefs": [{"name": "eg"}],
    ...     "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}}
    >>> apply_crd_defaults(route)
    >>> route["spec"]["parentRefs"][0]
    {'name': 'eg', 'group': 'gateway.networking.k8s.io', 'kind': 'Gateway'}
    >>> rule = route["spec"]["rules"][0]
    >>> rule["matches"], rule["backendRefs"][0]["weight"]
    ([{'path': {'type': 'PathPrefix', 'value': '/'}}], 1)
    """
    spec = obj.get("spec")
    schema = crd(obj["kind"])["schema"]["properties"].get("spec")
    if isinstance(spec, dict) and schema:
        _fill_defaults(spec, schema)


__all__ = ["CRD_FILES", "GATEWAY_GROUP", "apply_crd_defaults", "crd", "validate_crd_schema"]
