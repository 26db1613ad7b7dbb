"""Workspaces in a PostgreSQL database (``PODPATH_DATABASE_URL``), for several server machines
behind one load balancer.

The semantics are :class:`app.store.sqlite.SqliteBackend`'s: a save is one transaction that
locks the workspace's row and goes ahead only if the version is still the one the writer read
(:class:`~app.store.base.StaleWrite` otherwise), with its history kept as in
:mod:`app.store.history`. The connections (a pool per process), the making of the tables and
the naming of failures are :class:`app.store.postgres_pool.PostgresDatabase`'s.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from app.cluster.persistence import Changes, Row, Saved
from app.errors import PodpathError, StoreStartupError
from app.store.base import Mark, ShareRow, StaleWrite, dump
from app.store.history import Entry, Kept, Patch, Record, Step, Stored, keep
from app.store.postgres_pool import PostgresDatabase, pipelined

#: The layout of the tables; a database with a newer one is refused.
VERSION = 1
#: With ``hashtext`` of the workspace id: one change of a workspace's share links at a time.
SHARE_LOCK = 0x706F6401
HEALTH_TIMEOUT = 2.0

TABLES = [
    "CREATE TABLE IF NOT EXISTS podpath_layout (version integer NOT NULL)",
    """CREATE TABLE IF NOT EXISTS workspaces (
        id text PRIMARY KEY,
        version bigint NOT NULL,
        meta text NOT NULL,
        last_used double precision NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS workspaces_last_used ON workspaces (last_used)",
    """CREATE TABLE IF NOT EXISTS objects (
        workspace text NOT NULL,
        id text NOT NULL,
        body text NOT NULL,
        applied text,
        PRIMARY KEY (workspace, id)
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        workspace text NOT NULL,
        id bigint NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (workspace, id)
    )""",
    """CREATE TABLE IF NOT EXISTS shares (
        token text PRIMARY KEY,
        workspace text NOT NULL,
        created double precision NOT NULL,
        ended double precision
    )""",
    "CREATE INDEX IF NOT EXISTS shares_workspace ON shares (workspace)",
    # A workspace has at most one link that was neither revoked nor replaced.
    "CREATE UNIQUE INDEX IF NOT EXISTS shares_active ON shares (workspace) WHERE ended IS NULL",
    """CREATE TABLE IF NOT EXISTS history (
        workspace text NOT NULL,
        seq integer NOT NULL,
        label text NOT NULL,
        subject text NOT NULL,
        undone boolean NOT NULL,
        undo bytea NOT NULL,
        redo bytea NOT NULL,
        PRIMARY KEY (workspace, seq)
    )""",
]


