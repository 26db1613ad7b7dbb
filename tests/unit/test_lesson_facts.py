"""Lesson facts that hold in 2026 (issue 10), each asserted where the lesson says it, with
its source in the test's docstring (and in a comment of the lesson file); the loose checks
accepting the right answers and refusing the wrong ones; and the lesson list's progress
saying "quiz left" when only the quiz is left."""

from __future__ import annotations

import re

import pytest

from app.cluster.cluster import Cluster
from app.lessons import notes, session
from app.lessons.actions import run_actions
from app.lessons.catalog import load_catalog
from app.lessons.checks import evaluate
from app.lessons.model import Action, Lesson
from app.lessons.outcome import StepState
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


# --- Loose checks, made exact ---------------------------------------------------------------


def at_step(slug: str, step_id: str) -> tuple[Cluster, Lesson]:
    """A lesson started and moved to ``step_id`` (the steps before it done by their
    solutions, as "Next →" does)."""
    cluster = Cluster.create(seed=99)
    item = lesson(slug)
    session.start(cluster, item)
    session.go_to(cluster, item, [s.id for s in item.steps].index(step_id))
    return cluster, item


def step_of(item: Lesson, step_id: str):
    return next(s for s in item.steps if s.id == step_id)


def learner_traces(cluster: Cluster, source: str, to: str) -> None:
    run_actions(cluster, [Action("trace", {"from": source, "to": to}, None)])


def outcome(
    cluster: Cluster, item: Lesson, step_id: str, kind: str, answer: str | None = None, which=-1
):
    """The step's last (or ``which``) check of ``kind``, run on what the learner did in the
    step."""
    state = notes.step_state(cluster, item.slug, step_id)
    if answer is not None:
        state = StepState(state.activity, state.baseline, answer)
    check = [c for c in step_of(item, step_id).checks if c.kind == kind][which]
    return evaluate(cluster, check, state)


def test_lesson_2_new_address_wants_the_trace_to_the_deleted_pods_own_address():
    """Issue 10: the step accepted an unreachable trace to any address, and its solution
    hard-coded 10.244.2.3, which depends on the seed."""
    cluster, item = at_step("pods-come-and-go", "new-address")
    first = notes.progress(cluster, item.slug)["entered"]["meet-the-pod"]["baseline"]
    (old_ip,) = [p["ip"] for p in first.values() if p["labels"].get("app") == "web"]
    other = old_ip.rsplit(".", 1)[0] + ".200"  # in the same node's range, held by no pod
    learner_traces(cluster, "client", f"http://{other}/")
    refused = outcome(cluster, item, "new-address", "traced")
    assert not refused.passed
    assert old_ip in refused.message
    learner_traces(cluster, "client", f"http://{old_ip}/")
    assert outcome(cluster, item, "new-address", "traced").passed
    solution = str([a.value for a in step_of(item, "new-address").solution])
    assert "10.244." not in solution and "former_pod_ip" in solution


def test_lesson_2_new_address_still_knows_the_old_address_after_another_lesson():
    cluster, item = at_step("pods-come-and-go", "new-address")
    session.open_lesson(cluster, lesson("services"))
    session.open_lesson(cluster, item)  # the cluster is rebuilt, the steps replayed
    first = notes.progress(cluster, item.slug)["entered"]["delete-it"]["baseline"]
    (old_ip,) = [p["ip"] for p in first.values() if p["labels"].get("app") == "web"]
    assert old_ip not in {p["status"].get("podIP") for p in cluster.list("Pod")}
    learner_traces(cluster, "client", f"http://{old_ip}/")
    assert outcome(cluster, item, "new-address", "traced").passed


def test_lesson_9_path_types_wants_the_healthz_live_trace_answered_404_by_the_controller():
    """Issue 10: the step accepted any trace to the host that ended at the controller."""
    cluster, item = at_step("ingress", "path-types")
    learner_traces(cluster, "outside", "http://shop.example.com/nothing-here")
    refused = outcome(cluster, item, "path-types", "traced")
    assert not refused.passed and "/healthz/live" in refused.message
    learner_traces(cluster, "outside", "http://shop.example.com/healthz/live")
    assert outcome(cluster, item, "path-types", "traced").passed


@pytest.mark.parametrize(
    "answer", ["0.3333333333", "0.33333333349", ".3333333333", "0.33", "0.333", "1/3", "33%"]
)
def test_lesson_4_rules_accepts_what_kube_proxy_writes_what_iptables_save_prints_and_roundings(
    answer,
):
    """Issue 10: kube-proxy writes 0.3333333333; iptables-save prints 0.33333333349."""
    cluster, item = at_step("scaling", "rules")
    assert outcome(cluster, item, "rules", "answer", answer).passed


@pytest.mark.parametrize("answer", ["0.3", "0.34", "0.3334", "0.5", "1/2", "3", "third"])
def test_lesson_4_rules_refuses_other_numbers(answer):
    cluster, item = at_step("scaling", "rules")
    assert not outcome(cluster, item, "rules", "answer", answer).passed


@pytest.mark.parametrize(
    ("answer", "right"),
    [
        ("api.backend.svc.cluster.local.", True),
        ("api.backend.", True),
        ("API.backend.svc", True),
        ("api.", False),
        ("api.frontend.svc.cluster.local.", False),
    ],
)
def test_lesson_11_accepts_a_dns_name_with_its_trailing_dot(answer, right):
    """Issue 10: the answer list rejected api.backend.svc.cluster.local. (a fully
    qualified name, RFC 1034 section 3.1)."""
    cluster, item = at_step("troubleshooting", "namespace")
    assert outcome(cluster, item, "namespace", "answer", answer).passed is right
