"""What a check answers, and what it may read besides the cluster."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepState:
    """What the checks may read besides the cluster: the learner's activity since the step
    began, the pods there were then (``"ns/name" -> {"ip", "labels"}``), and the answer
    typed."""

    activity: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, dict[str, Any]] = field(default_factory=dict)
    answer: str | None = None


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "message": self.message}
