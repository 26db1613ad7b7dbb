"""A private, throwaway PostgreSQL server for the tests (``initdb`` into a temporary folder,
``pg_ctl start`` on a free loopback port), and a fresh database per test on it.

The server runs without fsync (a crash loses nothing a test cares about) and listens on
127.0.0.1 only, with its Unix socket in its own folder. PostgreSQL refuses to run as root, so
when the tests run as root the server runs as the ``postgres`` system user (``runuser``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

#: Settings that make a test server quick: no fsync, no waiting for the disk.
FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=300")


def find_bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: the one on PATH, else Debian's newest
    ``/usr/lib/postgresql/<version>/bin``; None when PostgreSQL is not installed."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    found.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def need_bin_dir() -> Path:
    """:func:`find_bin_dir`, else skip the test, or fail it in CI (``CI`` set): CI never
    silently skips."""
    import pytest

    found = find_bin_dir()
    if found is None:
        message = (
            "PostgreSQL is not installed (no initdb on PATH nor in /usr/lib/postgresql/*/bin): "
            "apt-get install postgresql, or set PODPATH_TEST_DATABASE_URL"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server started by :func:`start`; :meth:`stop` ends it and deletes its files."""

    bin_dir: Path
    folder: Path
    port: int
    as_user: list[str]
    seconds_to_start: float

    @property
    def url(self) -> str:
        """The ``postgres`` maintenance database, as the superuser ``postgres``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def halt(self, mode: str = "fast") -> None:
        """Stop the server, closing every connection (its files stay: see :meth:`resume`).
        ``immediate`` is a crash, which may lose the last commits: the server runs without
        fsync and synchronous commits."""
        subprocess.run(
            [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"),
             "-m", mode, "-w", "stop"],
            check=False, capture_output=True, timeout=60,
        )  # fmt: skip

    def resume(self) -> None:
        """Start the server again after :meth:`halt`, on the same port."""
        if not _pg_ctl_start(self.bin_dir, self.folder, self.port, self.as_user):
            raise RuntimeError(f"pg_ctl start failed again; the server's log:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server and delete its files."""
        self.halt("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}")


def _pg_ctl_start(bin_dir: Path, folder: Path, port: int, as_user: list[str]) -> bool:
    """Start the server of ``folder`` on ``port``; whether it started (else the port was
    taken, or see the log)."""
    options = " ".join(
        [f"-p {port}", f"-k {folder}", "-c listen_addresses=127.0.0.1"]
        + [f"-c {setting}" for setting in FAST]
    )
    done = subprocess.run(
        [*as_user, str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-l",
         str(folder / "server.log"), "-o", options, "-w", "-t", "60", "start"],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    return done.returncode == 0


def start(bin_dir: Path) -> PostgresServer:
    """Make a database cluster in a new temporary folder and start a server on it.

    Raises
    ------
    RuntimeError
        When ``initdb`` or ``pg_ctl`` fails (with their output and the server's log).
    """
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="podpath-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses root: run it as the postgres system user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            raise RuntimeError(
                "PostgreSQL refuses to run as root, and there is no 'postgres' user to run it "
                "as (Debian's postgresql package makes one)"
            ) from None
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    try:
        _run(
            [*as_user, str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
            "initdb",
        )  # fmt: skip
        for _attempt in range(3):
            port = free_port()
            if _pg_ctl_start(bin_dir, folder, port, as_user):
                return PostgresServer(bin_dir, folder, port, as_user, time.monotonic() - began)
        log = (folder / "server.log").read_text(errors="replace")
        raise RuntimeError(f"pg_ctl start failed three times; the server's log:\n{log}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def with_database(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` instead.

    >>> with_database("postgresql://postgres@127.0.0.1:5999/postgres", "t1")
    'user=postgres dbname=t1 host=127.0.0.1 port=5999'
    """
    return make_conninfo(url, dbname=dbname)


def with_schema(url: str, schema: str) -> str:
    """``url`` whose sessions find (and make) tables in ``schema`` first."""
    return make_conninfo(url, options=f"-csearch_path={schema}")


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new empty database on the server of ``url`` (whose user may create databases), its
    URL given while the block runs, dropped after it. A user who may not create databases gets
    a new schema of ``url``'s database instead (dropped after, with everything in it)."""
    name = f"podpath_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        try:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )
            made = with_database(url, name)
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        except psycopg.errors.InsufficientPrivilege:
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
            made = with_schema(url, name)
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
    try:
        yield made
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(drop.format(sql.Identifier(name)))


def describe(url: str) -> str:
    """Where ``url`` points, without its password.

    >>> describe("postgresql://u:secret@db:5433/p")
    'db:5433/p'
    """
    parts = conninfo_to_dict(url)
    return f"{parts.get('host', '')}:{parts.get('port', '5432')}/{parts.get('dbname', '')}"
