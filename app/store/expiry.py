"""Deleting idle workspaces: the expiry half of :class:`~app.store.workspaces.Workspaces`
(a workspace unused for ``idle_days`` goes, with everything it holds)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.errors import PodpathError
from app.store.backends import Backend
from app.store.cache import ClusterCache
from app.store.shares import DAY

log = logging.getLogger("podpath")

#: A workspace's "last used" is written at most this often (seconds), so reads stay cheap.
TOUCH_EVERY = 3600
#: Idle workspaces are looked for at most this often (seconds), by
#: :meth:`~app.store.workspaces.Workspaces.create`.
EXPIRE_EVERY = 3600
EXPIRE_BATCH = 200  # workspaces deleted per transaction


class Expiry:
    """The expiry half of :class:`~app.store.workspaces.Workspaces`: it needs the
    workspaces' ``backend``, ``clock``, ``idle_days``, ``cache`` and the bookkeeping of locks
    and last uses it drops for the workspaces that go."""

    backend: Backend
    cache: ClusterCache
    clock: Callable[[], float]
    idle_days: int
    _last_expiry: float | None
    _locks: dict[str, threading.Lock]
    _locks_guard: threading.Lock
    _touched: dict[str, float]

    def expire_idle(self, now: float | None = None) -> int:
        """Delete the workspaces unused (not read nor changed) for more than ``idle_days``,
        with their objects, events, history and share links.

        Parameters
        ----------
        now : float, optional
            The time to measure from, in seconds since the epoch (the clock's by default).

        Returns
        -------
        int
            How many workspaces were deleted (0 when ``idle_days`` is 0).

        Raises
        ------
        StorageUnavailable, InsufficientStorage
            When the store cannot be written.
        """
        now = self.clock() if now is None else now
        self._last_expiry = now
        if not self.idle_days:
            return 0
        before = now - self.idle_days * DAY
        deleted = 0
        while True:
            gone = self.backend.expire(before, EXPIRE_BATCH)
            with self._locks_guard:
                for workspace_id in gone:
                    self._locks.pop(workspace_id, None)
                    self._touched.pop(workspace_id, None)
                for workspace_id in [w for w, t in self._touched.items() if now - t >= TOUCH_EVERY]:
                    del self._touched[workspace_id]  # written again at its next use anyway
            for workspace_id in gone:
                self.cache.drop(workspace_id)
            deleted += len(gone)
            if len(gone) < EXPIRE_BATCH:
                break
        if deleted:
            log.warning(
                "podpath: deleted %d workspaces unused for %d days", deleted, self.idle_days
            )
        return deleted

    def _expire_now_and_then(self) -> None:
        now = self.clock()
        with self._locks_guard:  # one caller runs it; the others go on
            if self._last_expiry is not None and now - self._last_expiry < EXPIRE_EVERY:
                return
            self._last_expiry = now
        try:
            self.expire_idle(now)
        except PodpathError as error:
            log.warning("podpath: could not delete idle workspaces: %s", error)
