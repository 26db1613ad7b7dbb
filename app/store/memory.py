"""Workspaces kept in the server's memory (``--store memory``, and tests)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from app.cluster.persistence import Changes, Saved
from app.store.base import Mark, ShareRow, StaleWrite, dump
from app.store.history import Entry, ListKeeper, Patch, Record, Step, Stored, keep


class MemoryBackend:
    """Workspaces in dicts of JSON text (so nothing is shared with the live objects); gone
    when the process ends. It has no disk, hence no disk floor and no storage failures."""

    def __init__(self) -> None:
        self._meta: dict[str, tuple[int, str]] = {}
        self._rows: dict[str, dict[str, str]] = {}
        self._events: dict[str, dict[int, str]] = {}
        self._used: dict[str, float] = {}
        self._shares: dict[str, ShareRow] = {}  # token -> link
        self._history: dict[str, list[Stored]] = {}  # oldest first
        self._lock = threading.Lock()

    def insert(self, workspace_id: str, saved: Saved, now: float | None = None) -> None:
        with self._lock:
            self._meta[workspace_id] = (1, dump(saved.meta))
            self._rows[workspace_id] = {
                r.id: dump({"object": r.object, "applied": r.applied}) for r in saved.rows
            }
            self._events[workspace_id] = {e["id"]: dump(e) for e in saved.events}
            self._used[workspace_id] = time.time() if now is None else now

    def version(self, workspace_id: str) -> int | None:
        row = self._meta.get(workspace_id)
        return row[0] if row else None

    def versions(self, workspace_ids: list[str]) -> dict[str, int]:
        found = {i: self._meta.get(i) for i in workspace_ids}
        return {i: row[0] for i, row in found.items() if row is not None}

    def marks(self, workspace_ids: list[str]) -> dict[str, Mark]:
        found = {i: self._meta.get(i) for i in workspace_ids}
        return {
            i: Mark.from_meta(row[0], json.loads(row[1]))
            for i, row in found.items()
            if row is not None
        }

    def load_meta(self, workspace_id: str) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            meta = self._meta.get(workspace_id)
        return (meta[0], json.loads(meta[1])) if meta else None

    def load(self, workspace_id: str) -> tuple[int, Saved] | None:
        with self._lock:
            meta = self._meta.get(workspace_id)
            if meta is None:
                return None
            rows = [json.loads(text) for text in self._rows[workspace_id].values()]
            events = [json.loads(text) for text in self._events[workspace_id].values()]
        saved = Saved.from_dict({"meta": json.loads(meta[1]), "objects": rows, "events": events})
        return meta[0], saved

    def history(self, workspace_id: str) -> list[Entry]:
        with self._lock:
            return [s.entry for s in reversed(self._history.get(workspace_id, []))]

    def history_patch(self, workspace_id: str, seq: int, direction: str) -> Patch | None:
        with self._lock:
            return ListKeeper(self._history.get(workspace_id, [])).patch(seq, direction)

    def save(
        self,
        workspace_id: str,
        changes: Changes,
        expected_version: int,
        history: Record | Step | None = None,
        *,
        notes_only: bool = False,
    ) -> int:
        with self._lock:
            current = self._meta.get(workspace_id)
            if current is None or current[0] != expected_version:
                raise StaleWrite(workspace_id)
            kept = self._history.setdefault(workspace_id, [])
            keeper = _MemoryKeeper(kept, self._rows[workspace_id])
            keep(keeper, json.loads(current[1]), changes, history)
            if changes.replace_all:
                self._rows[workspace_id], self._events[workspace_id] = {}, {}
            rows, events = self._rows[workspace_id], self._events[workspace_id]
            for row in changes.upserts:
                rows[row.id] = dump({"object": row.object, "applied": row.applied})
            for gone in changes.deletes:
                rows.pop(gone, None)
            for event in changes.events:
                events[event["id"]] = dump(event)
            for old in [i for i in events if i < changes.oldest_event_id]:
                del events[old]
            self._meta[workspace_id] = (expected_version + 1, dump(changes.meta))
            return expected_version + 1

    def touch(self, workspace_id: str, now: float, older_than: float) -> None:
        with self._lock:
            if workspace_id in self._used and self._used[workspace_id] < older_than:
                self._used[workspace_id] = time.time() if now is None else now

    def expire(self, before: float, limit: int) -> list[str]:
        with self._lock:
            gone = [w for w, used in self._used.items() if used < before][:limit]
            for table in (self._meta, self._rows, self._events, self._used, self._history):
                for workspace_id in gone:
                    table.pop(workspace_id, None)  # type: ignore[attr-defined]
            for token in [t for t, s in self._shares.items() if s.workspace in gone]:
                del self._shares[token]
            return gone

    def active_share(self, workspace_id: str) -> ShareRow | None:
        with self._lock:
            return self._active(workspace_id)

    def _active(self, workspace_id: str) -> ShareRow | None:
        return next(
            (s for s in self._shares.values() if s.workspace == workspace_id and s.ended is None),
            None,
        )

    def share_row(self, token: str) -> ShareRow | None:
        return self._shares.get(token)

    def new_share(self, workspace_id: str, token: str, now: float) -> None:
        with self._lock:
            self._end(workspace_id, now)
            self._shares[token] = ShareRow(token, workspace_id, now)

    def end_share(self, workspace_id: str, now: float) -> None:
        with self._lock:
            self._end(workspace_id, now)

    def _end(self, workspace_id: str, now: float) -> None:
        active = self._active(workspace_id)
        if active is not None:
            self._shares[active.token] = replace(active, ended=now)

    def health(self) -> dict[str, Any]:
        return {"writable": True, "problem": None}


@dataclass
class _MemoryKeeper(ListKeeper):
    """A workspace's rows and history in a :class:`MemoryBackend`, for :func:`keep`."""

    saved: dict[str, str]  # row id -> JSON text

    def rows(self, ids: list[str] | None) -> dict[str, list]:
        found = {}
        for row_id in [i for i in (self.saved if ids is None else ids) if i in self.saved]:
            data = json.loads(self.saved[row_id])
            found[row_id] = [data["object"], data["applied"]]
        return found
