"""The writers of one process taking turns on a SQLite database, and sharing a transaction
when they come at once.

SQLite's busy handler looks again only after sleeping (up to 100 ms), so writers of one
process queue on a lock of their own instead. When others wait for it, a writer leaves its
transaction open for them and waits for its commit: up to :data:`GROUP_MOST` writes share
one transaction, one commit and one fsync, each inside a savepoint so that one that fails
takes back only itself. Writers in other processes wait in ``BEGIN IMMEDIATE``, looked at
again every few milliseconds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from app.store.failures import SQLITE_BUSY, primary_code

#: Most writes that share one transaction (see :meth:`SqliteBackend._write`).
GROUP_MOST = 16
#: Seconds between looks at a database another process is writing: the first, and the most.
BUSY_PAUSE = 0.0005
BUSY_PAUSE_MOST = 0.005


class _Group:
    """One write transaction, shared by the writers of one process that came at once."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.size = 0  # writes done in it
        self.done = threading.Event()  # committed or rolled back
        self.error: BaseException | None = None  # why it was rolled back


def _again(error: BaseException) -> BaseException:
    """A copy of ``error`` to raise in another thread (SQLite's result code kept).

    >>> full = sqlite3.OperationalError("database or disk is full")
    >>> full.sqlite_errorcode = 13
    >>> copy = _again(full)
    >>> copy is full, str(copy), copy.sqlite_errorcode
    (False, 'database or disk is full', 13)
    """
    try:
        copy = type(error)(*error.args)
    except Exception:
        return error
    for name in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(error, name):
            setattr(copy, name, getattr(error, name))
    return copy


class SharedWrites:
    """Turns and shared transactions for the writers of one process.

    Parameters
    ----------
    connect : callable
        This thread's connection to the database.
    busy_timeout : float
        Seconds a writer waits for its turn, or for another process's write, before SQLite's
        "database is locked" is raised.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], busy_timeout: float) -> None:
        self.connect = connect
        self.busy_timeout = busy_timeout
        self._writer = threading.Lock()  # this process's writers, one at a time
        self.waiting = 0  # writers waiting for self._writer
        self._waiting_guard = threading.Lock()
        self._group: _Group | None = None  # the transaction writers share, while open

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write, in a transaction: what it wrote is committed (with its fsync) before
        the ``with`` block is left, and rolled back when anything inside fails.

        Writers of this process take turns on a lock of their own (SQLite's busy handler only
        looks again after sleeping, up to 100 ms). When others are waiting for the lock, a
        writer leaves its transaction open for them and waits for its commit: up to
        :data:`GROUP_MOST` writes share one transaction, one commit and one fsync, each inside
        a savepoint so that one that fails takes back only itself. A writer in another
        process holding the database is waited for in :meth:`_begin`.
        """
        group = self._take_turn()
        db = group.db
        try:
            db.execute("SAVEPOINT write")
            yield db
            db.execute("RELEASE write")
        except BaseException as error:
            self._end_turn(group, failed=error)
            raise
        group.size += 1
        self._end_turn(group)

    def _take_turn(self) -> _Group:
        """Wait for this process's writers' lock; the transaction to write in (opened now,
        or the one the writer before left open)."""
        with self._waiting_guard:
            self.waiting += 1
        try:
            got = self._writer.acquire(timeout=self.busy_timeout)
        finally:
            with self._waiting_guard:
                self.waiting -= 1
        if not got:
            raise sqlite3.OperationalError("database is locked")
        if self._group is not None:
            return self._group
        try:
            db = self.connect()
            self._begin(db)
        except BaseException:
            self._writer.release()
            raise
        self._group = _Group(db)
        return self._group

    def _begin(self, db: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, looking again every few milliseconds while another process
        writes (for up to ``busy_timeout`` seconds): SQLite's busy handler sleeps up to 100 ms
        between looks, and the other process's writes would go on without this one."""
        deadline = time.monotonic() + self.busy_timeout
        pause = BUSY_PAUSE
        db.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    db.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    busy = primary_code(error) in (None, SQLITE_BUSY) and "locked" in str(error)
                    if not busy or time.monotonic() + pause > deadline:
                        raise
                time.sleep(pause)
                pause = min(pause * 2, BUSY_PAUSE_MOST)
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def _end_turn(self, group: _Group, failed: BaseException | None = None) -> None:
        """Leave the transaction to the next writer and wait for its commit, or end it now;
        raises what made the commit (or the shared transaction) fail."""
        db = group.db
        if failed is not None:
            undone = False
            if db.in_transaction:
                with suppress(sqlite3.Error):
                    db.execute("ROLLBACK TO write")  # only this write's changes
                    db.execute("RELEASE write")
                    undone = True
            if not undone:  # SQLite rolled back all of it (a full disk), or could not
                lost = failed
                if not isinstance(failed, sqlite3.Error):
                    lost = sqlite3.OperationalError(f"the transaction was rolled back: {failed}")
                self._close_group(group, lost)  # the writes before this one are lost too
                return
            if group.size == 0:
                self._close_group(group, None, commit=False)
            else:
                with suppress(Exception):  # told to the writers it would have committed
                    self._commit(group)  # the writes before this one
            return
        if self.waiting and group.size < GROUP_MOST:
            self._writer.release()
            self._wait_for_commit(group)
            return
        self._commit(group)

    def _commit(self, group: _Group) -> None:
        """Commit ``group`` (this thread holds the writers' lock) and let its writers go."""
        try:
            group.db.execute("COMMIT")
        except BaseException as error:
            self._close_group(group, error)
            raise
        self._close_group(group, None)

    def _close_group(self, group: _Group, error: BaseException | None, commit: bool = True) -> None:
        """End ``group`` (rolled back when ``error`` or not ``commit``), tell its waiting
        writers, and release the writers' lock."""
        if (error is not None or not commit) and group.db.in_transaction:
            with suppress(sqlite3.Error):
                group.db.execute("ROLLBACK")
        group.error = error
        self._group = None
        group.done.set()
        self._writer.release()

    def _wait_for_commit(self, group: _Group) -> None:
        """Wait until a later writer committed ``group``; should none come (it gave up
        waiting for the lock), commit it here. Raises what made the commit fail."""
        while not group.done.wait(0.05):
            if self._writer.acquire(blocking=False):
                if self._group is group:
                    self._commit(group)
                else:
                    self._writer.release()
        if group.error is not None:
            raise _again(group.error)
