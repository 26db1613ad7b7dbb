"""What the SQL class backends share: the same three tables read and written with the same
statements; SQLite and PostgreSQL differ only in their placeholder, how seats keep the order
students joined in, how a transaction is opened, and how an append is numbered and announced
(:mod:`app.store.classes.sqlite`, :mod:`app.store.classes.postgres`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from app.store.base import dump
from app.store.classes.base import ClassEvent, ClassRow, NameTaken, Seat

CLASS_COLUMNS = "id, code, key_hash, title, lesson, teacher_workspace, start_workspace, created"
SEAT_COLUMNS = "id, class, name, workspace, joined, following, progress, last_active"
EVENT_COLUMNS = "seq, class, kind, data, at, target"


def marks(placeholder: str, count: int) -> str:
    """``count`` placeholders for a VALUES list.

    >>> marks("?", 3)
    '?, ?, ?'
    """
    return ", ".join([placeholder] * count)


class SqlClassBackend:
    """The statements of a class backend on a SQL database; a subclass says how to run them.

    Subclasses set :attr:`P` (the placeholder), :attr:`JOIN_ORDER` (the column that orders
    seats as students joined), :attr:`NAME_TAKEN` (the error a duplicate name raises), and
    define ``_all(query, *params)``, ``_write()`` (a transaction giving a connection) and
    ``add_event``.
    """

    P: ClassVar[str]
    JOIN_ORDER: ClassVar[str]
    NAME_TAKEN: ClassVar[type[Exception]]

    def __init__(self) -> None:
        self._callbacks: list[Callable[[str], None]] = []

    def _all(self, query: str, *params: object) -> list[tuple]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _write_one(self, query: str, params: tuple) -> None:
        """Run one statement that writes (a subclass may send it without a transaction
        around it: one statement is its own)."""
        with self._write() as db:
            db.execute(query, params)

    def add_class(self, row: ClassRow) -> None:
        with self._write() as db:
            db.execute(
                f"INSERT INTO classes ({CLASS_COLUMNS}) VALUES ({marks(self.P, 8)})",
                (
                    row.id, row.code, row.key_hash, row.title, row.lesson,
                    row.teacher_workspace, row.start_workspace, row.created,
                ),
            )  # fmt: skip

    def get_class(self, class_id: str) -> ClassRow | None:
        found = self._all(f"SELECT {CLASS_COLUMNS} FROM classes WHERE id = {self.P}", class_id)
        return ClassRow(*found[0]) if found else None

    def class_by_code(self, code: str) -> ClassRow | None:
        found = self._all(f"SELECT {CLASS_COLUMNS} FROM classes WHERE code = {self.P}", code)
        return ClassRow(*found[0]) if found else None

    def set_start(self, class_id: str, workspace_id: str) -> None:
        self._write_one(
            f"UPDATE classes SET start_workspace = {self.P} WHERE id = {self.P}",
            (workspace_id, class_id),
        )

    def add_seat(self, seat: Seat) -> None:
        """Raises :class:`NameTaken` when the name (ignoring case) is taken in the class."""
        try:
            with self._write() as db:
                db.execute(
                    f"INSERT INTO class_seats ({SEAT_COLUMNS}, folded) VALUES ({marks(self.P, 9)})",
                    (
                        seat.id, seat.class_id, seat.name, seat.workspace, seat.joined,
                        seat.following, dump(seat.progress), seat.last_active,
                        seat.name.casefold(),
                    ),
                )  # fmt: skip
        except self.NAME_TAKEN as error:
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
            f"SELECT {SEAT_COLUMNS} FROM class_seats WHERE class = {self.P} AND id = {self.P}",
            class_id,
            seat_id,
        )
        return self._seat(found[0]) if found else None

    def seats(self, class_id: str) -> list[Seat]:
        """The class's students, in the order they joined."""
        rows = self._all(
            f"SELECT {SEAT_COLUMNS} FROM class_seats WHERE class = {self.P} "
            f"ORDER BY {self.JOIN_ORDER}",
            class_id,
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
        changed = {
            "following": following,
            "progress": None if progress is None else dump(progress),
            "last_active": last_active,
        }
        changed = {column: value for column, value in changed.items() if value is not None}
        if not changed:
            return
        sets = ", ".join(f"{column} = {self.P}" for column in changed)
        self._write_one(
            f"UPDATE class_seats SET {sets} WHERE class = {self.P} AND id = {self.P}",
            (*changed.values(), class_id, seat_id),
        )

    @staticmethod
    def _event(row: tuple) -> ClassEvent:
        seq, class_id, kind, data, at, target = row
        return ClassEvent(seq, class_id, kind, json.loads(data), at, target)

    def _insert_event(
        self,
        db: Any,
        class_id: str,
        kind: str,
        data: dict[str, Any],
        at: float,
        target: str | None,
    ) -> int:
        """Append to the class's log inside the caller's transaction (which holds whatever
        lock makes the next number safe); returns the new sequence number."""
        seq = db.execute(
            f"SELECT coalesce(max(seq), 0) + 1 FROM class_events WHERE class = {self.P}",
            (class_id,),
        ).fetchone()[0]
        db.execute(
            f"INSERT INTO class_events ({EVENT_COLUMNS}) VALUES ({marks(self.P, 6)})",
            (seq, class_id, kind, dump(data), at, target),
        )
        return seq

    def events_after(self, class_id: str, seq: int, limit: int = 500) -> list[ClassEvent]:
        rows = self._all(
            f"SELECT {EVENT_COLUMNS} FROM class_events WHERE class = {self.P} AND seq > {self.P} "
            f"ORDER BY seq LIMIT {self.P}",
            class_id,
            seq,
            limit,
        )
        return [self._event(r) for r in rows]

    def last_event(self, class_id: str, kind: str) -> ClassEvent | None:
        rows = self._all(
            f"SELECT {EVENT_COLUMNS} FROM class_events WHERE class = {self.P} AND kind = {self.P} "
            "AND target IS NULL ORDER BY seq DESC LIMIT 1",
            class_id,
            kind,
        )
        return self._event(rows[0]) if rows else None

    def last_seq(self, class_id: str) -> int:
        rows = self._all(
            f"SELECT coalesce(max(seq), 0) FROM class_events WHERE class = {self.P}", class_id
        )
        return rows[0][0]
