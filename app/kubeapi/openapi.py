"""OpenAPI v3 documents for kubectl, and the patch metadata strategic merge patches need.

The schemas are the Kubernetes API's own definitions, as shipped (with their descriptions,
``x-kubernetes-group-version-kind`` and ``x-kubernetes-patch-merge-key``) in the
``kubernetes-validate`` package the cluster model validates with. ``kubectl explain`` reads
them; kubectl's apply and create read the PATCH operations' ``fieldValidation`` parameter to
learn that the server validates (``--validate=strict`` then costs no client-side schema).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from app.cluster.objects import GATEWAY_KINDS
from app.cluster.validation.crd_schema import crd
from app.cluster.validation.schema import schema_dir
from app.kubeapi.resources import Resource, groups, in_group

_REF = "#/$defs/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
# The patch types the server takes (strategic merge is left out of the OpenAPI on purpose:
# kubectl then builds its strategic merge patches from its own compiled-in types).
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/apply-patch+yaml")  # fmt: skip


@cache
def definitions() -> dict[str, Any]:
    """Every definition, keyed by its name (``io.k8s.api.core.v1.Pod``), as published."""
    with open(schema_dir() / "_definitions.json", encoding="utf-8") as handle:
        return json.load(handle)["$defs"]


@cache
def definition_of(group: str, version: str, kind: str) -> str | None:
    """The definition name of a kind.

    >>> definition_of("apps", "v1", "Deployment")
    'io.k8s.api.apps.v1.Deployment'
    """
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if (gvk.get("group"), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                return name
    return None


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return definitions().get(ref[len(_REF) :], {}) if isinstance(ref, str) else node


def field_schema(node: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The schema of field ``name`` below an object schema (references followed)."""
    if node is None:
        return None
    return (_resolve(node).get("properties") or {}).get(name)


