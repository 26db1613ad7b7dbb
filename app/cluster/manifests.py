"""Reading manifests safely, and writing them back out.

Podpath reads YAML from strangers, so it does not hand the text to a general YAML loader.
It walks libyaml's event stream itself, building plain JSON-like values with an explicit
stack, so that deep nesting cannot exhaust the C stack, alias bombs are stopped by counting
what the aliases would expand to, duplicate keys are refused (as ``kubectl apply`` refuses
them) and only the standard YAML tags are accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.errors import SYNTAX, FieldError, ManifestSyntaxError

try:  # libyaml's parser when PyYAML was built with it, which PyPI wheels are.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure Python fallback
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 64
MAX_EXPANDED_NODES = 2_000_000
MAX_DOCUMENTS = 10_000

_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_STANDARD_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:merge",
    "tag:yaml.org,2002:value",
}


@dataclass
class Document:
    """One document of an applied text.

    Attributes
    ----------
    number : int
        1-based position in the text (items of a ``List`` count as documents of their own).
    line : int
        1-based line where the document starts.
    body : Any
        The parsed value: for a manifest, a dict.
    lines : dict
        Field path (``spec.ports[0].port``) to the 1-based line it is on, where known.
    """

    number: int
    line: int
    body: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int:
        """The line of ``path`` or of its nearest parent that has one, else the document's."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.line


def parse_manifests(text: str, track_lines: bool = True) -> list[Document]:
    """Parse YAML or JSON holding one or more Kubernetes manifests.

    Parameters
    ----------
    text : str
        YAML (one or more ``---``-separated documents) or JSON. A document of kind ``List``
        is unrolled into its ``items``. Empty documents are skipped, as kubectl skips them.
    track_lines : bool
        Record the line of every field (for error messages); skipping it parses faster.

    Returns
    -------
    list of Document
        Each non-empty document in order.

    Raises
    ------
    ManifestSyntaxError
        When the text is not YAML, nests deeper than 64 levels, uses aliases that would
        expand beyond two million nodes, repeats a key, or uses a non-standard tag such as
        ``!!python/object``. The error names the document and line.

    Examples
    --------
    >>> docs = parse_manifests("kind: Namespace\\nmetadata: {name: shop}\\n---\\n---\\nkind: Pod\\n")
    >>> [(d.number, d.line, d.body["kind"]) for d in docs]
    [(1, 1, 'Namespace'), (2, 5, 'Pod')]
    >>> docs[0].lines["metadata.name"]
    2
    """
    documents = None
    if text.lstrip().startswith(("{", "[")):
        documents = _parse_json(text)  # None when it is not JSON (YAML flow style, say)
    if documents is None:
        documents = _parse_yaml(text, track_lines)
    return _unroll_lists(documents)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise _DuplicateKey(key)
        mapping[key] = value
    return mapping


class _DuplicateKey(ValueError):
    pass


def _parse_json(text: str) -> list[Document] | None:
    try:
        body = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except RecursionError:
        raise _syntax(1, 1, f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    except _DuplicateKey as exc:
        raise _syntax(1, 1, f'mapping key "{exc.args[0]}" already defined') from None
    except json.JSONDecodeError:
        return None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise _syntax(1, 1, f"invalid JSON: {exc}") from None
    if _depth(body) > MAX_DEPTH:
        raise _syntax(1, 1, f"the JSON nests deeper than {MAX_DEPTH} levels")
    if isinstance(body, list):
        return [Document(i + 1, 1, item) for i, item in enumerate(body) if item is not None]
    return [Document(1, 1, body)] if body is not None else []


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


class _Frame:
    __slots__ = ("anchor", "container", "key", "keys_seen", "merges", "path", "weight")

    def __init__(self, container: Any, path: str, anchor: str | None) -> None:
        self.container = container
        self.key: Any = _NO_KEY
        self.keys_seen: set[Any] = set()
        self.path = path
        self.weight = 1
        self.anchor = anchor
        self.merges: list[Any] = []


_NO_KEY = object()


def _parse_yaml(text: str, track_lines: bool = True) -> list[Document]:
    documents: list[Document] = []
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    total_weight = 0
    doc_line = 1
    lines: dict[str, int] = {}
    sink: dict[str, int] | None = None
    root: list[Any] = []
    number = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.DocumentStartEvent):
                number += 1
                if number > MAX_DOCUMENTS:
                    raise _syntax(number, event.start_mark.line + 1, "too many documents")
                doc_line, root, anchors = event.start_mark.line + 1, [], {}
                lines = {}
                sink = lines if track_lines else None
                continue
            if isinstance(event, yaml.DocumentEndEvent):
                if root and root[0] is not None:
                    documents.append(Document(number, doc_line, root[0], lines))
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent)):
                continue
            line = event.start_mark.line + 1
            parent = stack[-1] if stack else None
            if parent is None and not root:
                doc_line = line  # where the content starts, not the "---" before it
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                value = frame.container
                if frame.merges:
                    value = _apply_merges(value, frame.merges, number, line)
                if frame.anchor:
                    anchors[frame.anchor] = (value, frame.weight)
                _attach(stack, root, value, frame.weight, sink, line, number)
                continue
            path = _child_path(parent) if parent and track_lines else ""
            if isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise _syntax(number, line, f"unknown alias *{event.anchor}")
                value, weight = anchors[event.anchor]
                total_weight += weight
                if total_weight > MAX_EXPANDED_NODES:
                    raise _syntax(number, line, "aliases expand to too many nodes (alias bomb?)")
                _attach(stack, root, value, weight, sink, line, number, alias=True)
                continue
            total_weight += 1
            if total_weight > MAX_EXPANDED_NODES:
                raise _syntax(number, line, "the document is too large")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                _check_collection_tag(event, number, line)
                if len(stack) >= MAX_DEPTH:
                    raise _syntax(number, line, f"the YAML nests deeper than {MAX_DEPTH} levels")
                container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
                if path:
                    lines.setdefault(path, line)
                stack.append(_Frame(container, path, event.anchor))
                continue
            value = _scalar(event, number, line)
            if event.anchor:
                anchors[event.anchor] = (value, 1)
            _attach(stack, root, value, 1, sink, line, number)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        at = mark.line + 1 if mark else doc_line
        problem = getattr(exc, "problem", None) or str(exc)
        raise _syntax(max(number, 1), at, f"invalid YAML: {problem} (line {at})") from None
    return documents


