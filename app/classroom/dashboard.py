"""What the instructor's dashboard shows: one row per student, with a "stuck" flag, and the
class's quiz answers as a histogram."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.lessons.model import Lesson

#: A student who has not entered or completed a step for this long (seconds) is stuck.
STUCK_AFTER = 300
#: ... and so is one whose current step's same check failed this many times in a row.
STUCK_STREAK = 3


def stuck(progress: dict[str, Any], now: float) -> str | None:
    """Why a student counts as stuck, or None.

    >>> stuck({"step": 1, "steps": 3, "moved": 0.0, "streak": None, "quiz": None}, 400.0)
    'no progress for 6 min'
    >>> streak = {"step": "Cross-node", "message": "No trace yet", "count": 3}
    >>> stuck({"step": 1, "steps": 3, "moved": 390.0, "streak": streak}, 400.0)
    'the same Check failed 3 times in a row'
    >>> stuck({"step": 3, "steps": 3, "moved": 0.0, "quiz": {"score": 2}}, 4000.0) is None
    True
    """
    if not progress.get("steps"):
        return None  # a class on a scenario has no steps to be stuck on
    if progress.get("step", 0) >= progress["steps"] and progress.get("quiz"):
        return None  # finished
    streak = progress.get("streak")
    if streak and streak["count"] >= STUCK_STREAK:
        return f"the same Check failed {streak['count']} times in a row"
    idle = now - float(progress.get("moved", now))
    if idle >= STUCK_AFTER:
        return f"no progress for {int(idle // 60)} min"
    return None


@dataclass(frozen=True)
class QuizBar:
    """One answer of one quiz question: its text, whether it is right, and who chose it."""

    text_html: str
    correct: bool
    count: int


def quiz_histogram(progresses: list[dict[str, Any]], lesson: Lesson | None) -> list[dict[str, Any]]:
    """For each quiz question, how many students chose each answer.

    Returns
    -------
    list of dict
        ``{"number", "text_html", "answered", "bars": [QuizBar, ...]}`` per question.

    Examples
    --------
    >>> from app.lessons.catalog import load_catalog
    >>> lesson = load_catalog().get("flat-network")
    >>> answers = [{"quiz": {"answers": {"0": 1}}}, {"quiz": {"answers": {"0": 1, "1": 0}}},
    ...            {"quiz": None}]
    >>> first = quiz_histogram(answers, lesson)[0]
    >>> first["answered"], [b.count for b in first["bars"]][:2]
    (2, [0, 2])
    """
    if lesson is None:
        return []
    questions = []
    for number, question in enumerate(lesson.quiz):
        counts = [0] * len(question.choices)
        for progress in progresses:
            chosen = ((progress.get("quiz") or {}).get("answers") or {}).get(str(number))
            if chosen is not None and 0 <= int(chosen) < len(counts):
                counts[int(chosen)] += 1
        questions.append(
            {
                "number": number + 1,
                "text_html": question.text_html,
                "answered": sum(counts),
                "bars": [
                    QuizBar(c.text_html, c.correct, n)
                    for c, n in zip(question.choices, counts, strict=True)
                ],
            }
        )
    return questions


def ago(seconds: float) -> str:
    """A short "how long ago" for the dashboard.

    >>> ago(4), ago(75), ago(7300)
    ('just now', '1 min ago', '2 h ago')
    """
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    return f"{int(seconds // 3600)} h ago"
