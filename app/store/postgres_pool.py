"""The connection machinery the PostgreSQL stores share (workspaces:
:mod:`app.store.postgres`; classes: :mod:`app.store.classes.postgres`): a small pool of
connections per process (``psycopg_pool``), each checked before it is lent, so a restarted
database server costs no request; tables made under an advisory lock; and failures named.

A failure while serving becomes a :class:`~app.errors.StorageUnavailable` (503) or, for a full
disk, an :class:`~app.errors.InsufficientStorage` (507); one while opening, a
:class:`~app.errors.StoreStartupError`. Every message is one line naming the database and its
host, never the password.
"""

from __future__ import annotations

import os
import re
import select
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from app.errors import InsufficientStorage, PodpathError, StorageUnavailable, StoreStartupError

#: The advisory lock (one bigint key) held while tables are made, so two processes opening a
#: new database at once do not trip over each other.
SCHEMA_LOCK = 0x706F64706174  # "podpat"
CONNECT_TIMEOUT = 5  # seconds for one connection attempt


def where(url: str) -> str:
    """The database a URL names, for messages: its name, host and port (never the password).

    >>> where("postgresql://podpath:secret@db.school.example:5433/podpath")
    'podpath on db.school.example:5433'
    >>> where("dbname=classes host=/run/postgresql")
    'classes on /run/postgresql'
    """
    parts = conninfo_to_dict(url)
    env = os.environ
    host = parts.get("host") or parts.get("hostaddr") or env.get("PGHOST") or "localhost"
    port = parts.get("port") or env.get("PGPORT") or "5432"
    name = parts.get("dbname") or env.get("PGDATABASE") or parts.get("user") or "postgres"
    return f"{name} on {host}" if str(host).startswith("/") else f"{name} on {host}:{port}"


def hide(text: str, secret: str = "") -> str:
    """``text`` on one line, with any password in it (``secret``, or one in a URL or a
    ``password=`` pair) replaced by ``***``.

    >>> hide('bad URI "postgresql://u:pw@h/d"\\n\\tmore')
    'bad URI "postgresql://u:***@h/d"'
    """
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if secret:
        line = line.replace(secret, "***")
    line = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", line)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", line)


def pipelined(db: psycopg.Connection) -> AbstractContextManager[Any]:
    """Statements sent without waiting for each answer (libpq's pipeline mode), where the
    libpq in use has it; an answer read inside waits for everything sent before it."""
    return db.pipeline() if psycopg.Pipeline.is_supported() else nullcontext()


def still_open(connection: psycopg.Connection) -> None:
    """The pool's check of a connection it is about to hand out: raises when the server has
    gone from it (restarted, or the connection was ended), so the pool opens another.

    An idle connection whose server ended it has something to read (the server's goodbye, or
    the end of the stream); a sound one has nothing. Only then is the server asked (a round
    trip, which for every connection handed out would cost as much as the query it is for).
    """
    if connection.closed or connection.broken:
        raise psycopg.OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN)
    if poller.poll(0):
        ConnectionPool.check_connection(connection)


