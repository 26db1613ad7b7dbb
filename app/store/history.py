"""Undo and redo: a workspace's last changes, each kept as the two patches between versions.

Every saved change that touched an object becomes one history entry holding two patches:
``undo`` (the rows it changed, as they were before, plus the settings before) and ``redo``
(the same rows and settings after). Undoing applies ``undo`` to the current state, which
gives a new version equal to the older one; redoing applies ``redo``. Entries that were
undone form the redo stack until an ordinary change clears them, as in an editor.

Patches hold only what changed, compressed, so a small change to a large workspace costs
little, and a workspace keeps at most :data:`MAX_ENTRIES` entries and :data:`MAX_BYTES`
bytes of them (the oldest go first). Events and the lessons' notes are not part of a patch:
an undo is a change like any other and leaves its own event.

Each entry is labelled by comparing the learner's objects before and after (created,
configured, scaled, deleted), the settings (CNI plugin, kube-proxy mode) and the nodes, so
every path into the store gets a label without saying anything; a caller may give its own.

A backend only reads and writes its rows and entries (a :class:`Keeper`); :func:`keep`
decides what a save does to the history.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple, Protocol

from app.cluster.objects import API_VERSIONS, CLUSTER_SCOPED
from app.cluster.persistence import Changes

MAX_ENTRIES = 50
MAX_BYTES = 4_000_000  # compressed patches per workspace; the newest entry always stays
MAX_LABEL = 200
META_KEYS = ("config", "seed", "ipam")  # what a patch restores of the meta record


@dataclass
class Patch:
    """Rows to put back (``[object, applied]``, or None where the row must be absent) and the
    settings part of the meta record."""

    meta: dict[str, Any]
    rows: dict[str, list[Any] | None] = field(default_factory=dict)

    def encode(self) -> bytes:
        text = json.dumps({"meta": self.meta, "rows": self.rows}, separators=(",", ":"))
        return zlib.compress(text.encode("utf-8"), 6)

    @classmethod
    def decode(cls, blob: bytes) -> Patch:
        data = json.loads(zlib.decompress(blob).decode("utf-8"))
        return cls(data["meta"], data["rows"])


@dataclass(frozen=True)
class Entry:
    """One change in the history: ``seq`` grows with every entry; ``undone`` entries are the
    redo stack. ``subject`` is ``kind/namespace/name`` of the object the change was about
    (its undo's event is recorded there), or empty."""

    seq: int
    label: str
    subject: str
    undone: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.seq, "label": self.label, "undone": self.undone}


@dataclass(frozen=True)
class Record:
    """Save an ordinary change and add it to the history (labelled ``label`` when given)."""

    label: str | None = None


@dataclass(frozen=True)
class Step:
    """Save an undo or a redo of entry ``seq``: the entry moves to or from the redo stack."""

    direction: Literal["undo", "redo"]
    seq: int


@dataclass(frozen=True)
class Stored:
    """An entry as a backend keeps it."""

    entry: Entry
    undo: bytes
    redo: bytes

    @property
    def size(self) -> int:
        return len(self.undo) + len(self.redo) + len(self.entry.label)


def meta_part(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta.get(k) for k in META_KEYS}


def make_entry(
    seq: int,
    label: str | None,
    before: Patch,
    after: Patch,
    rebuilt: bool,
) -> Stored | None:
    """The history entry for a change from ``before`` to ``after`` (both naming the same
    rows), or None when it changed no object and no setting (a lesson's notes, say). Rows
    equal on both sides are left out."""
    for row_id in [r for r in before.rows if before.rows[r] == after.rows.get(r)]:
        del before.rows[row_id]
        del after.rows[row_id]
    if not before.rows and not after.rows and before.meta == after.meta:
        return None
    derived, subject = describe(before, after, rebuilt)
    text = (label or derived)[:MAX_LABEL]
    return Stored(Entry(seq, text, subject, False), before.encode(), after.encode())


