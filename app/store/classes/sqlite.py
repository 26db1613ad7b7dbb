"""Classes in the workspaces' SQLite file, on the same connections and with the same named
failures as :class:`app.store.sqlite.SqliteBackend`.

SQLite cannot tell one process that another wrote, so each process looks at the log of a
class it streams to a few times a second (see :mod:`app.web.classroom.feed`); within a process
an append wakes the readers at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from app.store.base import dump
from app.store.classes.base import ClassEvent, ClassRow, NameTaken, Seat
from app.store.sqlite import SqliteBackend

CLASS_COLUMNS = "id, code, key_hash, title, lesson, teacher_workspace, start_workspace, created"
SEAT_COLUMNS = "id, class, name, workspace, joined, following, progress, last_active"
EVENT_COLUMNS = "seq, class, kind, data, at, target"


class SqliteClassBackend:
    """Classes in the database of ``store`` (its tables are made by :mod:`app.store.schema`)."""

    def __init__(self, store: SqliteBackend) -> None:
        self.store = store
        self._callbacks: list[Callable[[str], None]] = []

    def _all(self, query: str, *params: object) -> list[tuple]:
        with self.store._named():
            return self.store._connect().execute(query, params).fetchall()

    def add_class(self, row: ClassRow) -> None:
        with self.store._write() as db:
            db.execute(
                f"INSERT INTO classes ({CLASS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.id,
                    row.code,
                    row.key_hash,
                    row.title,
                    row.lesson,
                    row.teacher_workspace,
                    row.start_workspace,
                    row.created,
                ),
            )

    def get_class(self, class_id: str) -> ClassRow | None:
        found = self._all(f"SELECT {CLASS_COLUMNS} FROM classes WHERE id = ?", class_id)
        return ClassRow(*found[0]) if found else None

    def class_by_code(self, code: str) -> ClassRow | None:
        found = self._all(f"SELECT {CLASS_COLUMNS} FROM classes WHERE code = ?", code)
        return ClassRow(*found[0]) if found else None

    def set_start(self, class_id: str, workspace_id: str) -> None:
        with self.store._write() as db:
            db.execute(
                "UPDATE classes SET start_workspace = ? WHERE id = ?", (workspace_id, class_id)
            )

    def add_seat(self, seat: Seat) -> None:
        try:
            with self.store._write() as db:
                db.execute(
                    f"INSERT INTO class_seats ({SEAT_COLUMNS}, folded) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seat.id,
                        seat.class_id,
                        seat.name,
                        seat.workspace,
                        seat.joined,
                        int(seat.following),
                        dump(seat.progress),
                        seat.last_active,
                        seat.name.casefold(),
                    ),
                )
        except sqlite3.IntegrityError as error:
            raise NameTaken(seat.name) from error

    @staticmethod
    def _seat(row: tuple) -> Seat:
        seat_id, class_id, name, workspace, joined, following, progress, last_active = row
        return Seat(
            seat_id, class_id, name, workspace, joined, bool(following), json.loads(progress),
            last_active,
        )  # fmt: skip

    def seat(self, class_id: str, seat_id: str) -> Seat | None:
        found = self._all(
            f"SELECT {SEAT_COLUMNS} FROM class_seats WHERE class = ? AND id = ?", class_id, seat_id
        )
        return self._seat(found[0]) if found else None

    def seats(self, class_id: str) -> list[Seat]:
        rows = self._all(
            f"SELECT {SEAT_COLUMNS} FROM class_seats WHERE class = ? ORDER BY rowid", class_id
        )
        return [self._seat(r) for r in rows]

    def update_seat(
        self,
        class_id: str,
        seat_id: str,
        *,
        following: bool | None = None,
        progress: dict[str, Any] | None = None,
        last_active: float | None = None,
    ) -> None:
        sets, values = [], []
        for column, value in (
            ("following", None if following is None else int(following)),
            ("progress", None if progress is None else dump(progress)),
            ("last_active", last_active),
        ):
            if value is not None:
                sets.append(f"{column} = ?")
                values.append(value)
        if not sets:
            return
        with self.store._write() as db:
            db.execute(
                f"UPDATE class_seats SET {', '.join(sets)} WHERE class = ? AND id = ?",
                (*values, class_id, seat_id),
            )

    def add_event(
        self, class_id: str, kind: str, data: dict[str, Any], at: float, target: str | None
    ) -> int:
        with self.store._write() as db:
            seq = db.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM class_events WHERE class = ?", (class_id,)
            ).fetchone()[0]
            db.execute(
                f"INSERT INTO class_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (seq, class_id, kind, dump(data), at, target),
            )
        for callback in list(self._callbacks):
            callback(class_id)
        return seq

    @staticmethod
    def _event(row: tuple) -> ClassEvent:
        seq, class_id, kind, data, at, target = row
        return ClassEvent(seq, class_id, kind, json.loads(data), at, target)

    def events_after(self, class_id: str, seq: int, limit: int = 500) -> list[ClassEvent]:
        rows = self._all(
            f"SELECT {EVENT_COLUMNS} FROM class_events WHERE class = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            class_id,
            seq,
            limit,
        )
        return [self._event(r) for r in rows]

    def last_event(self, class_id: str, kind: str) -> ClassEvent | None:
        rows = self._all(
            f"SELECT {EVENT_COLUMNS} FROM class_events WHERE class = ? AND kind = ? "
            "AND target IS NULL ORDER BY seq DESC LIMIT 1",
            class_id,
            kind,
        )
        return self._event(rows[0]) if rows else None

    def last_seq(self, class_id: str) -> int:
        rows = self._all("SELECT coalesce(max(seq), 0) FROM class_events WHERE class = ?", class_id)
        return rows[0][0]

    def on_event(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)
