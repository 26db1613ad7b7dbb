"""Classes in the workspaces' PostgreSQL database, on the same pool and with the same named
failures as :class:`app.store.postgres.PostgresBackend`.

An append to a class's log sends ``NOTIFY podpath_class, '<class id>'`` in its transaction,
so every process hears of it once it is committed: :meth:`PostgresClassBackend.on_event`
starts a thread that LISTENs on its own connection and calls the callbacks (reconnecting,
with a growing pause, when the connection drops; after a reconnection it calls them for the
classes whose logs grew meanwhile, since the log is the truth and a notification only says
"look again"). Sequence numbers are given under a per-class advisory lock, so they grow by one
with no gap even when processes append at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from app.errors import Conflict
from app.store.base import dump
from app.store.classes.sql import SqlClassBackend
from app.store.postgres import PostgresBackend

log = logging.getLogger("podpath")

CHANNEL = "podpath_class"
#: An append to a class's log: numbered one more than the last event, announced at the commit.
APPEND_EVENT = (
    "WITH added AS (INSERT INTO class_events (seq, class, kind, data, at, target)"
    " SELECT coalesce(max(seq), 0) + 1, %s, %s, %s, %s, %s FROM class_events WHERE class = %s"
    " RETURNING seq, class) SELECT seq, pg_notify(%s, class) FROM added"
)
APPEND_TRIES = 50  # each failed try means another append committed meanwhile

TABLES = [
    """CREATE TABLE IF NOT EXISTS classes (
        id text PRIMARY KEY,
        code text NOT NULL UNIQUE,
        key_hash text NOT NULL,
        title text NOT NULL,
        lesson text,
        teacher_workspace text NOT NULL,
        start_workspace text NOT NULL,
        created double precision NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS class_seats (
        joined_order bigint GENERATED ALWAYS AS IDENTITY,
        id text NOT NULL,
        class text NOT NULL,
        name text NOT NULL,
        folded text NOT NULL,
        workspace text NOT NULL,
        joined double precision NOT NULL,
        following boolean NOT NULL,
        progress text NOT NULL,
        last_active double precision NOT NULL,
        PRIMARY KEY (class, id),
        UNIQUE (class, folded)
    )""",
    """CREATE TABLE IF NOT EXISTS class_events (
        class text NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        data text NOT NULL,
        at double precision NOT NULL,
        target text,
        PRIMARY KEY (class, seq)
    )""",
]


class PostgresClassBackend(SqlClassBackend):
    """Classes in the database of ``store``; their tables are made when it is opened.

    Raises
    ------
    StoreStartupError
        When the tables cannot be made (see :meth:`app.store.postgres_pool.PostgresDatabase.prepare`).
    """

    P = "%s"
    JOIN_ORDER = "joined_order"
    NAME_TAKEN = pg_errors.UniqueViolation

    def __init__(self, store: PostgresBackend) -> None:
        super().__init__()
        self.store = store
        store.prepare(TABLES)
        self._listener: Listener | None = None
        self._guard = threading.Lock()
        store.on_close.append(self.close)

    def _all(self, query: str, *params: object) -> list[tuple]:
        return self.store.rows(query, *params)

    def _write(self) -> AbstractContextManager[Any]:
        return self.store.transaction(writing=True)

    def _write_one(self, query: str, params: tuple) -> None:
        self.store.write(query, *params)

    def add_event(
        self, class_id: str, kind: str, data: dict[str, Any], at: float, target: str | None
    ) -> int:
        """Append to the class's log and tell every process (``NOTIFY``, sent at the commit);
        returns the event's sequence number, one more than the last.

        One statement, one round trip. Two appends at once may both take the same number: the
        second waits on the first's row in the primary key until it commits, fails, and takes
        the next number. So no number becomes visible before the one below it.
        """
        for _attempt in range(APPEND_TRIES):
            try:
                return self.store.write(
                    APPEND_EVENT, class_id, kind, dump(data), at, target, class_id, CHANNEL
                )[0][0]
            except pg_errors.UniqueViolation:
                continue
        raise Conflict(f'classes "{class_id}": too many changes at once; try again')

    def on_event(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(class_id)`` for every append to a class's log, by any process.
        The first call starts the listening thread and waits (a few seconds at most) until it
        listens, so no append made after it returns goes unheard."""
        with self._guard:
            self._callbacks.append(callback)
            if self._listener is None:
                self._listener = Listener(self.store, self._deliver, self._grown_since)
                self._listener.start()

    def hearing(self) -> int | None:
        listener = self._listener
        return listener.epoch if listener is not None and listener.listening.is_set() else None

    def _deliver(self, class_id: str) -> None:
        for callback in list(self._callbacks):
            try:
                callback(class_id)
            except Exception:
                log.exception("podpath: a class event callback failed")

    def _grown_since(self, db: psycopg.Connection, since: float) -> list[str]:
        query = "SELECT DISTINCT class FROM class_events WHERE at >= %s"
        return [class_id for (class_id,) in db.execute(query, (since,))]

    def close(self) -> None:
        """Stop the listening thread (the next :meth:`on_event` starts another)."""
        with self._guard:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()


class Listener:
    """A daemon thread holding its own connection, LISTENing on :data:`CHANNEL` and calling
    ``deliver(class_id)`` for each notification.

    Parameters
    ----------
    store : PostgresBackend
        The database to listen on.
    deliver : callable
        Called with the class id of each notification, on the listener's thread.
    grown_since : callable
        ``grown_since(connection, seconds)``: the classes whose logs grew since then, each
        delivered after a reconnection (a minute's margin for the writers' clocks).
    """

    POLL = 0.5  # seconds between looks at the stop flag
    FIRST_PAUSE, MAX_PAUSE = 0.5, 30.0
    MARGIN = 60.0

    def __init__(
        self,
        store: PostgresBackend,
        deliver: Callable[[str], None],
        grown_since: Callable[[psycopg.Connection, float], list[str]],
    ) -> None:
        self.store = store
        self.deliver = deliver
        self.grown_since = grown_since
        self.listening = threading.Event()
        self.epoch = 0  # how many times it started listening (see hearing())
        self._stop = threading.Event()
        self._lost_at: float | None = None  # when the connection was lost, until caught up
        self._thread = threading.Thread(target=self._run, name="podpath-classes", daemon=True)

    def start(self, wait: float = 5.0) -> None:
        self._thread.start()
        self.listening.wait(wait)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.POLL * 4 + 5)

    def _run(self) -> None:
        pause = self.FIRST_PAUSE
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                if self._stop.is_set():
                    break
                if self.listening.is_set():  # it was listening: start the pauses again
                    pause = self.FIRST_PAUSE
                self._lost_at = self._lost_at or time.time()
                log.warning(
                    "podpath: class notifications from %s stopped (%s); trying again in %g s",
                    self.store.where,
                    self.store.say(error),
                    pause,
                )
            self.listening.clear()
            self._stop.wait(pause)
            pause = min(pause * 2, self.MAX_PAUSE)

    def _listen(self) -> None:
        keepalive = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10}
        options = {"application_name": "podpath-classes", **keepalive}
        with self.store.connect(autocommit=True, **options) as db:
            db.execute(f"LISTEN {CHANNEL}")
            if self._lost_at is not None:
                for class_id in self.grown_since(db, self._lost_at - self.MARGIN):
                    self.deliver(class_id)
                self._lost_at = None
                log.info("podpath: class notifications from %s are back", self.store.where)
            # Listening, and told of what was missed: from here on every append is heard.
            self.epoch += 1
            self.listening.set()
            while not self._stop.is_set():
                for note in db.notifies(timeout=self.POLL):
                    self.deliver(note.payload)
