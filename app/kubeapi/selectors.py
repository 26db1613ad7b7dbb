"""Label and field selectors as list and watch requests send them (``?labelSelector=``,
``?fieldSelector=``), with the operators apimachinery's ``labels.Parse`` and
``fields.ParseSelector`` accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from app.kubeapi.status import ApiError, bad_request

Matcher = Callable[[dict[str, Any]], bool]

_SET = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\((.*)\)\s*$")
_COMPARE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*$")


def split_terms(text: str) -> list[str]:
    """Split a selector at the commas outside parentheses.

    >>> split_terms("app=web,tier in (a,b),!legacy")
    ['app=web', 'tier in (a,b)', '!legacy']
    """
    terms, depth, current = [], 0, []
    for char in text:
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current.append(char)
    terms.append("".join(current))
    return [t for t in terms if t.strip()]


def label_matcher(text: str | None) -> Matcher:
    """A test of an object's labels for a label selector string.

    >>> pod = {"metadata": {"labels": {"app": "web", "tier": "front"}}}
    >>> [label_matcher(s)(pod) for s in ("app=web", "app!=web", "tier in (front,back)",
    ...                                  "tier notin (front)", "app", "!app", "")]
    [True, False, True, False, True, False, True]
    >>> label_matcher("app in web")
    Traceback (most recent call last):
    ...
    app.kubeapi.status.ApiError: ...unable to parse requirement: app in web...
    """
    tests = [_label_term(term) for term in split_terms(text or "")]

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(test(labels) for test in tests)

    return matches


def _label_term(term: str) -> Callable[[dict[str, str]], bool]:
    found = _SET.match(term)
    if found and not found.group(1):
        key, operator = found.group(2), found.group(3)
        values = {v.strip() for v in found.group(4).split(",") if v.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    found = _COMPARE.match(term)
    if found:
        key, operator, value = found.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    found = _EXISTS.match(term)
    if found:
        negated, key = found.groups()
        return lambda labels: (key in labels) != bool(negated)
    raise _unparsable(term)


def _unparsable(term: str) -> ApiError:
    return bad_request(f"unable to parse requirement: {term.strip()}")


def field_value(obj: dict[str, Any], path: str) -> str:
    """The text of a field by its dotted path (``spec.nodeName``), ``""`` when absent.

    >>> field_value({"spec": {"nodeName": "worker-1", "replicas": 2}}, "spec.replicas")
    '2'
    """
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_matcher(text: str | None) -> Matcher:
    """A test of an object's fields for a field selector (``=``, ``==`` and ``!=``).

    >>> pod = {"metadata": {"name": "web", "namespace": "default"},
    ...        "status": {"phase": "Running"}}
    >>> field_matcher("metadata.name=web,status.phase!=Pending")(pod)
    True
    >>> field_matcher("metadata.namespace==shop")(pod)
    False
    """
    tests = []
    for term in split_terms(text or ""):
        found = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not found:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        path, operator, value = found.groups()
        tests.append((path, operator == "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        return all((field_value(obj, p) == v) != negated for p, negated, v in tests)

    return matches


def only_name(text: str | None) -> str | None:
    """The name a field selector asks for with ``metadata.name=<name>`` alone, if so (a watch
    of one object, as ``kubectl delete --wait`` and ``kubectl get -w NAME`` make).

    >>> only_name("metadata.name=web"), only_name("spec.nodeName=w1")
    ('web', None)
    """
    terms = split_terms(text or "")
    if len(terms) == 1:
        found = re.match(r"^\s*metadata\.name\s*==?\s*(\S+)\s*$", terms[0])
        if found:
            return found.group(1)
    return None
