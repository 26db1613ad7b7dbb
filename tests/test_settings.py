"""Every ``PODPATH_*`` setting is read from its environment variable, and a server started
with environment variables alone uses them (``PODPATH_DATA_DIR`` once crashed startup)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import pytest

from app.settings import Settings
from tests.conftest import REPO, free_port


def sample(name: str, kind: str, tmp_path: Path) -> tuple[str, object]:
    """A value for a setting other than its default, as text and as read."""
    if kind.startswith("Path"):
        return str(tmp_path / name), tmp_path / name
    if kind == "int":
        return "7", 7
    if name == "store":
        return "memory", "memory"
    if name == "database_url":
        url = "postgresql://podpath:secret@db.school.example:5432/podpath"
        return url, url
    return "podpath.example", "podpath.example"


@pytest.mark.parametrize("field", fields(Settings), ids=lambda f: f.name)
def test_each_setting_comes_from_its_environment_variable(field, tmp_path: Path) -> None:
    text, value = sample(field.name, str(field.type), tmp_path)
    settings = Settings.from_env({f"PODPATH_{field.name.upper()}": text})
    assert getattr(settings, field.name) == value
    assert getattr(settings, field.name) != getattr(Settings(), field.name)


def test_a_flag_wins_over_the_environment(tmp_path: Path) -> None:
    from app.__main__ import settings_from_args

    os.environ["PODPATH_PORT"] = "9001"
    try:
        assert settings_from_args(["--port", "9002"]).port == 9002
        assert settings_from_args([]).port == 9001
    finally:
        del os.environ["PODPATH_PORT"]


def test_the_database_url_comes_from_its_flag_and_its_password_is_not_shown() -> None:
    from app.__main__ import settings_from_args

    url = "postgresql://podpath:secret@db.school.example/podpath"
    settings = settings_from_args(["--database-url", url])
    assert settings.database_url == url and "secret" not in repr(settings)
    assert Settings.from_env(settings.to_env()).database_url == url  # passed on to workers
    assert Settings().database_url == ""  # unset: the store setting decides


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PODPATH_PORT", "eighty", "PODPATH_PORT must be a whole number, got 'eighty'"),
        ("PODPATH_CACHE_SIZE", "-1", "PODPATH_CACHE_SIZE must not be negative"),
    ],
)
def test_a_bad_value_stops_with_one_line(variable: str, value: str, says: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env({variable: value})
    assert str(stopped.value).startswith("podpath: ") and says in str(stopped.value)


@pytest.mark.slow
def test_a_server_configured_by_environment_alone_uses_its_data_dir(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "podpath-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPATH_")}
    env.update(PODPATH_DATA_DIR=str(data_dir), PODPATH_PORT=str(port), PODPATH_IDLE_DAYS="5")
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=REPO, env=env, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 30
        page = ""
        while time.monotonic() < deadline and server.poll() is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/w", data=b"", method="POST"
                )
                with urllib.request.urlopen(request, timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert server.poll() is None, log.read_text()
        assert "Sandboxes unused for 5 days are deleted" in page
        assert (data_dir / "podpath.sqlite3").is_file()
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("threads, expected", [(3, 3), (0, 40)])
def test_the_threads_setting_bounds_the_threads_a_server_works_on(
    tmp_path: Path, threads: int, expected: int
) -> None:
    import anyio
    from anyio import to_thread

    from app.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path, store="memory", threads=threads))

    async def started() -> int:  # what the server runs as it starts, then the limit it has
        for hook in app.router.on_startup:
            await hook()
        return to_thread.current_default_thread_limiter().total_tokens

    # In a thread of its own: another test (Playwright's) may run an event loop in this one.
    with keeping_the_garbage_collector(), ThreadPoolExecutor(1) as pool:
        assert pool.submit(anyio.run, started).result() == expected


@contextmanager
def keeping_the_garbage_collector() -> Iterator[None]:
    """The test process's collector as it was, whatever a server's start set."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_server_collects_garbage_rarely_and_never_walks_what_it_started_with(
    tmp_path: Path,
) -> None:
    """A full collection walks every object the process holds and stops it meanwhile: a
    serving process makes them rare, and sets aside what it built to start."""
    import anyio

    from app.web.app import GC_THRESHOLDS, create_app

    app = create_app(Settings(data_dir=tmp_path, store="memory"))

    async def started() -> tuple[tuple[int, int, int], int]:
        for hook in app.router.on_startup:
            await hook()
        return gc.get_threshold(), gc.get_freeze_count()

    with keeping_the_garbage_collector(), ThreadPoolExecutor(1) as pool:
        thresholds, frozen = pool.submit(anyio.run, started).result()
    assert thresholds == GC_THRESHOLDS != (700, 10, 10)
    assert frozen > 100_000  # the modules, templates and lessons loaded to start


def test_a_server_runs_on_uvloop_and_httptools() -> None:
    """pyproject.toml installs them and uvicorn's "auto" (what ``python -m app`` leaves it
    at) picks them: a class is served on them, as bench/classroom.py measures it, not on plain
    asyncio and h11."""
    import uvicorn

    async def app(scope, receive, send) -> None:  # never called: only the choice is checked
        raise AssertionError

    config = uvicorn.Config(app, loop="auto", http="auto")
    config.load()
    assert config.http_protocol_class.__module__ == "uvicorn.protocols.http.httptools_impl"
    assert config.get_loop_factory().__module__ == "uvloop"
