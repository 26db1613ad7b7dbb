"""Running classes: starting one, joining it, following the teacher, hints, and keeping each
student's progress where the instructor's dashboard reads it.

A class is three kinds of sandbox: the instructor's (whose lesson step and traces the class
follows), the class's starting point (what each new student's copy is made from; "everyone,
start from here" replaces it), and one per student. Each sandbox knows its part from a note
kept with it (``notes["class"]``: the class id, the role, and for a student the seat), so
every change a student makes reaches the dashboard through one observer
(:meth:`~app.store.classes.observing.ProgressObserver.observe`), whatever page or API made it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from app.classroom import codes
from app.classroom.progress import advance
from app.cluster import scenarios
from app.cluster.cluster import Cluster
from app.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidObjects,
    NotFound,
)
from app.lessons import notes, session
from app.lessons.catalog import Catalog
from app.lessons.model import Lesson
from app.store import looks
from app.store.classes.base import ClassBackend, ClassRow, NameTaken, Seat
from app.store.classes.following import FollowState, FollowStates
from app.store.classes.observing import NOTE, ProgressObserver, class_note
from app.store.workspaces import Workspaces

#: The events the dashboard follows (a student's page follows FOLLOW_KINDS).
DASHBOARD_KINDS = frozenset({"progress", "joined", "hint", "following"})


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def copy_of(cluster: Cluster) -> Cluster:
    """A cluster sharing nothing with ``cluster`` (what a new sandbox starts from)."""
    return Cluster.from_state(json.loads(json.dumps(cluster.to_state())))


class Classes(ProgressObserver):
    """Create, join and follow classes.

    Parameters
    ----------
    backend : ClassBackend
        Where classes, seats and event logs are kept.
    workspaces : Workspaces
        The sandboxes; the classes observe their changes.
    lessons : Catalog
        What a class can teach.
    clock : callable
        The time in seconds since the epoch (tests give a fake one).
    """

    def __init__(
        self,
        backend: ClassBackend,
        workspaces: Workspaces,
        lessons: Catalog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.workspaces = workspaces
        self.lessons = lessons
        self.clock = clock
        self._rows: dict[str, ClassRow] = {}  # what never changes of a class, by id
        self._follow = FollowStates(backend)
        workspaces.observers.append(self.observe)

    # --- starting and finding a class ---------------------------------------------------------
    def start(self, lesson: str | None = None, scenario: str | None = None) -> tuple[ClassRow, str]:
        """Start a class on a lesson (from its first step) or a ready scenario.

        Returns
        -------
        tuple[ClassRow, str]
            The class, and its instructor key (kept nowhere else: only its hash is stored).

        Raises
        ------
        NotFound
            When there is no such lesson or scenario.
        """
        if lesson is not None:
            found = self.lessons.get(lesson)
            if found is None:
                raise NotFound(f'lessons "{lesson[:80]}" not found')
            cluster = Cluster.create(seed=found.seed, now=self.workspaces.clock())
            session.start(cluster, found)
            title = found.title
        else:
            name = scenario or scenarios.DEFAULT
            now = self.workspaces.clock()
            cluster = (
                Cluster.create(now=now)
                if name == scenarios.DEFAULT
                else scenarios.build(name, now=now)
            )
            title = (
                "The default cluster" if name == scenarios.DEFAULT else scenarios.get(name).title
            )
        class_id = secrets.token_urlsafe(18)
        start_id, _ = self.workspaces.create_from(copy_of(cluster))
        cluster.state.notes[NOTE] = {"id": class_id, "role": "teacher"}
        teacher_id, _ = self.workspaces.create_from(cluster)
        key = secrets.token_urlsafe(24)
        for _try in range(20):
            code = codes.new_code(secrets.randbelow)
            if self.backend.class_by_code(code) is None:
                break
        row = ClassRow(
            class_id, code, _hash(key), title, lesson, teacher_id, start_id, self.clock()
        )
        self.backend.add_class(row)
        return row, key

    def get(self, class_id: str) -> ClassRow:
        """The class with this id.

        Raises
        ------
        NotFound
            When there is none.
        """
        row = self._rows.get(class_id)
        if row is None:
            row = self.backend.get_class(class_id[:64])
            if row is None:
                raise NotFound(f'classes "{class_id[:64]}" not found')
            self._rows[class_id] = row
        return row

    def authorize(self, class_id: str, key: str | None) -> ClassRow:
        """The class, when ``key`` is its instructor key.

        Raises
        ------
        NotFound
            When there is no such class.
        Forbidden
            When the key is missing or wrong.
        """
        row = self.get(class_id)
        if not key or not hmac.compare_digest(_hash(key), row.key_hash):
            raise Forbidden(
                f'classes "{class_id[:64]}": this page is for the class\'s instructor; '
                "open it from the instructor's link"
            )
        return row

    def by_code(self, typed: str) -> ClassRow:
        """The class a student's typed join code names.

        Raises
        ------
        NotFound
            When no class has that code.
        """
        code = codes.normalise(typed)
        row = self.backend.class_by_code(code) if code else None
        if row is None:
            shown = typed.strip()[:20] or "(empty)"
            raise NotFound(
                f"no class has the join code {shown}: check the code on the projector "
                "(six letters and digits)"
            )
        return row

    def lesson_of(self, row: ClassRow) -> Lesson | None:
        return self.lessons.get(row.lesson) if row.lesson else None

    # --- students -----------------------------------------------------------------------------
    def join(self, row: ClassRow, typed_name: str) -> Seat:
        """Give a student a seat and their own copy of the class's starting point.

        Raises
        ------
        InvalidObjects
            When the name is empty, too long or holds control characters.
        Conflict
            When another student of the class has that name.
        """
        name = codes.display_name(typed_name)
        taken = f"name: “{name}” is already taken in this class; add an initial or a number"
        if any(s.name.casefold() == name.casefold() for s in self.backend.seats(row.id)):
            raise Conflict(taken)
        seat_id = secrets.token_urlsafe(9)
        text = self.workspaces.read(row.start_workspace, lambda c: json.dumps(c.to_state()))
        cluster = Cluster.from_state(json.loads(text))
        cluster.state.notes[NOTE] = {
            "id": row.id, "role": "student", "seat": seat_id, "state": row.start_workspace,
        }  # fmt: skip
        workspace_id, _ = self.workspaces.create_from(cluster)
        now = self.clock()
        progress = advance({}, self._summary(row, cluster), now, self.lesson_of(row))
        seat = Seat(seat_id, row.id, name, workspace_id, now, True, progress, now)
        try:
            self.backend.add_seat(seat)
        except NameTaken:
            raise Conflict(taken) from None
        self.backend.add_event(row.id, "joined", {"seat": seat_id}, now, None)
        return seat

    def seat(self, row: ClassRow, seat_id: str) -> Seat:
        seat = self.backend.seat(row.id, seat_id[:32])
        if seat is None:
            raise NotFound(f'students "{seat_id[:32]}" not found in this class')
        return seat

    def seat_named(self, row: ClassRow, name: str) -> Seat:
        """The student with this display name (ignoring case and extra spaces).

        Raises
        ------
        InvalidObjects
            When no student of the class has it.
        """
        wanted = " ".join(name.split()).casefold()
        for seat in self.backend.seats(row.id):
            if seat.name.casefold() == wanted:
                return seat
        message = f"Not found: no student named “{name.strip()[:40]}” in this class"
        raise InvalidObjects(f"to: {message}", [FieldError("to", message, "FieldValueNotFound")])

    def seats(self, row: ClassRow) -> list[Seat]:
        return self.backend.seats(row.id)

    def seat_in_look(self, class_id: str, seat_id: str) -> Seat | None:
        """The student's seat, or None; read once per request
        (:func:`app.store.looks.one_look`): a trace draws the class bar and records progress,
        a Check records progress and draws its panel, and both read the seat once. What this
        process writes to it within the request is what a second read gives."""
        key = ("seat", class_id, seat_id)
        seat = looks.kept(key)
        if seat is None:
            seat = self.backend.seat(class_id, seat_id)
            if seat is not None:
                looks.keep(key, seat)
        return seat

    def set_following(self, row: ClassRow, seat: Seat, following: bool) -> None:
        self.backend.update_seat(row.id, seat.id, following=following)
        looks.keep(("seat", row.id, seat.id), replace(seat, following=following))
        self.backend.add_event(
            row.id, "following", {"seat": seat.id, "on": following}, self.clock(), None
        )

    def hint(self, row: ClassRow, text: str, seat_id: str | None) -> int:
        """Send a hint to one student (``seat_id``) or to all (None); returns its event seq.

        Raises
        ------
        InvalidObjects
            When the hint is empty or longer than 500 characters.
        NotFound
            When the student is not in the class.
        """
        message = codes.hint_text(text)
        if seat_id:
            self.seat(row, seat_id)
        return self.backend.add_event(
            row.id, "hint", {"text": message, "seat": seat_id}, self.clock(), seat_id or None
        )

    # --- following the teacher ----------------------------------------------------------------
    def follow_state(self, class_id: str) -> FollowState:
        return self.followed(class_id)[1]

    def followed(self, class_id: str, *, may_skip_read: bool = False) -> tuple[int, FollowState]:
        """The sequence number of the class's newest event, and where the teacher is (kept
        per process, see :class:`~app.store.classes.following.FollowStates`)."""
        return self._follow.followed(class_id, may_skip_read=may_skip_read)

    def traced(
        self,
        note: dict[str, Any] | None,
        source: str,
        target: str,
        seed: int,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        ip_family: str | None = None,
    ) -> int | None:
        """Tell the class the teacher sent a trace (from the teacher's sandbox only), with the
        request's method and headers when they are not a plain GET (an HTTPRoute may match
        on them), and the IP family when the teacher chose one (``IPv4`` / ``IPv6``, the trace
        bar's select or ``curl -4`` / ``-6``: on a dual-stack cluster a name resolves to
        either); returns the event's seq (the teacher's page sends it back with the hop it
        shows)."""
        if not note or note.get("role") != "teacher":
            return None
        data: dict[str, Any] = {"from": source, "to": target, "seed": seed}
        if method and method != "GET":
            data["method"] = method
        if headers:
            data["headers"] = dict(headers)
        if ip_family:
            data["ipFamily"] = ip_family
        return self.backend.add_event(note["id"], "trace", data, self.clock(), None)

    def hop(self, row: ClassRow, trace_seq: int, hop: int) -> None:
        """Tell the class which hop of the teacher's trace is shown."""
        self.backend.add_event(
            row.id, "hop", {"trace": trace_seq, "hop": max(0, min(hop, 999))}, self.clock(), None
        )

    def push_state(self, row: ClassRow) -> str:
        """Everyone, start from here: the teacher's cluster becomes the class's starting point
        (for students following now, and for those who join later). Returns its sandbox."""
        text = self.workspaces.read(row.teacher_workspace, lambda c: json.dumps(c.to_state()))
        cluster = Cluster.from_state(json.loads(text))
        cluster.state.notes.pop(NOTE, None)
        start_id, _ = self.workspaces.create_from(cluster)
        self.backend.set_start(row.id, start_id)
        self._rows.pop(row.id, None)
        self.backend.add_event(row.id, "state", {"workspace": start_id}, self.clock(), None)
        return start_id

    def catch_up(self, workspace_id: str, follow: FollowState) -> dict[str, Any]:
        """Bring a student's sandbox to where the teacher is: the class's newest starting point
        (when the teacher pushed one since), then the teacher's lesson step.

        Returns
        -------
        dict
            ``done`` (what skipped steps' solutions did, as lines), ``state`` (whether the
            starting point was taken), ``moved`` (whether the lesson step changed) and
            ``rebuilt`` (whether any object changed, so the map is not what the page shows).
        """
        snapshot = None
        if follow.state is not None:
            wanted = follow.state.data["workspace"]
            note = self.workspaces.read(workspace_id, class_note) or {}
            if note.get("state") != wanted and self.workspaces.exists(wanted):
                snapshot = self.workspaces.read(wanted, lambda c: json.dumps(c.to_state()))

        def change(cluster: Cluster) -> dict[str, Any]:
            note = class_note(cluster)
            if note is None or note.get("role") != "student":
                raise Forbidden("only a student's sandbox follows the teacher")
            row = self.get(note["id"])
            before = cluster.state.resource_version
            took = moved = False
            if snapshot is not None:
                cluster.replace_with(Cluster.from_state(json.loads(snapshot)))
                note["state"] = follow.state.data["workspace"]  # type: ignore[union-attr]
                took = True
            lesson = self.lesson_of(row)
            lines: list[str] = []
            if lesson is not None and follow.step is not None:
                session.open_lesson(cluster, lesson)
                step = int(follow.step.data["step"])
                record = notes.progress(cluster, lesson.slug)
                if took:
                    # The teacher's objects came with the starting point: the steps before
                    # the teacher's are built already, not skipped ones to do now.
                    record["step"] = step
                if record["step"] != step or took:
                    moved = True
                    lines = session.go_to(cluster, lesson, step).lines
            rebuilt = took or cluster.state.resource_version != before
            return {"done": lines, "state": took, "moved": moved, "rebuilt": rebuilt}

        return self.workspaces.change(workspace_id, change)