def item_schema(node: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema of a list's items, or of a map's values (references followed)."""
    if node is None:
        return None
    items = node.get("items") or node.get("additionalProperties")
    return _resolve(items) if isinstance(items, dict) else None


def merge_key(node: dict[str, Any] | None) -> str | None:
    """The merge key of a list field whose patch strategy merges, else None.

    >>> spec = definitions()["io.k8s.api.core.v1.PodSpec"]
    >>> merge_key(field_schema(spec, "containers")), merge_key(field_schema(spec, "nodeName"))
    ('name', None)
    """
    if node is None or "merge" not in (node.get("x-kubernetes-patch-strategy") or ""):
        return None
    return node.get("x-kubernetes-patch-merge-key") or ""


def kind_schema(group: str, version: str, kind: str) -> dict[str, Any] | None:
    name = definition_of(group, version, kind)
    return definitions()[name] if name else None


# --- the documents ------------------------------------------------------------------------


def clean(node: Any, refs: str = "#/components/schemas/") -> Any:
    """A JSON-schema node as OpenAPI writes it: single types, no ``null``, references to
    ``refs`` (v3's components, or v2's ``#/definitions/``), no ``additionalProperties: false``
    (the published API has none).

    >>> clean({"type": ["string", "null"], "$ref": "#/$defs/x"}, "#/definitions/")
    {'type': 'string', '$ref': '#/definitions/x'}
    """
    if isinstance(node, list):
        return [clean(n, refs) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = refs + value[len(_REF) :]
        elif key == "type" and isinstance(value, list):
            out[key] = next((t for t in value if t != "null"), "string")
        elif key == "additionalProperties" and value is False:
            continue
        elif key == "enum" and isinstance(value, list):
            out[key] = [v for v in value if v is not None]
        elif key == "oneOf" and all(isinstance(v, dict) and "type" in v for v in value):
            out["type"], out["format"] = "string", "int-or-string"
        else:
            out[key] = clean(value, refs)
    return out


def _referenced(names: list[str]) -> list[str]:
    """The definitions reachable from ``names``, in a stable order."""
    seen: dict[str, None] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in definitions():
            continue
        seen[name] = None
        text = json.dumps(definitions()[name])
        for part in text.split('"$ref": "' + _REF)[1:]:
            todo.append(part.split('"', 1)[0])
    return sorted(seen)


def _operation(resource: Resource, verb: str) -> dict[str, Any]:
    gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
    operation: dict[str, Any] = {
        "operationId": f"{verb}{resource.kind}",
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": gvk,
        "parameters": [
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": {"description": "OK"}},
    }
    if verb == "patch":
        operation["requestBody"] = {
            "content": {t: {"schema": {"type": "object"}} for t in PATCH_TYPES},
            "required": True,
        }
    return operation


def custom_schema_name(resource: Resource) -> str:
    """The name the API server gives a custom resource's schema: its group reversed.

    >>> from app.kubeapi.resources import by_kind
    >>> custom_schema_name(by_kind("HTTPRoute"))
    'io.k8s.networking.gateway.v1.HTTPRoute'
    """
    reversed_group = ".".join(reversed(resource.group.split(".")))
    return f"{reversed_group}.{resource.version}.{resource.kind}"


def custom_schema(resource: Resource) -> dict[str, Any]:
    """A Gateway API kind's schema as the API server publishes a CRD's: its
    ``openAPIV3Schema`` with its descriptions, metadata as ObjectMeta,
    and the group, version and kind, which ``kubectl explain`` looks up."""
    schema = dict(crd(resource.kind)["schema"])
    schema["properties"] = {
        **schema["properties"],
        "metadata": {"$ref": f"#/components/schemas/{_META}ObjectMeta"},
    }
    schema["x-kubernetes-group-version-kind"] = [
        {"group": resource.group, "kind": resource.kind, "version": resource.version}
    ]
    return schema


def group_document(group: str, version: str) -> dict[str, Any] | None:
    """``/openapi/v3/api/v1`` or ``/openapi/v3/apis/<group>/<version>``, or None.

    >>> doc = group_document("", "v1")
    >>> doc["components"]["schemas"]["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"]
    [{'group': '', 'kind': 'Pod', 'version': 'v1'}]
    >>> "patch" in doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]
    True
    """
    served = in_group(group, version)
    if not served:
        return None
    paths: dict[str, Any] = {}
    roots = [_META + "Status", _META + "APIResourceList", "io.k8s.api.autoscaling.v1.Scale"]
    if any(r.kind in GATEWAY_KINDS for r in served):
        roots.append(_META + "ObjectMeta")
    for resource in served:
        name = definition_of(resource.group, resource.version, resource.kind)
        if name:
            roots += [name, name + "List"]
        scope = "/namespaces/{namespace}" if resource.namespaced else ""
        base = resource.path().rsplit("/", 1)[0] + scope + "/" + resource.plural
        paths[base] = {"get": _operation(resource, "list"), "post": _operation(resource, "post")}
        paths[base + "/{name}"] = {
            verb: _operation(resource, action)
            for verb, action in (("get", "get"), ("put", "put"), ("patch", "patch"))
        } | {"delete": _operation(resource, "delete")}
    schemas = {name: clean(definitions()[name]) for name in _referenced(roots)}
    for resource in served:
        if resource.kind in GATEWAY_KINDS:
            schemas[custom_schema_name(resource)] = custom_schema(resource)
    title = "Kubernetes"
    return {
        "openapi": "3.0.0",
        "info": {"title": title, "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


@cache
def group_document_text(group: str, version: str) -> str | None:
    """:func:`group_document` as JSON text, made once per process."""
    document = group_document(group, version)
    return None if document is None else json.dumps(document, separators=(",", ":"))


def root_document() -> dict[str, Any]:
    """``/openapi/v3``: where each group version's document is, with a hash to cache it by.

    >>> sorted(root_document()["paths"])[:2]
    ['api/v1', 'apis/apps/v1']
    """
    paths = {}
    for group, version in groups():
        where = f"apis/{group}/{version}" if group else f"api/{version}"
        text = group_document_text(group, version) or ""
        digest = hashlib.sha512(text.encode()).hexdigest()[:128].upper()
        paths[where] = {"serverRelativeURL": f"/openapi/v3/{where}?hash={digest}"}
    return {"paths": paths}
