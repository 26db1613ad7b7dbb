"""Telling whether a change of a workspace changed anything, so that one which did not (a
student already at the teacher's step, a Check that passed again) writes nothing."""

from __future__ import annotations

import marshal
from typing import NamedTuple

from app.cluster import persistence
from app.cluster.cluster import Cluster
from app.store.base import dump
from app.store.history import meta_part


class Marks(NamedTuple):
    """A cluster's settings, counters, notes and addressing as bytes (``whole``; the
    generator's state left out: its count of draws stands for it), and the part of them a
    history entry restores (``settings``: the configuration, the seed, the address plan).

    marshal writes the lessons' notes (a learner's recent traces: tens of KB) several times
    faster than JSON. Equal notes built in another order may give other bytes: the change is
    then saved though it changed nothing, which is harmless.
    """

    whole: bytes
    settings: bytes


def marks(cluster: Cluster) -> Marks:
    """The cluster's :class:`Marks`, from one reading of its meta.

    >>> cluster = Cluster.create(seed=1)
    >>> before = marks(cluster)
    >>> cluster.state.notes["seen"] = 1
    >>> after = marks(cluster)
    >>> after.whole == before.whole, after.settings == before.settings
    (False, True)
    """
    meta = persistence.meta_of(cluster.state, with_random=False)
    return Marks(_bytes(meta), _bytes(meta_part(meta)))


def _bytes(meta: dict) -> bytes:
    try:
        return marshal.dumps(meta)
    except ValueError:  # something marshal does not know: JSON knows all that is saved
        return dump(meta).encode()


def _touched(changes: persistence.Changes) -> bool:
    return bool(changes.replace_all or changes.upserts or changes.deletes or changes.events)


def notes_only(changes: persistence.Changes, before: Marks, after: Marks) -> bool:
    """Whether ``changes`` touch no object or event and no setting a history entry keeps:
    lesson notes and counters alone, which a backend can save as the meta record only."""
    return not _touched(changes) and after.settings == before.settings


def unchanged(changes: persistence.Changes, before: Marks, after: Marks) -> bool:
    """Whether ``changes`` change nothing: no object or event, and the same ``whole`` mark
    ``before`` and ``after``."""
    return not _touched(changes) and after.whole == before.whole
