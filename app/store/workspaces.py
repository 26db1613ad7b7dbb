"""Workspaces: one simulated cluster per visitor, kept in a backend and cached in memory.

Every change to a workspace runs under that workspace's lock, on the latest saved state,
and is saved before it is acknowledged. If the change fails (bad input, or a bug), the
cached cluster is dropped so that the next request starts again from what was saved: no
half-applied change is ever seen or stored. When another process saved in between, the
change is re-run on the fresh state, so concurrent changes never lose an update.

Every change that touches an object is kept in the workspace's history (the last 50), and
can be undone and redone (:meth:`Workspaces.undo`, :meth:`Workspaces.redo`): an undo is
saved like any other change, as a new version equal to the one before.

What keeps a public server within bounds: the cache holds a bounded number of workspaces
and of objects (:mod:`app.store.cache`); a workspace unused for ``idle_days`` is deleted
(:meth:`Workspaces.expire_idle`); below a disk-space floor no new workspace is made
(:mod:`app.store.disk`); share links expire, rotate and can be revoked
(:mod:`app.store.shares`).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal, TypeVar

from app.cluster import persistence
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import Conflict, NotFound, PodpathError
from app.store import looks
from app.store.backends import Backend, StaleWrite
from app.store.cache import ClusterCache
from app.store.disk import DiskFloor
from app.store.expiry import TOUCH_EVERY, Expiry
from app.store.history import MAX_ENTRIES, Entry, Record, Step
from app.store.marks import marks, notes_only, unchanged
from app.store.shares import Share, ShareLinks, looks_like_id
from app.store.undo import History, patched, subject_key

__all__ = ["History", "Share", "Workspaces", "looks_like_id", "new_workspace_id"]

log = logging.getLogger("podpath")

T = TypeVar("T")

#: Tries of a change that another server process keeps beating to the save.
MAX_RETRIES = 12


def new_workspace_id() -> str:
    """An unguessable workspace id: 24 random bytes (192 bits), URL-safe."""
    return secrets.token_urlsafe(24)


def back_off(attempt: int) -> None:
    """Wait a random moment, longer after each lost race, so that processes changing one
    workspace at once stop colliding (at most a quarter of a second)."""
    time.sleep(random.uniform(0, min(0.25, 0.005 * 2**attempt)))


class Workspaces(ShareLinks, Expiry):
    """Create, read and change workspaces.

    Parameters
    ----------
    backend : Backend
        Where states are saved.
    cache_size : int
        How many clusters to keep built in memory (least recently used are dropped).
    cache_objects : int
        Most objects kept in memory across all cached clusters (0: no bound but the count);
        a workspace bigger than that is never kept built.
    idle_days : int
        Days a workspace may go unused (not read nor changed) before it is deleted; 0: never.
    share_days : int
        Days a share link works after it is made or rotated; 0: until revoked.
    floor : DiskFloor, optional
        The free disk space below which new workspaces are refused; None: no floor.
    clock : callable
        The time, in seconds since the epoch (tests give a fake one).
    """

    def __init__(
        self,
        backend: Backend,
        cache_size: int = 512,
        *,
        cache_objects: int = 60_000,
        idle_days: int = 30,
        share_days: int = 30,
        floor: DiskFloor | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.cache = ClusterCache(cache_size, cache_objects)
        self.idle_days = idle_days
        self.share_days = share_days
        self.floor = floor
        self.clock = clock
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._touched: dict[str, float] = {}  # when this process last wrote "last used"
        self._last_expiry: float | None = None
        #: Called as ``observer(workspace_id, cluster)`` after each saved change (the
        #: classroom follows its students' progress this way); a failing observer is logged.
        self.observers: list[Callable[[str, Cluster], None]] = []
        self._histories: dict[str, tuple[int, list[Entry]]] = {}  # by the version they are of

    def exists(self, workspace_id: str) -> bool:
        """Whether there is a workspace with this id."""
        return looks_like_id(workspace_id) and self.backend.version(workspace_id) is not None

    def _lock(self, workspace_id: str, *, known: bool = False) -> threading.Lock:
        """The workspace's lock; raises NotFound when there is no such workspace.

        ``known``: the caller need not have the workspace's existence checked again when this
        process holds a lock for it: it goes on to :meth:`_load` (which asks the store for the
        version anyway and raises NotFound when it is gone), or it reads only a part that a
        workspace gone meanwhile no longer has (its history, its share link).
        """
        if known:
            with self._locks_guard:
                lock = self._locks.get(workspace_id)
            if lock is not None:
                return lock
        # Ids that cannot exist get no lock: the table must not grow with every bad URL.
        if not looks_like_id(workspace_id) or self.backend.version(workspace_id) is None:
            raise NotFound(f'workspaces "{workspace_id[:80]}" not found')
        with self._locks_guard:
            lock = self._locks.get(workspace_id)
            if lock is None:
                lock = self._locks[workspace_id] = threading.Lock()
            return lock

    # --- making workspaces -----------------------------------------------------------------
    def create(self, config: ClusterConfig, seed: int | None = None) -> tuple[str, Cluster]:
        """Make a workspace holding a fresh default cluster.

        Returns
        -------
        tuple[str, Cluster]
            Its id and its cluster.

        Raises
        ------
        InsufficientStorage
            When the disk is below the floor kept free (or full).
        StorageUnavailable
            When the store cannot be written.
        """
        self._room()
        if seed is None:
            seed = secrets.randbits(32)
        cluster = Cluster.create(config, seed, now=self.clock())
        return self.create_from(cluster)

    def create_from(self, cluster: Cluster) -> tuple[str, Cluster]:
        """Make a workspace holding ``cluster``; raises as :meth:`create` does."""
        self._room()
        self._expire_now_and_then()
        workspace_id = new_workspace_id()
        now = self.clock()
        self.backend.insert(workspace_id, persistence.save_all(cluster.state), now)
        with self._locks_guard:
            self._touched[workspace_id] = now
        self.cache.put(workspace_id, 1, cluster)
        return workspace_id, cluster

    def fork(self, workspace_id: str) -> tuple[str, Cluster]:
        """A copy of a workspace under a new id (what a share link opens).

        Raises
        ------
        NotFound
            When there is no such workspace.
        InsufficientStorage, StorageUnavailable
            As :meth:`create`.
        """
        self._room()
        text = self.read(workspace_id, lambda cluster: json.dumps(cluster.to_state()))
        return self.create_from(Cluster.from_state(json.loads(text)))

    def _room(self) -> None:
        if self.floor is not None:
            self.floor.check()

    # --- reading and changing --------------------------------------------------------------
    #: One look at each workspace per request (:func:`app.store.looks.one_look`).
    one_look = staticmethod(looks.one_look)

    def _load(self, workspace_id: str) -> tuple[int, Cluster]:
        held = looks.seen(workspace_id)  # this request looked already: no second question
        if held is not None:
            cached = self.cache.get(workspace_id)
            if cached is not None and cached.version == held:
                return held, cached.cluster
        version, cluster = self._load_checked(workspace_id)
        looks.note(workspace_id, version)
        return version, cluster

    def _load_checked(self, workspace_id: str) -> tuple[int, Cluster]:
        if not looks_like_id(workspace_id):
            raise NotFound(f'workspaces "{workspace_id}" not found')
        cached = self.cache.get(workspace_id)
        version = self.backend.version(workspace_id)
        if version is None:
            raise NotFound(f'workspaces "{workspace_id}" not found')
        self._used(workspace_id)
        if cached is not None and cached.version == version:
            return version, cached.cluster
        if cached is not None:
            # Another process saved since. Most saves are of lesson notes alone (a trace, a
            # Check, a catch-up): then the objects held here are still the saved ones.
            fresh = self.backend.load_meta(workspace_id)
            if fresh is None:
                raise NotFound(f'workspaces "{workspace_id}" not found')
            if persistence.restore_notes(cached.cluster.state, fresh[1]):
                self.cache.put(workspace_id, fresh[0], cached.cluster)
                return fresh[0], cached.cluster
        row = self.backend.load(workspace_id)
        if row is None:
            raise NotFound(f'workspaces "{workspace_id}" not found')
        cluster = Cluster(persistence.restore(row[1]))
        if cached is not None and cached.cluster.state.objects_mark == cluster.state.objects_mark:
            # Another server saved only what the lessons note (a trace, a Check): the objects
            # are the ones the views here were built from, so they are kept, not rebuilt.
            cluster.state.memo = cached.cluster.state.memo
        self.cache.put(workspace_id, row[0], cluster)
        return row[0], cluster

    def _used(self, workspace_id: str) -> None:
        """Note that the workspace is in use (written at most once per :data:`TOUCH_EVERY`)."""
        if getattr(self.backend, "read_only", False):
            return  # nothing can be written; nothing expires either
        now = self.clock()
        with self._locks_guard:
            last = self._touched.get(workspace_id)
            if last is not None and now - last < TOUCH_EVERY:
                return
            self._touched[workspace_id] = now
        try:
            self.backend.touch(workspace_id, now, now - TOUCH_EVERY)
        except PodpathError as error:  # a read-only or full store still serves reads
            log.warning("podpath: could not record that a workspace was used: %s", error)

    def read(self, workspace_id: str, reader: Callable[[Cluster], T]) -> T:
        """Run ``reader`` on the workspace's current cluster (it must not change it).

        Raises
        ------
        NotFound
            When there is no such workspace.
        """
        with self._lock(workspace_id, known=True):
            return reader(self._load(workspace_id)[1])

    def change(
        self, workspace_id: str, change: Callable[[Cluster], T], label: str | None = None
    ) -> T:
        """Run ``change`` on the workspace's cluster and save the result before returning.

        If ``change`` raises, nothing is saved and the error propagates. When it changed an
        object, it joins the workspace's history as ``label`` (by default a label derived
        from what changed, like "deployment.apps/web created"). When it changed nothing at
        all (a student already at the teacher's step), nothing is written.
        """
        with self._lock(workspace_id, known=True):
            for _attempt in range(MAX_RETRIES):
                version, cluster = self._load(workspace_id)
                cluster.state.now = self.clock()  # what the change creates is stamped with it
                writes = cluster.state.writes
                before = marks(cluster)
                try:
                    result = change(cluster)
                except BaseException:
                    if cluster.state.writes != writes:
                        self.cache.drop(workspace_id)  # part-changed: reload what was saved
                    raise
                try:
                    changes = persistence.take_changes(cluster.state)
                    after = marks(cluster)
                    if unchanged(changes, before, after):
                        return result  # nothing to save, nothing new to report
                    only_notes = notes_only(changes, before, after)
                    new_version = self.backend.save(
                        workspace_id, changes, version, Record(label), notes_only=only_notes
                    )
                except StaleWrite:
                    self.cache.drop(workspace_id)  # another process won: redo on theirs
                    back_off(_attempt)
                    continue
                except BaseException:
                    self.cache.drop(workspace_id)
                    raise
                self.cache.put(workspace_id, new_version, cluster)
                looks.note(workspace_id, new_version)
                if only_notes:  # the history this process read is still the whole of it
                    self._history_moved(workspace_id, version, new_version)
                self._observe(workspace_id, cluster)
                return result
        raise Conflict(
            f'workspaces "{workspace_id}": too many changes at once from other servers; try again'
        )

    def _observe(self, workspace_id: str, cluster: Cluster) -> None:
        for observer in self.observers:
            try:
                observer(workspace_id, cluster)
            except Exception:  # the change is saved; only the report of it failed
                log.exception("podpath: could not report a change of a workspace")

    def _history_moved(self, workspace_id: str, old: int, new: int) -> None:
        """The history kept for version ``old`` is that of ``new`` too (a save of lesson
        notes alone adds no entry): a page drawn after a trace asks the store no more."""
        kept = self._histories.get(workspace_id)
        if kept is not None and kept[0] == old:
            self._histories[workspace_id] = (new, kept[1])

    def history(self, workspace_id: str) -> History:
        """The workspace's last changes, newest first, with what can be undone and redone."""
        # A workspace this process holds a lock for exists (the page that asks has just read
        # it): no second question to the store about it.
        with self._lock(workspace_id, known=True):
            return History(self.backend.history(workspace_id))

    def shown_history(self, workspace_id: str) -> History:
        """:meth:`history`, for a page that has just read the workspace: the history of the
        version this process holds, asked of the store once per version (a class reloading
        and opening tabs asks again and again of unchanged workspaces)."""
        with self._lock(workspace_id, known=True):
            held = self.cache.get(workspace_id)
            kept = self._histories.get(workspace_id)
            if held is not None and kept is not None and kept[0] == held.version:
                return History(kept[1])
            entries = self.backend.history(workspace_id)
            if held is not None:
                if len(self._histories) >= self.cache.max_count:
                    self._histories.clear()
                self._histories[workspace_id] = (held.version, entries)
            return History(entries)

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
        with self._lock(workspace_id, known=True):
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
                state.now = self.clock()  # the time of the undo's own event
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
                    self.cache.drop(workspace_id)
                    back_off(_attempt)
                    continue
                except BaseException:
                    self.cache.drop(workspace_id)
                    raise
                cluster.state = state
                self.cache.put(workspace_id, new_version, cluster)
                self._observe(workspace_id, cluster)
                return replace(entry, undone=direction == "undo")
        raise Conflict(
            f'workspaces "{workspace_id}": too many changes at once from other servers; try again'
        )

    # --- health -----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Whether the store can be written, and the disk space left.

        Returns
        -------
        dict
            ``writable`` (bool), ``problem`` (why it cannot be written, or why new sandboxes
            are refused; None when neither), ``free_mb`` (free space of the data folder's
            disk in MB; None for the memory store), ``min_free_mb`` (the floor; None without
            one) and ``new_sandboxes`` (bool: whether new ones can be made).
        """
        status = self.backend.health()
        low = self.floor.problem() if self.floor is not None else None
        return {
            "writable": bool(status["writable"]),
            "problem": status["problem"] or low,
            "free_mb": self.floor.free_mb() if self.floor is not None else None,
            "min_free_mb": self.floor.min_free_mb if self.floor is not None else None,
            "new_sandboxes": bool(status["writable"]) and low is None,
        }
