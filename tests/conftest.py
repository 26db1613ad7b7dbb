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