def to_drop(sizes: list[int]) -> int:
    """How many of the oldest entries go, given every entry's size, oldest first: at most
    :data:`MAX_ENTRIES` stay, at most :data:`MAX_BYTES` in all, and always the newest.

    >>> to_drop([10] * 52), to_drop([MAX_BYTES, 10, MAX_BYTES]), to_drop([MAX_BYTES * 2])
    (2, 2, 0)
    """
    drop = max(0, len(sizes) - MAX_ENTRIES)
    total = sum(sizes[drop:])
    while drop < len(sizes) - 1 and total > MAX_BYTES:
        total -= sizes[drop]
        drop += 1
    return drop


def patches(
    old_meta: dict[str, Any], old_rows: dict[str, list[Any]], changes: Changes
) -> tuple[Patch, Patch]:
    """The two patches of a change about to be saved: ``old_rows`` holds the saved rows the
    change touches (every row when it replaces the whole state), ``[object, applied]``."""
    after: dict[str, list[Any] | None] = {}
    if changes.replace_all:
        after = dict.fromkeys(old_rows)
    for row in changes.upserts:  # a JSON round trip, so both sides compare alike
        after[row.id] = json.loads(json.dumps([row.object, row.applied], separators=(",", ":")))
    for gone in changes.deletes:
        after[gone] = None
    before = {row_id: old_rows.get(row_id) for row_id in after}
    new_meta = json.loads(json.dumps(meta_part(changes.meta)))
    return Patch(meta_part(old_meta), before), Patch(new_meta, after)


# --- keeping the history in a backend ------------------------------------------------------
class Kept(NamedTuple):
    """What the history needs to know of an entry a backend keeps: its ``seq``, its
    :attr:`Stored.size` and whether it is on the redo stack."""

    seq: int
    size: int
    undone: bool


class Keeper(Protocol):
    """One workspace's rows and history in a backend, inside the transaction of a save:
    :func:`keep` decides, the backend only reads and writes."""

    def rows(self, ids: list[str] | None) -> dict[str, list[Any]]:
        """The saved rows among ``ids`` (every row when None), ``[object, applied]``."""
        ...

    def entries(self) -> list[Kept]:
        """Every entry kept, oldest first."""
        ...

    def mark(self, seq: int, undone: bool) -> None:
        """Move entry ``seq`` to the redo stack (``undone``) or back off it."""
        ...

    def add(self, stored: Stored, drop: list[int]) -> None:
        """Keep ``stored`` and forget the entries numbered ``drop``."""
        ...


@dataclass
class ListKeeper:
    """The history half of a :class:`Keeper` for a backend that keeps a workspace's entries
    as a list of :class:`Stored`, oldest first; the backend adds :meth:`Keeper.rows`.

    >>> keeper = ListKeeper([])
    >>> keeper.add(Stored(Entry(1, "a", "", False), b"u", b"r"), [])
    >>> keeper.mark(1, True)
    >>> keeper.entries()
    [Kept(seq=1, size=3, undone=True)]
    >>> keeper.patch(2, "undo") is None
    True
    """

    kept: list[Stored]

    def entries(self) -> list[Kept]:
        return [Kept(s.entry.seq, s.size, s.entry.undone) for s in self.kept]

    def mark(self, seq: int, undone: bool) -> None:
        for i, stored in enumerate(self.kept):
            if stored.entry.seq == seq:
                self.kept[i] = replace(stored, entry=replace(stored.entry, undone=undone))

    def add(self, stored: Stored, drop: list[int]) -> None:
        self.kept[:] = [s for s in self.kept if s.entry.seq not in drop] + [stored]

    def patch(self, seq: int, direction: str) -> Patch | None:
        """Entry ``seq``'s ``undo`` or ``redo`` patch, or None when it is gone."""
        for stored in self.kept:
            if stored.entry.seq == seq:
                return Patch.decode(stored.undo if direction == "undo" else stored.redo)
        return None


