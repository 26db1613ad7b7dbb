"""Workspaces in one SQLite file (the default store).

The file is in WAL mode with a full fsync on every commit, so whatever the server
acknowledged survives a crash or a restart. Each thread has its own connection; the writers
of one process share their transactions when they come at once (:meth:`SqliteBackend._write`).

Opening checks what can go wrong before the first request (:mod:`app.store.startup`). While
serving, every SQLite failure is named (:func:`app.store.failures.storage_error`): a change
that fails gets a 503 or 507 saying why, and reads go on where they can.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.cluster.persistence import Changes, Row, Saved
from app.errors import PodpathError, StorageUnavailable
from app.store import schema
from app.store.base import Mark, ShareRow, StaleWrite, dump
from app.store.failures import read_only_message, storage_error
from app.store.history import Entry, Kept, Patch, Record, Step, Stored, keep
from app.store.sqlite_writes import SharedWrites
from app.store.startup import open_database


class SqliteBackend:
    """Workspaces in the SQLite file at ``path``.

    Parameters
    ----------
    path : Path
        The database file; its folder is made when missing.
    busy_timeout : float
        Seconds a change waits for another process's lock before giving up with a 503.

    Raises
    ------
    StoreStartupError
        When the store cannot be opened (see :func:`app.store.startup.open_database`).
    """

    def __init__(self, path: Path, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.read_only = False
        self._uri = str(self.path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_guard = threading.Lock()
        self._writes = SharedWrites(self._connect, busy_timeout)
        self._problem: str | None = None  # why the last write failed, until one succeeds
        try:
            open_database(self)
        except BaseException:
            self.close()
            raise

    # --- connections and failures ---------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self._uri,
            timeout=self.busy_timeout,
            isolation_level=None,
            uri=self.read_only,
            check_same_thread=False,
        )
        if not self.read_only:
            db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        return db

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
            with self._all_guard:
                self._all.append(db)
        return db

    def close(self) -> None:
        """Close every connection this backend opened (the next call opens new ones)."""
        with self._all_guard:
            connections, self._all = self._all, []
            self._local = threading.local()
        for db in connections:
            db.close()

    @contextmanager
    def _named(self, writing: bool = False) -> Iterator[None]:
        """Turn a storage failure inside into a named 503 or 507."""
        if writing and self.read_only:
            raise StorageUnavailable(read_only_message(self.path))
        try:
            yield
        except sqlite3.Error as error:
            mapped = storage_error(error, self.path, self.busy_timeout)
            if mapped is None:
                raise
            if writing:
                self._problem = mapped.message
            raise mapped from error
        if writing:
            self._problem = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write, in a transaction committed (with its fsync) before the ``with`` block
        is left and rolled back when anything inside fails; writers of this process that come
        at once share one transaction (:class:`app.store.sqlite_writes.SharedWrites`)."""
        with self._named(writing=True), self._writes.write() as db:
            yield db

    @property
    def _waiting(self) -> int:
        """Writers of this process waiting for their turn."""
        return self._writes.waiting

    def _one(self, query: str, *params: object) -> tuple | None:
        with self._named():
            return self._connect().execute(query, params).fetchone()

    def health(self) -> dict[str, Any]:
        """``{"writable": bool, "problem": str | None}``. After a failed write, a small write
        is tried again, so a disk that got space back reports writable."""
        if self.read_only:
            return {"writable": False, "problem": read_only_message(self.path)}
        if self._problem is not None:
            try:
                with self._write() as db:
                    db.execute(f"PRAGMA user_version = {schema.VERSION}")
            except PodpathError:
                pass
        return {"writable": self._problem is None, "problem": self._problem}

    # --- workspaces -----------------------------------------------------------------------
    def insert(self, workspace_id: str, saved: Saved, now: float | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO workspaces (id, version, meta, last_used) VALUES (?, 1, ?, ?)",
                (workspace_id, dump(saved.meta), time.time() if now is None else now),
            )
            self._write_rows(db, workspace_id, saved.rows)
            self._write_events(db, workspace_id, saved.events)

    def version(self, workspace_id: str) -> int | None:
        row = self._one("SELECT version FROM workspaces WHERE id = ?", workspace_id)
        return row[0] if row else None

    def versions(self, workspace_ids: list[str]) -> dict[str, int]:
        return dict(self._workspace_rows("id, version", workspace_ids))

    def marks(self, workspace_ids: list[str]) -> dict[str, Mark]:
        columns = (
            "id, version, json_extract(meta, '$.lineage'), json_extract(meta, '$.resource_version'),"
            " json_extract(meta, '$.event_seq'), json_extract(meta, '$.config')"
        )
        found: dict[str, Mark] = {}
        for row_id, version, lineage, rv, seq, config in self._workspace_rows(
            columns, workspace_ids
        ):
            meta = {"lineage": lineage, "resource_version": rv, "event_seq": seq}
            found[row_id] = Mark.from_meta(version, {**meta, "config": json.loads(config)})
        return found

    def _workspace_rows(self, columns: str, workspace_ids: list[str]) -> list[tuple]:
        """``columns`` of the workspaces of these ids that exist, in as few queries as SQLite's
        bound on parameters allows."""
        rows: list[tuple] = []
        with self._named():
            db = self._connect()
            for start in range(0, len(workspace_ids), 500):
                chunk = workspace_ids[start : start + 500]
                places = ",".join("?" * len(chunk))
                query = f"SELECT {columns} FROM workspaces WHERE id IN ({places})"
                rows.extend(db.execute(query, chunk).fetchall())
        return rows

    def load_meta(self, workspace_id: str) -> tuple[int, dict[str, Any]] | None:
        found = self._one("SELECT version, meta FROM workspaces WHERE id = ?", workspace_id)
        return (found[0], json.loads(found[1])) if found else None

    def load(self, workspace_id: str) -> tuple[int, Saved] | None:
        with self._named():
            db = self._connect()
            db.execute("BEGIN")  # one consistent read of meta, rows and events
            try:
                meta = db.execute(
                    "SELECT version, meta FROM workspaces WHERE id = ?", (workspace_id,)
                ).fetchone()
                if meta is None:
                    return None
                rows = [
                    Row(row_id, json.loads(body), json.loads(applied) if applied else None)
                    for row_id, body, applied in db.execute(
                        "SELECT id, body, applied FROM objects WHERE workspace = ? ORDER BY id",
                        (workspace_id,),
                    )
                ]
                events = [
                    json.loads(body)
                    for (body,) in db.execute(
                        "SELECT body FROM events WHERE workspace = ? ORDER BY id", (workspace_id,)
                    )
                ]
            finally:
                if db.in_transaction:
                    db.execute("COMMIT")
        return meta[0], Saved(json.loads(meta[1]), rows, events)

    def history(self, workspace_id: str) -> list[Entry]:
        with self._named():
            return [
                Entry(seq, label, subject, bool(undone))
                for seq, label, subject, undone in self._connect().execute(
                    "SELECT seq, label, subject, undone FROM history WHERE workspace = ? "
                    "ORDER BY seq DESC",
                    (workspace_id,),
                )
            ]

    def history_patch(self, workspace_id: str, seq: int, direction: str) -> Patch | None:
        column = "undo" if direction == "undo" else "redo"
        query = f"SELECT {column} FROM history WHERE workspace = ? AND seq = ?"
        row = self._one(query, workspace_id, seq)
        return Patch.decode(row[0]) if row else None

    def save(
        self,
        workspace_id: str,
        changes: Changes,
        expected_version: int,
        history: Record | Step | None = None,
        *,
        notes_only: bool = False,
    ) -> int:
        with self._write() as db:
            old = db.execute(
                "SELECT meta FROM workspaces WHERE id = ? AND version = ?",
                (workspace_id, expected_version),
            ).fetchone()
            if old is None:
                raise StaleWrite(workspace_id)
            keep(_SqliteKeeper(db, workspace_id), json.loads(old[0]), changes, history)
            cursor = db.execute(
                "UPDATE workspaces SET meta = ?, version = version + 1 WHERE id = ? AND version = ?",
                (dump(changes.meta), workspace_id, expected_version),
            )
            if cursor.rowcount != 1:
                raise StaleWrite(workspace_id)
            if changes.replace_all:
                db.execute("DELETE FROM objects WHERE workspace = ?", (workspace_id,))
                db.execute("DELETE FROM events WHERE workspace = ?", (workspace_id,))
            self._write_rows(db, workspace_id, changes.upserts)
            db.executemany(
                "DELETE FROM objects WHERE workspace = ? AND id = ?",
                [(workspace_id, gone) for gone in changes.deletes],
            )
            self._write_events(db, workspace_id, changes.events)
            db.execute(
                "DELETE FROM events WHERE workspace = ? AND id < ?",
                (workspace_id, changes.oldest_event_id),
            )
        return expected_version + 1

    def touch(self, workspace_id: str, now: float, older_than: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE workspaces SET last_used = ? WHERE id = ? AND last_used < ?",
                (now, workspace_id, older_than),
            )

    def expire(self, before: float, limit: int) -> list[str]:
        """Delete up to ``limit`` workspaces last used before ``before``, with everything
        they hold, in one transaction; returns their ids."""
        with self._write() as db:
            gone = [
                w
                for (w,) in db.execute(
                    "SELECT id FROM workspaces WHERE last_used < ? LIMIT ?", (before, limit)
                )
            ]
            for start in range(0, len(gone), 500):
                chunk = gone[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for table in ("objects", "events", "history", "shares"):
                    db.execute(f"DELETE FROM {table} WHERE workspace IN ({marks})", chunk)
                db.execute(f"DELETE FROM workspaces WHERE id IN ({marks})", chunk)
        return gone

    # --- share links ----------------------------------------------------------------------
    _SHARE = "SELECT token, workspace, created, ended FROM shares"

    def active_share(self, workspace_id: str) -> ShareRow | None:
        row = self._one(f"{self._SHARE} WHERE workspace = ? AND ended IS NULL", workspace_id)
        return ShareRow(*row) if row else None

    def share_row(self, token: str) -> ShareRow | None:
        row = self._one(f"{self._SHARE} WHERE token = ?", token)
        return ShareRow(*row) if row else None

    def new_share(self, workspace_id: str, token: str, now: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE shares SET ended = ? WHERE workspace = ? AND ended IS NULL",
                (now, workspace_id),
            )
            db.execute(
                "INSERT INTO shares (token, workspace, created) VALUES (?, ?, ?)",
                (token, workspace_id, now),
            )

    def end_share(self, workspace_id: str, now: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE shares SET ended = ? WHERE workspace = ? AND ended IS NULL",
                (now, workspace_id),
            )

    @staticmethod
    def _write_rows(db: sqlite3.Connection, workspace_id: str, rows: list[Row]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO objects (workspace, id, body, applied) VALUES (?, ?, ?, ?)",
            [
                (workspace_id, r.id, dump(r.object), dump(r.applied) if r.applied else None)
                for r in rows
            ],
        )

    @staticmethod
    def _write_events(db: sqlite3.Connection, workspace_id: str, events: list[dict]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO events (workspace, id, body) VALUES (?, ?, ?)",
            [(workspace_id, e["id"], dump(e)) for e in events],
        )


@dataclass
class _SqliteKeeper:
    """A workspace's rows and history in a :class:`SqliteBackend`'s open transaction, for
    :func:`keep`."""

    db: sqlite3.Connection
    workspace: str

    def rows(self, ids: list[str] | None) -> dict[str, list]:
        query = "SELECT id, body, applied FROM objects WHERE workspace = ?"
        if ids is None:
            found = list(self.db.execute(query, (self.workspace,)))
        else:
            found = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found += self.db.execute(f"{query} AND id IN ({marks})", (self.workspace, *chunk))
        return {
            row_id: [json.loads(body), json.loads(applied) if applied else None]
            for row_id, body, applied in found
        }

    def entries(self) -> list[Kept]:
        return [
            Kept(seq, size, bool(undone))
            for seq, size, undone in self.db.execute(
                "SELECT seq, length(undo) + length(redo) + length(label), undone FROM history "
                "WHERE workspace = ? ORDER BY seq",
                (self.workspace,),
            )
        ]

    def mark(self, seq: int, undone: bool) -> None:
        self.db.execute(
            "UPDATE history SET undone = ? WHERE workspace = ? AND seq = ?",
            (int(undone), self.workspace, seq),
        )

    def add(self, stored: Stored, drop: list[int]) -> None:
        self.db.executemany(
            "DELETE FROM history WHERE workspace = ? AND seq = ?",
            [(self.workspace, seq) for seq in drop],
        )
        entry = stored.entry
        self.db.execute(
            "INSERT INTO history (workspace, seq, label, subject, undone, undo, redo) "
            "VALUES (?, ?, ?, ?, 0, ?, ?)",
            (self.workspace, entry.seq, entry.label, entry.subject, stored.undo, stored.redo),
        )