class PostgresBackend(PostgresDatabase):
    """Workspaces in the PostgreSQL database at ``url``.

    Parameters
    ----------
    url : str
        A libpq connection string or URL (``postgresql://user:password@host:5432/dbname``).
    max_connections : int
        Most connections this process keeps open at once.
    timeout : float
        Seconds a request waits for a connection before giving up with a 503.

    Raises
    ------
    StoreStartupError
        When the URL cannot be read, the server cannot be reached or refuses the user, or the
        database was made by a newer Podpath; one line naming the database and its host.
    """

    def __init__(self, url: str, max_connections: int = 10, timeout: float = 5.0) -> None:
        super().__init__(url, TABLES, self._check_layout, max_connections, timeout)

    def _check_layout(self, db: psycopg.Connection) -> None:
        row = db.execute("SELECT max(version) FROM podpath_layout").fetchone()
        if row is None or row[0] is None:
            db.execute("INSERT INTO podpath_layout (version) VALUES (%s)", (VERSION,))
        elif row[0] > VERSION:
            raise StoreStartupError(
                f"the PostgreSQL database {self.where} was made by a newer Podpath (layout "
                f"{row[0]}, this Podpath knows up to {VERSION}): upgrade Podpath"
            )

    def health(self) -> dict[str, Any]:
        """``{"writable": bool, "problem": str | None}``, asking the server each time (a lock
        a read-only server refuses; after a failed write, a small write)."""
        probe = "SELECT version FROM podpath_layout FOR KEY SHARE"
        if self._problem is not None:
            probe = "UPDATE podpath_layout SET version = version"
        try:
            with self.transaction(writing=True, timeout=HEALTH_TIMEOUT) as db:
                db.execute(probe)
        except PodpathError:
            pass
        return {"writable": self._problem is None, "problem": self._problem}

    # --- workspaces -----------------------------------------------------------------------
    def insert(self, workspace_id: str, saved: Saved, now: float | None = None) -> None:
        with self.transaction(writing=True) as db:
            db.execute(
                "INSERT INTO workspaces (id, version, meta, last_used) VALUES (%s, 1, %s, %s)",
                (workspace_id, dump(saved.meta), time.time() if now is None else now),
            )
            _write_rows(db, workspace_id, saved.rows)
            _write_events(db, workspace_id, saved.events)

    def version(self, workspace_id: str) -> int | None:
        found = self.rows("SELECT version FROM workspaces WHERE id = %s", workspace_id)
        return found[0][0] if found else None

    def versions(self, workspace_ids: list[str]) -> dict[str, int]:
        query = "SELECT id, version FROM workspaces WHERE id = ANY(%s)"
        return dict(self.rows(query, list(workspace_ids)))

    def marks(self, workspace_ids: list[str]) -> dict[str, Mark]:
        query = (
            "SELECT id, version, m->>'lineage', m->>'resource_version', m->>'event_seq',"
            " m->'config' FROM (SELECT id, version, meta::json AS m FROM workspaces"
            " WHERE id = ANY(%s)) AS w"
        )
        return {
            row_id: Mark.from_meta(
                version,
                {"lineage": lineage, "resource_version": rv, "event_seq": seq, "config": config},
            )
            for row_id, version, lineage, rv, seq, config in self.rows(query, list(workspace_ids))
        }

    def load_meta(self, workspace_id: str) -> tuple[int, dict[str, Any]] | None:
        found = self.rows("SELECT version, meta FROM workspaces WHERE id = %s", workspace_id)
        return (found[0][0], json.loads(found[0][1])) if found else None

    def load(self, workspace_id: str) -> tuple[int, Saved] | None:
        # One statement (one snapshot: meta, rows and events of one version) and one round
        # trip: the workspace's row first, then its objects by id, then its events in order.
        found = self.rows(
            "SELECT 0, version, meta, NULL, '', 0 FROM workspaces WHERE id = %s"
            " UNION ALL SELECT 1, 0, body, applied, id, 0 FROM objects WHERE workspace = %s"
            " UNION ALL SELECT 2, 0, body, NULL, '', id FROM events WHERE workspace = %s"
            " ORDER BY 1, 5, 6",
            workspace_id,
            workspace_id,
            workspace_id,
        )
        if not found or found[0][0] != 0:
            return None
        version, meta = found[0][1], json.loads(found[0][2])
        rows: list[Row] = []
        events: list[dict] = []
        for part, _, body, applied, row_id, _ in found[1:]:
            if part == 1:
                rows.append(Row(row_id, json.loads(body), json.loads(applied) if applied else None))
            else:
                events.append(json.loads(body))
        return version, Saved(meta, rows, events)

    def history(self, workspace_id: str) -> list[Entry]:
        query = (
            "SELECT seq, label, subject, undone FROM history WHERE workspace = %s ORDER BY seq DESC"
        )
        return [Entry(*row) for row in self.rows(query, workspace_id)]

    def history_patch(self, workspace_id: str, seq: int, direction: str) -> Patch | None:
        column = "undo" if direction == "undo" else "redo"
        query = f"SELECT {column} FROM history WHERE workspace = %s AND seq = %s"
        found = self.rows(query, workspace_id, seq)
        return Patch.decode(bytes(found[0][0])) if found else None

    def save(
        self,
        workspace_id: str,
        changes: Changes,
        expected_version: int,
        history: Record | Step | None = None,
        *,
        notes_only: bool = False,
    ) -> int:
        if notes_only and not isinstance(history, Step):
            # A trace, a Check, a catch-up: one statement, no transaction around it. The
            # version in the WHERE is the check a row lock would make.
            if not self.write(
                "UPDATE workspaces SET meta = %s, version = version + 1 "
                "WHERE id = %s AND version = %s RETURNING version",
                dump(changes.meta),
                workspace_id,
                expected_version,
            ):
                raise StaleWrite(workspace_id)
            return expected_version + 1
        with self.transaction(writing=True) as db:
            # The row stays locked until the commit: a second writer waits, then finds the
            # version moved on.
            old = db.execute(
                "SELECT meta FROM workspaces WHERE id = %s AND version = %s FOR UPDATE",
                (workspace_id, expected_version),
            ).fetchone()
            if old is None:
                raise StaleWrite(workspace_id)
            keep(_PostgresKeeper(db, workspace_id), json.loads(old[0]), changes, history)
            # The writes need no answer: sent together (one round trip, not one each).
            with pipelined(db):
                db.execute(
                    "UPDATE workspaces SET meta = %s, version = version + 1 WHERE id = %s",
                    (dump(changes.meta), workspace_id),
                )
                if changes.replace_all:
                    db.execute("DELETE FROM objects WHERE workspace = %s", (workspace_id,))
                    db.execute("DELETE FROM events WHERE workspace = %s", (workspace_id,))
                _write_rows(db, workspace_id, changes.upserts)
                if changes.deletes:
                    db.execute(
                        "DELETE FROM objects WHERE workspace = %s AND id = ANY(%s)",
                        (workspace_id, list(changes.deletes)),
                    )
                _write_events(db, workspace_id, changes.events)
                db.execute(
                    "DELETE FROM events WHERE workspace = %s AND id < %s",
                    (workspace_id, changes.oldest_event_id),
                )
        return expected_version + 1

    def touch(self, workspace_id: str, now: float, older_than: float) -> None:
        self.write(
            "UPDATE workspaces SET last_used = %s WHERE id = %s AND last_used < %s",
            now,
            workspace_id,
            older_than,
        )

    def expire(self, before: float, limit: int) -> list[str]:
        """Delete up to ``limit`` workspaces last used before ``before``, with everything
        they hold, in one transaction; returns their ids. A workspace another process is
        saving right now is left for the next time."""
        with self.transaction(writing=True) as db:
            gone = [
                w
                for (w,) in db.execute(
                    "SELECT id FROM workspaces WHERE last_used < %s ORDER BY last_used "
                    "LIMIT %s FOR UPDATE SKIP LOCKED",
                    (before, limit),
                )
            ]
            if gone:
                for table in ("objects", "events", "history", "shares"):
                    db.execute(f"DELETE FROM {table} WHERE workspace = ANY(%s)", (gone,))
                db.execute("DELETE FROM workspaces WHERE id = ANY(%s)", (gone,))
        return gone

    # --- share links ----------------------------------------------------------------------
    _SHARE = "SELECT token, workspace, created, ended FROM shares"

    def active_share(self, workspace_id: str) -> ShareRow | None:
        found = self.rows(f"{self._SHARE} WHERE workspace = %s AND ended IS NULL", workspace_id)
        return ShareRow(*found[0]) if found else None

    def share_row(self, token: str) -> ShareRow | None:
        found = self.rows(f"{self._SHARE} WHERE token = %s", token)
        return ShareRow(*found[0]) if found else None

    def new_share(self, workspace_id: str, token: str, now: float) -> None:
        with self.transaction(writing=True) as db:
            # One change of a workspace's links at a time, as SQLite's single writer gives.
            db.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (SHARE_LOCK, workspace_id))
            db.execute(
                "UPDATE shares SET ended = %s WHERE workspace = %s AND ended IS NULL",
                (now, workspace_id),
            )
            db.execute(
                "INSERT INTO shares (token, workspace, created) VALUES (%s, %s, %s)",
                (token, workspace_id, now),
            )

    def end_share(self, workspace_id: str, now: float) -> None:
        with self.transaction(writing=True) as db:
            db.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (SHARE_LOCK, workspace_id))
            db.execute(
                "UPDATE shares SET ended = %s WHERE workspace = %s AND ended IS NULL",
                (now, workspace_id),
            )


