"""The live classroom in the browser: an instructor starts a class and watches a dashboard;
students join with a code and follow the teacher's steps and traces on their own sandboxes.

Instructor pages are under ``/classes/<id>`` and need the class's instructor key: the link the
instructor is given carries it once (``?key=``), and a cookie scoped to the class's path keeps
it after. Students need no key: their sandbox's own unguessable id is their way in, as for
every sandbox, and no page a student can reach names another student's sandbox.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.classroom.codes import shown
from app.store.classes import Classes


def classes(request: Request) -> Classes:
    return request.app.state.classes


def class_bar(request: Request, note: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the sandbox page's class bar shows, for a sandbox that is part of a class."""
    if not note:
        return None
    store = classes(request)
    row = store.get(note["id"])
    # The bar only shows where the teacher is; the page's event stream brings what follows.
    after, follow = store.followed(row.id, may_skip_read=True)
    view: dict[str, Any] = {
        "role": note.get("role"),
        "id": row.id,
        "code": shown(row.code),
        "title": row.title,
        "lesson": row.lesson,
        "after": after,
    }
    if note.get("role") == "student":
        seat = store.seat_in_look(row.id, note.get("seat", ""))
        if seat is None:
            return None
        view.update(name=seat.name, following=seat.following)
        step = follow.step.data.get("step") if follow.step else None
        view["behind"] = seat.following and (
            (step is not None and step != seat.progress.get("step"))
            or (follow.state is not None and follow.state.data["workspace"] != note.get("state"))
            or follow.trace is not None
        )
    else:
        view["students"] = len(store.seats(row))
    return view
