"""PostgreSQL as the store, where it differs from SQLite: opening (a URL that cannot be read,
a server that cannot be reached, two processes making the tables at once, a newer layout),
failures while serving named with the database's host and never its password, recovery when
the server comes back, and writers in two processes (two backends) never losing an update.

The backend behaviour PostgreSQL shares with SQLite (save and load, history, shares, expiry)
is tested over every backend in ``test_store_safety.py`` and ``test_history.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

from app.cluster.apply import apply_text
from app.cluster.persistence import Changes
from app.cluster.state import ClusterConfig
from app.errors import StorageUnavailable, StoreStartupError
from app.store.base import StaleWrite
from app.store.cache import size_of
from app.store.postgres import PostgresBackend
from app.store.workspaces import Workspaces
from tests import postgres_server
from tests.conftest import free_port
from tests.unit.scenarios import deployment

SECRET = "hunter2-do-not-print"


def namespace(name: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"


@pytest.fixture
def own_server() -> Iterator[postgres_server.PostgresServer]:
    """A private server the test may stop and start again."""
    server = postgres_server.start(postgres_server.need_bin_dir())
    yield server
    server.stop()


# --- opening --------------------------------------------------------------------------------
def test_a_url_that_cannot_be_read_stops_with_one_line_without_the_password() -> None:
    with pytest.raises(StoreStartupError) as stopped:
        PostgresBackend(f"postgresql://podpath:{SECRET}@[db.example/podpath")
    text = str(stopped.value)
    assert text.startswith("the database URL cannot be read (")
    assert text.endswith("write it as postgresql://user:password@host:5432/dbname")
    assert "\n" not in text and SECRET not in text


def test_a_server_that_cannot_be_reached_stops_with_one_line_naming_its_host() -> None:
    port = free_port()
    with pytest.raises(StoreStartupError) as stopped:
        PostgresBackend(f"postgresql://podpath:{SECRET}@127.0.0.1:{port}/podpath")
    text = str(stopped.value)
    assert text.startswith(f"cannot open the PostgreSQL database podpath on 127.0.0.1:{port}: ")
    assert "Connection refused" in text and "\n" not in text and SECRET not in text


def test_processes_opening_a_new_database_at_once_make_the_tables_once(
    postgres_database: str,
) -> None:
    with ThreadPoolExecutor(6) as pool:  # six connections at once, as six processes would
        backends = list(pool.map(lambda _: PostgresBackend(postgres_database), range(6)))
    try:
        assert all(b.health() == {"writable": True, "problem": None} for b in backends)
        assert backends[0].rows("SELECT count(*) FROM podpath_layout") == [(1,)]
    finally:
        for backend in backends:
            backend.close()


def test_a_database_from_a_newer_podpath_is_refused(postgres_database: str) -> None:
    PostgresBackend(postgres_database).close()
    with psycopg.connect(postgres_database, autocommit=True) as db:
        db.execute("UPDATE podpath_layout SET version = version + 1")
    with pytest.raises(StoreStartupError, match=r"was made by a newer Podpath .*upgrade Podpath"):
        PostgresBackend(postgres_database)


# --- failures while serving -----------------------------------------------------------------
def test_a_full_disk_and_a_read_only_server_are_named(postgres_database: str) -> None:
    backend = PostgresBackend(postgres_database)
    try:
        full = backend.failure(pg_errors.DiskFull("could not extend file"))
        assert full is not None and full.status == 507 and "is full" in full.message
        standby = backend.failure(pg_errors.ReadOnlySqlTransaction("read-only transaction"))
        assert standby is not None and standby.status == 503 and "read-only" in standby.message
        assert backend.failure(pg_errors.UniqueViolation("duplicate key")) is None  # a bug
    finally:
        backend.close()


def test_when_the_server_goes_away_a_change_gets_a_503_naming_it_and_then_recovers(
    own_server: postgres_server.PostgresServer,
) -> None:
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{own_server.port}/postgres"
    backend = PostgresBackend(url, timeout=1.0)
    try:
        store = Workspaces(backend)
        workspace, _ = store.create(ClusterConfig(), seed=1)
        own_server.halt()
        with pytest.raises(StorageUnavailable) as failed:
            store.change(workspace, lambda c: apply_text(c, deployment("web", 1)))
        said = failed.value.message
        assert said.startswith(f"the PostgreSQL database postgres on 127.0.0.1:{own_server.port} ")
        assert "\n" not in said and SECRET not in said and failed.value.status == 503
        health = store.health()
        assert not health["writable"] and SECRET not in health["problem"]
        assert f"127.0.0.1:{own_server.port}" in health["problem"]

        own_server.resume()
        deadline = time.monotonic() + 30
        while True:  # the pool connects again in the background
            try:
                store.change(workspace, lambda c: apply_text(c, deployment("web", 1)))
                break
            except StorageUnavailable:
                assert time.monotonic() < deadline, "the store did not come back"
                time.sleep(0.2)
        assert store.health() == {
            "writable": True,
            "problem": None,
            "free_mb": None,
            "min_free_mb": None,
            "new_sandboxes": True,
        }
    finally:
        backend.close()


def test_connections_the_server_dropped_are_replaced_before_a_request_sees_them(
    postgres_database: str,
) -> None:
    backend = PostgresBackend(postgres_database)
    try:
        store = Workspaces(backend)
        workspace, _ = store.create(ClusterConfig(), seed=1)
        with psycopg.connect(postgres_database, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'podpath' AND datname = current_database()"
            ).fetchone()
            assert killed is not None and killed[0] >= 1
            # pg_terminate_backend only signals: wait until the sessions have gone (their
            # sockets closed), as they have by the time a request comes after a restart.
            deadline = time.monotonic() + 10
            while admin.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'podpath' AND datname = current_database()"
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "the terminated sessions did not end"
                time.sleep(0.02)
        store.change(workspace, lambda c: apply_text(c, deployment("web", 2)))  # no 503
        fresh = Workspaces(backend)
        assert fresh.read(workspace, size_of) == store.read(workspace, size_of)
    finally:
        backend.close()


# --- two writers ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_save_from_a_stale_version_is_refused_and_changes_nothing(
    kind: str, open_backend: Callable[..., Any]
) -> None:
    one, two = open_backend(kind), open_backend(kind)
    workspace, _ = Workspaces(one).create(ClusterConfig(), seed=1)
    version, saved = two.load(workspace)
    store = Workspaces(one)
    store.change(workspace, lambda c: apply_text(c, namespace("a")))
    with pytest.raises(StaleWrite):
        two.save(workspace, Changes(saved.meta, replace_all=True), version)
    assert one.load(workspace)[0] == version + 1
    assert [e.label for e in two.history(workspace)] == ["namespace/a created"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_writers_in_two_processes_lose_no_change(
    kind: str, open_backend: Callable[..., Any]
) -> None:
    stores = [Workspaces(open_backend(kind)), Workspaces(open_backend(kind))]
    workspace, _ = stores[0].create(ClusterConfig(), seed=1)
    start = threading.Barrier(4)

    def write(n: int) -> None:
        start.wait()
        for i in range(6):
            stores[n % 2].change(workspace, lambda c, i=i: apply_text(c, namespace(f"w{n}-{i}")))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    names = stores[1].read(
        workspace, lambda c: {n["metadata"]["name"] for n in c.list("Namespace")}
    )
    assert {f"w{n}-{i}" for n in range(4) for i in range(6)} <= names
    assert stores[0].backend.version(workspace) == 1 + 24
    assert len(stores[0].history(workspace).entries) == 24
