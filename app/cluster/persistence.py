"""Saving a cluster's state and getting it back, whole or as the changes since the last save.

A saved cluster is three things: a small ``meta`` record (settings, counters, the random
generator's position, each node's pod ranges), one row per object (the object and, when the
learner made it, the manifest they applied), and the event log. What the allocators and IPAM
hold in use is not saved: it is read back off the objects, so it can never disagree with them.

Saving only the rows that changed keeps a small change to a large workspace cheap.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from app.cluster.allocators import ServiceAllocator
from app.cluster.ipam import Ipam, NodeAddressing
from app.cluster.objects import ObjectKey, key_of
from app.cluster.state import ClusterConfig, ClusterState, Event, _decode_random, _encode_random

FORMAT = 2


def object_id(key: ObjectKey) -> str:
    """The row id of an object: ``kind/namespace/name`` (namespace empty when cluster-scoped).

    >>> object_id(ObjectKey("Pod", "default", "web"))
    'Pod/default/web'
    """
    return f"{key.kind}/{key.namespace}/{key.name}"


@dataclass
class Row:
    id: str
    object: dict[str, Any]
    applied: dict[str, Any] | None


@dataclass
class Saved:
    """A whole saved cluster."""

    meta: dict[str, Any]
    rows: list[Row]
    events: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "objects": [{"object": r.object, "applied": r.applied} for r in self.rows],
            "events": self.events,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Saved:
        rows = [
            Row(object_id(key_of(o["object"])), o["object"], o.get("applied"))
            for o in data["objects"]
        ]
        return cls(data["meta"], rows, data["events"])


@dataclass
class Changes:
    """What changed since the last save: new meta, rows to write, rows to delete, events."""

    meta: dict[str, Any]
    upserts: list[Row] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    oldest_event_id: int = 0  # events with a smaller id have aged out of the log
    replace_all: bool = False  # the whole state was swapped: drop every saved row first


def meta_of(state: ClusterState, with_random: bool = True) -> dict[str, Any]:
    """The state's settings, counters, notes and addressing, as saved with its objects.

    ``with_random=False`` leaves out the generator's state (its count of draws stands for it,
    and it is the costly part), to tell cheaply whether a change moved anything.

    >>> from app.cluster.cluster import Cluster
    >>> state = Cluster.create(seed=1).state
    >>> "random" in meta_of(state), "random" in meta_of(state, with_random=False)
    (True, False)
    """
    return {
        "format": FORMAT,
        "config": state.config.to_state(),
        "seed": state.seed,
        "draws": state.draws,
        **({"random": _encode_random(state._random.getstate())} if with_random else {}),
        "resource_version": state.resource_version,
        "event_seq": state.event_seq,
        "lineage": state.lineage,
        "notes": state.notes,
        "ipam": _ipam_state(state.ipam),
        **({"ipam6": _ipam_state(state.ipam6)} if state.ipam6 is not None else {}),
    }


def _ipam_state(ipam: Ipam) -> dict[str, Any]:
    return {
        "plugin": ipam.plugin,
        **({"family": ipam.family} if ipam.family != "IPv4" else {}),
        "next_block": ipam.next_block,
        "nodes": {n: a.to_state() for n, a in ipam.nodes.items()},
    }


def _ipam_from(saved: dict[str, Any]) -> Ipam:
    return Ipam(
        saved["plugin"],
        saved.get("family", "IPv4"),
        {n: NodeAddressing(**a) for n, a in saved["nodes"].items()},
        next_block=saved["next_block"],
    )


def snapshot(state: ClusterState) -> Saved:
    """The whole state as it would be saved (the rows share the live objects: serialise
    them before the state changes again)."""
    rows = [Row(object_id(key), obj, state.applied.get(key)) for key, obj in state.objects.items()]
    return Saved(meta_of(state), rows, [asdict(e) for e in state.events])


def save_all(state: ClusterState) -> Saved:
    """:func:`snapshot`, and mark everything saved."""
    saved = snapshot(state)
    state.changed.clear()
    state.saved_event_seq = state.event_seq
    return saved


def take_changes(state: ClusterState) -> Changes:
    """What changed since the last save (or load), and mark it saved."""
    if state.replaced:
        saved = save_all(state)
        state.replaced = False
        return Changes(saved.meta, saved.rows, [], saved.events, 0, replace_all=True)
    changes = Changes(meta_of(state))
    for key in state.changed:
        obj = state.objects.get(key)
        if obj is None:
            changes.deletes.append(object_id(key))
        else:
            changes.upserts.append(Row(object_id(key), obj, state.applied.get(key)))
    changes.events = [asdict(e) for e in state.events if e.seq > state.saved_event_seq]
    changes.oldest_event_id = state.events[0].id if state.events else state.event_seq + 1
    state.changed.clear()
    state.saved_event_seq = state.event_seq
    return changes


def restore(saved: Saved) -> ClusterState:
    """Rebuild a state from what :func:`save_all` (plus later changes) wrote."""
    meta = saved.meta
    if meta.get("format") != FORMAT:
        raise ValueError(f"saved cluster format {meta.get('format')} is not {FORMAT}")
    state = ClusterState(ClusterConfig(**meta["config"]), meta["seed"])
    state.draws = meta["draws"]
    state._random.setstate(_decode_random(meta["random"]))
    state.resource_version = meta["resource_version"]
    state.event_seq = state.saved_event_seq = meta["event_seq"]
    state.notes = meta.get("notes", {})
    state.lineage = meta.get("lineage", 0)  # saves from before it was kept: 0
    for row in saved.rows:
        state.restore_object(row.object, row.applied)
    events = sorted((Event(**e) for e in saved.events), key=lambda e: e.seq)
    state.events = events
    state.ipam = _ipam_from(meta["ipam"])
    state.ipam6 = _ipam_from(meta["ipam6"]) if "ipam6" in meta else None
    _rebuild_in_use(state)
    state.dirty.clear()
    state.touched_owners.clear()
    state.changed.clear()
    return state


#: What a save may change without changing any object or setting: the lessons' notes, and the
#: random generator (a trace draws from it).
NOTES_ONLY = ("notes", "draws", "random")


def restore_notes(state: ClusterState, meta: dict[str, Any]) -> bool:
    """Bring ``state`` up to a newer save of the same objects: take its lessons' notes and its
    generator from ``meta`` (what :func:`meta_of` wrote), and nothing else.

    A process holding a state need not read every object again when another process saved
    lesson notes alone (a trace or a Check recorded): their ``objects_mark`` is the same.

    Parameters
    ----------
    state : ClusterState
        The state held; changed in place (new values, never mutated ones: a view built from
        the old notes keeps them).
    meta : dict
        The newer save's meta record.

    Returns
    -------
    bool
        True when the notes and generator were taken; False (``state`` untouched) when
        ``meta`` differs in anything else: the objects, settings or addresses changed, and the
        whole state must be read again.

    >>> from app.cluster.cluster import Cluster
    >>> state = Cluster.create(seed=1).state
    >>> import json
    >>> meta = json.loads(json.dumps(meta_of(state)))  # as saved and read back
    >>> restore_notes(state, {**meta, "notes": {"lesson": {"step": 2}}}), state.notes
    (True, {'lesson': {'step': 2}})
    >>> restore_notes(state, {**meta, "resource_version": meta["resource_version"] + 1})
    False
    """
    held = {k: v for k, v in meta_of(state, with_random=False).items() if k not in NOTES_ONLY}
    held = json.loads(json.dumps(held))  # as the save reads back: lists, string keys
    if any(meta.get(key) != value for key, value in held.items()):
        return False
    if meta.get("format") != FORMAT or "random" not in meta:
        return False
    state.notes = meta.get("notes", {})
    state.draws = meta["draws"]
    state._random.setstate(_decode_random(meta["random"]))
    return True


def _rebuild_in_use(state: ClusterState) -> None:
    """Read what is allocated back off the objects themselves."""
    for ipam in state.ipams():
        for node, addressing in ipam.nodes.items():
            if addressing.gateway_ip:
                ipam.in_use[addressing.gateway_ip] = node
    for pod in state.of_kind("Pod"):
        status = pod.get("status") or {}
        if pod["spec"].get("hostNetwork"):
            continue
        ips = [entry.get("ip") for entry in status.get("podIPs") or ()] or [status.get("podIP")]
        for ipam, ip in zip(state.ipams(), ips, strict=False):
            if ip:
                ipam.in_use[ip] = pod["spec"].get("nodeName", "")
    allocator = state.allocator = ServiceAllocator()
    for service in state.of_kind("Service"):
        spec = service.get("spec") or {}
        owner = f"{service['metadata']['namespace']}/{service['metadata']['name']}"
        for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
            if ip and ip != "None":
                allocator.take_cluster_ip(ip, owner)
        for port in spec.get("ports") or []:
            if port.get("nodePort"):
                allocator.take_node_port(port["nodePort"], port.get("protocol", "TCP"), owner)
        if spec.get("healthCheckNodePort"):
            allocator.take_node_port(spec["healthCheckNodePort"], "TCP", owner)
        for ingress in ((service.get("status") or {}).get("loadBalancer") or {}).get(
            "ingress"
        ) or []:
            if ingress.get("ip"):
                allocator.lb_ips[ingress["ip"]] = owner
