"""The store on a public server: a cache bounded by size, idle workspaces expiring, a disk
floor, share links that expire, rotate and can be revoked, storage failures named, and the
upgrade of a database made with the first layout."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import InsufficientStorage, NotFound, StorageUnavailable
from app.store import schema, startup
from app.store.backends import SqliteBackend
from app.store.cache import ClusterCache, size_of
from app.store.disk import MB, DiskFloor
from app.store.failures import storage_error
from app.store.postgres import PostgresBackend
from app.store.shares import DAY
from app.store.workspaces import Workspaces
from tests.unit.scenarios import deployment, service

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, days: float = 0, hours: float = 0) -> None:
        self.now += days * DAY + hours * 3600


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, open_backend: Callable[..., Any]) -> Any:
    return open_backend(request.param)


def near_quota() -> Cluster:
    """A workspace close to its quota (150 pods, 450 objects): 135 pods behind a Service."""
    cluster = Cluster.create(ClusterConfig(max_pods=150, max_objects=450), seed=3)
    apply_text(cluster, deployment("web", 135) + "---\n" + service("web"))
    return cluster


def rss_mb() -> float | None:
    """This process's resident memory in MB (Linux), or None where it cannot be read."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / MB


# --- the cache ------------------------------------------------------------------------------
def test_the_cache_drops_the_least_recently_used_beyond_its_object_bound() -> None:
    small = Cluster.create(ClusterConfig(), 1)
    size = size_of(small)
    cache = ClusterCache(max_count=10, max_objects=size * 3)
    for name in "abc":
        cache.put(name, 1, small)
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", 1, small)
    assert cache.ids() == ["c", "a", "d"] and cache.objects == size * 3
    cache.drop("a")
    assert cache.ids() == ["c", "d"] and cache.objects == size * 2


def test_a_workspace_bigger_than_the_whole_bound_is_not_cached() -> None:
    big = near_quota()
    cache = ClusterCache(max_count=10, max_objects=size_of(big) - 1)
    cache.put("small", 1, Cluster.create(ClusterConfig(), 1))
    cache.put("big", 1, big)
    assert cache.ids() == ["small"] and cache.get("big") is None


# Memory measured on the development machine (Linux, CPython 3.11) for 100 copies of a
# 177-object workspace: with the bound, the process grew by about 12 MB; without it (the
# 512-workspace count alone), by about 175 MB.
MEMORY_LIMIT_MB = 60


def test_100_copies_of_a_near_quota_workspace_keep_the_cache_within_its_bound(
    tmp_path: Path,
) -> None:
    source = near_quota()
    bound = size_of(source) * 5 + 10  # room for five copies
    store = Workspaces(SqliteBackend(tmp_path / "podpath.sqlite3"), 512, cache_objects=bound)
    original, _ = store.create_from(source)
    del source
    gc.collect()
    before = rss_mb()
    copies = []
    for _ in range(100):
        copies.append(store.fork(original)[0])
        assert store.cache.objects <= bound
    gc.collect()
    after = rss_mb()
    assert len(store.cache) == 5 and len(set(copies)) == 100
    assert store.read(copies[0], size_of) == store.read(original, size_of)  # loaded back
    if before is not None and after is not None:
        assert after - before < MEMORY_LIMIT_MB, f"grew by {after - before:.0f} MB"


# --- idle expiry ----------------------------------------------------------------------------
def counting(backend: Any) -> list[str]:
    """Record the backend's writes of "last used" (wraps ``touch``)."""
    calls: list[str] = []
    touch = backend.touch

    def spy(workspace_id: str, now: float, older_than: float) -> None:
        calls.append(workspace_id)
        touch(workspace_id, now, older_than)

    backend.touch = spy
    return calls


def test_workspaces_unused_for_idle_days_are_deleted_with_all_they_hold(backend: Any) -> None:
    clock = Clock()
    store = Workspaces(backend, idle_days=30, clock=clock)
    used, idle = store.create(ClusterConfig(), seed=1)[0], store.create(ClusterConfig(), seed=2)[0]
    for workspace in (used, idle):
        store.change(workspace, lambda c: apply_text(c, deployment("web", 1)))
        store.make_share(workspace)
    clock.advance(days=20)
    store.read(used, size_of)
    clock.advance(days=10, hours=1)  # idle: 30 days and an hour; used: 10 days and an hour
    assert store.expire_idle() == 1
    assert store.exists(used) and not store.exists(idle)
    assert idle not in store.cache.ids()
    for table in ("objects", "events", "history", "shares"):
        if isinstance(backend, SqliteBackend):
            with sqlite3.connect(backend.path) as db:
                query = f"SELECT count(*) FROM {table} WHERE workspace = ?"
                counts = [db.execute(query, (w,)).fetchone()[0] for w in (idle, used)]
        elif isinstance(backend, PostgresBackend):
            query = f"SELECT count(*) FROM {table} WHERE workspace = %s"
            counts = [backend.rows(query, w)[0][0] for w in (idle, used)]
        else:
            break
        assert counts[0] == 0 and counts[1] > 0, table
    clock.advance(days=31)
    assert store.expire_idle() == 1 and not store.exists(used)


