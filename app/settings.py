"""Settings for one Podpath server, read from the command line or the environment.

Every setting is documented in the README's "Settings" table; ``tests/test_docs.py`` fails
when one is missing there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from app.cluster.state import ClusterConfig


def default_data_dir() -> Path:
    """The user's data folder: ``$XDG_DATA_HOME/podpath`` or ``~/.local/share/podpath``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "podpath"


@dataclass(frozen=True)
class Settings:
    """How one server runs.

    Each field can also be set from an environment variable ``PODPATH_<NAME>`` (upper case).
    """

    #: Interface to listen on.
    host: str = "127.0.0.1"
    #: TCP port to listen on.
    port: int = 8000
    #: Folder for the SQLite database of workspaces.
    data_dir: Path = field(default_factory=default_data_dir)
    #: Where workspaces live: ``sqlite`` (kept across restarts) or ``memory`` (tests).
    store: str = "sqlite"
    #: Largest request body accepted, in bytes; larger ones get 413.
    max_body_bytes: int = 2 * 1024 * 1024
    #: Most pods one workspace may hold (a quota, as ResourceQuota would enforce).
    max_pods: int = 2000
    #: Most Services one workspace may hold.
    max_services: int = 500
    #: Most objects of all kinds one workspace may hold.
    max_objects: int = 6000
    #: Most worker nodes a workspace may have.
    max_workers: int = 250
    #: Workspaces kept in memory at once (least recently used ones are dropped; SQLite keeps them).
    cache_size: int = 512
    #: Most objects kept in memory across all cached workspaces (bounds the cache by size).
    cache_objects: int = 60_000
    #: A folder of more lessons, listed after the app's own (see docs/lessons.md).
    lessons_dir: Path | None = None
    #: Days a workspace may go unused before it is deleted (0: never).
    idle_days: int = 30
    #: Days a share link works after it is made or rotated (0: until revoked).
    share_days: int = 30
    #: Free disk space (MB) below which new workspaces are refused; existing ones keep working.
    min_free_mb: int = 200
    #: New workspaces (copies included) one browser may make per hour.
    new_per_client: int = 30
    #: New workspaces all clients behind one address may make per hour (a class behind a NAT).
    new_per_address: int = 1000
    #: Seconds of server work (apply, compare, switch, traces) one browser may use per minute.
    work_per_client: int = 30
    #: Seconds of server work all clients behind one address may use per minute.
    work_per_address: int = 300
    #: Host names the server answers to, comma-separated ("*": any). Empty: the localhost
    #: names when bound to loopback, any name otherwise.
    allowed_hosts: str = ""
    #: More origins (``https://host``) allowed to send changes, comma-separated, for a
    #: deployment whose proxy rewrites the Host header.
    allowed_origins: str = ""
    #: Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed,
    #: comma-separated ("*": any). Empty: none.
    trusted_proxies: str = ""
    #: Server processes (each with its own cache; SQLite keeps them consistent).
    workers: int = 1
    #: Threads each process draws pages and runs changes on. Python runs one at a time, so a
    #: few keep a busy server answering in turn; more only wait (0: the default of 40).
    threads: int = 6
    #: A PostgreSQL URL (``postgresql://user:password@host:5432/dbname``): workspaces and
    #: classes are kept there, for several machines behind a load balancer; ``store``,
    #: ``data_dir`` and ``min_free_mb`` are then ignored. Empty: the ``store`` setting.
    database_url: str = field(default="", repr=False)

    @property
    def behind_proxy(self) -> bool:
        """Whether a reverse proxy's forwarded headers are believed."""
        return bool(self.trusted_proxies.strip())

    def cluster_config(self, **choices: Any) -> ClusterConfig:
        """A new workspace's cluster settings: ``choices`` (CNI plugin, proxy mode, workers)
        within this server's quotas.

        >>> Settings(max_pods=50).cluster_config(cni="calico").max_pods
        50
        """
        return ClusterConfig(
            max_pods=self.max_pods,
            max_services=self.max_services,
            max_objects=self.max_objects,
            max_workers=self.max_workers,
            **choices,
        )

    def to_env(self) -> dict[str, str]:
        """These settings as ``PODPATH_*`` variables, for server processes started with them.

        >>> Settings(port=9000).to_env()["PODPATH_PORT"]
        '9000'
        >>> Settings.from_env(Settings(lessons_dir=None, workers=3).to_env()).workers
        3
        """
        return {
            f"PODPATH_{f.name.upper()}": ""
            if getattr(self, f.name) is None
            else str(getattr(self, f.name))
            for f in fields(self)
        }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``PODPATH_*`` variables, then ``overrides`` (e.g. command-line flags)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f"PODPATH_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("data_dir", "lessons_dir"):
            if values.get(name):
                values[name] = Path(str(values[name])).expanduser()
            else:
                values.pop(name, None)  # empty: the default
        return cls(**values)  # type: ignore[arg-type]


def _coerce(name: str, raw: str, kind: object) -> object:
    # ``from __future__ import annotations`` makes each field's type its source text.
    kind = str(kind)
    if kind == "bool":
        return raw.lower() in {"1", "true", "yes", "on"}
    if kind == "int":
        try:
            value = int(raw)
        except ValueError:
            raise SystemExit(
                f"podpath: PODPATH_{name.upper()} must be a whole number, got {raw!r}"
            ) from None
        if value < 0:
            raise SystemExit(f"podpath: PODPATH_{name.upper()} must not be negative, got {value}")
        return value
    if kind.startswith("Path"):
        return Path(raw).expanduser() if raw else None
    return raw
