"""Undo and redo on a live cluster: the :class:`History` a page shows, and the state an undo
or a redo leaves (:func:`patched`). What a save keeps of each change: :mod:`app.store.history`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.cluster import persistence
from app.cluster.objects import ObjectKey, key_of
from app.cluster.state import ClusterState
from app.store.history import MAX_ENTRIES, Entry, Patch


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
