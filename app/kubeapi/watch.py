"""Watch events from two views of the same objects: what was ADDED, MODIFIED or DELETED.

A watch holds the objects it last reported, keyed by namespace and name, with their
resourceVersions; each new look at the workspace gives the events in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Snapshot = dict[tuple[str, str], dict[str, Any]]


def snapshot(objects: list[dict[str, Any]]) -> Snapshot:
    """Objects keyed by (namespace, name).

    >>> list(snapshot([{"metadata": {"name": "a", "namespace": "d"}}]))
    [('d', 'a')]
    """
    return {
        ((o.get("metadata") or {}).get("namespace", ""), o["metadata"]["name"]): o for o in objects
    }


def version_of(obj: dict[str, Any]) -> int:
    return int((obj.get("metadata") or {}).get("resourceVersion") or 0)


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any]

    def to_dict(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"type": self.type, "object": self.object if body is None else body}


def changes(before: Snapshot, after: Snapshot, deleted_version: int = 0) -> list[WatchEvent]:
    """The events that turn ``before`` into ``after``, oldest change first. A deleted object
    is reported as last seen, at ``deleted_version`` (the version the deletion made).

    >>> a1 = {"metadata": {"name": "a", "resourceVersion": "1"}}
    >>> a2 = {"metadata": {"name": "a", "resourceVersion": "5"}}
    >>> b = {"metadata": {"name": "b", "resourceVersion": "4"}}
    >>> [(e.type, e.object["metadata"]["name"]) for e in changes(snapshot([a1]),
    ...                                                          snapshot([a2, b]))]
    [('ADDED', 'b'), ('MODIFIED', 'a')]
    >>> [(e.type, e.object["metadata"]["resourceVersion"])
    ...  for e in changes(snapshot([a1]), {}, deleted_version=6)]
    [('DELETED', '6')]
    """
    found: list[tuple[int, WatchEvent]] = []
    for key, obj in after.items():
        old = before.get(key)
        if old is None:
            found.append((version_of(obj), WatchEvent("ADDED", obj)))
        elif version_of(old) != version_of(obj):
            found.append((version_of(obj), WatchEvent("MODIFIED", obj)))
    for key, obj in before.items():
        if key not in after:
            gone = {**obj, "metadata": {**obj["metadata"]}}
            if deleted_version:
                gone["metadata"]["resourceVersion"] = str(deleted_version)
            found.append((deleted_version or version_of(obj), WatchEvent("DELETED", gone)))
    found.sort(key=lambda pair: pair[0])
    return [event for _version, event in found]


def newer_than(objects: list[dict[str, Any]], version: int) -> list[WatchEvent]:
    """What a watch started at ``version`` reports first: the objects changed since, as
    ADDED (the model keeps no history to tell an addition from a change).

    >>> newer_than([{"metadata": {"name": "a", "resourceVersion": "3"}}], 2)[0].type
    'ADDED'
    """
    return [
        WatchEvent("ADDED", o) for o in sorted(objects, key=version_of) if version_of(o) > version
    ]


#: The annotation on the BOOKMARK that ends a watch's initial events (sendInitialEvents=true):
#: the API reference's ``sendInitialEvents`` query parameter, KEP-3157 (streaming lists).
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def initial_events_end(api_version: str, kind: str, version: int) -> WatchEvent:
    """The BOOKMARK a watch with ``sendInitialEvents=true`` sends once every object has been
    sent as ADDED: an empty object of the watched kind at the list's resourceVersion, marked
    with the ``k8s.io/initial-events-end`` annotation. client-go's reflector (kubectl 1.35
    and newer, in ``wait`` and ``rollout status``) waits for it before it calls itself synced.

    >>> initial_events_end("v1", "Pod", 7).to_dict()["object"]["metadata"]
    {'resourceVersion': '7', 'annotations': {'k8s.io/initial-events-end': 'true'}}
    """
    metadata = {"resourceVersion": str(version), "annotations": {INITIAL_EVENTS_END: "true"}}
    return WatchEvent("BOOKMARK", {"apiVersion": api_version, "kind": kind, "metadata": metadata})
