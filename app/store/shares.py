"""Share links: a random token standing for a workspace, which opens a copy of it.

A link is made on request (never by showing a page), lasts ``share_days`` after it was made
or rotated (0: until revoked), and stops working when it is rotated (a new token replaces
it) or revoked. A token that no longer works says why: unknown, expired (and when), or
turned off (and when).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.cluster.cluster import Cluster
from app.errors import NotFound
from app.store.base import Backend, ShareRow

DAY = 86_400


def looks_like_id(text: str) -> bool:
    """Whether ``text`` could be a workspace id or a share token (16-64 URL-safe characters).

    >>> looks_like_id("abcdefghijklmnop"), looks_like_id("../etc/passwd")
    (True, False)
    """
    return 16 <= len(text) <= 64 and all(ch.isalnum() or ch in "-_" for ch in text)


@dataclass(frozen=True)
class Share:
    """A workspace's share link.

    Parameters
    ----------
    token : str
        The random id in the link's address (``/s/<token>``).
    expires : datetime | None
        When it stops working (UTC), or None when it lasts until revoked.
    """

    token: str
    expires: datetime | None


def expiry(row: ShareRow, days: int) -> float | None:
    """When the link stops working, in seconds since the epoch (None: never).

    >>> expiry(ShareRow("t", "w", 1000.0), 2), expiry(ShareRow("t", "w", 1000.0), 0)
    (173800.0, None)
    """
    return row.created + days * DAY if days else None


def as_share(row: ShareRow, days: int) -> Share:
    """The :class:`Share` of a backend's row."""
    ends = expiry(row, days)
    return Share(row.token, None if ends is None else datetime.fromtimestamp(ends, UTC))


def is_valid(row: ShareRow | None, days: int, now: float) -> bool:
    """Whether the link opens a copy at ``now``."""
    if row is None or row.ended is not None:
        return False
    ends = expiry(row, days)
    return ends is None or now < ends


def when(seconds: float) -> str:
    """A moment as people read it, in UTC.

    >>> when(0)
    '1970-01-01 00:00 UTC'
    """
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def refuse(token: str, row: ShareRow | None, days: int, now: float) -> NotFound:
    """The 404 for a token that does not open a copy at ``now``: why, and when it stopped.

    >>> print(refuse("abc", ShareRow("abc", "w", 0.0, ended=60.0), 0, 120.0))
    the share link "abc" was turned off on 1970-01-01 00:01 UTC (its sandbox's owner stopped \
sharing, made a new link or reset the sandbox): ask them for the current link
    """
    shown = token[:80]
    if row is None:
        return NotFound(
            f'no share link "{shown}" exists: check the address, or ask for a new link '
            "(a link also goes when its sandbox is deleted)"
        )
    ends = expiry(row, days)
    if row.ended is not None and (ends is None or row.ended < ends):
        return NotFound(
            f'the share link "{shown}" was turned off on {when(row.ended)} (its sandbox\'s '
            "owner stopped sharing, made a new link or reset the sandbox): ask them for the "
            "current link"
        )
    assert ends is not None and now >= ends
    return NotFound(
        f'the share link "{shown}" expired on {when(ends)}, {days} day{"s" if days != 1 else ""} '
        "after it was made: "
        "ask whoever shared it for a new link"
    )


class ShareLinks:
    """The share-link half of :class:`~app.store.workspaces.Workspaces`: it needs the
    workspace's ``backend``, ``clock``, ``share_days``, ``_lock(workspace_id)`` (which raises
    NotFound for a workspace that does not exist) and ``fork(workspace_id)``."""

    backend: Backend
    share_days: int
    clock: Callable[[], float]

    def _lock(self, workspace_id: str, *, known: bool = False) -> threading.Lock:
        raise NotImplementedError

    def fork(self, workspace_id: str) -> tuple[str, Cluster]:
        raise NotImplementedError

    def current_share(self, workspace_id: str) -> Share | None:
        """The workspace's share link while it works; None when it has none, or it expired.
        Never writes.

        Raises
        ------
        NotFound
            When there is no such workspace.
        """
        self._lock(workspace_id, known=True)  # raises NotFound for a workspace never seen
        row = self.backend.active_share(workspace_id)
        if row is None or not is_valid(row, self.share_days, self.clock()):
            return None
        return as_share(row, self.share_days)

    def make_share(self, workspace_id: str) -> Share:
        """The workspace's share link: the one that works, or a new one.

        The token is its own random id, so that following the link never reveals (nor lets
        anyone change) the original workspace.

        Raises
        ------
        NotFound
            When there is no such workspace.
        StorageUnavailable, InsufficientStorage
            When a new link cannot be saved.
        """
        with self._lock(workspace_id):
            row = self.backend.active_share(workspace_id)
            if row is not None and is_valid(row, self.share_days, self.clock()):
                return as_share(row, self.share_days)
            return self._new_share(workspace_id)

    def rotate_share(self, workspace_id: str) -> Share:
        """A new share link for the workspace; the old one stops working. Raises as
        :meth:`make_share` does."""
        with self._lock(workspace_id):
            return self._new_share(workspace_id)

    def revoke_share(self, workspace_id: str) -> None:
        """Turn off the workspace's share link (nothing happens when it has none).

        Raises
        ------
        NotFound
            When there is no such workspace.
        StorageUnavailable, InsufficientStorage
            When the store cannot be written.
        """
        with self._lock(workspace_id):
            self.backend.end_share(workspace_id, self.clock())

    def _new_share(self, workspace_id: str) -> Share:
        row = ShareRow(secrets.token_urlsafe(24), workspace_id, self.clock())
        self.backend.new_share(workspace_id, row.token, row.created)
        return as_share(row, self.share_days)

    def shared_workspace(self, token: str) -> str:
        """The id of the workspace a share link's token stands for.

        Raises
        ------
        NotFound
            When the link does not work, saying why: no such link, it expired (and when), or
            it was revoked or replaced (and when).
        """
        row = self.backend.share_row(token) if looks_like_id(token) else None
        now = self.clock()
        if row is None or not is_valid(row, self.share_days, now):
            raise refuse(token, row, self.share_days, now)
        if self.backend.version(row.workspace) is None:
            raise refuse(token, None, self.share_days, now)
        return row.workspace

    def fork_shared(self, token: str) -> tuple[str, Cluster]:
        """A copy of the workspace a share token stands for.

        Raises
        ------
        NotFound
            As :meth:`shared_workspace`.
        InsufficientStorage, StorageUnavailable
            As :meth:`create`.
        """
        return self.fork(self.shared_workspace(token))
