"""What every backend offers (:class:`Backend`) and the records it hands back.

Times a backend keeps (when a workspace was last used, when a share link was made or turned
off) are seconds since the epoch, given by the caller: :class:`~app.store.workspaces.Workspaces`
owns the clock, so tests can move it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from app.cluster.persistence import Changes, Saved
from app.store.history import Entry, Patch, Record, Step


class StaleWrite(Exception):
    """Another writer saved the workspace since it was read."""


@dataclass(frozen=True)
class ShareRow:
    """One share link as a backend keeps it.

    Parameters
    ----------
    token : str
        The link's random id.
    workspace : str
        The workspace it copies.
    created : float
        When it was made (or rotated into being), in seconds since the epoch.
    ended : float | None
        When it was revoked or replaced by a new link; None while it is the workspace's link.
    """

    token: str
    workspace: str
    created: float
    ended: float | None = None


@dataclass(frozen=True)
class Mark:
    """A saved workspace's version, and what names the state of its objects (the
    ``ClusterState.objects_mark`` it was saved at): a save of lesson notes alone moves the
    version, not the rest."""

    version: int
    lineage: int
    resource_version: int
    event_seq: int
    config: dict[str, Any]

    @classmethod
    def from_meta(cls, version: int, meta: dict[str, Any]) -> Mark:
        return cls(
            version,
            int(meta.get("lineage") or 0),
            int(meta.get("resource_version") or 0),
            int(meta.get("event_seq") or 0),
            dict(meta.get("config") or {}),
        )


class Backend(Protocol):
    """Where workspace states, their history and their share links are kept."""

    def insert(self, workspace_id: str, saved: Saved, now: float) -> None: ...

    def version(self, workspace_id: str) -> int | None: ...

    def versions(self, workspace_ids: list[str]) -> dict[str, int]:
        """The version of each of these workspaces that exists, in one look."""
        ...

    def marks(self, workspace_ids: list[str]) -> dict[str, Mark]:
        """What names the state of each of these workspaces that exists, read from its meta
        record alone, in one look (the pages keeping up with their workspaces ask about all
        of them at once, without loading any)."""
        ...

    def load(self, workspace_id: str) -> tuple[int, Saved] | None: ...

    def load_meta(self, workspace_id: str) -> tuple[int, dict[str, Any]] | None:
        """The version and the meta record alone (settings, counters, lessons' notes): all a
        save of lesson notes changes."""
        ...

    def save(
        self,
        workspace_id: str,
        changes: Changes,
        expected_version: int,
        history: Record | Step | None = None,
        *,
        notes_only: bool = False,
    ) -> int:
        """Save ``changes`` over ``expected_version`` (StaleWrite when another saved since);
        the new version. ``notes_only``: the caller knows that no object, event or setting
        changed (lesson notes and counters alone), so the meta record is all there is to
        write and no history entry can come of it."""
        ...

    def history(self, workspace_id: str) -> list[Entry]: ...

    def history_patch(self, workspace_id: str, seq: int, direction: str) -> Patch | None: ...

    def touch(self, workspace_id: str, now: float, older_than: float) -> None:
        """Record that the workspace was used at ``now``, if its record says it was last
        used before ``older_than`` (so a busy workspace is not written on every read)."""
        ...

    def expire(self, before: float, limit: int) -> list[str]:
        """Delete up to ``limit`` workspaces last used before ``before``, with their
        objects, events, history and share links; returns their ids."""
        ...

    def active_share(self, workspace_id: str) -> ShareRow | None:
        """The workspace's share link not revoked nor replaced (it may have expired)."""
        ...

    def share_row(self, token: str) -> ShareRow | None:
        """The share link with this token, whatever its state."""
        ...

    def new_share(self, workspace_id: str, token: str, now: float) -> None:
        """Make ``token`` the workspace's share link, ending the one it had."""
        ...

    def end_share(self, workspace_id: str, now: float) -> None:
        """Turn off the workspace's share link, if it has one."""
        ...

    def health(self) -> dict[str, Any]:
        """``{"writable": bool, "problem": str | None}``: whether changes can be saved."""
        ...


def dump(value: object) -> str:
    """Compact JSON text.

    >>> dump({"a": [1, 2]})
    '{"a":[1,2]}'
    """
    return json.dumps(value, separators=(",", ":"))
