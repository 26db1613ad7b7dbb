"""Lesson facts that hold in 2026 (issue 10), each asserted where the lesson says it, with
its source in the test's docstring (and in a comment of the lesson file); the loose checks
accepting the right answers and refusing the wrong ones; and the lesson list's progress
saying "quiz left" when only the quiz is left."""

from __future__ import annotations

import re

from app.cluster.cluster import Cluster
from app.lessons import session
from app.lessons.catalog import load_catalog
from app.lessons.model import Lesson
from app.render.lesson import lesson_list

CATALOG = load_catalog()


def lesson(slug: str) -> Lesson:
    return next(item for item in CATALOG.lessons if item.slug == slug)


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces folded, so a sentence can be found
    wherever the Markdown wraps it."""
    return re.sub(r"\s+", " ", text)


# --- Progress that reads right ------------------------------------------------------------


def test_the_lesson_list_says_quiz_left_when_every_step_is_done_but_the_quiz():
    cluster = Cluster.create(seed=99)
    first = CATALOG.lessons[0]
    session.start(cluster, first)
    session.show_me(cluster, first)
    card = lesson_list(cluster, CATALOG)[0]
    assert card["label"] == f"In progress: 1 of {len(first.steps)} steps"
    session.go_to(cluster, first, len(first.steps))  # the recap and quiz, steps done
    card = lesson_list(cluster, CATALOG)[0]
    assert card["label"] == "In progress: quiz left"
    assert "of 3 steps" not in card["label"]
    session.answer_quiz(cluster, first, {0: 0, 1: 0, 2: 0})
    assert lesson_list(cluster, CATALOG)[0]["label"] == "✓ Complete"
    assert lesson_list(None, CATALOG)[0]["label"] == f"{len(first.steps)} steps and a quiz"
