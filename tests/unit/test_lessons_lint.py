"""Every lesson, linted: its files load, each step's checks fail on the state the step starts
from (so none passes whatever the learner did) and pass once the step's solution is done,
every reference resolves, every behavioural step has two different reference solutions that
both pass (so its checks grade what the network does, not how the YAML is written), every
question step explains its likely wrong answers (and each of
them really is wrong, and gets its own explanation), and the quiz has one right answer with an
explanation for each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from app.cluster.cluster import Cluster
from app.lessons import notes, session
from app.lessons.actions import run_actions
from app.lessons.catalog import BUILT_IN, load_catalog
from app.lessons.checks import evaluate
from app.lessons.checks_network import explain, wrong_values
from app.lessons.model import NETWORK_CHECKS, is_behavioural
from app.web.sandbox import TABS

CATALOG = load_catalog()


def test_the_catalog_has_the_twelve_lessons_in_order():
    slugs = [lesson.slug for lesson in CATALOG.lessons]
    assert slugs[:12] == [
        "flat-network",
        "pods-come-and-go",
        "services",
        "scaling",
        "dns",
        "nodeport",
        "loadbalancer",
        "externalname",
        "ingress",
        "cni-plugins",
        "troubleshooting",
        "putting-it-together",
    ]


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=lambda lesson: lesson.slug)
def test_each_check_fails_at_the_start_of_its_step_and_passes_after_the_solution(lesson):
    cluster = Cluster.create(seed=99)
    session.start(cluster, lesson)
    for index, step in enumerate(lesson.steps):
        where = f"{lesson.source}/lesson.yaml, step {step.id}"
        state = notes.step_state(cluster, lesson.slug, step.id)
        for check in step.checks:
            outcome = evaluate(cluster, check, state)
            assert not outcome.passed, (
                f"{where}, line {check.line}: the {check.kind} check passes before the learner "
                f"has done anything ({outcome.message})"
            )
            assert outcome.message
        session.show_me(cluster, lesson)
        state = notes.step_state(cluster, lesson.slug, step.id)
        for check in step.checks:
            outcome = evaluate(cluster, check, state)
            assert outcome.passed, (
                f"{where}, line {check.line}: the {check.kind} check still fails after the "
                f"step's solution: {outcome.message}"
            )
        assert step.id in notes.progress(cluster, lesson.slug)["done"]
        session.go_to(cluster, lesson, index + 1)
    assert session.status(cluster, lesson)["done"] == len(lesson.steps)


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=lambda lesson: lesson.slug)
def test_each_stepexplains_asks_and_helps(lesson):
    assert lesson.summary, f"{lesson.slug}: the introduction's first paragraph is the summary"
    assert lesson.recap_html.strip()
    for step in lesson.steps:
        assert step.text_html.strip(), f"{lesson.slug}/{step.id}: the step has no text"
        assert step.task_html.strip()
        assert step.hints, f"{lesson.slug}/{step.id}: give at least one hint"
    assert len(lesson.quiz) >= 2, f"{lesson.slug}: a quiz of at least two questions"
    for question in lesson.quiz:
        assert all(choice.why_html.strip() for choice in question.choices)


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=lambda lesson: lesson.slug)
def test_a_lesson_starts_the_same_way_every_time(lesson):
    """Instructors rely on the same names and addresses in every learner's copy."""

    def pods(seed):
        cluster = Cluster.create(seed=seed)
        session.start(cluster, lesson)
        return sorted(
            (p["metadata"]["name"], p["status"].get("podIP")) for p in cluster.list("Pod")
        )

    assert pods(1) == pods(2)


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=lambda lesson: lesson.slug)
def test_the_tabs_a_lesson_names_are_the_sandbox_tabs(lesson):
    names = {"dns": "DNS", "yaml": "YAML"}
    # The Terminal tab has a route of its own (app/web/terminal.py), next to the others.
    tabs = {names.get(t, t.capitalize()) for t in (*TABS, "terminal")}
    folder = Path(lesson.source)
    if not folder.is_absolute():
        folder = BUILT_IN.parent / lesson.source
    for name in ("lesson.md", "lesson.yaml"):
        text = (folder / name).read_text(encoding="utf-8")
        for mentioned in re.findall(r"\*\*([A-Za-z ]+)\*\* tab", text):
            assert mentioned in tabs, (
                f"{lesson.source}/{name} names a tab that does not exist: {mentioned}"
            )


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=lambda lesson: lesson.slug)
def test_each_likely_wrong_answer_fails_with_its_own_explanation(lesson):
    """Every question step lists at least one likely wrong answer. Once the step's solution
    has done all but type the answer, each listed wrong answer names something the cluster has,
    fails the answer check, and gets the explanation written for it (not an earlier one's)."""
    cluster = Cluster.create(seed=99)
    session.start(cluster, lesson)
    for index, step in enumerate(lesson.steps):
        where = f"{lesson.source}/lesson.yaml, step {step.id}"
        answers = [check for check in step.checks if check.kind == "answer"]
        if step.question is not None:
            assert answers, f"{where}: a step with an ask: needs an answer check"
        for check in answers:
            wrong = check.spec.get("wrong", [])
            assert wrong, (
                f"{where}, line {check.line}: list the likely wrong answers (wrong:), each with "
                f"the explanation the learner gets for it"
            )
            run_actions(cluster, [a for a in step.solution if a.kind != "answer"], step.id)
            for item in wrong:
                values = wrong_values(cluster, item["answer"])
                assert values, f"{where}: the wrong answer {item['answer']} names nothing yet"
                for value in values:
                    notes.set_answer(cluster, step.id, value)
                    state = notes.step_state(cluster, lesson.slug, step.id)
                    outcome = evaluate(cluster, check, state)
                    assert not outcome.passed, (
                        f"{where}: {value} ({item['answer']}) is listed as wrong but passes"
                    )
                    assert outcome.message == explain(cluster, item["why"], value), (
                        f"{where}: {value} ({item['answer']}) gets another explanation than "
                        f"its own: {outcome.message}"
                    )
            notes.set_answer(cluster, step.id, "no such answer")
            state = notes.step_state(cluster, lesson.slug, step.id)
            outcome = evaluate(cluster, check, state)
            assert not outcome.passed and "no such answer" in outcome.message
        session.show_me(cluster, lesson)
        session.go_to(cluster, lesson, index + 1)


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=lambda lesson: lesson.slug)
def test_each_wrong_quiz_choiceexplains_itself(lesson):
    for number, question in enumerate(lesson.quiz):
        whys = [choice.why_html.strip() for choice in question.choices]
        assert len(set(whys)) == len(whys), (
            f"{lesson.slug}: quiz question {number + 1} gives two choices the same explanation"
        )
        for choice in question.choices:
            if not choice.correct:
                assert len(re.sub(r"<[^>]+>", "", choice.why_html).split()) >= 5, (
                    f"{lesson.slug}: quiz question {number + 1}: say why "
                    f"{choice.text_html!r} is wrong, in a sentence"
                )


