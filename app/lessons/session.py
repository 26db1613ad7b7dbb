"""Taking a lesson in a workspace: starting or resuming it, moving between steps, checking,
hints, "Show me", answers and the quiz. Everything here changes the cluster and its notes;
the caller saves the workspace afterwards.

A lesson's steps are numbered from 0; step ``len(steps)`` is the recap and quiz.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.cluster.cluster import Cluster
from app.lessons import notes
from app.lessons.actions import Done, run_actions
from app.lessons.checks import evaluate
from app.lessons.lesson import Lesson
from app.lessons.outcome import Outcome


def start(cluster: Cluster, lesson: Lesson) -> Done:
    """Begin ``lesson`` from its first step: the cluster it asks for, then its setup.

    Returns
    -------
    Done
        What the setup did.

    Examples
    --------
    >>> from app.lessons.catalog import load_catalog
    >>> lesson = load_catalog().lessons[0]
    >>> cluster = Cluster.create(seed=3)
    >>> _ = start(cluster, lesson)
    >>> notes.active(cluster), notes.progress(cluster, lesson.slug)["step"]
    ('flat-network', 0)
    """
    done = _fresh(cluster, lesson)
    cluster.state.notes.setdefault("progress", {})[lesson.slug] = notes.fresh_progress()
    notes.set_active(cluster, lesson.slug)
    _enter(cluster, lesson, 0)
    return done


def _fresh(cluster: Cluster, lesson: Lesson) -> Done:
    config = replace(
        cluster.config,
        cni=lesson.cni,
        proxy_mode=lesson.proxy_mode,
        workers=lesson.workers,
        ip_family=lesson.ip_family,
    )
    cluster.replace_with(Cluster.create(config, seed=lesson.seed, now=cluster.state.now))
    return run_actions(cluster, lesson.setup)


def open_lesson(cluster: Cluster, lesson: Lesson) -> str | None:
    """Start ``lesson``, or resume it where the learner left it.

    When another lesson was open in between, the cluster is rebuilt as the steps before the
    current one leave it (setup, then each earlier step's setup and solution).

    Returns
    -------
    str or None
        A note for the learner when the cluster was rebuilt or the lesson started.
    """
    if notes.active(cluster) == lesson.slug:
        return None
    if lesson.slug not in notes.all_progress(cluster):
        start(cluster, lesson)
        return None
    record = notes.progress(cluster, lesson.slug)
    _fresh(cluster, lesson)
    notes.set_active(cluster, lesson.slug)
    record["entered"] = {}
    for step in lesson.steps[: record["step"]]:
        run_actions(cluster, step.setup)
        # Each replayed step is entered again: its baseline is the pods it began with now.
        record["entered"][step.id] = {
            "mark": notes.seq(cluster),
            "baseline": notes.pods_now(cluster),
        }
        run_actions(cluster, step.solution, step.id)
    _enter(cluster, lesson, record["step"])
    if record["step"] == 0:
        return None
    return "Welcome back: the cluster was rebuilt as the earlier steps of this lesson leave it."


def _enter(cluster: Cluster, lesson: Lesson, index: int) -> None:
    record = notes.progress(cluster, lesson.slug)
    record["step"] = index
    if index >= len(lesson.steps):
        return
    step = lesson.steps[index]
    if step.id in record["entered"]:
        return
    run_actions(cluster, step.setup)
    record["entered"][step.id] = {"mark": notes.seq(cluster), "baseline": notes.pods_now(cluster)}


def go_to(cluster: Cluster, lesson: Lesson, index: int) -> Done:
    """Move to step ``index`` (``len(steps)`` is the recap and quiz).

    Going forward past a step that is not done applies its solution first, so that each
    step starts from the cluster it expects (an instructor can click ahead).

    Returns
    -------
    Done
        What the skipped steps' solutions did (empty when nothing was skipped).

    Examples
    --------
    >>> from app.lessons.catalog import load_catalog
    >>> lesson = load_catalog().get("flat-network")
    >>> cluster = Cluster.create(seed=1)
    >>> _ = start(cluster, lesson)
    >>> done = go_to(cluster, lesson, 2)
    >>> len(done.lines), status(cluster, lesson)["done"], status(cluster, lesson)["step"]
    (2, 2, 2)
    """
    record = notes.progress(cluster, lesson.slug)
    index = max(0, min(index, len(lesson.steps)))
    done = Done()
    for skipped in range(record["step"], index):
        step = lesson.steps[skipped]
        if step.id not in record["done"]:
            _enter(cluster, lesson, skipped)
            applied = run_actions(cluster, step.solution, step.id)
            done.lines += [f"{step.title}: {line}" for line in applied.lines]
            _mark_done(record, step.id, shown=True)
    _enter(cluster, lesson, index)
    return done


def _mark_done(record: dict[str, Any], step_id: str, shown: bool = False) -> None:
    if step_id not in record["done"]:
        record["done"].append(step_id)
    if shown and step_id not in record["shown"]:
        record["shown"].append(step_id)


def check(cluster: Cluster, lesson: Lesson) -> list[Outcome]:
    """Run the current step's checks; the step is done when every one passes.

    Returns
    -------
    list of Outcome
        One per check, in the lesson's order (empty on the recap and quiz).

    Examples
    --------
    >>> from app.lessons.catalog import load_catalog
    >>> lesson = load_catalog().get("flat-network")
    >>> cluster = Cluster.create(seed=1)
    >>> _ = start(cluster, lesson)
    >>> [o.passed for o in check(cluster, lesson)]
    [False]
    >>> _ = show_me(cluster, lesson)
    >>> [o.passed for o in check(cluster, lesson)], status(cluster, lesson)["done"]
    ([True], 1)
    """
    record = notes.progress(cluster, lesson.slug)
    if record["step"] >= len(lesson.steps):
        return []
    step = lesson.steps[record["step"]]
    state = notes.step_state(cluster, lesson.slug, step.id)
    outcomes = [evaluate(cluster, c, state) for c in step.checks]
    record["results"][step.id] = [o.to_dict() for o in outcomes]
    _tally(record, step.id, outcomes)
    if all(o.passed for o in outcomes):
        _mark_done(record, step.id)
    return outcomes


def _tally(record: dict[str, Any], step_id: str, outcomes: list[Outcome]) -> None:
    """Count the step's checks: tries, failed tries, and how many times in a row the same
    check failed with the same message (what an instructor calls "stuck on it")."""
    tally = record.setdefault("tally", {}).setdefault(
        step_id, {"tries": 0, "failed": 0, "streak": 0, "last_failure": None}
    )
    tally["tries"] += 1
    failure = next((o.message for o in outcomes if not o.passed), None)
    if failure is None:
        tally["streak"] = 0
        return
    tally["failed"] += 1
    tally["streak"] = tally["streak"] + 1 if tally["last_failure"] == failure else 1
    tally["last_failure"] = failure


def answer(cluster: Cluster, lesson: Lesson, text: str) -> list[Outcome]:
    """Type an answer into the current step, then check it."""
    record = notes.progress(cluster, lesson.slug)
    if record["step"] < len(lesson.steps):
        record["answers"][lesson.steps[record["step"]].id] = text.strip()[:200]
    return check(cluster, lesson)


def hint(cluster: Cluster, lesson: Lesson) -> int:
    """Reveal the current step's next hint; returns how many are shown.

    >>> from app.lessons.catalog import load_catalog
    >>> lesson = load_catalog().get("flat-network")
    >>> cluster = Cluster.create(seed=1)
    >>> _ = start(cluster, lesson)
    >>> hint(cluster, lesson), hint(cluster, lesson), hint(cluster, lesson)
    (1, 2, 2)
    """
    record = notes.progress(cluster, lesson.slug)
    if record["step"] >= len(lesson.steps):
        return 0
    step = lesson.steps[record["step"]]
    shown = min(record["hints"].get(step.id, 0) + 1, len(step.hints))
    record["hints"][step.id] = shown
    return shown


def show_me(cluster: Cluster, lesson: Lesson) -> Done:
    """Do the current step for the learner (its solution), then check it."""
    record = notes.progress(cluster, lesson.slug)
    if record["step"] >= len(lesson.steps):
        return Done()
    step = lesson.steps[record["step"]]
    done = run_actions(cluster, step.solution, step.id)
    if step.id not in record["done"]:
        _mark_done(record, step.id, shown=True)
    check(cluster, lesson)
    return done


def answer_quiz(cluster: Cluster, lesson: Lesson, chosen: dict[int, int]) -> dict[str, Any]:
    """Record the learner's quiz answers (question number → choice number) and score them.

    Returns
    -------
    dict
        ``{"answers": {question: choice}, "score": right, "total": questions}``; answers to
        questions or choices that do not exist are left out.

    Examples
    --------
    >>> from app.lessons.catalog import load_catalog
    >>> lesson = load_catalog().get("flat-network")
    >>> answer_quiz(Cluster.create(seed=1), lesson, {0: 0, 1: 2, 7: 0})["score"]
    1
    """
    answers = {
        str(q): c
        for q, c in chosen.items()
        if 0 <= q < len(lesson.quiz) and 0 <= c < len(lesson.quiz[q].choices)
    }
    score = sum(1 for q, c in answers.items() if lesson.quiz[int(q)].choices[c].correct)
    result = {"answers": answers, "score": score, "total": len(lesson.quiz)}
    notes.progress(cluster, lesson.slug)["quiz"] = result
    return result


def status(cluster: Cluster, lesson: Lesson) -> dict[str, Any]:
    """How far the learner is: steps done, whether the quiz is answered, complete or not.

    >>> from app.lessons.catalog import load_catalog
    >>> status(Cluster.create(seed=1), load_catalog().lessons[0])["state"]
    'not started'
    """
    record = notes.all_progress(cluster).get(lesson.slug)
    total = len(lesson.steps)
    if record is None:
        return {"state": "not started", "done": 0, "total": total, "step": 0, "quiz": None}
    done = sum(1 for s in lesson.steps if s.id in record["done"])
    complete = done == total and record["quiz"] is not None
    return {
        "state": "complete" if complete else "in progress",
        "done": done,
        "total": total,
        "step": record["step"],
        "quiz": record["quiz"],
    }
