"""Where workspace states are kept: a SQLite file by default, or memory for tests.

A workspace is saved as a small meta record with a version number, one row per object and
one row per event (see :mod:`app.cluster.persistence`). A change writes only the rows that
changed, and only if the version is still the one the writer read, so two writers can never
silently overwrite each other (optimistic concurrency, like the API server's
``resourceVersion``).

Each save also keeps the workspace's history (see :mod:`app.store.history`): an ordinary
change adds an entry holding the rows it changed before and after, an undo or redo moves an
entry to or from the redo stack, in the same transaction as the rows themselves.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.cluster.persistence import Changes, Row, Saved
from app.store.history import Entry, Kept, ListKeeper, Patch, Record, Step, Stored, keep


class StaleWrite(Exception):
    """Another writer saved the workspace since it was read."""


class Backend(Protocol):
    def insert(self, workspace_id: str, saved: Saved) -> None: ...

    def version(self, workspace_id: str) -> int | None: ...

    def load(self, workspace_id: str) -> tuple[int, Saved] | None: ...

    def save(
        self,
        workspace_id: str,
        changes: Changes,
        expected_version: int,
        history: Record | Step | None = None,
    ) -> int: ...

    def history(self, workspace_id: str) -> list[Entry]: ...

    def history_patch(self, workspace_id: str, seq: int, direction: str) -> Patch | None: ...

    def share_token(self, workspace_id: str, new_token: str) -> str: ...

    def shared_workspace(self, token: str) -> str | None: ...


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class MemoryBackend:
    """Workspaces in dicts of JSON text (so nothing is shared with the live objects); gone
    when the process ends."""

    def __init__(self) -> None:
        self._meta: dict[str, tuple[int, str]] = {}
        self._rows: dict[str, dict[str, str]] = {}
        self._events: dict[str, dict[int, str]] = {}
        self._shares: dict[str, str] = {}  # token -> workspace
        self._history: dict[str, list[Stored]] = {}  # oldest first
        self._lock = threading.Lock()

    def share_token(self, workspace_id: str, new_token: str) -> str:
        with self._lock:
            for token, workspace in self._shares.items():
                if workspace == workspace_id:
                    return token
            self._shares[new_token] = workspace_id
            return new_token

    def shared_workspace(self, token: str) -> str | None:
        return self._shares.get(token)

    def insert(self, workspace_id: str, saved: Saved) -> None:
        with self._lock:
            self._meta[workspace_id] = (1, _dump(saved.meta))
            self._rows[workspace_id] = {
                r.id: _dump({"object": r.object, "applied": r.applied}) for r in saved.rows
            }
            self._events[workspace_id] = {e["id"]: _dump(e) for e in saved.events}

    def version(self, workspace_id: str) -> int | None:
        row = self._meta.get(workspace_id)
        return row[0] if row else None

    def load(self, workspace_id: str) -> tuple[int, Saved] | None:
        with self._lock:
            meta = self._meta.get(workspace_id)
            if meta is None:
                return None
            rows = [json.loads(text) for text in self._rows[workspace_id].values()]
            events = [json.loads(text) for text in self._events[workspace_id].values()]
        saved = Saved.from_dict({"meta": json.loads(meta[1]), "objects": rows, "events": events})
        return meta[0], saved

    def history(self, workspace_id: str) -> list[Entry]:
        with self._lock:
            return [s.entry for s in reversed(self._history.get(workspace_id, []))]

    def history_patch(self, workspace_id: str, seq: int, direction: str) -> Patch | None:
        with self._lock:
            return ListKeeper(self._history.get(workspace_id, [])).patch(seq, direction)

    def save(
        self,
        workspace_id: str,
        changes: Changes,
        expected_version: int,
        history: Record | Step | None = None,
    ) -> int:
        with self._lock:
            current = self._meta.get(workspace_id)
            if current is None or current[0] != expected_version:
                raise StaleWrite(workspace_id)
            kept = self._history.setdefault(workspace_id, [])
            keeper = _MemoryKeeper(kept, self._rows[workspace_id])
            keep(keeper, json.loads(current[1]), changes, history)
            if changes.replace_all:
                self._rows[workspace_id], self._events[workspace_id] = {}, {}
            rows, events = self._rows[workspace_id], self._events[workspace_id]
            for row in changes.upserts:
                rows[row.id] = _dump({"object": row.object, "applied": row.applied})
            for gone in changes.deletes:
                rows.pop(gone, None)
            for event in changes.events:
                events[event["id"]] = _dump(event)
            for old in [i for i in events if i < changes.oldest_event_id]:
                del events[old]
            self._meta[workspace_id] = (expected_version + 1, _dump(changes.meta))
            return expected_version + 1


@dataclass
class _MemoryKeeper(ListKeeper):
    """A workspace's rows and history in a :class:`MemoryBackend`, for :func:`keep`."""

    saved: dict[str, str]  # row id -> JSON text

    def rows(self, ids: list[str] | None) -> dict[str, list]:
        found = {}
        for row_id in [i for i in (self.saved if ids is None else ids) if i in self.saved]:
            data = json.loads(self.saved[row_id])
            found[row_id] = [data["object"], data["applied"]]
        return found


SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    workspace TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    applied TEXT,
    PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS shares (
    token TEXT PRIMARY KEY,
    workspace TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS events (
    workspace TEXT NOT NULL,
    id INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    workspace TEXT NOT NULL,
    seq INTEGER NOT NULL,
    label TEXT NOT NULL,
    subject TEXT NOT NULL,
    undone INTEGER NOT NULL,
    undo BLOB NOT NULL,
    redo BLOB NOT NULL,
    PRIMARY KEY (workspace, seq)
);
"""
# A database made before undo existed gets the history table at the next start
# (CREATE TABLE IF NOT EXISTS); its workspaces start with an empty history.


class SqliteBackend:
    """Workspaces in one SQLite file, in WAL mode with a full fsync on every commit, so
    whatever the server acknowledged survives a crash or a restart."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        db = self._connect()
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    def insert(self, workspace_id: str, saved: Saved) -> None:
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT INTO workspaces (id, version, meta) VALUES (?, 1, ?)",
                (workspace_id, _dump(saved.meta)),
            )
            self._write_rows(db, workspace_id, saved.rows)
            self._write_events(db, workspace_id, saved.events)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _one(self, query: str, *params: object) -> tuple | None:
        return self._connect().execute(query, params).fetchone()

    def version(self, workspace_id: str) -> int | None:
        row = self._one("SELECT version FROM workspaces WHERE id = ?", workspace_id)
        return row[0] if row else None

    def load(self, workspace_id: str) -> tuple[int, Saved] | None:
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
                    "SELECT id, body, applied FROM objects WHERE workspace = ?", (workspace_id,)
                )
            ]
            events = [
                json.loads(body)
                for (body,) in db.execute(
                    "SELECT body FROM events WHERE workspace = ? ORDER BY id", (workspace_id,)
                )
            ]
        finally:
            db.execute("COMMIT")
        return meta[0], Saved(json.loads(meta[1]), rows, events)

    def history(self, workspace_id: str) -> list[Entry]:
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
    ) -> int:
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            old = db.execute(
                "SELECT meta FROM workspaces WHERE id = ? AND version = ?",
                (workspace_id, expected_version),
            ).fetchone()
            if old is None:
                raise StaleWrite(workspace_id)
            keep(_SqliteKeeper(db, workspace_id), json.loads(old[0]), changes, history)
            cursor = db.execute(
                "UPDATE workspaces SET meta = ?, version = version + 1 WHERE id = ? AND version = ?",
                (_dump(changes.meta), workspace_id, expected_version),
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
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return expected_version + 1

    def share_token(self, workspace_id: str, new_token: str) -> str:
        db = self._connect()
        query = "SELECT token FROM shares WHERE workspace = ?"
        row = db.execute(query, (workspace_id,)).fetchone()
        if row is None:  # the first time only: every page shows the link
            db.execute(
                "INSERT OR IGNORE INTO shares (token, workspace) VALUES (?, ?)",
                (new_token, workspace_id),
            )
            row = db.execute(query, (workspace_id,)).fetchone()
        return row[0]

    def shared_workspace(self, token: str) -> str | None:
        row = self._one("SELECT workspace FROM shares WHERE token = ?", token)
        return row[0] if row else None

    @staticmethod
    def _write_rows(db: sqlite3.Connection, workspace_id: str, rows: list[Row]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO objects (workspace, id, body, applied) VALUES (?, ?, ?, ?)",
            [
                (workspace_id, r.id, _dump(r.object), _dump(r.applied) if r.applied else None)
                for r in rows
            ],
        )

    @staticmethod
    def _write_events(db: sqlite3.Connection, workspace_id: str, events: list[dict]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO events (workspace, id, body) VALUES (?, ?, ?)",
            [(workspace_id, e["id"], _dump(e)) for e in events],
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
