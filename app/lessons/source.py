"""Reading lesson files so that every problem can name its file and line.

A lesson's YAML is read into plain dicts and lists, and alongside them a map from each
value's path (``("steps", 2, "checks", 0)``) to the line it starts on, so the loader can say
``lessons/03-services/lesson.yaml, line 41: ...`` about any value it rejects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
#: libyaml's parser when PyYAML was built with it (it keeps the marks, so lines still count).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LessonFileError(Exception):
    """A lesson file that cannot be used, with the file, line and problem.

    >>> str(LessonFileError("lessons/x/lesson.yaml", 3, "steps: must be a list"))
    'lessons/x/lesson.yaml, line 3: steps: must be a list'
    """

    def __init__(self, filename: str, line: int | None, problem: str) -> None:
        self.filename = filename
        self.line = line
        self.problem = problem
        where = f"{filename}, line {line}" if line else filename
        super().__init__(f"{where}: {problem}")


@dataclass
class Located:
    """Parsed YAML and the line each value starts on."""

    filename: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest enclosing value."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def error(self, path: Path, problem: str) -> LessonFileError:
        return LessonFileError(self.filename, self.line(path), problem)


def dotted(path: Path) -> str:
    """``path`` as a lesson author writes it in a message: ``steps[1].checks[0]``.

    >>> dotted(("steps", 1, "checks", 0))
    'steps[1].checks[0]'
    >>> dotted(())
    '(top level)'
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def require(doc: Located, data: Any, path: Path, kind: type | tuple[type, ...], what: str) -> Any:
    """``data`` when it is of ``kind``, else the error that says what it must be.

    Parameters
    ----------
    doc : Located
        The file ``data`` was read from (for the line).
    data : Any
        The value found at ``path``.
    path : Path
        Where it is, as in ``Located.lines``.
    kind : type or tuple of types
        What it must be; ``int`` does not take ``true`` or ``false``.
    what : str
        What it must be, as the message says it (``a whole number``).

    Returns
    -------
    Any
        ``data``, unchanged.

    Raises
    ------
    LessonFileError
        ``<path>: must be <what>``.

    Examples
    --------
    >>> doc = read_yaml("l.yaml", "order: 2\\ncluster:\\n  workers: true\\n")
    >>> require(doc, doc.data["order"], ("order",), int, "a whole number")
    2
    >>> require(doc, True, ("cluster", "workers"), int, "a whole number")
    Traceback (most recent call last):
    ...
    app.lessons.source.LessonFileError: l.yaml, line 3: cluster.workers: must be a whole number
    """
    if not isinstance(data, kind) or (isinstance(data, bool) and kind is int):
        raise doc.error(path, f"{dotted(path)}: must be {what}")
    return data


def only(doc: Located, data: dict[str, Any], path: Path, allowed: set[str]) -> None:
    """Refuse the first key of the mapping ``data`` that is not in ``allowed``.

    Parameters
    ----------
    doc : Located
    data : dict
        The mapping found at ``path``.
    path : Path
    allowed : set of str
        The keys it may have, listed in the message.

    Raises
    ------
    LessonFileError
        ``<path>.<key>: unknown field "<key>" (expected one of: ...)``.

    Examples
    --------
    >>> doc = read_yaml("l.yaml", "cluster:\\n  cni: calico\\n  nodes: 3\\n")
    >>> only(doc, doc.data["cluster"], ("cluster",), {"cni", "workers"})
    Traceback (most recent call last):
    ...
    app.lessons.source.LessonFileError: l.yaml, line 3: cluster.nodes: unknown field "nodes" (expected one of: cni, workers)
    """
    for key in data:
        if key not in allowed:
            raise doc.error(
                (*path, key),
                f'{dotted((*path, key))}: unknown field "{key}" (expected one of: {", ".join(sorted(allowed))})',
            )


def read_yaml(filename: str, text: str) -> Located:
    """Parse one YAML document, recording where each value is.

    Parameters
    ----------
    filename : str
        Named in errors.
    text : str
        The file's contents.

    Returns
    -------
    Located

    Raises
    ------
    LessonFileError
        For YAML that does not parse, duplicate keys, or more than one document.

    Examples
    --------
    >>> doc = read_yaml("l.yaml", "steps:\\n  - id: a\\n  - id: b\\n")
    >>> doc.data["steps"][1]["id"], doc.line(("steps", 1, "id"))
    ('b', 3)
    >>> read_yaml("l.yaml", "a: 1\\na: 2\\n")
    Traceback (most recent call last):
    ...
    app.lessons.source.LessonFileError: l.yaml, line 2: duplicate key "a"
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        located = Located(filename, None)
        located.data = {} if node is None else _convert(loader, node, (), located)
        return located
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise LessonFileError(filename, line, f"not valid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise LessonFileError(filename, None, f"not valid YAML: {error}") from None
    finally:
        loader.dispose()


def _convert(loader: Any, node: yaml.Node, path: Path, out: Located) -> Any:
    out.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, bool) and key_node.tag == "tag:yaml.org,2002:bool":
                # YAML 1.1 reads a plain `on:` as true; a lesson's keys are the words written
                # (a ``ran`` check's ``on: node/worker-1``).
                key = key_node.value
            if not isinstance(key, str):
                raise out.error(path, f"keys must be text, not {key!r}")
            if key in result:
                raise LessonFileError(
                    out.filename, key_node.start_mark.line + 1, f'duplicate key "{key}"'
                )
            result[key] = _convert(loader, value_node, (*path, key), out)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, (*path, i), out) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
