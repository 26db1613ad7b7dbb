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
    cache_size: int = 64
    #: A folder of more lessons, listed after the app's own (see docs/lessons.md).
    lessons_dir: Path | None = None

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

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``PODPATH_*`` variables, then ``overrides`` (e.g. command-line flags)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f"PODPATH_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, getattr(cls, f.name))
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("data_dir", "lessons_dir"):
            if values.get(name):
                values[name] = Path(str(values[name])).expanduser()
        if values.get("lessons_dir") == "":
            values["lessons_dir"] = None
        return cls(**values)  # type: ignore[arg-type]


def _coerce(name: str, raw: str, default: object) -> object:
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise SystemExit(
                f"PODPATH_{name.upper()} must be a whole number, got {raw!r}"
            ) from None
    if isinstance(default, Path):
        return Path(raw).expanduser()
    return raw
