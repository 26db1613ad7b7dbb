"""Checks on what the network does: a trace, a DNS answer or a batch of requests the engine
runs now, and the traces, lookups and requests the learner ran during the step; with them,
the ``answer`` check of a question step.

Each kind lives with what it checks: traces in :mod:`app.lessons.checks_traces`, DNS in
:mod:`app.lessons.checks_dns`, how requests spread in :mod:`app.lessons.checks_traffic`, and
the learner's answers in :mod:`app.lessons.checks_answers`. ``NETWORK_CHECKS`` gathers them
for :func:`app.lessons.checks.evaluate`; the other names are those callers have always
imported from here.
"""

from __future__ import annotations

from app.lessons.checks_answers import ANSWER_CHECKS, explain, wrong_answer, wrong_values
from app.lessons.checks_dns import DNS_CHECKS
from app.lessons.checks_traces import CONDITIONS, TRACE_CHECKS, mismatch, request_of
from app.lessons.checks_traffic import TRAFFIC_CHECKS

NETWORK_CHECKS = {**TRACE_CHECKS, **DNS_CHECKS, **TRAFFIC_CHECKS, **ANSWER_CHECKS}

__all__ = [
    "CONDITIONS",
    "NETWORK_CHECKS",
    "explain",
    "mismatch",
    "request_of",
    "wrong_answer",
    "wrong_values",
]
