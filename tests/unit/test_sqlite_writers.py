"""Writers of one process sharing SQLite transactions (``SqliteBackend._write``): every write
that returned is saved, one that fails takes back only itself, and a transaction SQLite rolls
back fails every write in it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import InsufficientStorage
from app.store.classes.sqlite import SqliteClassBackend
from app.store.sqlite import SqliteBackend
from app.store.workspaces import Workspaces


def deployment(name: str) -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\n"
        f"spec:\n  replicas: 1\n  selector: {{matchLabels: {{app: {name}}}}}\n"
        f"  template:\n    metadata: {{labels: {{app: {name}}}}}\n"
        "    spec: {containers: [{name: c, image: nginx}]}\n"
    )


def counting_commits(backend: SqliteBackend) -> list[str]:
    """The COMMITs the backend's connections run from now on."""
    commits: list[str] = []
    opened = backend._open

    def traced() -> sqlite3.Connection:
        db = opened()
        db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
        return db

    backend.close()
    backend._open = traced  # type: ignore[method-assign]
    return commits


def test_writes_at_once_are_all_saved_in_fewer_commits(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "podpath.sqlite3")
    store = Workspaces(backend)
    classes = SqliteClassBackend(backend)
    ids = [store.create(ClusterConfig(), seed=n)[0] for n in range(8)]
    commits = counting_commits(backend)
    start = threading.Barrier(24)

    def work(k: int) -> None:
        start.wait()
        for j in range(6):
            store.change(ids[k % 8], lambda c, j=j: apply_text(c, deployment(f"d{k}-{j}")))
            classes.add_event("c", "progress", {"k": k}, 0.0, None)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    again = Workspaces(SqliteBackend(tmp_path / "podpath.sqlite3"))  # what is on disk
    # Each cluster has three Deployments of its own: CoreDNS, ingress-nginx, Envoy Gateway.
    made = sum(len(again.read(w, lambda c: c.list("Deployment"))) for w in ids) - 8 * 3
    assert made == 24 * 6
    assert [e.seq for e in classes.events_after("c", 0, 1000)] == list(range(1, 24 * 6 + 1))
    assert len(commits) < 2 * 24 * 6  # some writes shared a commit


def test_a_write_that_fails_in_a_shared_transaction_takes_back_only_itself(
    tmp_path: Path,
) -> None:
    backend = SqliteBackend(tmp_path / "podpath.sqlite3")
    classes = SqliteClassBackend(backend)
    inside, go_on = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first() -> None:  # holds the transaction open until the others wait for it
        with backend._write() as db:
            db.execute("UPDATE classes SET title = 'x' WHERE id = 'none'")
            inside.set()
            go_on.wait(5)
        classes.add_event("c", "first", {}, 0.0, None)

    def failing() -> None:
        try:
            with backend._write() as db:
                db.execute(
                    "INSERT INTO class_events (seq, class, kind, data, at) "
                    "VALUES (99, 'c', 'lost', '{}', 0)"
                )
                raise RuntimeError("this write fails")
        except RuntimeError as error:
            failures.append(error)

    opener = threading.Thread(target=first)
    opener.start()
    assert inside.wait(5)
    others = [threading.Thread(target=failing)] + [
        threading.Thread(target=classes.add_event, args=("c", "other", {}, 0.0, None))
        for _ in range(3)
    ]
    for thread in others:
        thread.start()
    while backend._waiting < len(others):  # all four wait for the writers' lock
        threading.Event().wait(0.01)
    go_on.set()
    for thread in [opener, *others]:
        thread.join(10)
    kinds = sorted(e.kind for e in classes.events_after("c", 0))
    assert kinds == ["first", "other", "other", "other"]
    assert [str(f) for f in failures] == ["this write fails"]


def test_when_sqlite_rolls_back_a_shared_transaction_every_write_in_it_fails(
    tmp_path: Path,
) -> None:
    backend = SqliteBackend(tmp_path / "podpath.sqlite3")
    store = Workspaces(backend)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    classes = SqliteClassBackend(backend)
    inside, go_on = threading.Event(), threading.Event()
    results: list[str] = []

    def first() -> None:
        try:
            with backend._write() as db:
                db.execute("INSERT INTO classes VALUES ('k', 'K', 'h', 't', NULL, 'w', 'w', 0)")
                inside.set()
                go_on.wait(5)
            results.append("first saved")
        except InsufficientStorage:
            results.append("first: full")

    def full_disk() -> None:  # as SQLite does on a full disk: the whole transaction is gone
        try:
            with backend._write() as db:
                db.execute("ROLLBACK")
                raise sqlite3.OperationalError("database or disk is full")
        except InsufficientStorage:
            results.append("full")

    opener = threading.Thread(target=first)
    opener.start()
    assert inside.wait(5)
    filler = threading.Thread(target=full_disk)
    filler.start()
    while backend._waiting < 1:
        threading.Event().wait(0.01)
    go_on.set()
    opener.join(10)
    filler.join(10)
    assert sorted(results) == ["first: full", "full"]
    assert classes.get_class("k") is None  # the first write was not kept
    assert store.health()["writable"]  # and the next write works
    store.change(workspace, lambda c: apply_text(c, deployment("web")))


@pytest.mark.parametrize("timeout", [0.2])
def test_a_write_gives_up_on_a_database_another_process_keeps_locked(
    tmp_path: Path, timeout: float
) -> None:
    backend = SqliteBackend(tmp_path / "podpath.sqlite3", busy_timeout=timeout)
    classes = SqliteClassBackend(backend)
    other = sqlite3.connect(tmp_path / "podpath.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Exception, match="stayed locked"):
            classes.add_event("c", "x", {}, 0.0, None)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert classes.add_event("c", "x", {}, 0.0, None) == 1


def test_a_second_server_keeps_its_views_when_only_the_lessons_notes_changed(
    tmp_path: Path,
) -> None:
    """Two servers on one database: a save that changed only the lessons' notes (a trace
    recorded for a Check) keeps the other server's built views; a change of an object, or a
    whole new state (a reset, a class's new starting point), has them built again."""
    path = tmp_path / "podpath.sqlite3"
    here, there = Workspaces(SqliteBackend(path)), Workspaces(SqliteBackend(path))
    workspace_id, _ = here.create(ClusterConfig(), seed=3)

    def view(cluster):
        return cluster.state.memoised("test.view", lambda: object())

    built = here.read(workspace_id, view)
    assert here.read(workspace_id, view) is built  # the same state: the same view

    def note(cluster):
        cluster.state.notes["seen"] = cluster.state.notes.get("seen", 0) + 1

    there.change(workspace_id, note)
    assert here.read(workspace_id, lambda c: c.state.notes["seen"]) == 1  # reloaded
    assert here.read(workspace_id, view) is built  # and the view kept

    there.change(workspace_id, lambda c: apply_text(c, deployment("web")))
    rebuilt = here.read(workspace_id, view)
    assert rebuilt is not built

    def reset(cluster):
        fresh = Cluster.create(cluster.config, seed=3)
        # The same counters as before, by coincidence: still a different set of objects.
        fresh.state.resource_version = cluster.state.resource_version
        fresh.state.event_seq = cluster.state.event_seq
        cluster.replace_with(fresh)

    there.change(workspace_id, reset)
    assert here.read(workspace_id, view) is not rebuilt
    assert here.read(workspace_id, lambda c: c.get("Deployment", "default", "web")) is None
