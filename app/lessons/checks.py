"""Checking a step: each declarative check read against the workspace, with a message that
says what is wrong in the learner's own terms ("your Service selects app=frontend, but the
pods are labelled app=web").

Checks on the cluster (``object``, ``pods``, ``cluster``), on what the network does now
(``trace``, ``dns``, ``traffic``: the engine runs them), and on what the learner did during
the step (``traced``, ``looked_up``, ``sent_traffic``, ``ran``, ``answer``, ``replaced``: read from
the activity the sandbox records). None of them can pass before the learner does something.
"""

from __future__ import annotations

from typing import Any

from app.errors import PodpathError
from app.lessons.checks_commands import COMMAND_CHECKS
from app.lessons.checks_datapath import DATAPATH_CHECKS
from app.lessons.checks_network import NETWORK_CHECKS
from app.lessons.checks_objects import OBJECT_CHECKS
from app.lessons.lesson import Check
from app.lessons.outcome import Outcome, StepState

_CHECKS = {**OBJECT_CHECKS, **NETWORK_CHECKS, **COMMAND_CHECKS, **DATAPATH_CHECKS}


def evaluate(cluster: Any, check: Check, state: StepState) -> Outcome:
    """Run one check.

    Parameters
    ----------
    cluster : Cluster
    check : Check
        As read from a lesson's ``checks:``.
    state : StepState
        The learner's activity, pods and answer for the step.

    Returns
    -------
    Outcome
        Whether it passed, and a sentence saying what was found. A reference to something
        missing (a pod not running yet) is a failed check, not an error.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> check = Check("object", {"object": "Service default/web", "type": "NodePort"}, 1)
    >>> evaluate(Cluster.create(seed=1), check, StepState()).message
    'There is no Service default/web yet.'
    """
    try:
        return _CHECKS[check.kind](cluster, check.spec, state)
    except PodpathError as error:
        return Outcome(False, str(error))
