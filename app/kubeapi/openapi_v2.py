"""``/openapi/v2``: the API's definitions as OpenAPI v2, in JSON or in the protocol buffer
encoding kubectl asks for (gnostic's ``openapi.v2.Document``).

kubectl before 1.26 has no OpenAPI v3: it validates manifests (``--validate``, on by default),
explains fields and looks up strategic-merge keys with this document, and reads it only as
protobuf. The message and field numbers are those of gnostic's ``OpenAPIv2.proto``; only the
fields kubectl reads are written.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from app.kubeapi.openapi import clean, definitions
from app.kubeapi.resources import RESOURCES

PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
_REFS = "#/definitions/"
_PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json", "application/apply-patch+yaml"]  # fmt: skip


def document() -> dict[str, Any]:
    """The document as JSON: every definition, and each resource's PATCH operation (so a
    client can see the server takes ``dryRun`` and ``fieldValidation``).

    >>> doc = document()
    >>> doc["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]["items"]
    {'$ref': '#/definitions/io.k8s.api.core.v1.Container'}
    """
    paths: dict[str, Any] = {}
    for resource in RESOURCES:
        scope = "/namespaces/{namespace}" if resource.namespaced else ""
        root = resource.path().rsplit("/", 1)[0]
        paths[f"{root}{scope}/{resource.plural}/{{name}}"] = {
            "patch": {
                "operationId": f"patch{resource.kind}",
                "consumes": _PATCH_TYPES,
                "parameters": [
                    {"name": name, "in": "query", "type": "string", "uniqueItems": True}
                    for name in ("dryRun", "fieldManager", "fieldValidation", "force")
                ],
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {
                    "group": resource.group,
                    "version": resource.version,
                    "kind": resource.kind,
                },
            }
        }
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "definitions": {name: clean(schema, _REFS) for name, schema in definitions().items()},
    }


@cache
def json_text() -> str:
    return json.dumps(document(), separators=(",", ":"))


# --- protocol buffers -----------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes(field: int, payload: bytes) -> bytes:
    """A length-delimited field (a string or an embedded message)."""
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _text(field: int, value: str) -> bytes:
    return _bytes(field, value.encode()) if value else b""


def _number(field: int, value: int) -> bytes:
    """A varint field (int64 or bool)."""
    return _varint(field << 3) + _varint(value) if value else b""


def _any(value: Any) -> bytes:
    """gnostic's ``Any``: the value as YAML text (JSON is YAML) in field 2."""
    return _text(2, json.dumps(value))


def _named(name: str, value: bytes) -> bytes:
    return _text(1, name) + _bytes(2, value)


def schema_bytes(schema: dict[str, Any]) -> bytes:
    """One ``Schema`` message.

    >>> schema_bytes({"type": "string", "description": "a"}).hex()
    '220161b201080a06737472696e67'
    """
    out = bytearray()
    out += _text(1, schema.get("$ref", ""))
    out += _text(2, schema.get("format", ""))
    out += _text(4, schema.get("description", ""))
    for name in schema.get("required") or []:
        out += _text(19, name)
    for value in schema.get("enum") or []:
        out += _bytes(20, _any(value))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        out += _bytes(21, _bytes(1, schema_bytes(extra)))
    elif extra is True:
        out += _bytes(21, _number(2, 1))
    if schema.get("type"):
        out += _bytes(22, _text(1, schema["type"]))
    if isinstance(schema.get("items"), dict):
        out += _bytes(23, _bytes(1, schema_bytes(schema["items"])))
    properties = schema.get("properties") or {}
    if properties:
        out += _bytes(
            25, b"".join(_bytes(1, _named(k, schema_bytes(v))) for k, v in properties.items())
        )
    for key, value in schema.items():
        if key.startswith("x-"):
            out += _bytes(31, _named(key, _any(value)))
    return bytes(out)


def _operation(operation: dict[str, Any]) -> bytes:
    out = bytearray(_text(5, operation["operationId"]))
    for media in operation.get("consumes") or []:
        out += _text(7, media)
    for parameter in operation.get("parameters") or []:
        query = _number(1, 0) + _text(2, parameter["in"]) + _text(4, parameter["name"])
        query += _text(6, parameter["type"]) + _number(20, 1)
        # ParametersItem.parameter -> Parameter.non_body_parameter -> query sub-schema
        out += _bytes(8, _bytes(1, _bytes(2, _bytes(3, query))))
    out += _bytes(9, _bytes(1, _named("200", _bytes(1, _text(1, "OK")))))
    for key, value in operation.items():
        if key.startswith("x-"):
            out += _bytes(13, _named(key, _any(value)))
    return bytes(out)


@cache
def protobuf() -> bytes:
    """The whole document as a gnostic ``openapi.v2.Document`` message."""
    doc = document()
    info = _text(1, doc["info"]["title"]) + _text(2, doc["info"]["version"])
    paths = b"".join(
        _bytes(2, _named(path, _bytes(8, _operation(item["patch"]))))
        for path, item in doc["paths"].items()
    )
    named = b"".join(
        _bytes(1, _named(name, schema_bytes(schema))) for name, schema in doc["definitions"].items()
    )
    return _text(1, doc["swagger"]) + _bytes(2, info) + _bytes(8, paths) + _bytes(9, named)
