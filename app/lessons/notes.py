"""The lessons' notes about a workspace, kept in ``cluster.state.notes`` and saved with it:
which lesson is open, each lesson's progress, and the learner's recent activity.

::

    {"lesson": "services", "seq": 12,
     "activity": [{"seq": 12, "kind": "trace", ...}, ...],
     "progress": {"services": {"step": 2, "done": ["make-service"], ...}}}
"""

from __future__ import annotations

from typing import Any

from app.lessons.outcome import StepState

#: How many traces, lookups and batches to remember (a step reads only its own).
KEEP_ACTIVITY = 40


def _notes(cluster: Any) -> dict[str, Any]:
    return cluster.state.notes


def active(cluster: Any) -> str | None:
    """The slug of the lesson open in this workspace, if any."""
    return _notes(cluster).get("lesson")


def set_active(cluster: Any, slug: str | None) -> None:
    _notes(cluster)["lesson"] = slug


def all_progress(cluster: Any) -> dict[str, dict[str, Any]]:
    return _notes(cluster).get("progress", {})


def progress(cluster: Any, slug: str) -> dict[str, Any]:
    """A lesson's progress, made empty if the lesson was never opened here.

    >>> from app.cluster.cluster import Cluster
    >>> progress(Cluster.create(seed=1), "dns")["step"]
    0
    """
    lessons = _notes(cluster).setdefault("progress", {})
    record = lessons.get(slug)
    if record is None:
        record = lessons[slug] = fresh_progress()
    return record


def fresh_progress() -> dict[str, Any]:
    return {
        "step": 0,
        "done": [],
        "shown": [],
        "hints": {},
        "answers": {},
        "entered": {},
        "results": {},
        "quiz": None,
        "tally": {},
    }


def record(cluster: Any, entry: dict[str, Any]) -> None:
    """Remember one thing the learner did (a trace, a lookup, a batch of requests).

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> record(cluster, {"kind": "dns"}); record(cluster, {"kind": "trace"})
    >>> [(e["seq"], e["kind"]) for e in cluster.state.notes["activity"]]
    [(1, 'dns'), (2, 'trace')]
    """
    notes = _notes(cluster)
    notes["seq"] = notes.get("seq", 0) + 1
    activity = notes.setdefault("activity", [])
    activity.append({**entry, "seq": notes["seq"]})
    del activity[:-KEEP_ACTIVITY]


def seq(cluster: Any) -> int:
    return _notes(cluster).get("seq", 0)


def set_answer(cluster: Any, step_id: str, answer: str) -> None:
    """Type an answer into a step of the open lesson."""
    slug = active(cluster)
    if slug is not None:
        progress(cluster, slug)["answers"][step_id] = answer[:200]


def pods_now(cluster: Any) -> dict[str, dict[str, Any]]:
    """Every pod's IP and labels, to compare with later (``replaced`` checks)."""
    return {
        f"{p['metadata']['namespace']}/{p['metadata']['name']}": {
            "ip": (p.get("status") or {}).get("podIP"),
            "labels": dict(p["metadata"].get("labels") or {}),
        }
        for p in cluster.list("Pod")
        if p["metadata"]["namespace"] != "kube-system"
    }


def step_state(cluster: Any, slug: str, step_id: str) -> StepState:
    """What a step's checks may read: the activity since the step was entered, the pods
    there were then, the learner's answer."""
    record_ = progress(cluster, slug)
    entered = record_["entered"].get(step_id, {"mark": seq(cluster), "baseline": {}})
    activity = [e for e in _notes(cluster).get("activity", []) if e["seq"] > entered["mark"]]
    return StepState(activity, entered["baseline"], record_["answers"].get(step_id))
