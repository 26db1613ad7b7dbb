"""What students do reaches the dashboard: after every saved change of a sandbox in a class,
a student's progress goes to their seat (and the dashboard hears of it), and the teacher's
lesson step goes to the class.

Each sandbox of a class knows its part from a note kept with it (``notes["class"]``: the class
id, the role, and for a student the seat), so one observer of the workspaces
(:meth:`ProgressObserver.observe`) sees every change, whatever page or API made it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from app.classroom.progress import advance, same_progress, summarize
from app.cluster.cluster import Cluster
from app.lessons import notes
from app.lessons.model import Lesson
from app.store import looks
from app.store.classes.base import ClassBackend, ClassRow, Seat
from app.store.classes.following import FollowState

#: Where a sandbox keeps its part in a class, in its notes.
NOTE = "class"
#: A student's "last active" is written at most this often (seconds) when nothing else moved.
ACTIVE_EVERY = 15


def class_note(cluster: Cluster) -> dict[str, Any] | None:
    """The sandbox's part in a class (``{"id", "role", "seat"?, "state"?}``), or None."""
    return cluster.state.notes.get(NOTE)


class ProgressObserver:
    """The progress half of :class:`~app.store.classes.service.Classes`: it needs the
    classes' ``backend`` and ``clock``, ``get(class_id)``, ``lesson_of(row)``,
    ``follow_state(class_id)`` and ``seat_in_look(class_id, seat_id)``."""

    backend: ClassBackend
    clock: Callable[[], float]

    def get(self, class_id: str) -> ClassRow:
        raise NotImplementedError

    def lesson_of(self, row: ClassRow) -> Lesson | None:
        raise NotImplementedError

    def follow_state(self, class_id: str) -> FollowState:
        raise NotImplementedError

    def seat_in_look(self, class_id: str, seat_id: str) -> Seat | None:
        raise NotImplementedError

    def _summary(self, row: ClassRow, cluster: Cluster) -> dict[str, Any]:
        lesson = self.lesson_of(row)
        record = notes.all_progress(cluster).get(lesson.slug) if lesson else None
        return summarize(record, lesson)

    def observe(self, workspace_id: str, cluster: Cluster) -> None:
        """After a saved change: a student's progress goes to their seat (and the dashboard
        hears of it); the teacher's lesson step goes to the class."""
        note = class_note(cluster)
        if not note:
            return
        row = self.get(note["id"])
        now = self.clock()
        if note.get("role") == "teacher":
            lesson = self.lesson_of(row)
            if lesson is None:
                return
            step = notes.progress(cluster, lesson.slug)["step"]
            last = self.follow_state(row.id).step
            if last is None or last.data.get("step") != step:
                title = lesson.steps[step].title if step < len(lesson.steps) else "Recap and quiz"
                self.backend.add_event(row.id, "step", {"step": step, "title": title}, now, None)
            return
        seat = self.seat_in_look(row.id, note.get("seat", ""))
        if seat is None:
            return
        progress = advance(seat.progress, self._summary(row, cluster), now, self.lesson_of(row))
        moved = not same_progress(seat.progress, progress)
        if moved or now - seat.last_active >= ACTIVE_EVERY:
            self.backend.update_seat(
                row.id, seat.id, progress=progress if moved else None, last_active=now
            )
            written = replace(seat, progress=progress, last_active=now)
            looks.keep(("seat", row.id, seat.id), written)
        if moved:
            self.backend.add_event(row.id, "progress", {"seat": seat.id}, now, None)
