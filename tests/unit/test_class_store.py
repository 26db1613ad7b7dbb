"""Every class backend keeps the same contract (memory, SQLite, PostgreSQL): classes found by
id and by join code, seats in the order students joined, a display name taken once per class
whatever its case, seats updated field by field, and an event log whose sequence numbers grow
by one with no gap, even when writers in two processes append at once; appending wakes the
``on_event`` callbacks (with PostgreSQL, those of another process too, through
``LISTEN``/``NOTIFY``, and again after the listening connection was cut)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from app.store.classes.base import ClassBackend, ClassRow, NameTaken, Seat
from app.store.classes.following import FollowStates
from app.store.classes.memory import MemoryClassBackend
from app.store.classes.postgres import PostgresClassBackend
from app.store.classes.sqlite import SqliteClassBackend

KINDS = ["memory", "sqlite", "postgres"]
WAIT = 10.0  # seconds a callback may take to arrive


def a_class(class_id: str = "c1", code: str = "ABC123") -> ClassRow:
    return ClassRow(class_id, code, "hash", "Services", "services", "teacher-ws", "start-ws", 1.0)


def a_seat(seat_id: str, name: str, class_id: str = "c1") -> Seat:
    return Seat(seat_id, class_id, name, f"ws-{seat_id}", joined=10.0)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def open_classes(kind: str, open_backend: Callable[..., Any]) -> Callable[[], ClassBackend]:
    """A new class backend on the test's store each call: for SQLite and PostgreSQL another
    connection to the same database, as another server process would have (memory has one
    process only, so each call gives the same backend)."""
    memory = MemoryClassBackend()

    def open_classes() -> ClassBackend:
        if kind == "memory":
            return memory
        if kind == "sqlite":
            return SqliteClassBackend(open_backend("sqlite"))
        return PostgresClassBackend(open_backend("postgres"))

    return open_classes


@pytest.fixture
def classes(open_classes: Callable[[], ClassBackend]) -> ClassBackend:
    backend = open_classes()
    backend.add_class(a_class())
    return backend


def test_a_class_is_found_by_id_and_by_code(classes: ClassBackend) -> None:
    assert classes.get_class("c1") == a_class()
    assert classes.class_by_code("ABC123") == a_class()
    assert classes.get_class("nope") is None and classes.class_by_code("ZZZ999") is None
    classes.set_start("c1", "lesson-2-ws")
    assert classes.get_class("c1").start_workspace == "lesson-2-ws"  # type: ignore[union-attr]


def test_seats_come_in_the_order_students_joined(classes: ClassBackend) -> None:
    for seat_id, name in (("s9", "Zoe"), ("s1", "Bob"), ("s5", "ada")):
        classes.add_seat(a_seat(seat_id, name))
    assert [s.name for s in classes.seats("c1")] == ["Zoe", "Bob", "ada"]
    assert classes.seat("c1", "s1") == a_seat("s1", "Bob")
    assert classes.seat("c1", "s2") is None and classes.seats("other") == []


def test_a_name_is_taken_once_per_class_whatever_its_case(classes: ClassBackend) -> None:
    classes.add_class(a_class("c2", "XYZ789"))
    classes.add_seat(a_seat("s1", "Ada"))
    with pytest.raises(NameTaken):
        classes.add_seat(a_seat("s2", "ADA"))
    classes.add_seat(a_seat("s3", "ada", class_id="c2"))  # another class may have an Ada
    assert [s.id for s in classes.seats("c1")] == ["s1"]


def test_update_seat_changes_only_what_it_is_given(classes: ClassBackend) -> None:
    classes.add_seat(a_seat("s1", "Ada"))
    classes.update_seat("c1", "s1", following=False)
    classes.update_seat("c1", "s1", progress={"done": ["t1"], "step": 2})
    classes.update_seat("c1", "s1", last_active=42.5)
    classes.update_seat("c1", "s1")
    classes.update_seat("c1", "nobody", following=False)  # no such seat: nothing happens
    seat = classes.seat("c1", "s1")
    assert seat is not None
    assert (seat.following, seat.progress, seat.last_active) == (
        False,
        {"done": ["t1"], "step": 2},
        42.5,
    )
    assert (seat.name, seat.workspace, seat.joined) == ("Ada", "ws-s1", 10.0)


def test_the_log_gives_events_in_order_from_a_sequence_number(classes: ClassBackend) -> None:
    assert classes.last_seq("c1") == 0 and classes.events_after("c1", 0) == []
    seqs = [classes.add_event("c1", "step", {"n": n}, 100.0 + n, None) for n in range(1, 8)]
    assert seqs == list(range(1, 8)) and classes.last_seq("c1") == 7
    after = classes.events_after("c1", 3)
    assert [(e.seq, e.data) for e in after] == [(n, {"n": n}) for n in range(4, 8)]
    assert [e.seq for e in classes.events_after("c1", 0, limit=2)] == [1, 2]
    assert after[0].class_id == "c1" and after[0].kind == "step" and after[0].at == 104.0


def test_last_event_is_the_newest_for_everyone(classes: ClassBackend) -> None:
    classes.add_event("c1", "step", {"n": 1}, 1.0, None)
    classes.add_event("c1", "hint", {"text": "look at the Service"}, 2.0, None)
    classes.add_event("c1", "step", {"n": 2}, 3.0, None)
    classes.add_event("c1", "step", {"n": 3}, 4.0, "s1")  # for one student only
    last = classes.last_event("c1", "step")
    assert last is not None and (last.seq, last.data, last.target) == (3, {"n": 2}, None)
    assert classes.last_event("c1", "trace") is None
    assert classes.events_after("c1", 3)[0].target == "s1"


def test_appending_wakes_the_callbacks_of_every_process(
    kind: str, classes: ClassBackend, open_classes: Callable[[], ClassBackend]
) -> None:
    other = open_classes()  # PostgreSQL: another connection, as another process would have
    heard: list[str] = []
    woke = threading.Event()

    def callback(class_id: str) -> None:
        heard.append(class_id)
        woke.set()

    listener = other if kind == "postgres" else classes  # SQLite cannot tell other processes
    listener.on_event(callback)
    classes.add_event("c1", "step", {"n": 1}, 1.0, None)
    assert woke.wait(WAIT), "no callback"
    assert heard[0] == "c1"


def test_concurrent_appends_from_two_processes_get_gap_free_numbers(
    classes: ClassBackend, open_classes: Callable[[], ClassBackend]
) -> None:
    writers = [classes, open_classes()]
    start = threading.Barrier(4)

    def append(n: int) -> list[int]:
        start.wait()
        return [
            writers[n % 2].add_event("c1", "hop", {"w": n, "i": i}, 1.0, None) for i in range(15)
        ]

    with ThreadPoolExecutor(4) as pool:
        given = [seq for seqs in pool.map(append, range(4)) for seq in seqs]
    assert sorted(given) == list(range(1, 61))
    assert [e.seq for e in writers[1].events_after("c1", 0)] == list(range(1, 61))
    assert writers[0].last_seq("c1") == 60


# --- PostgreSQL only: the listening thread ---------------------------------------------------
@pytest.mark.parametrize("kind", ["postgres"])
def test_the_listener_comes_back_after_its_connection_is_cut_and_catches_up(
    kind: str, classes: ClassBackend, open_classes: Callable[[], ClassBackend]
) -> None:
    assert isinstance(classes, PostgresClassBackend)
    heard: list[str] = []
    woke = threading.Event()

    def broken(class_id: str) -> None:
        raise RuntimeError("a callback that fails does not stop the others")

    def callback(class_id: str) -> None:
        heard.append(class_id)
        woke.set()

    other = open_classes()
    other.on_event(broken)
    other.on_event(callback)
    classes.add_event("c1", "step", {"n": 1}, time.time(), None)
    assert woke.wait(WAIT)
    woke.clear()
    with psycopg.connect(classes.store.url, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'podpath-classes' AND datname = current_database()"
        ).fetchone()
        assert cut == (1,)
        # Appended while the listener is away: its NOTIFY reaches no one.
        classes.add_event("c1", "step", {"n": 2}, time.time(), None)
    assert woke.wait(WAIT), "the listener did not come back and catch up"
    woke.clear()
    classes.add_event("c1", "step", {"n": 3}, time.time(), None)
    assert woke.wait(WAIT), "no callback after the reconnection"
    assert set(heard) == {"c1"}


# --- where the teacher is, as a process keeps it ---------------------------------------------
class CountingReads:
    """A class backend that counts the reads of its log (everything else passes through)."""

    def __init__(self, backend: ClassBackend) -> None:
        self.backend = backend
        self.reads = 0

    def events_after(self, *args: Any) -> Any:
        self.reads += 1
        return self.backend.events_after(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def test_a_page_asking_where_the_teacher_is_reads_the_log_only_when_an_append_was_heard(
    kind: str, classes: ClassBackend, open_classes: Callable[[], ClassBackend]
) -> None:
    counted = CountingReads(classes)
    follow = FollowStates(counted)  # type: ignore[arg-type]
    elsewhere = open_classes()  # another process (memory: the same one)
    elsewhere.add_event("c1", "step", {"step": 1}, 1.0, None)
    assert follow.followed("c1", may_skip_read=True)[1].step.data == {"step": 1}

    def reads_of_one_look() -> int:
        before = counted.reads
        follow.followed("c1", may_skip_read=True)
        return counted.reads - before

    if kind == "sqlite":  # it hears only its own process's appends: it reads every time
        assert reads_of_one_look() == 1
    else:  # once the append was heard of (its notice may come after the first read)...
        deadline = time.monotonic() + WAIT
        while reads_of_one_look():
            assert time.monotonic() < deadline, "it never stopped reading"
            time.sleep(0.02)
        assert reads_of_one_look() == 0  # ...with nothing new heard of, no read

    elsewhere.add_event("c1", "step", {"step": 2}, 2.0, None)
    deadline = time.monotonic() + WAIT
    while follow.followed("c1", may_skip_read=True)[1].step.data != {"step": 2}:
        assert time.monotonic() < deadline, "the append elsewhere was never heard of"
        time.sleep(0.02)
    # A catch-up (no skipping) always reads.
    reads = counted.reads
    assert follow.followed("c1")[1].step.data == {"step": 2}
    assert counted.reads == reads + 1
