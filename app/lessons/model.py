"""What a lesson is once its files are read, and how its files are read: the names callers
have always imported from here.

The lesson, its steps, checks, actions and quiz are :mod:`app.lessons.lesson`; reading and
checking ``lesson.yaml`` is :mod:`app.lessons.lesson_yaml`, and its checks (the kinds and the
keys each accepts) :mod:`app.lessons.check_kinds`.
"""

from __future__ import annotations

from app.lessons.check_kinds import (
    CHECK_KEYS,
    COMPARED_KEYS,
    LOOKED_UP_KEYS,
    REQUEST_KEYS,
    SENT_TRAFFIC_KEYS,
    TRACE_ACTIONS,
    TRACED_KEYS,
    TRANSLATED_AT,
    TRANSLATED_KEYS,
    VALUE_KEYS,
    VERDICTS,
    WRONG_KEYS,
    read_check,
)
from app.lessons.lesson import (
    NETWORK_CHECKS,
    Action,
    Check,
    Choice,
    Lesson,
    Question,
    Step,
    is_behavioural,
)
from app.lessons.lesson_yaml import ACTION_KEYS, parse_lesson

__all__ = [
    "ACTION_KEYS",
    "CHECK_KEYS",
    "COMPARED_KEYS",
    "LOOKED_UP_KEYS",
    "NETWORK_CHECKS",
    "REQUEST_KEYS",
    "SENT_TRAFFIC_KEYS",
    "TRACED_KEYS",
    "TRACE_ACTIONS",
    "TRANSLATED_AT",
    "TRANSLATED_KEYS",
    "VALUE_KEYS",
    "VERDICTS",
    "WRONG_KEYS",
    "Action",
    "Check",
    "Choice",
    "Lesson",
    "Question",
    "Step",
    "is_behavioural",
    "parse_lesson",
    "read_check",
]
