"""The records a class store keeps, and what every class backend offers.

A class is kept as three kinds of record: the class itself (its join code, the hash of its
instructor key, what it teaches, and the instructor's sandbox), one seat per student (the
display name, the student's sandbox, whether they follow the teacher, and a summary of their
progress), and an append-only log of class events (a step the teacher moved to, a trace they
sent, a hint). Every server process reads the same log, so a student connected to one process
sees what an instructor did through another: the log is the truth, a notification only says
"look again".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ClassRow:
    """One class.

    Parameters
    ----------
    id : str
        Random and unguessable; in the instructor's links.
    code : str
        The short join code students type (unique among the classes kept).
    key_hash : str
        SHA-256 of the instructor key (the key itself is only in the instructor's link).
    title : str
        What it teaches, for the pages ("Services", "The shop scenario").
    lesson : str | None
        The lesson's slug, or None for a class on a scenario.
    teacher_workspace : str
        The instructor's sandbox, whose steps and traces the students follow.
    start_workspace : str
        The sandbox each new student's copy is made from (the class's current starting point).
    created : float
        Seconds since the epoch.
    """

    id: str
    code: str
    key_hash: str
    title: str
    lesson: str | None
    teacher_workspace: str
    start_workspace: str
    created: float


@dataclass(frozen=True)
class Seat:
    """One student in a class.

    ``progress`` is the summary the dashboard shows (see :mod:`app.classroom.progress`);
    ``last_active`` is when the student last changed their sandbox.
    """

    id: str
    class_id: str
    name: str
    workspace: str
    joined: float
    following: bool = True
    progress: dict[str, Any] = field(default_factory=dict)
    last_active: float = 0.0


@dataclass(frozen=True)
class ClassEvent:
    """One entry of a class's event log.

    ``kind`` is what happened ("step", "trace", "hop", "state", "hint", "progress", "joined");
    ``target`` the seat it is for, or None for everyone.
    """

    seq: int
    class_id: str
    kind: str
    data: dict[str, Any]
    at: float
    target: str | None = None


class NameTaken(Exception):
    """Another student of the class already has this display name."""


class ClassBackend(Protocol):
    """Where classes, their seats and their event logs are kept."""

    def add_class(self, row: ClassRow) -> None: ...

    def get_class(self, class_id: str) -> ClassRow | None: ...

    def class_by_code(self, code: str) -> ClassRow | None: ...

    def set_start(self, class_id: str, workspace_id: str) -> None:
        """Make ``workspace_id`` the sandbox new students' copies are made from."""
        ...

    def add_seat(self, seat: Seat) -> None:
        """Raises :class:`NameTaken` when the name (ignoring case) is taken in the class."""
        ...

    def seat(self, class_id: str, seat_id: str) -> Seat | None: ...

    def seats(self, class_id: str) -> list[Seat]:
        """The class's students, in the order they joined."""
        ...

    def update_seat(
        self,
        class_id: str,
        seat_id: str,
        *,
        following: bool | None = None,
        progress: dict[str, Any] | None = None,
        last_active: float | None = None,
    ) -> None: ...

    def add_event(
        self, class_id: str, kind: str, data: dict[str, Any], at: float, target: str | None
    ) -> int:
        """Append to the class's log; returns the event's sequence number (increasing)."""
        ...

    def events_after(self, class_id: str, seq: int, limit: int = 500) -> list[ClassEvent]:
        """The class's events with a sequence number above ``seq``, oldest first."""
        ...

    def last_event(self, class_id: str, kind: str) -> ClassEvent | None:
        """The newest event of ``kind`` for everyone in the class."""
        ...

    def last_seq(self, class_id: str) -> int:
        """The sequence number of the class's newest event (0 when it has none)."""
        ...

    def on_event(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(class_id)`` whenever any process appends to a class's log (as soon
        as it is known here; a backend that cannot tell relies on the readers polling)."""
        ...

    def hearing(self) -> int | None:
        """While ``on_event`` hears every append by any process: a number that changes each
        time it starts to again (after a lost connection). None when appends may go unheard
        (other processes' appends on SQLite; a PostgreSQL listener reconnecting), and readers
        must read the log to know."""
        ...
