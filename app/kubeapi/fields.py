"""Server-side apply's field ownership: which fields each field manager applied, written as
``metadata.managedFields`` entries in the ``FieldsV1`` format (``f:<field>`` for a field,
``k:{"name":"web"}`` for a list element by its merge key).

A manager's next apply removes what it owned and no longer sets; fields other managers set
(a label added by ``kubectl label``) are not its to remove.
"""

from __future__ import annotations

import json
from typing import Any

from app.kubeapi import openapi, patches

# What a manager's apply config never owns: the object's identity and the server's fields.
_NOT_OWNED = {"apiVersion", "kind", "status"}
_NOT_OWNED_META = {"name", "namespace", "uid", "resourceVersion", "generation",
                   "creationTimestamp", "managedFields"}  # fmt: skip


def owned(config: Any, schema: Any, top: bool = True) -> dict[str, Any]:
    """The FieldsV1 set of an apply config.

    >>> pod = openapi.kind_schema("", "v1", "Pod")
    >>> owned({"metadata": {"name": "p", "labels": {"app": "web"}},
    ...        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, pod)
    {'f:metadata': {'f:labels': {'f:app': {}}}, 'f:spec': {'f:containers': {'k:{"name":"c"}': {'.': {}, 'f:name': {}, 'f:image': {}}}}}
    """
    if not isinstance(config, dict):
        return {}
    found: dict[str, Any] = {}
    for key, value in config.items():
        if top and key in _NOT_OWNED:
            continue
        if top and key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _NOT_OWNED_META}
            if not value:
                continue
        child = openapi.field_schema(schema, key) if schema is not None else None
        if isinstance(value, dict):
            found[f"f:{key}"] = owned(value, child, top=False)
        elif isinstance(value, list) and openapi.merge_key(child):
            merge_on = openapi.merge_key(child) or ""
            items = openapi.item_schema(child)
            elements = {}
            for element in value:
                if isinstance(element, dict) and merge_on in element:
                    name = "k:" + json.dumps({merge_on: element[merge_on]}, separators=(",", ":"))
                    elements[name] = {".": {}, **owned(element, items, top=False)}
            found[f"f:{key}"] = elements
        else:
            found[f"f:{key}"] = {}
    return found


def released(previous: dict[str, Any], config: Any, schema: Any) -> dict[str, Any]:
    """A strategic merge patch removing what ``previous`` (a FieldsV1 set) owned and the new
    ``config`` no longer sets.

    >>> deployment = openapi.kind_schema("apps", "v1", "Deployment")
    >>> released({"f:metadata": {"f:labels": {"f:team": {}, "f:app": {}}}},
    ...          {"metadata": {"labels": {"app": "x"}}}, deployment)
    {'metadata': {'labels': {'team': None}}}
    """
    patch: dict[str, Any] = {}
    config = config if isinstance(config, dict) else {}
    for entry, inner in previous.items():
        if not entry.startswith("f:"):
            continue
        key = entry[2:]
        child = openapi.field_schema(schema, key) if schema is not None else None
        if key not in config:
            patch[key] = None
            continue
        value = config[key]
        merge_on = openapi.merge_key(child)
        if isinstance(value, dict) and inner:
            nested = released(inner, value, child)
            if nested:
                patch[key] = nested
        elif isinstance(value, list) and merge_on:
            kept = {json.dumps(e.get(merge_on)) for e in value if isinstance(e, dict)}
            gone = []
            for element in inner:
                if element.startswith("k:"):
                    name = json.loads(element[2:]).get(merge_on)
                    if json.dumps(name) not in kept:
                        gone.append({merge_on: name, "$patch": "delete"})
            if gone:
                patch[key] = gone
    return patch


def apply_config(
    live: dict[str, Any], manager: str, config: dict[str, Any], schema: Any
) -> dict[str, Any]:
    """The object after ``manager`` applies ``config``: its released fields gone, the config
    merged in, and its managedFields entry replaced.

    >>> deployment = openapi.kind_schema("apps", "v1", "Deployment")
    >>> live = {"metadata": {"name": "d", "labels": {"a": "1", "b": "2"}}}
    >>> first = apply_config(live, "kubectl", {"metadata": {"labels": {"a": "1"}}}, deployment)
    >>> second = apply_config(first, "kubectl", {"metadata": {"labels": {}}}, deployment)
    >>> second["metadata"]["labels"], second["metadata"]["managedFields"][0]["manager"]
    ({'b': '2'}, 'kubectl')
    """
    entries = list((live.get("metadata") or {}).get("managedFields") or [])
    mine = next((e for e in entries if _is_apply_of(e, manager)), None)
    previous = (mine or {}).get("fieldsV1") or {}
    new = patches.strategic_merge(live, released(previous, config, schema), schema)
    new = patches.strategic_merge(new, config, schema)
    entry = {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": config.get("apiVersion", ""),
        "fieldsType": "FieldsV1",
        "fieldsV1": owned(config, schema),
    }
    others = [e for e in entries if not _is_apply_of(e, manager)]
    new["metadata"]["managedFields"] = [*others, entry]
    return new


def _is_apply_of(entry: dict[str, Any], manager: str) -> bool:
    return entry.get("manager") == manager and entry.get("operation") == "Apply"
