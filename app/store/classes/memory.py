"""Classes kept in the server's memory (``--store memory``, and tests)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from app.store.classes.base import ClassEvent, ClassRow, NameTaken, Seat


class MemoryClassBackend:
    """Classes, seats and event logs in dicts; gone when the process ends."""

    def __init__(self) -> None:
        self._classes: dict[str, ClassRow] = {}
        self._seats: dict[str, dict[str, Seat]] = {}
        self._events: dict[str, list[ClassEvent]] = {}
        self._callbacks: list[Callable[[str], None]] = []
        self._lock = threading.Lock()

    def add_class(self, row: ClassRow) -> None:
        with self._lock:
            self._classes[row.id] = row
            self._seats[row.id] = {}
            self._events[row.id] = []

    def get_class(self, class_id: str) -> ClassRow | None:
        return self._classes.get(class_id)

    def class_by_code(self, code: str) -> ClassRow | None:
        with self._lock:
            return next((c for c in self._classes.values() if c.code == code), None)

    def set_start(self, class_id: str, workspace_id: str) -> None:
        with self._lock:
            row = self._classes[class_id]
            self._classes[class_id] = replace(row, start_workspace=workspace_id)

    def add_seat(self, seat: Seat) -> None:
        with self._lock:
            seats = self._seats[seat.class_id]
            if any(s.name.casefold() == seat.name.casefold() for s in seats.values()):
                raise NameTaken(seat.name)
            seats[seat.id] = seat

    def seat(self, class_id: str, seat_id: str) -> Seat | None:
        return self._seats.get(class_id, {}).get(seat_id)

    def seats(self, class_id: str) -> list[Seat]:
        with self._lock:
            return list(self._seats.get(class_id, {}).values())

    def update_seat(
        self,
        class_id: str,
        seat_id: str,
        *,
        following: bool | None = None,
        progress: dict[str, Any] | None = None,
        last_active: float | None = None,
    ) -> None:
        with self._lock:
            seats = self._seats.get(class_id, {})
            seat = seats.get(seat_id)
            if seat is None:
                return
            if following is not None:
                seat = replace(seat, following=following)
            if progress is not None:
                seat = replace(seat, progress=copy.deepcopy(progress))
            if last_active is not None:
                seat = replace(seat, last_active=last_active)
            seats[seat_id] = seat

    def add_event(
        self, class_id: str, kind: str, data: dict[str, Any], at: float, target: str | None
    ) -> int:
        with self._lock:
            log = self._events[class_id]
            seq = log[-1].seq + 1 if log else 1
            log.append(ClassEvent(seq, class_id, kind, copy.deepcopy(data), at, target))
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback(class_id)
        return seq

    def events_after(self, class_id: str, seq: int, limit: int = 500) -> list[ClassEvent]:
        with self._lock:
            return [e for e in self._events.get(class_id, []) if e.seq > seq][:limit]

    def last_event(self, class_id: str, kind: str) -> ClassEvent | None:
        with self._lock:
            for event in reversed(self._events.get(class_id, [])):
                if event.kind == kind and event.target is None:
                    return event
        return None

    def last_seq(self, class_id: str) -> int:
        with self._lock:
            log = self._events.get(class_id, [])
            return log[-1].seq if log else 0

    def on_event(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def hearing(self) -> int | None:
        return 0  # one process, and every append calls the callbacks before it returns