def touched(changes: Changes) -> list[str] | None:
    """The ids of the saved rows a change touches, or None for all of them (it replaces the
    whole state).

    >>> from app.cluster.persistence import Row
    >>> touched(Changes({}, upserts=[Row("Pod/default/a", {}, None)], deletes=["Pod/default/b"]))
    ['Pod/default/a', 'Pod/default/b']
    """
    if changes.replace_all:
        return None
    return [r.id for r in changes.upserts] + changes.deletes


def trim(entries: list[Kept], new_size: int) -> list[int]:
    """The seqs to forget when an entry of ``new_size`` bytes joins ``entries`` (oldest
    first): the redo stack, then the oldest beyond :func:`to_drop`'s bounds.

    >>> trim([Kept(1, 10, False), Kept(2, 10, False), Kept(3, 10, True)], 10)
    [3]
    >>> trim([Kept(seq, 10, False) for seq in range(1, MAX_ENTRIES + 1)], 10)
    [1]
    """
    kept = [e for e in entries if not e.undone]
    drop = to_drop([e.size for e in kept] + [new_size])
    return [e.seq for e in entries if e.undone] + [e.seq for e in kept[:drop]]


def keep(
    keeper: Keeper, old_meta: dict[str, Any], changes: Changes, history: Record | Step | None
) -> None:
    """Record a change about to be saved from a state with settings ``old_meta``: an undo or a
    redo (a :class:`Step`) moves its entry to or from the redo stack; any other change that
    touched an object or a setting becomes a new entry, clears the redo stack and trims the
    oldest entries."""
    if isinstance(history, Step):
        keeper.mark(history.seq, history.direction == "undo")
        return
    ids = touched(changes)
    before, after = patches(old_meta, keeper.rows(ids) if ids != [] else {}, changes)
    if not after.rows and before.meta == after.meta:
        return  # no object and no setting changed (a lesson's notes): no entry, nothing to read
    entries = keeper.entries()
    seq = max((e.seq for e in entries), default=0) + 1
    stored = make_entry(seq, (history or Record()).label, before, after, changes.replace_all)
    if stored is not None:
        keeper.add(stored, trim(entries, stored.size))


# --- labels ---------------------------------------------------------------------------------
def resource(kind: str) -> str:
    """The resource as ``kubectl apply`` prints it.

    >>> resource("Deployment"), resource("Service"), resource("Ingress")
    ('deployment.apps', 'service', 'ingress.networking.k8s.io')
    """
    group = API_VERSIONS.get(kind, "v1").split("/")
    return kind.lower() + (f".{group[0]}" if len(group) == 2 else "")


def _split(row_id: str) -> tuple[str, str, str]:
    kind, namespace, name = row_id.split("/", 2)
    return kind, namespace, name


def _user_line(row_id: str, action: str) -> str:
    kind, namespace, name = _split(row_id)
    where = "" if kind in CLUSTER_SCOPED or namespace == "default" else f" in {namespace}"
    return f"{resource(kind)}/{name} {action}{where}"


def _only_replicas_differ(old: dict[str, Any], new: dict[str, Any]) -> bool:
    strip = [
        {**m, "spec": {k: v for k, v in (m.get("spec") or {}).items() if k != "replicas"}}
        for m in (old, new)
    ]
    return strip[0] == strip[1]


