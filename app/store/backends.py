"""Where workspace states are kept: a SQLite file by default, or memory for tests.

A workspace is saved as a small meta record with a version number, one row per object and
one row per event (see :mod:`app.cluster.persistence`). A change writes only the rows that
changed, and only if the version is still the one the writer read, so two writers can never
silently overwrite each other (optimistic concurrency, like the API server's
``resourceVersion``).

Each save also keeps the workspace's history (see :mod:`app.store.history`): an ordinary
change adds an entry holding the rows it changed before and after, an undo or redo moves an
entry to or from the redo stack, in the same transaction as the rows themselves.

The backends live in :mod:`app.store.memory` and :mod:`app.store.sqlite`, what they share in
:mod:`app.store.base`; this module gathers them.
"""

from __future__ import annotations

from app.store.base import Backend, ShareRow, StaleWrite, dump
from app.store.memory import MemoryBackend
from app.store.sqlite import SqliteBackend

__all__ = ["Backend", "MemoryBackend", "ShareRow", "SqliteBackend", "StaleWrite", "dump"]