def _write_rows(db: psycopg.Connection, workspace_id: str, rows: list[Row]) -> None:
    if rows:
        db.cursor().executemany(
            "INSERT INTO objects (workspace, id, body, applied) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (workspace, id) DO UPDATE SET body = excluded.body, "
            "applied = excluded.applied",
            [
                (workspace_id, r.id, dump(r.object), dump(r.applied) if r.applied else None)
                for r in rows
            ],
        )


def _write_events(db: psycopg.Connection, workspace_id: str, events: list[dict]) -> None:
    if events:
        db.cursor().executemany(
            "INSERT INTO events (workspace, id, body) VALUES (%s, %s, %s) "
            "ON CONFLICT (workspace, id) DO UPDATE SET body = excluded.body",
            [(workspace_id, e["id"], dump(e)) for e in events],
        )


@dataclass
class _PostgresKeeper:
    """A workspace's rows and history in a :class:`PostgresBackend`'s open transaction, for
    :func:`keep`."""

    db: psycopg.Connection
    workspace: str

    def rows(self, ids: list[str] | None) -> dict[str, list]:
        query = "SELECT id, body, applied FROM objects WHERE workspace = %s"
        if ids is None:
            found = self.db.execute(query, (self.workspace,)).fetchall()
        else:
            found = self.db.execute(f"{query} AND id = ANY(%s)", (self.workspace, ids)).fetchall()
        return {
            row_id: [json.loads(body), json.loads(applied) if applied else None]
            for row_id, body, applied in found
        }

    def entries(self) -> list[Kept]:
        return [
            Kept(*row)
            for row in self.db.execute(
                "SELECT seq, octet_length(undo) + octet_length(redo) + length(label), undone "
                "FROM history WHERE workspace = %s ORDER BY seq",
                (self.workspace,),
            )
        ]

    def mark(self, seq: int, undone: bool) -> None:
        self.db.execute(
            "UPDATE history SET undone = %s WHERE workspace = %s AND seq = %s",
            (undone, self.workspace, seq),
        )

    def add(self, stored: Stored, drop: list[int]) -> None:
        if drop:
            self.db.execute(
                "DELETE FROM history WHERE workspace = %s AND seq = ANY(%s)",
                (self.workspace, drop),
            )
        entry = stored.entry
        self.db.execute(
            "INSERT INTO history (workspace, seq, label, subject, undone, undo, redo) "
            "VALUES (%s, %s, %s, %s, false, %s, %s)",
            (self.workspace, entry.seq, entry.label, entry.subject, stored.undo, stored.redo),
        )