def _node_ready(node: dict[str, Any]) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def describe(before: Patch, after: Patch, rebuilt: bool = False) -> tuple[str, str]:
    """A label for the change from ``before`` to ``after``, and the row id it is about.

    >>> web = {"kind": "Deployment", "spec": {"replicas": 2}}
    >>> describe(Patch({}, {"Deployment/default/web": None}),
    ...          Patch({}, {"Deployment/default/web": [web, web]}))
    ('deployment.apps/web created', 'Deployment/default/web')
    >>> three = {"kind": "Deployment", "spec": {"replicas": 3}}
    >>> describe(Patch({}, {"Deployment/shop/web": [web, web]}),
    ...          Patch({}, {"Deployment/shop/web": [three, three]}))[0]
    'deployment.apps/web scaled to 3 in shop'
    >>> describe(Patch({"config": {"cni": "flannel"}}), Patch({"config": {"cni": "calico"}}))[0]
    'switched CNI flannel → calico'
    """
    parts: list[str] = []
    subjects: list[str] = []
    old_config = before.meta.get("config") or {}
    new_config = after.meta.get("config") or {}
    for key, name in (("cni", "CNI"), ("proxy_mode", "kube-proxy mode")):
        if old_config.get(key) != new_config.get(key):
            parts.append(f"switched {name} {old_config.get(key)} → {new_config.get(key)}")
    if old_config.get("calico_mode") != new_config.get("calico_mode") and (
        new_config.get("cni") == "calico"
    ):
        old_mode, new_mode = old_config.get("calico_mode"), new_config.get("calico_mode")
        parts.append(f"switched Calico mode {old_mode} → {new_mode}")
    replaced = [
        config.get("cni") == "cilium" and config.get("kube_proxy_replacement", True)
        for config in (old_config, new_config)
    ]
    if replaced[0] != replaced[1]:
        parts.append(
            "Services now in Cilium's eBPF, no kube-proxy"
            if replaced[1]
            else "kube-proxy back for Services"
        )
    ids = sorted(set(before.rows) | set(after.rows))
    if rebuilt and not parts:
        if not any((after.rows.get(i) or [None, None])[1] for i in after.rows):
            # A reset drops the learner's objects: say so rather than list each one.
            return "reset to the default cluster", ""
        return "rebuilt the cluster", ""
    user: list[str] = []
    for row_id in ids:
        old, new = before.rows.get(row_id), after.rows.get(row_id)
        old_applied = old[1] if old else None
        new_applied = new[1] if new else None
        if old_applied is None and new_applied is not None:
            user.append(_user_line(row_id, "created"))
        elif old_applied is not None and new_applied is None:
            user.append(_user_line(row_id, "deleted"))
        elif old_applied is not None and old_applied != new_applied:
            if _only_replicas_differ(old_applied, new_applied):
                replicas = (new_applied.get("spec") or {}).get("replicas")
                user.append(_user_line(row_id, f"scaled to {replicas}"))
            else:
                user.append(_user_line(row_id, "configured"))
        else:
            continue
        subjects.append(row_id)
    # A switch re-addresses every pod: the settings say it all.
    parts.extend(user)
    if not parts:  # the nodes, else the pods (a node's evicted pods follow from the node)
        for wanted in ("Node", "Pod"):
            for row_id in ids:
                line = _system_line(row_id, before.rows.get(row_id), after.rows.get(row_id))
                if line and row_id.startswith(wanted + "/"):
                    parts.append(line)
                    subjects.append(row_id)
            if parts:
                break
    if not parts:
        count = len(ids)
        return f"{count} object{'s' if count != 1 else ''} changed", ""
    return _join(parts), subjects[0] if subjects else ""


def _system_line(row_id: str, old: list[Any] | None, new: list[Any] | None) -> str | None:
    kind, namespace, name = _split(row_id)
    if kind == "Node":
        if old is None and new is not None:
            return f"node {name} joined"
        if old is not None and new is None:
            return f"node {name} removed"
        if old and new and _node_ready(old[0]) != _node_ready(new[0]):
            return f"node {name} {'Ready' if _node_ready(new[0]) else 'NotReady'}"
    elif kind == "Pod" and old is not None and new is None:
        return f"pod {namespace}/{name} deleted"
    return None


def _join(parts: list[str]) -> str:
    if len(parts) <= 2:
        return ", ".join(parts)
    return f"{parts[0]}, {parts[1]} and {len(parts) - 2} more"
