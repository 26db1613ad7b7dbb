"""A student's progress as the instructor sees it, made from the lesson notes their sandbox
keeps (:mod:`app.lessons.notes`), and the times at which it moved.

The notes know what the student did, not when (the domain has no clock); the class store
calls :func:`advance` with the time of each change it sees, so a step's entry and completion
times are those of the change that entered or completed it.
"""

from __future__ import annotations

from typing import Any

from app.lessons.model import Lesson


def summarize(record: dict[str, Any] | None, lesson: Lesson | None) -> dict[str, Any]:
    """What the dashboard shows of one student's lesson progress.

    Parameters
    ----------
    record : dict or None
        The lesson's progress from the student's notes (None when not started).
    lesson : Lesson or None
        The class's lesson (None for a class on a scenario: there are no steps).

    Returns
    -------
    dict
        ``step`` (index; ``steps`` means the recap and quiz), ``steps``, ``done`` and
        ``shown`` (step ids), ``tries`` and ``failed`` (per step id: check runs, failed
        runs), ``passed`` and ``failures`` (check runs that passed and failed, all steps),
        ``last_failure`` (``{"step", "message"}`` or None), ``streak`` (``{"step",
        "message", "count"}``: the same check failing in a row on the current step, or None),
        ``hints`` (hints revealed) and ``quiz`` (``{"answers", "score", "total"}`` or None).

    Examples
    --------
    >>> from app.lessons.catalog import load_catalog
    >>> from app.lessons.notes import fresh_progress
    >>> lesson = load_catalog().get("flat-network")
    >>> record = fresh_progress()
    >>> record["tally"]["same-node"] = {"tries": 3, "failed": 2, "streak": 2,
    ...                                   "last_failure": "No trace yet"}
    >>> s = summarize(record, lesson)
    >>> s["step"], s["passed"], s["failures"], s["streak"]["count"], s["last_failure"]["message"]
    (0, 1, 2, 2, 'No trace yet')
    """
    if record is None or lesson is None:
        return {
            "step": 0, "steps": len(lesson.steps) if lesson else 0, "done": [], "shown": [],
            "tries": {}, "failed": {}, "passed": 0, "failures": 0, "last_failure": None,
            "streak": None, "hints": 0, "quiz": None,
        }  # fmt: skip
    tally = record.get("tally", {})
    titles = {s.id: s.title for s in lesson.steps}
    step = min(int(record.get("step", 0)), len(lesson.steps))
    current = lesson.steps[step].id if step < len(lesson.steps) else None
    last_failure = None
    for step_id in [s.id for s in lesson.steps][: step + 1]:
        message = (tally.get(step_id) or {}).get("last_failure")
        if message and (tally[step_id]["failed"] or 0):
            last_failure = {"step": titles[step_id], "message": message}
    streak = None
    here = tally.get(current) if current else None
    if here and here.get("streak"):
        streak = {"step": titles[current], "message": here["last_failure"], "count": here["streak"]}
    tries = {k: v.get("tries", 0) for k, v in tally.items()}
    failed = {k: v.get("failed", 0) for k, v in tally.items()}
    return {
        "step": step,
        "steps": len(lesson.steps),
        "done": list(record.get("done", [])),
        "shown": list(record.get("shown", [])),
        "tries": tries,
        "failed": failed,
        "passed": sum(tries.values()) - sum(failed.values()),
        "failures": sum(failed.values()),
        "last_failure": last_failure,
        "streak": streak,
        "hints": sum(int(n) for n in record.get("hints", {}).values()),
        "quiz": record.get("quiz"),
    }


def advance(previous: dict[str, Any], summary: dict[str, Any], now: float, lesson: Lesson | None):
    """The seat's progress after a change at ``now``: ``summary`` plus ``times`` (per step
    id, ``entered`` and ``done``) and ``moved`` (when the student last entered or completed
    a step, or answered the quiz), carried over from ``previous``.

    >>> from app.lessons.catalog import load_catalog
    >>> lesson = load_catalog().get("flat-network")
    >>> first = advance({}, summarize(None, lesson), 100.0, lesson)
    >>> first["times"], first["moved"]
    ({'same-node': {'entered': 100.0}}, 100.0)
    >>> later = dict(summarize(None, lesson), step=1, done=["same-node"])
    >>> second = advance(first, later, 160.0, lesson)
    >>> second["times"]["same-node"], second["moved"]
    ({'entered': 100.0, 'done': 160.0}, 160.0)
    """
    times = {k: dict(v) for k, v in (previous.get("times") or {}).items()}
    moved = previous.get("moved", now)
    ids = [s.id for s in lesson.steps] if lesson else []
    if summary["step"] < len(ids):
        entry = times.setdefault(ids[summary["step"]], {})
        if "entered" not in entry:
            entry["entered"] = now
            moved = now
    for step_id in summary["done"]:
        entry = times.setdefault(step_id, {})
        if "done" not in entry:
            entry["done"] = now
            moved = now
    if summary["quiz"] and summary["quiz"] != previous.get("quiz"):
        moved = now
    if previous.get("step") is not None and previous.get("step") != summary["step"]:
        moved = now
    return {**summary, "times": times, "moved": moved}


def same_progress(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two progress records show the same thing (their times aside).

    >>> same_progress({"step": 1, "moved": 5.0}, {"step": 1, "moved": 9.0})
    True
    """
    skip = {"times", "moved"}
    return {k: v for k, v in a.items() if k not in skip} == {
        k: v for k, v in b.items() if k not in skip
    }
