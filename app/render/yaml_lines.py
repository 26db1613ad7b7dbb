"""Which lines of an object's YAML hold a field: the details drawer highlights them when a
trace's cause points at that field (``spec.ports[0].targetPort``)."""

from __future__ import annotations

import re

import yaml

_STEP = re.compile(r'\.?(?:\["([^"]*)"\]|\[(\d+)\]|([^.\[\]]+))')


def parse_path(path: str) -> list[str | int]:
    """A field path's steps: mapping keys (text) and list indices (numbers).

    Keys with dots in them (annotations, labels) are written in quotes and brackets.

    >>> parse_path("spec.rules[0].http.paths[1].backend.service.port.number")
    ['spec', 'rules', 0, 'http', 'paths', 1, 'backend', 'service', 'port', 'number']
    >>> parse_path('metadata.annotations["kubernetes.io/ingress.class"]')
    ['metadata', 'annotations', 'kubernetes.io/ingress.class']
    >>> parse_path("")
    []
    """
    steps: list[str | int] = []
    for quoted, index, key in _STEP.findall(path):
        steps.append(int(index) if index else quoted or key)
    return steps


def _last_line(node: yaml.Node) -> int:
    """The 0-based line a node's text ends on: a block mapping's or list's end mark sits at
    whatever follows it, so theirs is their last child's; a block scalar's (``|``) end mark
    is at column 0 of the line after it."""
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
        children = (
            [n for pair in node.value for n in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if children:
            return max(_last_line(child) for child in children)
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def field_lines(text: str, path: str) -> list[int]:
    """The 1-based line numbers of ``path`` in the YAML ``text`` (one document, as the
    details drawer dumps it): the key's line through the end of its value, so a field that
    holds a mapping or a list (``spec.selector``) gives all its lines. A field the YAML does
    not have gives the line of the nearest part of the path that it has (where the field
    would be written); nothing at all, or YAML that does not parse, gives ``[]``.

    Parameters
    ----------
    text : str
        The YAML.
    path : str
        The field: keys joined by dots, list indices in brackets (see :func:`parse_path`).

    Returns
    -------
    list of int

    Examples
    --------
    >>> text = '''apiVersion: v1
    ... kind: Service
    ... metadata:
    ...   name: web
    ... spec:
    ...   selector:
    ...     app: web
    ...     tier: front
    ...   ports:
    ...   - port: 80
    ...     targetPort: 9090
    ...   - name: admin
    ...     port: 81
    ... '''
    >>> field_lines(text, "spec.ports[0].targetPort")
    [11]
    >>> field_lines(text, "spec.selector")
    [6, 7, 8]
    >>> field_lines(text, "spec.ports[1]")
    [12, 13]
    >>> field_lines(text, "spec.ports[1].port")
    [13]
    >>> field_lines(text, "spec.ports[0].protocol")  # not written: the list item's first line
    [10]
    >>> field_lines(text, "spec.clusterIP")  # not written: the spec: line
    [5]
    >>> field_lines(text, "status.podIP"), field_lines("a: [", "a")
    ([], [])
    """
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return []
    if node is None:
        return []
    first: int | None = None  # 0-based lines of the deepest step found
    last: int | None = None
    for step in parse_path(path):
        found: tuple[yaml.Node, yaml.Node] | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            found = next(((k, v) for k, v in node.value if k.value == step), None)
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(step, int)
            and 0 <= step < len(node.value)
        ):
            found = (node.value[step], node.value[step])
        if found is None:
            if first is None:
                return []
            return [first + 1]  # where the missing field would go: its parent's first line
        key, node = found
        first, last = key.start_mark.line, _last_line(node)
    if first is None or last is None:
        return []
    return list(range(first + 1, max(first, last) + 2))


def highlighted(text: str, path: str) -> list[dict[str, object]]:
    """The YAML's lines for the page, each ``{"text", "hit"}``: the hit ones hold ``path``.

    >>> [(line["text"], line["hit"]) for line in highlighted("a: 1\\nb: 2\\n", "b")]
    [('a: 1', False), ('b: 2', True)]
    """
    hits = set(field_lines(text, path)) if path else set()
    return [{"text": line, "hit": i in hits} for i, line in enumerate(text.splitlines(), 1)]
