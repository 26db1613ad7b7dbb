"""A class's progress for a gradebook: CSV (one row per student and step, then one for the
quiz) and JSON (the same, nested by student).

Times are UTC in ISO 8601 (``2026-12-06T09:14:03Z``), empty when the student never got there;
``seconds`` is how long the step took from entering it to completing it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from app.lessons.model import Lesson

COLUMNS = [
    "student", "joined", "step", "step_title", "status", "entered", "completed", "seconds",
    "tries", "failed_tries", "hints", "solution_shown", "last_failure", "quiz_score",
    "quiz_total",
]  # fmt: skip


def iso(seconds: float | None) -> str:
    """A time as ISO 8601 in UTC, or empty. (Worked out here, as the civil calendar does,
    because the domain packages keep away from clock modules.)

    >>> iso(0.0), iso(None), iso(1796547243.9)
    ('1970-01-01T00:00:00Z', '', '2026-12-06T08:54:03Z')
    """
    if seconds is None:
        return ""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    # Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def student_record(
    name: str, joined: float, progress: dict[str, Any], lesson: Lesson | None
) -> dict[str, Any]:
    """One student's progress, step by step.

    >>> from app.lessons.catalog import load_catalog
    >>> lesson = load_catalog().get("flat-network")
    >>> progress = {"step": 1, "done": ["same-node"], "tries": {"same-node": 2},
    ...             "failed": {"same-node": 1}, "times": {"same-node": {"entered": 10.0,
    ...             "done": 70.0}, "cross-node": {"entered": 70.0}}}
    >>> r = student_record("Ana", 5.0, progress, lesson)
    >>> [(s["step"], s["status"], s["seconds"], s["tries"]) for s in r["steps"]]
    [(1, 'done', 60, 2), (2, 'current', None, 0), (3, 'not started', None, 0)]
    """
    steps = []
    times = progress.get("times") or {}
    current = progress.get("step", 0)
    done = set(progress.get("done") or [])
    shown = set(progress.get("shown") or [])
    for index, step in enumerate(lesson.steps if lesson else []):
        when = times.get(step.id) or {}
        entered, completed = when.get("entered"), when.get("done")
        status = "done" if step.id in done else "current" if index == current else "not started"
        steps.append(
            {
                "step": index + 1,
                "id": step.id,
                "title": step.title,
                "status": status,
                "entered": iso(entered),
                "completed": iso(completed),
                "seconds": round(completed - entered) if entered and completed else None,
                "tries": (progress.get("tries") or {}).get(step.id, 0),
                "failed_tries": (progress.get("failed") or {}).get(step.id, 0),
                "solution_shown": step.id in shown,
            }
        )
    quiz = progress.get("quiz") or None
    return {
        "student": name,
        "joined": iso(joined),
        "steps": steps,
        "hints": progress.get("hints", 0),
        "last_failure": (progress.get("last_failure") or {}).get("message"),
        "quiz": {"score": quiz["score"], "total": quiz["total"], "answers": quiz["answers"]}
        if quiz
        else None,
    }


def as_csv(records: list[dict[str, Any]]) -> str:
    """The records of :func:`student_record` as CSV, a header row first.

    >>> text = as_csv([{"student": "Ana", "joined": "", "steps": [], "hints": 0,
    ...                 "last_failure": None, "quiz": {"score": 2, "total": 3, "answers": {}}}])
    >>> text.splitlines()[1]
    'Ana,,quiz,Quiz,answered,,,,,,0,,,2,3'
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        base = {"student": _safe(record["student"]), "joined": record["joined"]}
        for step in record["steps"]:
            writer.writerow(
                {
                    **base,
                    **{k: step[k] for k in ("step", "status", "entered", "completed")},
                    "step_title": step["title"],
                    "seconds": "" if step["seconds"] is None else step["seconds"],
                    "tries": step["tries"],
                    "failed_tries": step["failed_tries"],
                    "solution_shown": "yes" if step["solution_shown"] else "no",
                }
            )
        quiz = record["quiz"]
        writer.writerow(
            {
                **base,
                "step": "quiz",
                "step_title": "Quiz",
                "status": "answered" if quiz else "not answered",
                "hints": record["hints"],
                "last_failure": _safe(record["last_failure"] or ""),
                "quiz_score": quiz["score"] if quiz else "",
                "quiz_total": quiz["total"] if quiz else "",
            }
        )
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (names are typed by students).

    >>> _safe("=HYPERLINK(1)"), _safe("Ana")
    ("'=HYPERLINK(1)", 'Ana')
    """
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
