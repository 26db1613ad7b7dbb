"""Storage failures are named: at start, one line naming the path and the problem (no
traceback); while serving, a 503 or 507 saying what happened, reads still served where they
can be, and ``/healthz`` saying whether the store can be written.

Run as root, ``chmod`` cannot make a file or folder read-only and no read-only mount can be
made, so the read-only cases replace the store's writability probe
(:func:`app.store.startup.can_write`); the store then opens the database with SQLite's
``mode=ro``, as it does for a real read-only file, folder or mount. A full disk is played by
``PRAGMA max_page_count`` (SQLite answers "database or disk is full", as on a full disk).
With PostgreSQL (``PODPATH_DATABASE_URL``) a read-only server is played by making the
database's new sessions read-only, as on a standby.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.errors import StoreStartupError
from app.settings import Settings
from app.store import startup
from app.store.disk import MB
from tests.conftest import REPO, free_port

from .conftest import Api, deployment, new_workspace

WS = "/api/v1/workspaces"


def sqlite_api(data_dir: Path, **settings: Any) -> Api:
    return Api(Settings(store="sqlite", data_dir=data_dir, **settings))


def start_fails(data_dir: Path | None, env: dict[str, str] | None = None) -> str:
    """Run ``python -m app`` on ``data_dir``; assert it exits non-zero without a traceback
    and return its one ``podpath:`` line."""
    command = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(free_port())]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PODPATH_")}
    done = subprocess.run(
        command,
        cwd=REPO,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("podpath: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def a_database(data_dir: Path) -> str:
    """Make a database in ``data_dir`` holding one workspace with a Deployment; its id."""
    api = sqlite_api(data_dir)
    workspace = new_workspace(api)
    applied = api.post_yaml(f"{WS}/{workspace}/apply", deployment("web", 3))
    assert applied.status_code == 200, applied.text
    api.app.state.workspaces.backend.close()
    return workspace


# --- at start: one line ---------------------------------------------------------------------
@pytest.mark.slow
def test_a_data_dir_that_is_a_file_stops_the_server_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_text("not a folder")
    line = start_fails(data)
    assert line == (
        f"podpath: the data folder {data} is a file, not a folder: point --data-dir "
        "(PODPATH_DATA_DIR) at a folder"
    )
    assert start_fails(None, env={"PODPATH_DATA_DIR": str(data)}) == line


@pytest.mark.slow
def test_a_data_dir_that_cannot_be_created_stops_the_server_with_one_line(tmp_path: Path) -> None:
    data = Path("/proc/podpath-test") / tmp_path.name  # no one may make folders in /proc
    line = start_fails(data)
    assert line.startswith(f"podpath: cannot create the data folder {data}: ")


@pytest.mark.slow
def test_a_file_that_is_not_a_database_stops_the_server_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "podpath.sqlite3").write_bytes(b"these are not the pages you are looking for\n" * 200)
    assert start_fails(data) == (
        f"podpath: the database {data / 'podpath.sqlite3'} is damaged (file is not a "
        "database): restore it from a backup of the data folder, or move it away to start "
        "with no sandboxes"
    )


@pytest.mark.slow
def test_a_truncated_database_stops_the_server_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a_database(data)
    path = data / "podpath.sqlite3"
    with sqlite3.connect(path) as db:  # everything into the main file, then cut it in half
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)
    line = start_fails(data)
    assert line.startswith(f"podpath: the database {path} is damaged (")
    assert line.endswith(
        "restore it from a backup of the data folder, or move it away to start with no sandboxes"
    )


def test_a_data_dir_that_cannot_be_written_and_holds_no_database_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(startup, "can_write", lambda path: False)
    with pytest.raises(StoreStartupError) as refused:
        sqlite_api(tmp_path)
    assert str(refused.value) == (
        f"the data folder {tmp_path} cannot be written and holds no database "
        "(podpath.sqlite3): give Podpath a folder it can write"
    )


# --- while serving: 503 and 507 -------------------------------------------------------------
def test_healthz_says_the_store_can_be_written(tmp_path: Path) -> None:
    response = sqlite_api(tmp_path).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["store"]["writable"] is True
    assert body["store"]["problem"] is None and body["store"]["free_mb"] > 0


def test_a_read_only_database_serves_reads_and_refuses_changes_with_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = a_database(tmp_path)
    monkeypatch.setattr(startup, "can_write", lambda path: False)
    api = sqlite_api(tmp_path)
    assert api.get(f"{WS}/{workspace}/objects").status_code == 200
    assert api.get(f"/w/{workspace}").status_code == 200
    said = (
        f"the database {tmp_path / 'podpath.sqlite3'} is read-only (its file, folder or disk "
        "cannot be written): sandboxes can be viewed but no change can be saved until it can "
        "be written"
    )
    for response in (
        api.post_yaml(f"{WS}/{workspace}/apply", deployment("api", 1)),
        api.delete(f"{WS}/{workspace}/objects/deployment/default/web"),
        api.post(WS, json={}),
    ):
        assert response.status_code == 503, response.text
        assert response.json()["reason"] == "ServiceUnavailable"
        assert response.json()["message"] == said
    health = api.get("/healthz")
    assert health.status_code == 503
    assert health.json()["status"] == "degraded"
    assert health.json()["store"]["writable"] is False and health.json()["store"]["problem"] == said
    assert api.get(f"{WS}/{workspace}/objects").status_code == 200  # reads still served


def fill_the_disk(api: Api) -> None:
    """From now on, every connection of the store may not grow the database file."""
    backend = api.app.state.workspaces.backend
    opened = backend._open

    def limited() -> sqlite3.Connection:
        db = opened()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    backend.close()
    backend._open = limited


def test_a_full_disk_refuses_changes_with_507_and_serves_reads(tmp_path: Path) -> None:
    api = sqlite_api(tmp_path)
    workspace = new_workspace(api)
    fill_the_disk(api)
    applied = api.post_yaml(f"{WS}/{workspace}/apply", deployment("web", 40))
    assert applied.status_code == 507, applied.text
    assert applied.json() == {
        "status": 507,
        "reason": "InsufficientStorage",
        "message": (
            f"the disk holding the database {tmp_path / 'podpath.sqlite3'} is full: this "
            "change was not saved, and changes are refused until space is freed (sandboxes "
            "can still be viewed)"
        ),
        "errors": [],
    }
    assert api.post(WS, json={}).status_code == 507
    objects = api.get(f"{WS}/{workspace}/objects")
    assert objects.status_code == 200
    assert not [o for o in objects.json()["items"] if o["metadata"]["name"].startswith("web")]


def test_below_the_disk_floor_new_sandboxes_get_507_and_existing_ones_work(
    tmp_path: Path,
) -> None:
    api = sqlite_api(tmp_path, min_free_mb=200)
    workspace = new_workspace(api)
    api.app.state.workspaces.floor.probe = lambda path: 120 * MB
    refused = api.post(WS, json={})
    assert refused.status_code == 507
    assert refused.json()["message"] == (
        f"the disk holding {tmp_path} has 120 MB free, below the 200 MB kept for the "
        "sandboxes that exist: new sandboxes are refused until space is freed"
    )
    applied = api.post_yaml(f"{WS}/{workspace}/apply", deployment("web", 2))
    assert applied.status_code == 200, applied.text
    health = api.get("/healthz")
    assert health.status_code == 200
    assert health.json()["store"]["free_mb"] == 120
    assert health.json()["store"]["new_sandboxes"] is False


# --- PostgreSQL (PODPATH_DATABASE_URL) ------------------------------------------------------
@pytest.mark.slow
def test_a_database_url_that_cannot_be_reached_stops_the_server_with_one_line() -> None:
    port = free_port()
    url = f"postgresql://podpath:hunter2@127.0.0.1:{port}/podpath"
    line = start_fails(None, env={"PODPATH_DATABASE_URL": url})
    assert line.startswith(
        f"podpath: cannot open the PostgreSQL database podpath on 127.0.0.1:{port}: "
    )
    assert "Connection refused" in line and "hunter2" not in line


def test_a_read_only_postgres_database_serves_reads_and_refuses_changes_with_503(
    postgres_database: str, tmp_path: Path
) -> None:
    api = Api(Settings(database_url=postgres_database, data_dir=tmp_path))
    backend = api.app.state.workspaces.backend
    try:
        workspace = new_workspace(api)
        with psycopg.connect(postgres_database, autocommit=True) as admin:
            name = admin.execute("SELECT current_database()").fetchone()[0]
            # As on a standby: every new session is read-only.
            admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        backend.pool.drain()  # the connections opened before are replaced
        applied = api.post_yaml(f"{WS}/{workspace}/apply", deployment("api", 1))
        assert applied.status_code == 503, applied.text
        message = applied.json()["message"]
        assert message.startswith(f"the PostgreSQL database {name} on 127.0.0.1:")
        assert "is read-only" in message
        assert api.get(f"{WS}/{workspace}/objects").status_code == 200  # reads still served
        health = api.get("/healthz")
        assert health.status_code == 503 and health.json()["store"]["problem"] == message
        assert not (tmp_path / "podpath.sqlite3").exists()
    finally:
        backend.close()
