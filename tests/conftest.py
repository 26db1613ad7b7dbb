"""Shared fixtures: a real Podpath server in a subprocess, and the artifacts folder.

``start_server(data_dir)`` is a plain function as well as the engine of the fixtures, so a
test can kill a server (SIGKILL, as a crash would) and start another on the same data folder::

    def test_restart_keeps_workspaces(server_factory, tmp_path):
        first = server_factory(tmp_path / "data")
        ...
        first.kill()
        second = server_factory(tmp_path / "data")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 20.0


@dataclass
class ServerHandle:
    """A running ``python -m app`` process."""

    url: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down gracefully (SIGTERM); SIGKILL if it takes longer than ``timeout``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process.wait()

    def kill(self) -> None:
        """Kill at once (SIGKILL), as a crash or a power cut would."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(env: Mapping[str, str] | None) -> dict[str, str]:
    # The developer's own PODPATH_* settings must not leak into the tests.
    base = {k: v for k, v in os.environ.items() if not k.startswith("PODPATH_")}
    base["PYTHONUNBUFFERED"] = "1"
    # One test process makes a whole session's sandboxes from one address without a browser
    # cookie, far beyond any person: the limits themselves are tested in tests/api.
    base.update({"PODPATH_NEW_PER_CLIENT": "100000", "PODPATH_WORK_PER_CLIENT": "100000"})
    base.update(env or {})
    return base


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def start_server(
    data_dir: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = STARTUP_TIMEOUT,
) -> ServerHandle:
    """Start ``python -m app`` on a free loopback port and wait until ``/healthz`` answers.

    Fails the test with the server's output if it exits or does not answer within ``timeout``
    seconds. The output goes to ``<data_dir>/../server-<port>.log`` (a file, not a pipe, so a
    chatty server never blocks on a full pipe).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    for _attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = data_dir.parent / f"server-{port}.log"
        command = [
            sys.executable,
            "-m",
            "app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *args,
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env=_server_env(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = ServerHandle(url, port, data_dir, log_path, process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _healthy(url):
                return server
            if process.poll() is not None:
                break
            time.sleep(0.1)
        server.kill()
        output = server.log()
        if process.returncode is not None and "address already in use" in output.lower():
            continue  # another process took the port between free_port() and bind: try again
        how = (
            f"exited with code {process.returncode}"
            if process.returncode not in (None, -signal.SIGKILL)
            else f"did not answer GET /healthz within {timeout:.0f} s"
        )
        pytest.fail(f"{' '.join(command)}\n{how}. Its output:\n{output}", pytrace=False)
    pytest.fail("could not find a free port for the server", pytrace=False)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """One server for the whole session, with its own empty data folder."""
    server = start_server(tmp_path_factory.mktemp("live-server") / "data")
    yield server
    server.stop()


@pytest.fixture
def server_factory() -> Iterator[Callable[..., ServerHandle]]:
    """``start_server``, with every server it started stopped after the test."""
    started: list[ServerHandle] = []

    def start(data_dir: Path, **kwargs: object) -> ServerHandle:
        server = start_server(data_dir, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``<repo>/artifacts`` (git-ignored): screenshots and reports worth keeping from a run."""
    path = REPO / "artifacts"
    path.mkdir(exist_ok=True)
    return path


# --- PostgreSQL -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session, as the URL of a database whose user may create
    databases: ``PODPATH_TEST_DATABASE_URL`` when set, else a private throwaway server
    (``tests/postgres_server.py``) stopped at the end. Without PostgreSQL the tests that need
    it are skipped, except in CI (``CI`` set), where they fail."""
    from tests import postgres_server

    given = os.environ.get("PODPATH_TEST_DATABASE_URL")
    if given:
        yield given
        return
    bin_dir = postgres_server.need_bin_dir()
    server = postgres_server.start(bin_dir)
    print(f"\npostgres: started on port {server.port} in {server.seconds_to_start:.2f} s")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of a new empty database on the session's PostgreSQL server, dropped after the
    test (a new schema instead, where the user may not create databases)."""
    from tests import postgres_server

    with postgres_server.fresh_database(postgres_url) as url:
        yield url


@pytest.fixture
def open_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., object]]:
    """``open_backend(kind, **options)``: a new workspace backend of ``kind`` (``memory``,
    ``sqlite`` or ``postgres``). Within one test every ``sqlite`` one opens the same file and
    every ``postgres`` one the same new database, as after a restart or in a second server
    process; each ``memory`` one is new. All are closed after the test, then the database
    dropped."""
    from app.store.backends import MemoryBackend, SqliteBackend
    from app.store.postgres import PostgresBackend
    from tests import postgres_server

    opened: list[object] = []
    databases: list[str] = []
    with ExitStack() as stack:

        def open_backend(kind: str, **options: object) -> object:
            backend: object
            if kind == "memory":
                backend = MemoryBackend()
            elif kind == "sqlite":
                backend = SqliteBackend(tmp_path / "podpath.sqlite3", **options)  # type: ignore[arg-type]
            elif kind == "postgres":
                if not databases:
                    server = request.getfixturevalue("postgres_url")
                    databases.append(stack.enter_context(postgres_server.fresh_database(server)))
                backend = PostgresBackend(databases[0], **options)  # type: ignore[arg-type]
            else:
                raise ValueError(f"no backend {kind!r}")
            opened.append(backend)
            return backend

        yield open_backend
        for backend in reversed(opened):
            close = getattr(backend, "close", None)
            if close is not None:
                close()