def test_last_used_is_written_at_most_once_an_hour_per_workspace(backend: Any) -> None:
    clock = Clock()
    store = Workspaces(backend, clock=clock)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    writes = counting(backend)
    for _ in range(5):
        store.read(workspace, size_of)
        store.change(workspace, lambda c: apply_text(c, deployment("web", 1)))
        clock.advance(hours=0.1)
    assert writes == []  # made at T0: used for the last half hour
    clock.advance(hours=1)
    store.read(workspace, size_of)
    store.read(workspace, size_of)
    assert writes == [workspace]


def test_expiry_runs_from_create_at_most_once_an_hour_and_never_when_idle_days_is_0(
    backend: Any,
) -> None:
    clock = Clock()
    store = Workspaces(backend, idle_days=1, clock=clock)
    old, _ = store.create(ClusterConfig(), seed=1)  # the first create looks (nothing idle)
    clock.advance(hours=23.5)
    store.create(ClusterConfig(), seed=2)  # looks again: old is not idle for a day yet
    clock.advance(hours=0.75)
    store.create(ClusterConfig(), seed=3)  # old is idle now, but the last look was 45 min ago
    assert store.exists(old)
    clock.advance(hours=0.5)
    store.create(ClusterConfig(), seed=4)
    assert not store.exists(old)
    forever = Workspaces(backend, idle_days=0, clock=clock)
    kept, _ = forever.create(ClusterConfig(), seed=4)
    clock.advance(days=1000)
    assert forever.expire_idle() == 0 and forever.exists(kept)


# --- the disk floor -------------------------------------------------------------------------
def test_below_the_disk_floor_new_workspaces_are_refused_and_existing_ones_work(
    tmp_path: Path,
) -> None:
    free = {"bytes": 500 * MB}
    floor = DiskFloor(tmp_path, 200, probe=lambda path: free["bytes"])
    store = Workspaces(SqliteBackend(tmp_path / "podpath.sqlite3"), floor=floor)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    free["bytes"] = 120 * MB
    message = (
        f"the disk holding {tmp_path} has 120 MB free, below the 200 MB kept for the sandboxes "
        "that exist: new sandboxes are refused until space is freed"
    )
    for make in (
        lambda: store.create(ClusterConfig()),
        lambda: store.create_from(Cluster.create(ClusterConfig(), 1)),
        lambda: store.fork(workspace),
        lambda: store.fork_shared(store.make_share(workspace).token),
    ):
        with pytest.raises(InsufficientStorage) as refused:
            make()
        assert str(refused.value) == message and refused.value.status == 507
    store.change(workspace, lambda c: apply_text(c, deployment("web", 2)))  # still works
    health = store.health()
    assert health["writable"] and not health["new_sandboxes"]
    assert health["problem"] == message and health["free_mb"] == 120
    free["bytes"] = 300 * MB
    assert store.create(ClusterConfig())[0] and store.health()["problem"] is None


# --- share links ----------------------------------------------------------------------------
def test_a_share_link_is_made_on_request_and_reading_it_never_writes(backend: Any) -> None:
    clock = Clock()
    store = Workspaces(backend, share_days=30, clock=clock)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    made = backend.new_share
    writes: list[str] = []
    backend.new_share = lambda *args: (writes.append(args[0]), made(*args))
    assert store.current_share(workspace) is None and writes == []
    share = store.make_share(workspace)
    assert share.expires == datetime.fromtimestamp(T0 + 30 * DAY, UTC)
    assert store.make_share(workspace) == share == store.current_share(workspace)
    assert writes == [workspace]
    assert store.shared_workspace(share.token) == workspace
    copy, _ = store.fork_shared(share.token)
    assert copy != workspace and store.exists(copy)
    with pytest.raises(NotFound):
        store.current_share("no-such-workspace-000000")


