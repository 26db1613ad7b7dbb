"""Opening the workspace store a server's settings ask for."""

from __future__ import annotations

import logging
from pathlib import Path

from app.errors import PodpathError, StoreStartupError
from app.settings import Settings
from app.store.backends import Backend, MemoryBackend, SqliteBackend
from app.store.classes.base import ClassBackend
from app.store.classes.memory import MemoryClassBackend
from app.store.classes.sqlite import SqliteClassBackend
from app.store.disk import DiskFloor
from app.store.workspaces import Workspaces

log = logging.getLogger("podpath")

DATABASE = "podpath.sqlite3"


def open_workspaces(settings: Settings) -> Workspaces:
    """The workspaces of a server with these settings, with the idle ones deleted.

    Parameters
    ----------
    settings : Settings
        ``database_url`` (a PostgreSQL database, when set), else ``store`` and ``data_dir``
        say where workspaces live; ``cache_size``,
        ``cache_objects``, ``idle_days``, ``share_days`` and ``min_free_mb`` bound them.

    Returns
    -------
    Workspaces
        Ready to serve (read-only when the database cannot be written).

    Raises
    ------
    StoreStartupError
        When the store cannot be opened; the message is one line naming the path (or the
        database and its host) and the problem.
    """
    backend: Backend
    floor = None
    if settings.database_url:  # several machines share it: no data folder, no disk floor
        from app.store.postgres import PostgresBackend

        backend = PostgresBackend(settings.database_url)
    elif settings.store == "memory":
        backend = MemoryBackend()
    elif settings.store == "sqlite":
        folder = Path(settings.data_dir)
        backend = SqliteBackend(folder / DATABASE)
        floor = DiskFloor(folder, settings.min_free_mb)
    else:
        raise StoreStartupError(f"unknown store {settings.store!r}: use sqlite or memory")
    workspaces = Workspaces(
        backend,
        cache_size=settings.cache_size,
        cache_objects=settings.cache_objects,
        idle_days=settings.idle_days,
        share_days=settings.share_days,
        floor=floor,
    )
    try:
        workspaces.expire_idle()
    except PodpathError as error:  # a read-only store: nothing can be deleted, reads go on
        log.warning("podpath: could not delete idle workspaces: %s", error)
    return workspaces


def open_class_backend(workspaces: Workspaces) -> ClassBackend:
    """Where the classes of a server are kept: beside its workspaces, in the same store.

    >>> from app.store.backends import MemoryBackend
    >>> type(open_class_backend(Workspaces(MemoryBackend()))).__name__
    'MemoryClassBackend'
    """
    backend = workspaces.backend
    if isinstance(backend, SqliteBackend):
        return SqliteClassBackend(backend)
    if isinstance(backend, MemoryBackend):
        return MemoryClassBackend()
    from app.store.classes.postgres import PostgresClassBackend  # psycopg: only when used
    from app.store.postgres import PostgresBackend

    if isinstance(backend, PostgresBackend):
        return PostgresClassBackend(backend)
    raise StoreStartupError(f"no class store for {type(backend).__name__}")