class PostgresDatabase:
    """A PostgreSQL database and this process's pool of connections to it.

    Parameters
    ----------
    url : str
        A libpq connection string or URL (``postgresql://user:password@host:5432/dbname``).
    tables : sequence of str
        Statements making the tables (each safe to run again), run first (:meth:`prepare`).
    check : callable, optional
        Called with the connection after ``tables``, in their transaction (to refuse a
        database made by a newer Podpath, say).
    max_connections : int
        Most connections this process keeps open at once.
    timeout : float
        Seconds a request waits for a connection before giving up with a 503.

    Raises
    ------
    StoreStartupError
        When the URL cannot be read, or the server cannot be reached or refuses the user; one
        line naming the database and its host.
    """

    def __init__(
        self,
        url: str,
        tables: Sequence[str] = (),
        check: Callable[[psycopg.Connection], None] | None = None,
        max_connections: int = 10,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.timeout = timeout
        try:
            self._secret = str(conninfo_to_dict(url).get("password") or "")
            self.where = where(url)
        except psycopg.Error as error:
            raise StoreStartupError(
                f"the database URL cannot be read ({hide(str(error))}): write it as "
                "postgresql://user:password@host:5432/dbname"
            ) from None
        self._problem: str | None = None  # why the last write failed, until one succeeds
        #: Called by :meth:`close` first (the classes' listener stops there).
        self.on_close: list[Callable[[], None]] = []
        self.prepare(tables, check)
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            open=False,
            timeout=timeout,
            check=still_open,
            # Give up a background reconnection soon: the next request then tries at once,
            # so a database back after a long outage serves again within seconds.
            reconnect_timeout=10.0,
            # Autocommit: a lone read is one round trip (no BEGIN, no COMMIT); what needs a
            # transaction says so (:meth:`transaction`).
            kwargs={
                "connect_timeout": CONNECT_TIMEOUT,
                "application_name": "podpath",
                "autocommit": True,
            },
            name="podpath",
        )
        self.pool.open()

    def connect(self, **options: Any) -> psycopg.Connection:
        """A new connection of its own (not from the pool), e.g. to LISTEN on."""
        return psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT, **options)

    def prepare(
        self, statements: Sequence[str], check: Callable[[psycopg.Connection], None] | None = None
    ) -> None:
        """Run ``statements`` (each safe to run again) in one transaction under the schema's
        advisory lock, then ``check``.

        Raises
        ------
        StoreStartupError
            When the server cannot be reached or refuses (one line, no password).
        """
        try:
            with self.connect() as db:
                db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for statement in statements:
                    db.execute(statement)
                if check is not None:
                    check(db)
        except psycopg.Error as error:
            raise StoreStartupError(
                f"cannot open the PostgreSQL database {self.where}: {self.say(error)}"
            ) from None

    def say(self, error: BaseException) -> str:
        """What went wrong, on one line and without the password."""
        return hide(str(error), self._secret)

    def failure(self, error: psycopg.Error) -> PodpathError | None:
        """The error to answer with when PostgreSQL failed with ``error`` while serving, or
        None when it is not a storage failure (a bug: let it surface as one)."""
        if isinstance(error, pg_errors.DiskFull):
            return InsufficientStorage(
                f"the disk of the PostgreSQL database {self.where} is full: this change was not "
                "saved, and changes are refused until space is freed (sandboxes can still be "
                "viewed)"
            )
        if isinstance(error, pg_errors.ReadOnlySqlTransaction):
            return StorageUnavailable(
                f"the PostgreSQL database {self.where} is read-only (a standby server?): "
                "sandboxes can be viewed but no change can be saved until it can be written"
            )
        if isinstance(error, PoolTimeout):
            return StorageUnavailable(
                f"the PostgreSQL database {self.where} cannot be reached "
                f"({self._unreachable()}): nothing was changed; try again"
            )
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return StorageUnavailable(
                f"the PostgreSQL database {self.where} failed ({self.say(error)}): the change "
                "was not saved; try again"
            )
        return None

    def _unreachable(self) -> str:
        """Why the pool had no connection to give: the server's own refusal, when a new
        connection fails too; else every connection was busy."""
        try:
            with psycopg.connect(self.url, connect_timeout=2):
                pass
        except psycopg.Error as error:
            return self.say(error)
        return f"all {self.pool.max_size} connections stayed busy for over {self.timeout:g} s"

    @contextmanager
    def named(self, writing: bool = False) -> Iterator[None]:
        """Turn a storage failure inside into a named 503 or 507 (and remember a failed
        write's, for the store's health)."""
        try:
            yield
        except psycopg.Error as error:
            mapped = self.failure(error)
            if mapped is None:
                raise
            if writing:
                self._problem = mapped.message
            raise mapped from error
        if writing:
            self._problem = None

    @contextmanager
    def transaction(
        self, writing: bool = False, timeout: float | None = None
    ) -> Iterator[psycopg.Connection]:
        """A pooled connection in a transaction, committed at the end of the block and
        rolled back when anything inside fails.

        Not pipelined as a whole: measured here, psycopg's pipeline mode costs a transaction
        that reads an answer midway more than the round trips it saves on a local socket.
        Writes whose answers are not read are pipelined where they are made (:func:`pipelined`).
        """
        with (
            self.named(writing),
            self.pool.connection(timeout) as db,
            db.transaction(),
        ):
            yield db

    def rows(self, query: str, *params: object) -> list[tuple]:
        """Every row a read-only query gives (one statement: no transaction around it)."""
        with self.named(), self.pool.connection() as db:
            return db.execute(query, params).fetchall()

    def write(self, query: str, *params: object) -> list[tuple]:
        """Run one statement that writes, as its own transaction (one round trip: no BEGIN,
        no COMMIT); the rows it returns."""
        with self.named(writing=True), self.pool.connection() as db:
            cursor = db.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        """Close the pool and whatever else uses this database (the classes' listener)."""
        for close in self.on_close:
            close()
        self.pool.close()