def test_rotate_revoke_and_expiry_each_say_why_the_link_no_longer_works(backend: Any) -> None:
    clock = Clock()
    store = Workspaces(backend, share_days=30, clock=clock)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    first = store.make_share(workspace)
    clock.advance(hours=2)
    second = store.rotate_share(workspace)
    assert second.token != first.token and store.current_share(workspace) == second
    with pytest.raises(NotFound, match=r"was turned off on 2023-11-15 00:13 UTC"):
        store.shared_workspace(first.token)
    store.revoke_share(workspace)
    assert store.current_share(workspace) is None
    with pytest.raises(NotFound, match="turned off"):
        store.fork_shared(second.token)
    third = store.make_share(workspace)
    clock.advance(days=30)
    assert store.current_share(workspace) is None
    with pytest.raises(NotFound) as expired:
        store.shared_workspace(third.token)
    assert "expired on 2023-12-15 00:13 UTC, 30 days after it was made" in str(expired.value)
    fourth = store.make_share(workspace)  # the expired one is replaced
    assert fourth.token != third.token and store.shared_workspace(fourth.token) == workspace
    with pytest.raises(NotFound, match="no share link"):
        store.shared_workspace("x" * 32)
    with pytest.raises(NotFound, match="no share link"):
        store.shared_workspace(workspace)  # a workspace id is not a token


def test_with_share_days_0_a_link_lasts_until_revoked(backend: Any) -> None:
    clock = Clock()
    store = Workspaces(backend, share_days=0, clock=clock)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    share = store.make_share(workspace)
    assert share.expires is None
    clock.advance(days=3650)
    assert store.shared_workspace(share.token) == workspace


# --- storage failures -----------------------------------------------------------------------
def failure(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("message", "code", "status", "words"),
    [
        ("database or disk is full", 13, 507, "is full"),
        ("attempt to write a readonly database", 8, 503, "is read-only"),
        ("disk I/O error", 10, 503, "reported an I/O error"),
        ("disk I/O error", 10 | (1 << 8), 503, "reported an I/O error"),  # SQLITE_IOERR_READ
        ("database is locked", 5, 503, "stayed locked by another process for more than 30 s"),
        ("database disk image is malformed", 11, 503, "is damaged"),
        ("file is not a database", 26, 503, "restore it from a backup"),
    ],
)
def test_each_sqlite_failure_is_named_with_the_database_path(
    message: str, code: int, status: int, words: str
) -> None:
    error = storage_error(failure(message, code), Path("/srv/podpath/podpath.sqlite3"))
    assert error is not None and error.status == status
    assert words in error.message and "/srv/podpath/podpath.sqlite3" in error.message


