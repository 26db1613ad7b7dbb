"""What a lesson is once its files are read: steps with checks, hints and a solution, a
recap and a quiz. Reading and checking the files is :mod:`app.lessons.lesson_yaml` (the
lesson, its steps, actions and quiz) and :mod:`app.lessons.check_kinds` (its checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The checks that run the network at Check time: a step with one is behavioural.
NETWORK_CHECKS = {"trace", "traces", "dns", "traffic"}


@dataclass(frozen=True)
class Check:
    kind: str
    spec: dict[str, Any]
    line: int | None


@dataclass(frozen=True)
class Action:
    kind: str
    value: Any
    line: int | None


@dataclass
class Step:
    id: str
    title: str
    text_html: str
    task_html: str
    question: str | None  # a question the learner answers in a text box
    setup: list[Action]
    checks: list[Check]
    hints: list[str]  # HTML
    solution: list[Action]
    line: int | None
    #: Further reference solutions, each a list of actions like ``solution`` ("Show me"
    #: runs the first solution only; the lint test runs every one).
    alternatives: list[list[Action]] = field(default_factory=list)


@dataclass
class Choice:
    text_html: str
    correct: bool
    why_html: str


@dataclass
class Question:
    text_html: str
    choices: list[Choice]


@dataclass
class Lesson:
    slug: str
    order: int
    title: str
    summary: str
    intro_html: str
    recap_html: str
    cni: str
    proxy_mode: str
    workers: int
    seed: int
    setup: list[Action]
    steps: list[Step]
    quiz: list[Question]
    source: str  # the folder it was read from
    extra: bool = False  # from the settings' folder rather than the app's own
    ip_family: str = "ipv4"  # the cluster block's ip_family: ipv4, ipv6 or dual


def is_behavioural(step: Step) -> bool:
    """A step that asks for something the network does: its checks include a network check
    (``trace``, ``dns``, ``traffic``), or its solution builds or fixes objects (``apply``).
    Such a step must be graded by a network check, and it carries at least two different
    reference solutions (``solution`` and ``alternatives``) that both pass (the lesson lint).

    Parameters
    ----------
    step : Step

    Returns
    -------
    bool

    Examples
    --------
    >>> def step(checks, solution):
    ...     return Step("s", "S", "", "", None, [], checks, [], solution, 1)
    >>> is_behavioural(step([Check("trace", {}, 1)], [Action("switch", {}, 2)]))
    True
    >>> is_behavioural(step([Check("object", {}, 1)], [Action("apply", "kind: Pod", 2)]))
    True
    >>> is_behavioural(step([Check("traced", {}, 1)], [Action("trace", {}, 2)]))
    False
    """
    return any(ch.kind in NETWORK_CHECKS for ch in step.checks) or any(
        action.kind == "apply" for action in step.solution
    )
