"""The SQLite store's tables, and the one-time upgrade of a database made by an older Podpath.

``PRAGMA user_version`` says which layout a database has: 0 is the first one (objects and
events in ``WITHOUT ROWID`` tables, share links without a date, no record of when a workspace
was last used), :data:`VERSION` the current one. A database is upgraded when it is opened,
in one transaction, so a crash midway leaves it as it was.

Why ordinary rowid tables: a ``WITHOUT ROWID`` table keeps each row in an index b-tree, where
a row may take only about a quarter of a page before the rest spills onto overflow pages; an
object's JSON (1-3 kB) then costs two or more mostly empty pages. A rowid table keeps up to
a whole page of a row inline, and the (workspace, id) index holds only the short keys.
"""

from __future__ import annotations

import logging
import sqlite3

log = logging.getLogger("podpath")

VERSION = 1

#: The current layout, one statement each (every one safe to run again).
TABLES = [
    """CREATE TABLE IF NOT EXISTS workspaces (
        id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        meta TEXT NOT NULL,
        last_used REAL NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS workspaces_last_used ON workspaces (last_used)",
    """CREATE TABLE IF NOT EXISTS objects (
        workspace TEXT NOT NULL,
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        applied TEXT,
        UNIQUE (workspace, id)
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        workspace TEXT NOT NULL,
        id INTEGER NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (workspace, id)
    )""",
    """CREATE TABLE IF NOT EXISTS shares (
        token TEXT PRIMARY KEY,
        workspace TEXT NOT NULL,
        created REAL NOT NULL,
        ended REAL
    )""",
    "CREATE INDEX IF NOT EXISTS shares_workspace ON shares (workspace)",
    # A workspace has at most one link that was neither revoked nor replaced.
    "CREATE UNIQUE INDEX IF NOT EXISTS shares_active ON shares (workspace) WHERE ended IS NULL",
    """CREATE TABLE IF NOT EXISTS history (
        workspace TEXT NOT NULL,
        seq INTEGER NOT NULL,
        label TEXT NOT NULL,
        subject TEXT NOT NULL,
        undone INTEGER NOT NULL,
        undo BLOB NOT NULL,
        redo BLOB NOT NULL,
        PRIMARY KEY (workspace, seq)
    )""",
    # Classes (added within layout 1: new tables only, which an older Podpath ignores).
    """CREATE TABLE IF NOT EXISTS classes (
        id TEXT PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        key_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        lesson TEXT,
        teacher_workspace TEXT NOT NULL,
        start_workspace TEXT NOT NULL,
        created REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS class_seats (
        id TEXT NOT NULL,
        class TEXT NOT NULL,
        name TEXT NOT NULL,
        folded TEXT NOT NULL,
        workspace TEXT NOT NULL,
        joined REAL NOT NULL,
        following INTEGER NOT NULL,
        progress TEXT NOT NULL,
        last_active REAL NOT NULL,
        PRIMARY KEY (class, id),
        UNIQUE (class, folded)
    )""",
    """CREATE TABLE IF NOT EXISTS class_events (
        class TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        at REAL NOT NULL,
        target TEXT,
        PRIMARY KEY (class, seq)
    )""",
]

#: The first layout (``user_version`` 0), for the upgrade's tests.
FIRST_LAYOUT = """
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    workspace TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, applied TEXT,
    PRIMARY KEY (workspace, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS shares (token TEXT PRIMARY KEY, workspace TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS events (
    workspace TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (workspace, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    workspace TEXT NOT NULL, seq INTEGER NOT NULL, label TEXT NOT NULL, subject TEXT NOT NULL,
    undone INTEGER NOT NULL, undo BLOB NOT NULL, redo BLOB NOT NULL,
    PRIMARY KEY (workspace, seq));
"""


class NewerDatabase(Exception):
    """The database was made by a newer Podpath than this one."""


def layout(db: sqlite3.Connection) -> int | None:
    """The layout version of the database, or None when it has no tables yet."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and not _has_table(db, "workspaces"):
        return None
    return version


def needs_upgrade(db: sqlite3.Connection) -> bool:
    """Whether :func:`prepare` would change the database."""
    return layout(db) != VERSION


def prepare(db: sqlite3.Connection, now: float) -> bool:
    """Create the tables of an empty database, or upgrade one of an older layout, in one
    transaction (``db`` is in autocommit mode). Returns whether an older layout was upgraded.

    Workspaces and share links of an upgraded database count as used and made at ``now``:
    the first layout did not record when.

    Raises
    ------
    NewerDatabase
        When the database has a layout newer than this Podpath knows.
    sqlite3.Error
        When SQLite fails; nothing is changed then.
    """
    db.execute("BEGIN IMMEDIATE")  # another server process may be opening it too
    try:
        found = layout(db)
        if found is not None and found > VERSION:
            raise NewerDatabase(f"layout {found}, this Podpath knows up to {VERSION}")
        if found == 0:
            _upgrade_from_first(db, now)
        for statement in TABLES:  # also brings back a table someone dropped
            db.execute(statement)
        if found != VERSION:
            db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return found == 0


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.execute(query, (name,)).fetchone() is not None


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _rebuild(db: sqlite3.Connection, table: str, create: str, columns: str) -> None:
    """Copy ``table`` into a new table made by ``create`` (naming it ``<table>_new``)."""
    db.execute(create.replace(f"EXISTS {table} (", f"EXISTS {table}_new (", 1))
    db.execute(f"INSERT INTO {table}_new ({columns}) SELECT {columns} FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {table}_new RENAME TO {table}")


def _upgrade_from_first(db: sqlite3.Connection, now: float) -> None:
    if "last_used" not in _columns(db, "workspaces"):
        db.execute("ALTER TABLE workspaces ADD COLUMN last_used REAL NOT NULL DEFAULT 0")
    db.execute("UPDATE workspaces SET last_used = ?", (now,))
    creates = {s.split()[5]: s for s in TABLES if s.startswith("CREATE TABLE")}
    for table, columns in (
        ("objects", "workspace, id, body, applied"),
        ("events", "workspace, id, body"),
    ):
        if _has_table(db, table):
            _rebuild(db, table, creates[table], columns)
    if _has_table(db, "shares"):
        db.execute(creates["shares"].replace("EXISTS shares (", "EXISTS shares_new (", 1))
        db.execute(
            "INSERT INTO shares_new (token, workspace, created) SELECT token, workspace, ? "
            "FROM shares",
            (now,),
        )
        db.execute("DROP TABLE shares")
        db.execute("ALTER TABLE shares_new RENAME TO shares")
    log.warning("podpath: upgraded the database to layout %s", VERSION)


def compact(db: sqlite3.Connection, path: object) -> None:
    """Give the pages an upgrade freed back to the disk (``VACUUM``); a failure (a disk
    too full to hold the copy VACUUM writes) is logged and otherwise ignored."""
    try:
        db.execute("VACUUM")
    except sqlite3.Error as error:
        log.warning("podpath: could not compact %s after its upgrade: %s", path, error)
