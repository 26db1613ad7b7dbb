"""The shape of a ``kubectl get`` table (columns, rows) and its text as kubectl prints it.

:mod:`app.render.tables` fills tables per kind; this module holds what every kind shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.render import table_cells as cell

_DESCRIPTIONS = {
    "Name": "Name must be unique within a namespace.",
    "Age": "CreationTimestamp is a timestamp representing the server time when this object "
    "was created.",
}


@dataclass(frozen=True)
class Column:
    """One column of a ``meta.k8s.io/v1`` Table: ``name`` as the server spells it (kubectl
    prints it upper-cased), ``priority`` 1 for ``-o wide`` only."""

    name: str
    type: str = "string"
    format: str = ""
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": _DESCRIPTIONS.get(self.name, self.name),
            "priority": self.priority,
        }


@dataclass
class GetTable:
    """A ``kubectl get`` table: its columns, and per object the row of cells."""

    columns: tuple[Column, ...]
    rows: list[tuple[dict[str, Any], list[Any]]] = field(default_factory=list)


# kubectl's tabwriter: cells at least 6 wide, 3 spaces between columns.
_MIN_WIDTH, _PADDING = 6, 3


def format_table(
    table: GetTable,
    *,
    wide: bool = False,
    with_namespace: bool = False,
    show_labels: bool = False,
    no_headers: bool = False,
) -> str:
    """The table as ``kubectl get`` prints it: upper-case headers, columns aligned with
    three spaces, ``-o wide`` columns when ``wide``, a NAMESPACE column first for ``-A`` and
    LABELS last for ``--show-labels``. No trailing newline.

    >>> table = GetTable((Column("Name"), Column("Status")),
    ...                  [({"metadata": {"labels": {"a": "b"}}}, ["default", "Active"])])
    >>> print(format_table(table, show_labels=True))
    NAME      STATUS   LABELS
    default   Active   a=b
    """
    shown = [i for i, c in enumerate(table.columns) if wide or c.priority == 0]
    header = [table.columns[i].name.upper() for i in shown]
    lines = []
    for obj, cells in table.rows:
        line = [str(cells[i]) for i in shown]
        if with_namespace:
            line.insert(0, cell.meta(obj).get("namespace", ""))
        if show_labels:
            line.append(cell.label_text(cell.meta(obj).get("labels")))
        lines.append(line)
    if with_namespace:
        header.insert(0, "NAMESPACE")
    if show_labels:
        header.append("LABELS")
    if not no_headers:
        lines.insert(0, header)
    if not lines:
        return ""
    widths = [
        max(_MIN_WIDTH, max(len(line[i]) for line in lines) + _PADDING)
        for i in range(len(lines[0]) - 1)
    ]
    return "\n".join(
        "".join(text.ljust(width) for text, width in zip(line, widths, strict=False)) + line[-1]
        for line in lines
    )
