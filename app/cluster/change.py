"""What one operation on a cluster did: the objects it made and removed, and the events it
left, for the answer an apply, a delete or a scale gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.cluster.objects import ObjectKey
from app.cluster.state import Event

if TYPE_CHECKING:  # pragma: no cover
    from app.cluster.cluster import Cluster


@dataclass
class Change:
    """What one operation did: the objects it touched and the events it left."""

    created: list[ObjectKey] = field(default_factory=list)
    deleted: list[ObjectKey] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def change_since(cluster: Cluster, mark: tuple[int, set[ObjectKey]]) -> Change:
    """What happened since ``mark``: the objects made and removed, and the new events.

    Parameters
    ----------
    cluster : Cluster
        The cluster, after the operation.
    mark : tuple of (int, set of ObjectKey)
        ``(state.event_seq, set(state.objects))`` taken before the operation.

    Returns
    -------
    Change
        The created and deleted keys, each sorted, and the events after the mark.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> mark = (cluster.state.event_seq, set(cluster.state.objects))
    >>> change = change_since(cluster, mark)
    >>> change.created, change.deleted, change.events
    ([], [], [])
    """
    state = cluster.state
    seq, before = mark
    after = set(state.objects)
    return Change(
        created=sorted(after - before),
        deleted=sorted(before - after),
        events=[e for e in state.events if e.seq > seq],
    )