def _applied(actions) -> list:
    """The objects a solution applies, parsed (so layout and flow style do not count)."""
    return [
        doc
        for action in actions
        if action.kind == "apply"
        for doc in yaml.safe_load_all(action.value)
        if doc
    ]


def _at_step(lesson, index):
    """A cluster as the lesson leaves it when step ``index`` begins."""
    cluster = Cluster.create(seed=99)
    session.start(cluster, lesson)
    session.go_to(cluster, lesson, index)
    return cluster


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=lambda lesson: lesson.slug)
def test_each_behavioural_step_passes_with_two_different_solutions(lesson):
    """A behavioural step (see docs/lessons.md) is graded by what the network does: it has a
    network check, and at least two reference solutions that apply different manifests; each,
    run from the step's starting cluster, turns every check from failing to passing."""
    for index, step in enumerate(lesson.steps):
        where = f"{lesson.source}/lesson.yaml, step {step.id} (line {step.line})"
        if not is_behavioural(step):
            assert not step.alternatives, (
                f"{where}: alternatives are for behavioural steps (a network check, or a "
                f"solution that applies a manifest)"
            )
            continue
        assert any(check.kind in NETWORK_CHECKS for check in step.checks), (
            f"{where}: the step builds or fixes something; grade it with a trace, traffic or "
            f"dns check, so that every correct solution passes"
        )
        solutions = [step.solution, *step.alternatives]
        assert len(solutions) >= 2, (
            f"{where}: a behavioural step needs at least two different reference solutions "
            f"(solution: and alternatives:)"
        )
        applied = [_applied(solution) for solution in solutions]
        for number, objects in enumerate(applied[1:], 1):
            assert objects != applied[0], (
                f"{where}: alternatives[{number - 1}] applies the same manifests as the solution"
            )
        for number, solution in enumerate(solutions):
            name = "the solution" if number == 0 else f"alternatives[{number - 1}]"
            cluster = _at_step(lesson, index)
            state = notes.step_state(cluster, lesson.slug, step.id)
            for check in step.checks:
                assert not evaluate(cluster, check, state).passed, (
                    f"{where}, line {check.line}: the {check.kind} check passes before {name}"
                )
            run_actions(cluster, solution, step.id)
            state = notes.step_state(cluster, lesson.slug, step.id)
            for check in step.checks:
                outcome = evaluate(cluster, check, state)
                assert outcome.passed, (
                    f"{where}, line {check.line}: the {check.kind} check fails after {name}: "
                    f"{outcome.message}"
                )
