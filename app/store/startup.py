"""Opening the SQLite store: everything that can be wrong is found before the first request.

A data folder that is a file, cannot be made, or cannot be written and holds no database; a
damaged database (``PRAGMA quick_check``); a database made by a newer Podpath: each stops the
server with one line naming the path and the problem (a
:class:`~app.errors.StoreStartupError`). A database made by an older Podpath is upgraded
(:mod:`app.store.schema`). A database whose file or folder cannot be written is opened
read-only: sandboxes are served, changes get a 503 saying why.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from app.errors import StoreStartupError
from app.store import schema
from app.store.failures import read_only_message, startup_error

if TYPE_CHECKING:
    from app.store.sqlite import SqliteBackend

log = logging.getLogger("podpath")


def can_write(path: Path) -> bool:
    """Whether this process may write ``path`` (a file or a folder). Tests replace it to
    play a read-only disk, which ``chmod`` cannot do for root."""
    return os.access(path, os.W_OK)


def open_database(backend: SqliteBackend) -> None:
    """Check the data folder, open the database (read-only when it cannot be written),
    check it is whole and bring its layout up to date.

    Raises
    ------
    StoreStartupError
        With one line naming the path and the problem: the data folder is a file, cannot be
        made, or cannot be written and holds no database; the database is damaged (restore
        it from a backup), was made by a newer Podpath, needs an upgrade it cannot be
        written for, or SQLite cannot open it (or the system refuses a file or folder).
    """
    try:
        _open(backend)
    except OSError as error:  # a folder on the way that cannot be searched, say
        where = error.filename or backend.path.parent
        raise StoreStartupError(
            f"cannot use the data folder {where}: {error.strerror or error}"
        ) from None


def _open(backend: SqliteBackend) -> None:
    path = backend.path
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise StoreStartupError(
            f"the data folder {folder} is a file, not a folder: point --data-dir "
            "(PODPATH_DATA_DIR) at a folder"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreStartupError(
            f"cannot create the data folder {folder}: {error.strerror or error}"
        ) from None
    if path.is_dir():
        raise StoreStartupError(f"the database {path} is a folder, not a file: move it away")
    if not path.exists() and not can_write(folder):
        raise StoreStartupError(
            f"the data folder {folder} cannot be written and holds no database "
            f"({path.name}): give Podpath a folder it can write"
        )
    backend.read_only = path.exists() and not (can_write(path) and can_write(folder))
    try:
        db = _first_connection(backend)
        found = db.execute("PRAGMA quick_check").fetchall()
        if [tuple(r) for r in found] != [("ok",)]:
            detail = "; ".join(str(r[0]) for r in found[:3])
            raise startup_error(sqlite3.DatabaseError(f"malformed: {detail}"), path)
        if backend.read_only:
            if schema.needs_upgrade(db):
                raise StoreStartupError(
                    f"the database {path} is read-only and was made by an older Podpath: "
                    "start Podpath once with write access to it, to upgrade it"
                )
            log.warning("podpath: %s", read_only_message(path))
            return
        db.execute("PRAGMA journal_mode=WAL")
        if schema.prepare(db, time.time()):
            schema.compact(db, path)
    except schema.NewerDatabase as error:
        raise StoreStartupError(
            f"the database {path} was made by a newer Podpath ({error}): upgrade Podpath"
        ) from None
    except sqlite3.Error as error:
        raise startup_error(error, path) from None


def _first_connection(backend: SqliteBackend) -> sqlite3.Connection:
    if not backend.read_only:
        return backend._connect()
    # A WAL database in a folder that cannot be written can be read only as "immutable".
    base = f"file:{quote(str(backend.path))}?mode=ro"
    for uri in (base, base + "&immutable=1"):
        backend._uri = uri
        try:
            db = backend._connect()
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            backend.close()
            if uri != base:
                raise
    raise AssertionError("unreachable")
