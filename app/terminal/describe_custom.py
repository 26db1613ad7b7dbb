"""``kubectl describe`` for custom resources (the Gateway API kinds): kubectl's generic
describer (``k8s.io/kubectl/pkg/describe`` GenericDescriberFor), which writes the object's
whole content, fields sorted, each name turned into words (``gatewayClassName`` →
``Gateway Class Name``), then its Events."""

from __future__ import annotations

import re
from typing import Any

from app.terminal.describe_lines import event_lines, map_lines

_ACRONYMS = ("API", "URL", "UID", "OSB", "GUID")
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_SKIPPED = {".metadata.name", ".metadata.namespace", ".metadata.labels", ".metadata.annotations"}


def smart_label(field: str) -> str:
    """A field name as the generic describer titles it.

    >>> smart_label("gatewayClassName"), smart_label("apiVersion"), smart_label("uid")
    ('Gateway Class Name', 'API Version', 'UID')
    >>> smart_label("v4")  # names with characters other than letters and '-' stay as they are
    'v4'
    """
    if any(not (ch.isalpha() or ch == "-") for ch in field):
        return field
    words = []
    for part in _WORDS.findall(field):
        words.append(part.upper() if part.upper() in _ACRONYMS else part[:1].upper() + part[1:])
    return " ".join(words)


def _content(value: dict[str, Any], level: int, prefix: str) -> list[str]:
    lines: list[str] = []
    indent = "  " * level
    for field in sorted(value):
        child, where = value[field], f"{prefix}.{field}"
        if where in _SKIPPED:
            continue
        if isinstance(child, dict):
            lines.append(f"{indent}{smart_label(field)}:")
            lines += _content(child, level + 1, where)
        elif isinstance(child, list):
            lines.append(f"{indent}{smart_label(field)}:")
            for item in child:
                if isinstance(item, dict):
                    lines += _content(item, level + 1, where)
                else:
                    lines.append(f"{indent}  {_go_text(item)}")
        else:
            lines.append(f"{indent}{smart_label(field)}:\t{_go_text(child)}")
    return lines


def _go_text(value: Any) -> str:
    # Go's %v of JSON values: booleans lower-case, a missing value <nil>.
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    return str(value)


def describe_custom(cluster: Any, obj: dict[str, Any], now: float | None = None) -> list[str]:
    """The describe lines of a custom resource (tab-separated; the caller aligns them).

    Parameters
    ----------
    cluster : Cluster
        Where its events are.
    obj : dict
        The object as stored.
    now : float, optional
        Seconds since 1970, for the events' ages.

    Returns
    -------
    list of str
        Name, Namespace, Labels, Annotations, then every other field, then Events.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.terminal.tabwriter import tabwrite
    >>> route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    ...          "metadata": {"name": "web", "namespace": "default"},
    ...          "spec": {"hostnames": ["shop.example.com"], "parentRefs": [{"name": "eg"}]}}
    >>> print(tabwrite("\\n".join(describe_custom(Cluster.create(seed=1), route))))
    Name:         web
    Namespace:    default
    Labels:       <none>
    Annotations:  <none>
    API Version:  gateway.networking.k8s.io/v1
    Kind:         HTTPRoute
    Metadata:
    Spec:
      Hostnames:
        shop.example.com
      Parent Refs:
        Name:  eg
    Events:    <none>
    """
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace", "")
    lines = [
        f"Name:\t{meta.get('name', '')}",
        f"Namespace:\t{namespace}",
        *map_lines("Labels:", meta.get("labels")),
        *map_lines("Annotations:", meta.get("annotations"), ": "),
        *_content(obj, 0, ""),
    ]
    return [*lines, *event_lines(cluster, obj["kind"], namespace, meta.get("name", ""), now)]


__all__ = ["describe_custom", "smart_label"]
