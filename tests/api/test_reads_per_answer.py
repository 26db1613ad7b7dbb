"""What one answer asks of the store. A student's trace draws the class bar from their seat and
then records the trace as progress in it; a Check does the same the other way round: each
reads the seat once. Only an answer that draws the sandbox's head (where the share link is)
asks for the share link: a tab, a trace or a catch-up does not.

In a lecture hall these are most of the requests (bench/classroom.py), and on PostgreSQL each
read is a round trip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.store.classes.observing import ACTIVE_EVERY
from tests.api.conftest import Api, new_workspace
from tests.api.test_classroom import Class

HX = {"HX-Request": "true"}
TRACE = {"from": "pod/default/client", "to": "http://web/"}


def counted(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> list[tuple]:
    """Each call of ``target.name`` from now on, with its arguments (the call still runs)."""
    calls: list[tuple] = []
    original: Callable[..., Any] = getattr(target, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, counting)
    return calls


def test_a_students_trace_reads_their_seat_once_and_records_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = Class(api, lesson="services")
    workspace = room.join("Ada")
    assert api.get(f"/w/{workspace}/lessons/services").status_code == 200
    backend = api.app.state.classes.backend
    seat_id = backend.seats(room.id)[0].id
    later = backend.seat(room.id, seat_id).last_active + ACTIVE_EVERY + 1
    monkeypatch.setattr(api.app.state.classes, "clock", lambda: later)

    reads = counted(monkeypatch, backend, "seat")
    answer = api.post(f"/w/{workspace}/trace", data=TRACE, headers=HX)

    assert answer.status_code == 200, answer.text
    assert '"verdict": "nxdomain"' in answer.text  # the lesson starts with no web Service
    assert len(reads) == 1  # drawn in the class bar, then advanced: one read
    monkeypatch.undo()
    seat = backend.seat(room.id, seat_id)
    assert seat.last_active == later  # the trace reached the seat all the same


def test_a_students_check_reads_their_seat_once_and_the_board_sees_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = Class(api, lesson="services")
    workspace = room.join("Ada")
    assert api.get(f"/w/{workspace}/lessons/services").status_code == 200
    backend = api.app.state.classes.backend

    reads = counted(monkeypatch, backend, "seat")
    answer = api.post(f"/w/{workspace}/lessons/services/check", headers=HX)

    assert answer.status_code == 200, answer.text
    assert len(reads) == 1  # advanced by the Check, then drawn in its panel's class bar
    monkeypatch.undo()
    seat = backend.seats(room.id)[0]
    assert seat.progress.get("last_failure") or seat.progress.get("checks")
    assert "Ada" in room.board()


def test_only_an_answer_that_draws_the_head_asks_for_the_share_link(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = new_workspace(api, scenario="web-service")
    made = api.post(f"/w/{workspace}/share", headers=HX)
    assert made.status_code == 200, made.text
    backend = api.app.state.workspaces.backend
    asked = counted(monkeypatch, backend, "active_share")

    for tab in ("rules", "objects", "trace"):
        assert api.get(f"/w/{workspace}?tab={tab}", headers=HX).status_code == 200
    assert api.post(f"/w/{workspace}/trace", data=TRACE, headers=HX).status_code == 200
    assert asked == []

    page = api.get(f"/w/{workspace}")
    assert len(asked) == 1
    token = api.app.state.workspaces.current_share(workspace).token
    assert f"/s/{token}" in page.text  # the whole page still shows the link
