"""``python -m app``: serve Podpath with uvicorn.

Flags override the ``PODPATH_*`` environment variables, which override the defaults in
:class:`app.settings.Settings` (the README's "Settings" table lists them all).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from app.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="Serve Podpath, the Kubernetes networking sandbox.",
    )
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port to listen on (default 8000)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder for the SQLite database of workspaces (default ~/.local/share/podpath)",
    )
    parser.add_argument(
        "--store",
        choices=["sqlite", "memory"],
        help="where workspaces live: sqlite (kept across restarts, default) or memory",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL (postgresql://user:password@host:5432/dbname) to keep "
        "workspaces in instead, for several machines behind a load balancer",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="server processes sharing the SQLite store (default 1; see the README's "
        "'Running Podpath for a class or a school')",
    )
    parser.add_argument(
        "--lessons-dir",
        type=Path,
        help="a folder of more lessons, listed after Podpath's own (see docs/lessons.md)",
    )
    return parser


def settings_from_args(argv: Sequence[str] | None = None) -> Settings:
    """The settings for these command-line arguments (and the environment)."""
    args = build_parser().parse_args(argv)
    return Settings.from_env(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        store=args.store,
        lessons_dir=args.lessons_dir,
        workers=args.workers,
        database_url=args.database_url,
    )


def main(argv: Sequence[str] | None = None) -> None:
    settings = settings_from_args(argv)
    if settings.workers < 1:
        raise SystemExit("podpath: --workers must be 1 or more")
    if settings.workers > 1 and settings.store != "sqlite" and not settings.database_url:
        raise SystemExit(
            "podpath: --workers above 1 needs the sqlite store: each process would have its "
            "own memory store"
        )

    import uvicorn

    from app.errors import StoreStartupError
    from app.lessons.source import LessonFileError
    from app.web.app import create_app

    try:
        app = create_app(settings)
    except LessonFileError as error:
        raise SystemExit(f"podpath: cannot load the lessons: {error}") from None
    except StoreStartupError as error:
        raise SystemExit(f"podpath: {error}") from None
    shown_host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    workers = f" with {settings.workers} worker processes" if settings.workers > 1 else ""
    print(f"Podpath is serving on http://{shown_host}:{settings.port}{workers}", flush=True)
    options = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        # Believe X-Forwarded-For/-Proto only from the proxies the settings name.
        "proxy_headers": settings.behind_proxy,
        "forwarded_allow_ips": settings.trusted_proxies or None,
        # Class event streams stay open; on shutdown they are closed after this many seconds.
        "timeout_graceful_shutdown": 3,
    }
    if settings.workers == 1:
        uvicorn.run(app, **options)
        return
    # Each worker builds its own app from the same settings, passed in the environment; the
    # app made above has checked the store and the lessons (and migrated the database) once.
    os.environ.update(settings.to_env())
    del app
    uvicorn.run("app.web.app:create_app", factory=True, workers=settings.workers, **options)


if __name__ == "__main__":
    main()
