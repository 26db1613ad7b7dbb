"""``kubectl get -o jsonpath=…``: the part of kubectl's JSONPath templates a lesson uses.

A template is text with ``{…}`` expressions: ``{.spec.clusterIP}``,
``{.items[*].metadata.name}``, ``{.spec.ports[0].nodePort}``, ``{.metadata.labels.app}``,
``{.metadata.labels['app\\.kubernetes\\.io/name']}``, and ``{"\\n"}`` for a literal. Several
results print separated by spaces, as kubectl prints them; ``range``/``end`` and filters are
not read (the error says so).
"""

from __future__ import annotations

import json
import re
from typing import Any

_STEP = re.compile(r"""\.([A-Za-z0-9_-]+)|\[(\*|-?\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\.\.""")


class JsonPathError(ValueError):
    """A template kubectl would not parse, or one this subset does not read."""


def _steps(expression: str) -> list[str | int | None]:
    """``.items[*].metadata.name`` as ["items", None, "metadata", "name"] (None: every item)."""
    steps: list[str | int | None] = []
    position = 0
    if expression.startswith("$"):
        position = 1
    while position < len(expression):
        match = _STEP.match(expression, position)
        if match is None or match.group(0) == "..":
            raise JsonPathError(f"unrecognized identifier {expression[position:]}")
        field, index, quoted = match.groups()
        if field is not None:
            steps.append(field)
        elif index is not None:
            steps.append(None if index == "*" else int(index))
        else:
            steps.append(re.sub(r"\\(.)", r"\1", quoted))
        position = match.end()
    return steps


def _walk(values: list[Any], step: str | int | None) -> list[Any]:
    found = []
    for value in values:
        if step is None:
            if isinstance(value, list):
                found.extend(value)
            elif isinstance(value, dict):
                found.extend(value.values())
        elif isinstance(step, int):
            if isinstance(value, list) and -len(value) <= step < len(value):
                found.append(value[step])
        elif isinstance(value, dict) and step in value:
            found.append(value[step])
    return found


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def render(template: str, document: Any) -> str:
    """Fill ``template`` from ``document`` as kubectl's ``-o jsonpath`` does.

    >>> svc = {"spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443, "nodePort": 30443}]}}
    >>> render("{.spec.clusterIP}", svc)
    '10.96.0.1'
    >>> render("{.spec.ports[0].nodePort}{'\\\\n'}", svc)
    '30443\\n'
    >>> render("{.items[*].metadata.name}", {"items": [{"metadata": {"name": "a"}},
    ...                                                  {"metadata": {"name": "b"}}]})
    'a b'
    >>> render("{range .items[*]}{end}", {})
    Traceback (most recent call last):
    ...
    app.terminal.jsonpath.JsonPathError: range and end are not in this terminal's jsonpath
    """
    out: list[str] = []
    position = 0
    while position < len(template):
        start = template.find("{", position)
        if start < 0:
            out.append(template[position:])
            break
        out.append(template[position:start])
        end = template.find("}", start)
        if end < 0:
            raise JsonPathError("unclosed action")
        expression = template[start + 1 : end].strip()
        position = end + 1
        if expression.startswith(("range", "end")):
            raise JsonPathError("range and end are not in this terminal's jsonpath")
        if expression[:1] in ("'", '"') and expression[-1:] == expression[:1]:
            out.append(expression[1:-1].encode().decode("unicode_escape"))
            continue
        values = [document]
        for step in _steps(expression):
            values = _walk(values, step)
        out.append(" ".join(_text(v) for v in values))
    return "".join(out)
