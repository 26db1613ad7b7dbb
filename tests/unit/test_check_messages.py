"""What a step's Check says: never the same sentence twice, whether the learner has done
nothing yet or has typed one of the step's likely wrong answers."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from app.cluster.cluster import Cluster
from app.errors import PodpathError
from app.lessons import notes, session
from app.lessons.catalog import load_catalog
from app.lessons.checks_network import wrong_values

CATALOG = load_catalog()


def sentences(messages: list[str]) -> list[str]:
    """Each sentence of the messages, spaces and a closing full stop set aside.

    >>> sentences(["A b. C d! E", "C d."])
    ['a b', 'c d!', 'e', 'c d']
    """
    out = []
    for message in messages:
        for part in re.split(r"(?<=[.!?])\s+", message.strip()):
            part = " ".join(part.split()).rstrip(".").lower()
            if part:
                out.append(part)
    return out


def repeated(messages: list[str]) -> list[str]:
    return [s for s, n in Counter(sentences(messages)).items() if n > 1]


def test_a_repeated_sentence_is_found():
    assert repeated(["No pod matches app=web. Fix it.", "No pod matches app=web."]) == [
        "no pod matches app=web"
    ]
    assert repeated(["One. Two.", "Three."]) == []


def _typed_answers(cluster, step) -> list[str]:
    """A wrong answer of each kind the step lists, as it reads on the cluster now."""
    typed = ["no such answer"]
    for check in step.checks:
        for item in check.spec.get("wrong", []) if check.kind == "answer" else []:
            try:
                typed += wrong_values(cluster, item["answer"])[:1]
            except PodpathError:  # names something the step has not made yet
                continue
    return typed


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=lambda lesson: lesson.slug)
def test_a_steps_check_never_says_a_sentence_twice(lesson):
    cluster = Cluster.create(seed=99)
    session.start(cluster, lesson)
    for index, step in enumerate(lesson.steps):
        where = f"{lesson.source}/lesson.yaml, step {step.id}"
        outcomes = session.check(cluster, lesson)
        said = [o.message for o in outcomes]
        assert not repeated(said), f"{where}: the Check says {repeated(said)} twice: {said}"
        if step.question is not None:
            for typed in _typed_answers(cluster, step):
                said = [o.message for o in session.answer(cluster, lesson, typed)]
                assert not repeated(said), (
                    f"{where}: answering {typed}, the Check says {repeated(said)} twice: {said}"
                )
            notes.set_answer(cluster, step.id, "")
        session.show_me(cluster, lesson)
        said = [o.message for o in session.check(cluster, lesson)]
        assert not repeated(said), f"{where}: after the solution, {repeated(said)} twice: {said}"
        session.go_to(cluster, lesson, index + 1)
