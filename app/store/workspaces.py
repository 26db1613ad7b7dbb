"""Workspaces: one simulated cluster per visitor, kept in a backend and cached in memory.

Every change to a workspace runs under that workspace's lock, on the latest saved state,
and is saved before it is acknowledged. If the change fails (bad input, or a bug), the
cached cluster is dropped so that the next request starts again from what was saved: no
half-applied change is ever seen or stored. When another process saved in between, the
change is re-run on the fresh state, so concurrent changes never lose an update.

Every change that touches an object is kept in the workspace's history (the last 50), and
can be undone and redone (:meth:`Workspaces.undo`, :meth:`Workspaces.redo`): an undo is
saved like any other change, as a new version equal to the one before.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

from app.cluster import persistence
from app.cluster.cluster import Cluster
from app.cluster.objects import ObjectKey, key_of
from app.cluster.state import ClusterConfig, ClusterState
from app.errors import Conflict, NotFound
from app.store.backends import Backend, StaleWrite
from app.store.history import MAX_ENTRIES, Entry, Patch, Record, Step

T = TypeVar("T")

MAX_RETRIES = 5


@dataclass(frozen=True)
class History:
    """A workspace's history, newest first: what Undo and Redo would do next."""

    entries: list[Entry]

    @property
    def undo(self) -> Entry | None:
        """The newest change still in effect."""
        return next((e for e in self.entries if not e.undone), None)

    @property
    def redo(self) -> Entry | None:
        """The oldest change undone (undo steps back through them newest first)."""
        return next((e for e in reversed(self.entries) if e.undone), None)

    def to_dict(self) -> dict[str, Any]:
        undo, redo = self.undo, self.redo
        return {
            "entries": [e.to_dict() for e in self.entries],
            "undo": undo.to_dict() if undo else None,
            "redo": redo.to_dict() if redo else None,
            "limit": MAX_ENTRIES,
        }


def new_workspace_id() -> str:
    """An unguessable workspace id: 24 random bytes (192 bits), URL-safe."""
    return secrets.token_urlsafe(24)


def looks_like_id(text: str) -> bool:
    return 16 <= len(text) <= 64 and all(ch.isalnum() or ch in "-_" for ch in text)