def _child_path(frame: _Frame) -> str:
    if isinstance(frame.container, list):
        return f"{frame.path}[{len(frame.container)}]"
    if frame.key is _NO_KEY or frame.key is _MERGE:
        return frame.path  # a key itself, or a merged mapping: no path of its own
    key = str(frame.key)
    return f"{frame.path}.{key}" if frame.path else key


def _attach(
    stack: list[_Frame],
    root: list[Any],
    value: Any,
    weight: int,
    lines: dict[str, int] | None,
    line: int,
    number: int,
    alias: bool = False,
) -> None:
    if not stack:
        root.append(value)
        return
    frame = stack[-1]
    frame.weight += weight
    if isinstance(frame.container, list):
        if lines is not None:
            lines.setdefault(f"{frame.path}[{len(frame.container)}]", line)
        frame.container.append(value)
        return
    if frame.key is _NO_KEY:
        if isinstance(value, (dict, list)) and not alias:
            raise _syntax(number, line, "a mapping key must be a plain value")
        if isinstance(value, list):
            raise _syntax(number, line, "a mapping key must be a plain value")
        if value == "<<":
            frame.key = _MERGE
            return
        if value in frame.keys_seen:
            raise _syntax(number, line, f'mapping key "{value}" already defined')
        frame.keys_seen.add(value)
        frame.key = value
        if lines is not None:
            key = str(value)
            lines.setdefault(f"{frame.path}.{key}" if frame.path else key, line)
        return
    if frame.key is _MERGE:
        frame.merges.append(value)
    else:
        frame.container[frame.key] = value
    frame.key = _NO_KEY


_MERGE = object()


def _apply_merges(mapping: Any, merges: list[Any], number: int, line: int) -> Any:
    merged: dict[Any, Any] = {}
    for source in merges:
        for item in source if isinstance(source, list) else [source]:
            if not isinstance(item, dict):
                raise _syntax(number, line, "a merge key (<<) needs a mapping")
            for key, value in item.items():
                merged.setdefault(key, value)
    merged.update(mapping)
    return merged


def _check_collection_tag(event: Any, number: int, line: int) -> None:
    tag = event.tag
    if tag in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
        return
    if tag == "tag:yaml.org,2002:omap" or tag == "tag:yaml.org,2002:set":
        return
    raise _syntax(number, line, f"the YAML tag {tag} is not allowed in a manifest")


def _scalar(event: Any, number: int, line: int) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag not in _STANDARD_SCALAR_TAGS:
        raise _syntax(number, line, f"the YAML tag {tag} is not allowed in a manifest")
    if tag == "tag:yaml.org,2002:str":
        return event.value
    if tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"):
        return event.value  # JSON has no such types; Kubernetes sees the text.
    node = yaml.ScalarNode(tag, event.value)
    try:
        return _constructor.construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError):
        return event.value


def _unroll_lists(documents: list[Document]) -> list[Document]:
    unrolled: list[Document] = []
    for doc in documents:
        body = doc.body
        is_list = (
            isinstance(body, dict)
            and isinstance(body.get("kind"), str)
            and body["kind"].endswith("List")
            and isinstance(body.get("items"), list)
        )
        if not is_list:
            unrolled.append(doc)
            continue
        for index, item in enumerate(body["items"]):
            prefix = f"items[{index}]"
            item_lines = {
                path[len(prefix) + 1 :]: line
                for path, line in doc.lines.items()
                if path.startswith(prefix + ".")
            }
            start = doc.lines.get(prefix, doc.line)
            unrolled.append(Document(doc.number, start, item, item_lines))
    return [Document(position + 1, d.line, d.body, d.lines) for position, d in enumerate(unrolled)]


def _syntax(number: int, line: int, message: str) -> ManifestSyntaxError:
    error = FieldError("", message, SYNTAX, document=number, line=line)
    return ManifestSyntaxError(f"document {number}: {message}", [error])


def dump_manifests(objects: list[dict[str, Any]]) -> str:
    """Write objects as one YAML stream that ``kubectl apply -f`` accepts.

    Parameters
    ----------
    objects : list of dict
        Kubernetes objects.

    Returns
    -------
    str
        The objects as YAML documents separated by ``---``, keys in the order given.

    Examples
    --------
    >>> print(dump_manifests([{"apiVersion": "v1", "kind": "Namespace",
    ...                        "metadata": {"name": "shop"}}]), end="")
    apiVersion: v1
    kind: Namespace
    metadata:
      name: shop
    """
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return "---\n".join(
        yaml.dump(obj, Dumper=dumper, sort_keys=False, default_flow_style=False) for obj in objects
    )
