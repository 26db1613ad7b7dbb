"""Opening the workspace store a server's settings ask for."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings
from app.store.backends import MemoryBackend, SqliteBackend
from app.store.workspaces import Workspaces


def open_workspaces(settings: Settings) -> Workspaces:
    """The workspaces of a server with these settings.

    Raises
    ------
    StoreStartupError
        When the store cannot be opened; the message is one line naming the path and the
        problem.
    """
    if settings.store == "memory":
        backend = MemoryBackend()
    elif settings.store == "sqlite":
        backend = SqliteBackend(Path(settings.data_dir) / "podpath.sqlite3")
    else:
        raise SystemExit(f"unknown store {settings.store!r}: use sqlite or memory")
    return Workspaces(backend, cache_size=settings.cache_size)
