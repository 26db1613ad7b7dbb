"""Telling whether a change of a workspace changed anything, so that one which did not (a
student already at the teacher's step, a Check that passed again) writes nothing."""

from __future__ import annotations

import marshal

from app.cluster import persistence
from app.cluster.cluster import Cluster
from app.store.base import dump


def settings_mark(cluster: Cluster) -> bytes:
    """The cluster's settings, counters, notes and addressing as bytes (the generator's state
    left out: its count of draws stands for it), to tell whether a change moved any.

    marshal writes the lessons' notes (a learner's recent traces: tens of KB) several times
    faster than JSON. Equal notes built in another order may give other bytes: the change is
    then saved though it changed nothing, which is harmless.
    """
    meta = persistence.meta_of(cluster.state, with_random=False)
    try:
        return marshal.dumps(meta)
    except ValueError:  # something marshal does not know: JSON knows all that is saved
        return dump(meta).encode()


def unchanged(changes: persistence.Changes, before: bytes, after: bytes) -> bool:
    """Whether ``changes`` change nothing: no object or event, and the same
    :func:`settings_mark` ``before`` and ``after``."""
    touched = changes.replace_all or changes.upserts or changes.deletes or changes.events
    return not touched and after == before
