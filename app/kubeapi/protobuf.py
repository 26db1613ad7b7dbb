"""Read a Kubernetes object sent as protobuf (``application/vnd.kubernetes.protobuf``) into
the JSON-like dict the rest of Podpath works with.

kubectl 1.32 and newer send the objects of ``kubectl create deployment|service|namespace|
configmap|ingress`` this way (its typed clients prefer protobuf for built-in kinds). The
body is the magic ``k8s\\x00`` and a ``runtime.Unknown`` holding the apiVersion, the kind and
the object's own message.

Which field number is which field comes from ``protobuf_fields.json``: for each message
reachable from the kinds Podpath stores, its fields as ``[number, JSON name, "scalar" |
"message" | "map", type, repeated, inline]``, read from the ``generated.proto`` files of
k8s.io/api and k8s.io/apimachinery v0.26.0 (numbers never change between versions). Inline
fields (``IngressRule.ingressRuleValue``) merge into their parent, as in JSON.
"""

from __future__ import annotations

import base64
import json
import struct
from functools import cache
from pathlib import Path
from typing import Any

from app.kubeapi.status import ApiError, bad_request

MAGIC = b"k8s\x00"
UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
_INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_RAW_JSON = {"k8s.io.apimachinery.pkg.runtime.RawExtension", _META + "FieldsV1"}
_TIMES = {_META + "Time", _META + "MicroTime"}
# Fields whose zero value is still a value (pointers in Go); other zero scalars are what
# the protobuf encoder writes for fields JSON leaves out.
_ZERO_KEPT = frozenset({"replicas", "port", "containerPort", "intVal"})
_MESSAGE_FOR = {
    ("v1", "Pod"): "k8s.io.api.core.v1.Pod",
    ("v1", "Service"): "k8s.io.api.core.v1.Service",
    ("v1", "Namespace"): "k8s.io.api.core.v1.Namespace",
    ("v1", "ConfigMap"): "k8s.io.api.core.v1.ConfigMap",
    ("v1", "Node"): "k8s.io.api.core.v1.Node",
    ("apps/v1", "Deployment"): "k8s.io.api.apps.v1.Deployment",
    ("apps/v1", "DaemonSet"): "k8s.io.api.apps.v1.DaemonSet",
    ("networking.k8s.io/v1", "Ingress"): "k8s.io.api.networking.v1.Ingress",
    ("networking.k8s.io/v1", "IngressClass"): "k8s.io.api.networking.v1.IngressClass",
    ("networking.k8s.io/v1", "NetworkPolicy"): "k8s.io.api.networking.v1.NetworkPolicy",
}


@cache
def _fields() -> dict[str, dict[int, list[Any]]]:
    with open(Path(__file__).with_name("protobuf_fields.json"), encoding="utf-8") as handle:
        table = json.load(handle)
    return {name: {row[0]: row for row in rows} for name, rows in table.items()}


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise bad_request("the protobuf body ends in the middle of a number")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _records(data: bytes) -> list[tuple[int, int, Any]]:
    """The (field number, wire type, raw value) of each field of one message."""
    found, at = [], 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            value, at = data[at : at + length], at + length
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise bad_request(f"the protobuf body has a field of wire type {wire}")
        found.append((number, wire, value))
    return found


def _scalar(kind: str, wire: int, raw: Any) -> Any:
    if kind == "string":
        return bytes(raw).decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(bytes(raw)).decode()
    if kind == "bool":
        return bool(raw)
    if kind == "double":
        return struct.unpack("<d", raw)[0]
    if kind == "float":
        return struct.unpack("<f", raw)[0]
    if kind in ("int32", "int64") and raw >= 1 << 63:
        return raw - (1 << 64)  # negative numbers are written as 64-bit two's complement
    return raw


def _special(name: str, data: bytes) -> Any:
    if name == _INT_OR_STRING:
        parts = {n: v for n, _w, v in _records(data)}
        if parts.get(1, 0) == 1:
            return bytes(parts.get(3, b"")).decode()
        return _scalar("int32", 0, parts.get(2, 0))
    if name == _QUANTITY:
        parts = {n: v for n, _w, v in _records(data)}
        return bytes(parts.get(1, b"")).decode()
    if name in _RAW_JSON:
        parts = {n: v for n, _w, v in _records(data)}
        raw = bytes(parts.get(1, b""))
        return json.loads(raw) if raw else None
    return None  # times: kubectl sends none that matter, and Podpath keeps none


def message(name: str, data: bytes) -> dict[str, Any]:
    """Decode one message of the table into its JSON shape.

    >>> message("k8s.io.api.core.v1.ServicePort", bytes.fromhex("0a0468747470 1850".replace(" ", "")))
    {'name': 'http', 'port': 80}
    """
    fields = _fields().get(name, {})
    out: dict[str, Any] = {}
    for number, wire, raw in _records(data):
        row = fields.get(number)
        if row is None:
            continue  # a field newer than the table: left out, as an old server would
        _number, field, shape, kind, repeated, inline = row
        if shape == "map":
            entry = {n: v for n, _w, v in _records(raw)}
            key = bytes(entry.get(1, b"")).decode()
            value = (
                _scalar(kind, 2, entry.get(2, b""))
                if kind in ("string", "bytes")
                else (message(kind, entry.get(2, b"")))
            )
            out.setdefault(field, {})[key] = value
            continue
        if shape == "scalar":
            if repeated and wire == 2 and kind not in ("string", "bytes"):
                values, at = [], 0
                while at < len(raw):  # a packed list of numbers
                    value, at = _varint(raw, at)
                    values.append(_scalar(kind, 0, value))
                out.setdefault(field, []).extend(values)
                continue
            value = _scalar(kind, wire, raw)
        elif kind in _TIMES:
            continue
        elif kind in (_INT_OR_STRING, _QUANTITY) or kind in _RAW_JSON:
            value = _special(kind, bytes(raw))
        else:
            value = message(kind, bytes(raw))
        if inline and isinstance(value, dict):
            out.update(value)
        elif repeated:
            out.setdefault(field, []).append(value)
        elif value in ("", 0, False) and field not in _ZERO_KEPT and shape == "scalar":
            continue
        else:
            out[field] = value
    return out


def decode_object(body: bytes) -> dict[str, Any]:
    """A whole request body: the ``k8s\\x00`` envelope, then the object it holds.

    Raises
    ------
    ApiError
        415 for a kind Podpath does not read as protobuf, 400 for a malformed body.
    """
    if not body.startswith(MAGIC):
        raise bad_request("a protobuf body must start with the k8s\\x00 magic")
    envelope = message(UNKNOWN, body[len(MAGIC) :])
    type_meta = envelope.get("typeMeta") or {}
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    name = _MESSAGE_FOR.get((api_version, kind))
    if name is None:
        raise ApiError(
            415, "UnsupportedMediaType", f"{kind} ({api_version}) cannot be sent as protobuf"
        )
    raw = base64.b64decode(envelope.get("raw", ""))
    return {"apiVersion": api_version, "kind": kind, **message(name, raw)}
