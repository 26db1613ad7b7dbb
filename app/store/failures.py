"""Storage failures in plain words: what SQLite reports, turned into the errors users see.

A failure while serving becomes a :class:`~app.errors.StorageUnavailable` (503: read-only,
damaged, locked, an I/O error) or an :class:`~app.errors.InsufficientStorage` (507: the disk
is full); one while opening the store becomes a :class:`~app.errors.StoreStartupError`. Every
message names the database (or folder) and the problem, and what to do about it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.errors import InsufficientStorage, PodpathError, StorageUnavailable, StoreStartupError

# SQLite's primary result codes (https://sqlite.org/rescode.html).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26

DAMAGED = (SQLITE_CORRUPT, SQLITE_NOTADB)


def primary_code(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``error`` (extended codes folded), when it has one.

    >>> error = sqlite3.OperationalError("disk I/O error")
    >>> error.sqlite_errorcode = 266  # SQLITE_IOERR_READ
    >>> primary_code(error)
    10
    """
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def read_only_message(path: Path) -> str:
    """The 503 message of a change refused because the database cannot be written.

    >>> read_only_message(Path("/data/podpath.sqlite3"))[:52]
    'the database /data/podpath.sqlite3 is read-only (its'
    """
    return (
        f"the database {path} is read-only (its file, folder or disk cannot be written): "
        "sandboxes can be viewed but no change can be saved until it can be written"
    )


def damaged_message(path: Path, detail: str) -> str:
    """What to say about a database SQLite finds damaged (``detail``: SQLite's words)."""
    return (
        f"the database {path} is damaged ({detail}): restore it from a backup of the data "
        "folder, or move it away to start with no sandboxes"
    )


def storage_error(
    error: sqlite3.Error, path: Path, busy_seconds: float = 30
) -> PodpathError | None:
    """The error to answer with when SQLite failed with ``error`` on the database at ``path``,
    or None when it is not a storage failure (a bug: let it surface as one).

    Parameters
    ----------
    error : sqlite3.Error
        What SQLite raised.
    path : Path
        The database file, named in the message.
    busy_seconds : float
        How long a locked database was waited for.

    Returns
    -------
    PodpathError | None
        An :class:`~app.errors.InsufficientStorage` for a full disk, a
        :class:`~app.errors.StorageUnavailable` for the other storage failures.

    Examples
    --------
    >>> full = sqlite3.OperationalError("database or disk is full")
    >>> storage_error(full, Path("/d/p.sqlite3")).status
    507
    >>> storage_error(sqlite3.IntegrityError("UNIQUE constraint failed"), Path("/d")) is None
    True
    """
    code, text = primary_code(error), str(error)
    if code == SQLITE_FULL or "database or disk is full" in text:
        return InsufficientStorage(
            f"the disk holding the database {path} is full: this change was not saved, and "
            "changes are refused until space is freed (sandboxes can still be viewed)"
        )
    if code == SQLITE_READONLY or "readonly database" in text:
        return StorageUnavailable(read_only_message(path))
    if code in DAMAGED or "malformed" in text or "not a database" in text:
        return StorageUnavailable(damaged_message(path, text))
    if code == SQLITE_IOERR or "disk I/O error" in text:
        return StorageUnavailable(
            f"the disk holding the database {path} reported an I/O error ({text}): the change "
            "was not saved; check the disk, then try again"
        )
    if code in (SQLITE_BUSY, SQLITE_LOCKED) or "locked" in text:
        return StorageUnavailable(
            f"the database {path} stayed locked by another process for more than "
            f"{busy_seconds:g} s ({text}): nothing was changed; try again"
        )
    if code == SQLITE_CANTOPEN:
        return StorageUnavailable(f"the database {path} cannot be opened ({text})")
    if isinstance(error, sqlite3.OperationalError):
        return StorageUnavailable(f"the database {path} failed: {text}")
    return None


def startup_error(error: sqlite3.Error, path: Path) -> StoreStartupError:
    """The one-line reason a database cannot be opened at start.

    >>> print(startup_error(sqlite3.DatabaseError("file is not a database"), Path("/d/p")))
    the database /d/p is damaged (file is not a database): restore it from a backup of the \
data folder, or move it away to start with no sandboxes
    """
    text = str(error)
    if primary_code(error) in DAMAGED or "malformed" in text or "not a database" in text:
        return StoreStartupError(damaged_message(path, text))
    mapped = storage_error(error, path)
    if mapped is not None and mapped.status == 507:
        return StoreStartupError(f"the disk holding the database {path} is full ({text})")
    return StoreStartupError(f"cannot open the database {path}: {text}")
