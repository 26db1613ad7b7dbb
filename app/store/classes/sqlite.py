"""Classes in the workspaces' SQLite file, on the same connections and with the same named
failures as :class:`app.store.sqlite.SqliteBackend`.

SQLite cannot tell one process that another wrote, so each process looks at the log of a
class it streams to a few times a second (see :mod:`app.web.classroom.feed`); within a process
an append wakes the readers at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from app.store.classes.sql import SqlClassBackend
from app.store.sqlite import SqliteBackend


class SqliteClassBackend(SqlClassBackend):
    """Classes in the database of ``store`` (its tables are made by :mod:`app.store.schema`)."""

    P = "?"
    JOIN_ORDER = "rowid"
    NAME_TAKEN = sqlite3.IntegrityError

    def __init__(self, store: SqliteBackend) -> None:
        super().__init__()
        self.store = store

    def _all(self, query: str, *params: object) -> list[tuple]:
        with self.store._named():
            return self.store._connect().execute(query, params).fetchall()

    def _write(self) -> AbstractContextManager[Any]:
        return self.store._write()

    def add_event(
        self, class_id: str, kind: str, data: dict[str, Any], at: float, target: str | None
    ) -> int:
        """Append to the class's log (the write transaction keeps other writers out while it
        numbers the event) and wake this process's readers."""
        with self._write() as db:
            seq = self._insert_event(db, class_id, kind, data, at, target)
        for callback in list(self._callbacks):
            callback(class_id)
        return seq

    def on_event(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def hearing(self) -> int | None:
        return None  # another process's appends are found by reading the log
