"""The Gateway API CRDs' CEL rules (``x-kubernetes-validations``), each written in Python.

The API server evaluates a CRD's CEL rules on the object after its schema defaults are
filled in, and reports a broken rule at the field that carries it, with the value's schema
type and the rule's message: ``spec.listeners: Invalid value: "array": Listener name must be
unique within the Gateway``. A rule runs only where its field is present.

Each :class:`Rule` here names the field path it sits on in the CRD (``[*]`` for every item
of a list) and its exact message, so a test can check that every rule of the stored CRDs
has its Python twin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app.cluster.validation.semantic_meta import invalid
from app.errors import FieldError


@dataclass(frozen=True)
class Rule:
    """One CEL rule: where it sits, its message, and a check that is True when it holds."""

    path: str
    message: str
    check: Callable[[Any], bool]


def has(value: object, field: str) -> bool:
    """CEL's ``has(self.field)``: the field is present (an empty string counts).

    >>> has({"a": ""}, "a"), has({"a": None}, "a"), has({}, "a")
    (True, False, False)
    """
    return isinstance(value, dict) and value.get(field) is not None


def blank(value: object, field: str) -> bool:
    """``!has(self.field) || self.field == ''``."""
    return not has(value, field) or value[field] == ""  # type: ignore[index]


def items(value: object) -> list:
    """A list value, or an empty one where the field is absent."""
    return value if isinstance(value, list) else []


def exists_one(values: list, pred: Callable[[Any], bool]) -> bool:
    """CEL's ``exists_one``: exactly one element satisfies ``pred``."""
    return sum(1 for v in values if pred(v)) == 1


def each_unique(values: list, same: Callable[[Any, Any], bool]) -> bool:
    """``self.all(a, self.exists_one(b, same(a, b)))``: no element has a twin.

    >>> each_unique([1, 2, 3], lambda a, b: a == b), each_unique([1, 1], lambda a, b: a == b)
    (True, False)
    """
    return all(sum(1 for b in values if same(a, b)) == 1 for a in values)


def _type_word(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "string"


_TOKEN = re.compile(r"([^.\[\]]+)|\[\*\]")


def _nodes(value: object, tokens: list[str], path: str) -> Iterator[tuple[str, object]]:
    if not tokens:
        yield path, value
        return
    head, rest = tokens[0], tokens[1:]
    if head == "*":
        for i, item in enumerate(items(value)):
            yield from _nodes(item, rest, f"{path}[{i}]")
    elif has(value, head):
        yield from _nodes(value[head], rest, f"{path}.{head}" if path else head)  # type: ignore[index]


def evaluate(obj: dict, rules: list[Rule]) -> list[FieldError]:
    """Every broken rule of ``rules`` in ``obj``, at each concrete path where it applies.

    Parameters
    ----------
    obj : dict
        A custom resource with its CRD defaults filled in.
    rules : list of Rule
        The rules of its kind.

    Returns
    -------
    list of FieldError
        ``Invalid value: "<schema type>": <message>`` per broken rule and place.

    Examples
    --------
    >>> rule = Rule("spec.items[*]", "must be short", lambda s: len(s) < 3)
    >>> [e.describe() for e in evaluate({"spec": {"items": ["ab", "abcd"]}}, [rule])]
    ['spec.items[1]: Invalid value: "string": must be short']
    """
    errs: list[FieldError] = []
    for rule in rules:
        tokens = [m.group(1) or "*" for m in _TOKEN.finditer(rule.path)]
        for path, value in _nodes(obj, tokens, ""):
            try:
                ok = rule.check(value)
            except (KeyError, TypeError, AttributeError, IndexError):
                # A CEL rule that reads a field the object lacks fails to evaluate; the API
                # server rejects the object then too.
                ok = False
            if not ok:
                errs.append(invalid(path, _type_word(value), rule.message))
    return errs


# A Gateway API Duration (GEP-2257): up to four <number><unit> parts.
_DURATION_PART = re.compile(r"([0-9]{1,5})(h|ms|m|s)")
_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}


def duration_ms(text: str) -> int:
    """A Gateway API duration in milliseconds.

    >>> duration_ms("1h30m"), duration_ms("10s"), duration_ms("250ms")
    (5400000, 10000, 250)
    """
    return sum(int(n) * _UNIT_MS[u] for n, u in _DURATION_PART.findall(text))


__all__ = [
    "Rule",
    "blank",
    "duration_ms",
    "each_unique",
    "evaluate",
    "exists_one",
    "has",
    "items",
]