def test_a_database_locked_too_long_gives_a_503_naming_it(tmp_path: Path) -> None:
    store = Workspaces(SqliteBackend(tmp_path / "podpath.sqlite3", busy_timeout=0.2))
    workspace, _ = store.create(ClusterConfig(), seed=1)
    other = sqlite3.connect(tmp_path / "podpath.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StorageUnavailable, match=r"stayed locked .* more than 0.2 s"):
            store.change(workspace, lambda c: apply_text(c, deployment("web", 1)))
        assert store.read(workspace, size_of) > 0  # reads go on
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.change(workspace, lambda c: apply_text(c, deployment("web", 1)))
    assert store.health()["writable"]


def test_a_database_that_cannot_be_written_is_opened_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "podpath.sqlite3"
    writer = Workspaces(SqliteBackend(path))
    workspace, _ = writer.create(ClusterConfig(), seed=1)
    share = writer.make_share(workspace)
    writer.backend.close()  # type: ignore[attr-defined]
    # As root, chmod cannot make a file read-only; play it by answering "not writable".
    monkeypatch.setattr(startup, "can_write", lambda p: False)
    backend = SqliteBackend(path)
    store = Workspaces(backend)
    assert backend.read_only
    assert store.read(workspace, size_of) > 0 and store.shared_workspace(share.token) == workspace
    for write in (
        lambda: store.change(workspace, lambda c: apply_text(c, deployment("web", 1))),
        lambda: store.create(ClusterConfig()),
        lambda: store.rotate_share(workspace),
    ):
        with pytest.raises(StorageUnavailable, match=f"the database {path} is read-only"):
            write()
    assert store.read(workspace, size_of) > 0
    health = store.health()
    assert not health["writable"] and "is read-only" in health["problem"]


def test_a_failed_write_is_reported_until_one_succeeds(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "podpath.sqlite3")
    store = Workspaces(backend)
    store.create(ClusterConfig(), seed=1)
    backend._problem = "the disk holding the database is full"  # as a failed write leaves it
    assert store.health()["writable"]  # the probe write succeeds: the problem is gone
    assert store.health()["problem"] is None


def test_threads_each_get_a_connection_and_close_closes_them_all(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "podpath.sqlite3")
    store = Workspaces(backend)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    threads = [threading.Thread(target=store.read, args=(workspace, size_of)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    backend.close()
    assert store.read(workspace, size_of) > 0  # a new connection after close


# --- the upgrade from the first layout ------------------------------------------------------
def first_layout_copy(source: Path, target: Path) -> None:
    """Copy a database's workspaces into a database with the first layout (user_version 0:
    WITHOUT ROWID objects and events, shares without dates, no last_used)."""
    old = sqlite3.connect(target, isolation_level=None)
    old.execute("PRAGMA journal_mode=WAL")
    old.executescript(schema.FIRST_LAYOUT)
    old.execute("ATTACH DATABASE ? AS new", (str(source),))
    old.execute("BEGIN")
    old.execute("INSERT INTO workspaces SELECT id, version, meta FROM new.workspaces")
    old.execute("INSERT INTO objects SELECT workspace, id, body, applied FROM new.objects")
    old.execute("INSERT INTO events SELECT workspace, id, body FROM new.events")
    old.execute("INSERT INTO history SELECT * FROM new.history")
    old.execute("INSERT INTO shares SELECT token, workspace FROM new.shares WHERE ended IS NULL")
    old.execute("COMMIT")
    old.execute("DETACH DATABASE new")
    old.close()


def test_a_database_with_the_first_layout_is_upgraded_and_every_workspace_reads_back(
    tmp_path: Path,
) -> None:
    made = Workspaces(SqliteBackend(tmp_path / "new.sqlite3"))
    for seed in range(4):
        workspace, _ = made.create(ClusterConfig(), seed=seed)
        made.change(
            workspace, lambda c: apply_text(c, deployment("web", 3) + "---\n" + service("web"))
        )
    token = made.make_share(workspace).token
    loaded = Workspaces(made.backend)  # nothing cached: every state as loaded from the file
    states = {w: loaded.read(w, lambda c: c.to_state()) for w in made.cache.ids()}
    made.backend.close()  # type: ignore[attr-defined]
    path = tmp_path / "old.sqlite3"
    first_layout_copy(tmp_path / "new.sqlite3", path)
    with sqlite3.connect(path) as db:
        assert (
            "WITHOUT ROWID"
            in db.execute("SELECT sql FROM sqlite_master WHERE name = 'objects'").fetchone()[0]
        )

    clock = Clock()
    store = Workspaces(SqliteBackend(path), clock=clock)
    for workspace, state in states.items():
        assert store.read(workspace, lambda c: c.to_state()) == state
    assert store.history(workspace).entries  # the history came along
    assert store.shared_workspace(token) == workspace
    store.change(workspace, lambda c: apply_text(c, deployment("api", 1)))
    store.undo(workspace)
    assert store.read(workspace, lambda c: c.to_state())["objects"] == state["objects"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (schema.VERSION,)
        for table in ("objects", "events"):
            sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            assert "WITHOUT ROWID" not in sql[0] and "UNIQUE (workspace, id)" in sql[0]
        used = {w: t for w, t in db.execute("SELECT id, last_used FROM workspaces")}
        assert set(used) == set(states) and all(t > 0 for t in used.values())
    assert SqliteBackend(path).version(workspace)  # opening again upgrades nothing


def test_a_database_from_a_newer_podpath_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "podpath.sqlite3"
    SqliteBackend(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    with pytest.raises(Exception, match="made by a newer Podpath"):
        SqliteBackend(path)


def test_marks_answer_for_many_workspaces_in_one_look(backend: Any) -> None:
    """What the pages keeping up with their workspaces ask (app/web/live): every watched
    workspace's version, and the mark of its objects, at once, from the meta records; a
    missing one is left out; a save of lesson notes alone moves the version, not the mark.
    600 ids cross SQLite's chunk."""
    store = Workspaces(backend)
    first, second = store.create(ClusterConfig(), seed=1)[0], store.create(ClusterConfig())[0]
    before = backend.marks([first])[first]
    store.change(first, lambda c: apply_text(c, deployment("web", 1)))
    asked = [first, second, *(f"missing-{n}" for n in range(600))]
    found = backend.marks(asked)
    assert sorted(found) == sorted([first, second])
    assert backend.versions(asked) == {first: found[first].version, second: found[second].version}
    changed = found[first]
    assert changed.version == backend.version(first) > before.version
    assert changed.resource_version > before.resource_version
    assert changed.config == ClusterConfig().to_state()
    store.change(first, lambda c: c.state.notes.update(seen=True))
    noted = backend.marks([first])[first]
    assert noted.version > changed.version
    assert (noted.lineage, noted.resource_version, noted.event_seq) == (
        changed.lineage,
        changed.resource_version,
        changed.event_seq,
    )
