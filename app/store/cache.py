"""The clusters kept built in memory, bounded by how many and by how big.

Building a cluster from its saved rows takes time, so the workspaces used last stay built.
A count alone does not bound memory (one near-quota workspace weighs as much as hundreds of
small ones), so the cache also bounds the objects it holds in all; the least recently used
go first, and a workspace bigger than the whole bound is not kept at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from app.cluster.cluster import Cluster


class Cached(NamedTuple):
    version: int
    cluster: Cluster
    size: int  # objects held when it was cached


def size_of(cluster: Cluster) -> int:
    """How much a cluster weighs in the cache: the objects its state holds."""
    return len(cluster.state.objects)


class ClusterCache:
    """Built clusters by workspace id, least recently used first.

    Parameters
    ----------
    max_count : int
        Most workspaces kept.
    max_objects : int
        Most objects kept across all of them (0: no bound but the count).

    Examples
    --------
    >>> from app.cluster.state import ClusterConfig
    >>> small = Cluster.create(ClusterConfig(), 1)
    >>> cache = ClusterCache(max_count=5, max_objects=size_of(small) * 2)
    >>> for name in "abc":
    ...     cache.put(name, 1, small)
    >>> cache.ids(), cache.objects == size_of(small) * 2
    (['b', 'c'], True)
    """

    def __init__(self, max_count: int, max_objects: int = 0) -> None:
        self.max_count = max_count
        self.max_objects = max_objects
        self.objects = 0  # objects held now
        self._items: OrderedDict[str, Cached] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, workspace_id: str) -> Cached | None:
        """The cached cluster, marked as used just now, or None."""
        with self._guard:
            found = self._items.get(workspace_id)
            if found is not None:
                self._items.move_to_end(workspace_id)
            return found

    def put(self, workspace_id: str, version: int, cluster: Cluster) -> None:
        """Keep ``cluster`` as the workspace's ``version``, dropping the least recently used
        beyond the bounds (and not keeping it when it alone is over the object bound)."""
        size = size_of(cluster)
        with self._guard:
            self._drop(workspace_id)
            if self.max_objects and size > self.max_objects:
                return
            self._items[workspace_id] = Cached(version, cluster, size)
            self.objects += size
            while len(self._items) > self.max_count or (
                self.max_objects and self.objects > self.max_objects
            ):
                oldest = next(iter(self._items))
                self._drop(oldest)

    def drop(self, workspace_id: str) -> None:
        """Forget the workspace's cluster (the next read builds it again)."""
        with self._guard:
            self._drop(workspace_id)

    def _drop(self, workspace_id: str) -> None:
        gone = self._items.pop(workspace_id, None)
        if gone is not None:
            self.objects -= gone.size

    def ids(self) -> list[str]:
        """The workspaces cached, least recently used first."""
        with self._guard:
            return list(self._items)

    def __len__(self) -> int:
        return len(self._items)
