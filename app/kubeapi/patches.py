"""The patch types a PATCH request may carry, applied to a JSON-like object.

* ``application/json-patch+json``: RFC 6902 operations (``kubectl patch --type=json``).
* ``application/merge-patch+json``: RFC 7386 (``--type=merge``; ``kubectl scale``).
* ``application/strategic-merge-patch+json``: Kubernetes' strategic merge, where lists with a
  patch merge key (containers by ``name``, ports by ``containerPort``) merge element by
  element, and ``$patch``, ``$retainKeys``, ``$setElementOrder`` and
  ``$deleteFromPrimitiveList`` directives apply (``kubectl apply``, ``label``, ``edit``).

None of them changes its input: each returns a new object.
"""

from __future__ import annotations

from typing import Any

from app.cluster.objects import deep_copy
from app.kubeapi import openapi
from app.kubeapi.status import ApiError, bad_request

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge, ``null`` deletes, anything else replaces.

    >>> merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}, "f": [1]})
    {'a': 1, 'b': {'d': 3, 'e': 4}, 'f': [1]}
    """
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result = deep_copy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def merge_diff(old: Any, new: Any) -> Any:
    """The merge patch that turns ``old`` into ``new`` (so it can be replayed elsewhere).

    >>> merge_diff({"a": 1, "b": {"c": 2}}, {"b": {"c": 3}, "d": 4})
    {'a': None, 'b': {'c': 3}, 'd': 4}
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return deep_copy(new)
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = deep_copy(value)
        elif old[key] != value:
            patch[key] = merge_diff(old[key], value)
    return dict(
        sorted(patch.items(), key=lambda kv: list(old).index(kv[0]) if kv[0] in old else len(old))
    )


# --- RFC 6902 -------------------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f'the JSON patch path "{path}" does not start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> tuple[Any, str]:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise bad_request(f"doc is missing path: {path}")
    return node, parts[-1]


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    node, last = _parent(doc, parts, path)
    try:
        return node[int(last)] if isinstance(node, list) else node[last]
    except (KeyError, IndexError, ValueError, TypeError):
        raise bad_request(f"doc is missing path: {path}") from None


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return deep_copy(value)
    node, last = _parent(doc, parts, path)
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last) if last.isdigit() else -1
        if not 0 <= index <= len(node):
            raise bad_request(f"add operation does not apply: doc is missing path: {path}")
        node.insert(index, deep_copy(value))
    elif isinstance(node, dict):
        node[last] = deep_copy(value)
    else:
        raise bad_request(f"add operation does not apply: doc is missing path: {path}")
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    node, last = _parent(doc, parts, path)
    try:
        if isinstance(node, list):
            del node[int(last)]
        else:
            del node[last]
    except (KeyError, IndexError, ValueError, TypeError):
        raise bad_request(f"remove operation does not apply: doc is missing path: {path}") from None
    return doc


def _replace(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return deep_copy(value)
    node, last = _parent(doc, parts, path)
    node[int(last) if isinstance(node, list) else last] = deep_copy(value)
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy and test, in order.

    >>> json_patch({"spec": {"replicas": 1, "ports": [80]}},
    ...            [{"op": "replace", "path": "/spec/replicas", "value": 3},
    ...             {"op": "add", "path": "/spec/ports/-", "value": 443}])
    {'spec': {'replicas': 3, 'ports': [80, 443]}}
    """
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    doc = deep_copy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise bad_request(f"unexpected kind of JSON patch operation: {operation!r}")
        op, path = operation["op"], operation.get("path", "")
        if op == "add":
            doc = _add(doc, path, operation.get("value"))
        elif op == "remove":
            doc = _remove(doc, path)
        elif op == "replace":
            _get(doc, path)  # the value must exist
            doc = _replace(doc, path, operation.get("value"))
        elif op in ("move", "copy"):
            value = deep_copy(_get(doc, operation.get("from", "")))
            if op == "move":
                doc = _remove(doc, operation.get("from", ""))
            doc = _add(doc, path, value)
        elif op == "test":
            if _get(doc, path) != operation.get("value"):
                raise ApiError(422, "Invalid", f"testing value {path} failed")
        else:
            raise bad_request(f"Unexpected kind: {op}")
    return doc


# --- strategic merge ------------------------------------------------------------------------


def strategic_merge(target: dict[str, Any], patch: dict[str, Any], kind_schema: Any) -> Any:
    """Kubernetes' strategic merge patch of an object whose schema is ``kind_schema``.

    >>> pod = openapi.kind_schema("", "v1", "Pod")
    >>> live = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}
    >>> strategic_merge(live, {"spec": {"containers": [{"name": "b", "image": "z"}]}}, pod)
    {'spec': {'containers': [{'name': 'a', 'image': 'x'}, {'name': 'b', 'image': 'z'}]}}
    >>> strategic_merge(live, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}, pod)
    {'spec': {'containers': [{'name': 'b', 'image': 'y'}]}}
    """
    if not isinstance(patch, dict):
        raise bad_request("a strategic merge patch must be a JSON object")
    return _merge_map(deep_copy(target) if isinstance(target, dict) else {}, patch, kind_schema)


def _merge_map(result: dict[str, Any], patch: dict[str, Any], schema: Any) -> Any:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: deep_copy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            drop = value if isinstance(value, list) else []
            result[name] = [v for v in result.get(name) or [] if v not in drop]
            continue
        child = openapi.field_schema(schema, key) if schema is not None else None
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            merged = _merge_map(result[key], value, child)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, dict):
            merged = _merge_map({}, value, child)
            if merged is not None:
                result[key] = merged
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, child)
        elif isinstance(value, list):
            result[key] = [_strip_directives(v) for v in value if not _deletes(v)]
        else:
            result[key] = value
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _deletes(item: Any) -> bool:
    return isinstance(item, dict) and item.get("$patch") == "delete"


def _strip_directives(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: _strip_directives(v) for k, v in item.items() if not k.startswith("$")}
    return deep_copy(item)


def _merge_list(live: list[Any], patch: list[Any], schema: Any) -> list[Any]:
    key = openapi.merge_key(schema)
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [_strip_directives(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    if key is None:
        return [_strip_directives(p) for p in patch]
    if key == "":  # a merging list of plain values (finalizers): the union
        return [*live, *(p for p in patch if p not in live)]
    items = openapi.item_schema(schema)
    result = deep_copy(live)
    for entry in patch:
        if not isinstance(entry, dict) or key not in entry:
            raise bad_request(f"map: {entry!r} does not contain declared merge key: {key}")
        index = next((i for i, e in enumerate(result) if e.get(key) == entry[key]), None)
        if _deletes(entry):
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_strip_directives(entry))
        else:
            merged = _merge_map(result[index], entry, items)
            if merged is None:
                del result[index]
            else:
                result[index] = merged
    return result