class Workspaces:
    """Create, read and change workspaces.

    Parameters
    ----------
    backend : Backend
        Where states are saved.
    cache_size : int
        How many clusters to keep built in memory (least recently used are dropped).
    """

    def __init__(self, backend: Backend, cache_size: int = 64) -> None:
        self.backend = backend
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[int, Cluster]] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def exists(self, workspace_id: str) -> bool:
        """Whether there is a workspace with this id."""
        return looks_like_id(workspace_id) and self.backend.version(workspace_id) is not None

    def _lock(self, workspace_id: str) -> threading.Lock:
        # Ids that cannot exist get no lock: the table must not grow with every bad URL.
        if not looks_like_id(workspace_id) or self.backend.version(workspace_id) is None:
            raise NotFound(f'workspaces "{workspace_id[:80]}" not found')
        with self._locks_guard:
            lock = self._locks.get(workspace_id)
            if lock is None:
                lock = self._locks[workspace_id] = threading.Lock()
            return lock

    def create(self, config: ClusterConfig, seed: int | None = None) -> tuple[str, Cluster]:
        """Make a workspace holding a fresh default cluster; returns its id and cluster."""
        if seed is None:
            seed = secrets.randbits(32)
        cluster = Cluster.create(config, seed)
        return self.create_from(cluster)

    def create_from(self, cluster: Cluster) -> tuple[str, Cluster]:
        workspace_id = new_workspace_id()
        self.backend.insert(workspace_id, persistence.save_all(cluster.state))
        self._remember(workspace_id, 1, cluster)
        return workspace_id, cluster

    def _load(self, workspace_id: str) -> tuple[int, Cluster]:
        if not looks_like_id(workspace_id):
            raise NotFound(f'workspaces "{workspace_id}" not found')
        with self._locks_guard:  # the cache is shared by every workspace's lock holder
            cached = self._cache.get(workspace_id)
        version = self.backend.version(workspace_id)
        if version is None:
            raise NotFound(f'workspaces "{workspace_id}" not found')
        if cached is not None and cached[0] == version:
            with self._locks_guard:
                if workspace_id in self._cache:
                    self._cache.move_to_end(workspace_id)
            return cached
        row = self.backend.load(workspace_id)
        if row is None:
            raise NotFound(f'workspaces "{workspace_id}" not found')
        cluster = Cluster(persistence.restore(row[1]))
        self._remember(workspace_id, row[0], cluster)
        return row[0], cluster

    def _remember(self, workspace_id: str, version: int, cluster: Cluster) -> None:
        with self._locks_guard:
            self._cache[workspace_id] = (version, cluster)
            self._cache.move_to_end(workspace_id)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _forget(self, workspace_id: str) -> None:
        with self._locks_guard:
            self._cache.pop(workspace_id, None)

    def read(self, workspace_id: str, reader: Callable[[Cluster], T]) -> T:
        """Run ``reader`` on the workspace's current cluster (it must not change it).

        Raises
        ------
        NotFound
            When there is no such workspace.
        """
        with self._lock(workspace_id):
            return reader(self._load(workspace_id)[1])

    def change(
        self, workspace_id: str, change: Callable[[Cluster], T], label: str | None = None
    ) -> T:
        """Run ``change`` on the workspace's cluster and save the result before returning.

        If ``change`` raises, nothing is saved and the error propagates. When it changed an
        object, it joins the workspace's history as ``label`` (by default a label derived
        from what changed, like "deployment.apps/web created").
        """
        with self._lock(workspace_id):
            for _attempt in range(MAX_RETRIES):
                version, cluster = self._load(workspace_id)
                writes = cluster.state.writes
                try:
                    result = change(cluster)
                except BaseException:
                    if cluster.state.writes != writes:
                        self._forget(workspace_id)  # part-changed: reload what was saved
                    raise
                try:
                    changes = persistence.take_changes(cluster.state)
                    new_version = self.backend.save(workspace_id, changes, version, Record(label))
                except StaleWrite:
                    self._forget(workspace_id)  # another process won: redo on theirs
                    continue
                except BaseException:
                    self._forget(workspace_id)
                    raise
                self._remember(workspace_id, new_version, cluster)
                return result
        raise Conflict(
            f'workspaces "{workspace_id}": too many changes at once from other servers; try again'
        )

    def history(self, workspace_id: str) -> History:
        """The workspace's last changes, newest first, with what can be undone and redone."""
        with self._lock(workspace_id):
            return History(self.backend.history(workspace_id))

    def undo(self, workspace_id: str) -> Entry:
        """Put the workspace back as it was before its newest change still in effect.

        Raises
        ------
        Conflict
            When there is nothing left to undo.
        """
        return self._step(workspace_id, "undo")

    def redo(self, workspace_id: str) -> Entry:
        """Make again the change the last undo took back.

        Raises
        ------
        Conflict
            When nothing was undone since the last change.
        """
        return self._step(workspace_id, "redo")

    def _step(self, workspace_id: str, direction: Literal["undo", "redo"]) -> Entry:
        with self._lock(workspace_id):
            for _attempt in range(MAX_RETRIES):
                version, cluster = self._load(workspace_id)
                history = History(self.backend.history(workspace_id))
                entry = history.undo if direction == "undo" else history.redo
                patch = (
                    self.backend.history_patch(workspace_id, entry.seq, direction)
                    if entry
                    else None
                )
                if entry is None or patch is None:
                    if direction == "undo" and not history.entries:
                        why = "no change has been made yet"
                    elif direction == "undo":
                        why = (
                            "every change listed is undone already; "
                            f"the history keeps the last {MAX_ENTRIES} changes"
                        )
                    else:
                        why = "a change made after an undo clears what could be redone"
                    raise Conflict(f'workspaces "{workspace_id}": nothing to {direction} ({why})')
                state = patched(cluster.state, patch)
                verb = "Undid" if direction == "undo" else "Redid"
                state.record(
                    "Normal",
                    "ChangeUndone" if direction == "undo" else "ChangeRedone",
                    subject_key(entry.subject),
                    f'{verb} the change "{entry.label}": the cluster is as it was '
                    + ("before it" if direction == "undo" else "after it"),
                )
                try:
                    changes = persistence.take_changes(state)
                    new_version = self.backend.save(
                        workspace_id, changes, version, Step(direction, entry.seq)
                    )
                except StaleWrite:
                    self._forget(workspace_id)
                    continue
                except BaseException:
                    self._forget(workspace_id)
                    raise
                cluster.state = state
                self._remember(workspace_id, new_version, cluster)
                return replace(entry, undone=direction == "undo")
        raise Conflict(
            f'workspaces "{workspace_id}": too many changes at once from other servers; try again'
        )

    def share_token(self, workspace_id: str) -> str:
        """The token of this workspace's share link: its own random id, so that following
        the link never reveals (nor lets anyone change) the original workspace."""
        self._lock(workspace_id)  # raises NotFound for a workspace that does not exist
        return self.backend.share_token(workspace_id, new_workspace_id())

    def fork_shared(self, token: str) -> tuple[str, Cluster]:
        """A copy of the workspace a share token stands for."""
        workspace_id = self.backend.shared_workspace(token) if looks_like_id(token) else None
        if workspace_id is None:
            raise NotFound(f'shared workspace "{token[:80]}" not found')
        return self.fork(workspace_id)

    def fork(self, workspace_id: str) -> tuple[str, Cluster]:
        """A copy of a workspace under a new id (what a share link opens)."""
        text = self.read(workspace_id, lambda cluster: json.dumps(cluster.to_state()))
        return self.create_from(Cluster.from_state(json.loads(text)))


def subject_key(subject: str) -> ObjectKey:
    """The object an undo's event is about: the change's own, or the default Namespace."""
    if subject.count("/") == 2:
        kind, namespace, name = subject.split("/")
        return ObjectKey(kind, namespace, name)
    return ObjectKey("Namespace", "", "default")


def patched(current: ClusterState, patch: Patch) -> ClusterState:
    """A new state: ``current`` with the patch's rows and settings put back, keeping its
    events, the lessons' notes and its counters (an undo is a change like any other, so the
    resourceVersion moves on). Shares nothing with ``current``."""
    saved = json.loads(json.dumps(persistence.snapshot(current).to_dict()))
    rows = {persistence.object_id(key_of(o["object"])): o for o in saved["objects"]}
    for row_id, value in patch.rows.items():
        if value is None:
            rows.pop(row_id, None)
        else:
            rows[row_id] = {"object": value[0], "applied": value[1]}
    saved["objects"] = list(rows.values())
    saved["meta"].update(patch.meta)
    state = persistence.restore(persistence.Saved.from_dict(saved))
    state.saved_event_seq = current.saved_event_seq
    state.next_resource_version()
    state.changed = {subject_key(row_id) for row_id in patch.rows}
    return state
