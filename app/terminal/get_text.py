"""The text of a ``kubectl get`` table in the terminal, built once per state of the cluster.

A learner runs ``kubectl get pods`` again and again while nothing changes (waiting for a
rollout, counting endpoints). The cells of a table depend on the objects alone, but for the
AGE column, which depends on the time too: so the rest of the table is kept with the state's
other views (:meth:`~app.cluster.state.ClusterState.memoised`, dropped when an object changes)
and the ages are worked out again at each run. The text is drawn again only when an age
reads differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.render import table_cells as cell
from app.render.tables import GetTable, format_table, get_table

#: Kinds whose table has time columns besides AGE (an Event's LAST SEEN): not kept.
UNKEPT = frozenset({"Event"})
#: Tables kept per state of a cluster (a few kinds, namespaces and ways of printing; a large
#: table and its text are some 150 KB, and a server caches hundreds of clusters).
MOST = 8


@dataclass
class _Kept:
    table: GetTable  # every cell but the ages
    age: int | None  # the AGE column's place
    starts: list[float | None]  # each object's creationTimestamp, in seconds
    ages: tuple[str, ...] | None = None  # the ages the text was drawn with
    text: str = ""


def table_text(
    cluster: Any,
    kind: str,
    objects: list[dict[str, Any]],
    now: float | None,
    prefix: str | None = None,
    **shown: Any,
) -> str:
    """:func:`~app.render.tables.format_table` of :func:`~app.render.tables.get_table` for
    ``objects`` at ``now``, names prefixed with ``prefix/`` (``kubectl get all``); ``shown``
    are format_table's flags.

    >>> from app.cluster.scenarios import build
    >>> cluster = build("web-service")
    >>> pods = cluster.list("Pod", "default")
    >>> text = table_text(cluster, "Pod", pods, 1_767_225_700.0, wide=True)
    >>> text == format_table(get_table("Pod", pods, 1_767_225_700.0), wide=True)
    True
    >>> table_text(cluster, "Pod", pods, 1_767_225_990.0, wide=True) == format_table(
    ...     get_table("Pod", pods, 1_767_225_990.0), wide=True)
    True
    """
    if kind in UNKEPT:
        return format_table(_prefixed(get_table(kind, objects, now), prefix), **shown)
    names = tuple((cell.meta(o).get("namespace"), cell.meta(o).get("name")) for o in objects)
    key = (kind, prefix, names, tuple(sorted(shown.items())))
    kept_tables = cluster.state.memoised("terminal.get_tables", dict)
    kept = kept_tables.get(key)
    if kept is None:
        if len(kept_tables) >= MOST:
            kept_tables.clear()
        kept = kept_tables[key] = _keep(kind, objects, prefix)
    ages = tuple(_age(start, now) for start in kept.starts) if kept.age is not None else ()
    if ages != kept.ages:
        table = kept.table
        if kept.age is not None:
            at = kept.age
            rows = [
                (obj, [*cells[:at], age, *cells[at + 1 :]])
                for (obj, cells), age in zip(table.rows, ages, strict=True)
            ]
            table = GetTable(table.columns, rows)
        kept.text, kept.ages = format_table(table, **shown), ages
    return kept.text


def _keep(kind: str, objects: list[dict[str, Any]], prefix: str | None) -> _Kept:
    table = _prefixed(get_table(kind, objects, None), prefix)
    at = next((i for i, c in enumerate(table.columns) if c.name == "Age"), None)
    starts = [cell.epoch_seconds(cell.meta(o).get("creationTimestamp") or "") for o in objects]
    return _Kept(table, at, starts)


def _age(start: float | None, now: float | None) -> str:
    """The AGE cell, as :func:`app.render.table_cells.since` writes it."""
    if start is None or now is None:
        return cell.UNKNOWN
    return cell.human_duration(now - start)


def _prefixed(table: GetTable, prefix: str | None) -> GetTable:
    if prefix is None:
        return table
    table.rows = [(obj, [f"{prefix}/{cells[0]}", *cells[1:]]) for obj, cells in table.rows]
    return table
