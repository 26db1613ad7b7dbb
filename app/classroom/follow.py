"""Running the teacher's trace on a student's own cluster.

A student's copy starts as the teacher's, but pods made since (a Deployment scaled, a pod
deleted and replaced) get other random names. When the teacher's source pod is not in the
student's cluster, the trace starts from the student's pod of the same workload: the same
namespace and the same name up to the random suffixes (``web-7d4b9c8f5d-x2x9k`` ->
``web-7d4b9c8f5d-…``, else ``web-…``).
"""

from __future__ import annotations

from typing import Any


def follow_source(cluster: Any, source: str) -> str | None:
    """The student's trace source standing for the teacher's ``source``, or None.

    Examples
    --------
    >>> from app.cluster import scenarios
    >>> cluster = scenarios.build("web-service")
    >>> pod = sorted(p["metadata"]["name"] for p in cluster.list("Pod", "default"))[-1]
    >>> follow_source(cluster, f"pod/default/{pod}") == f"pod/default/{pod}"
    True
    >>> follow_source(cluster, "pod/default/" + pod.rsplit("-", 1)[0] + "-zzzzz") is not None
    True
    >>> follow_source(cluster, "pod/default/nothing-like-it"), follow_source(cluster, "external")
    (None, 'external')
    """
    if not source.startswith("pod/"):
        return source
    parts = source.split("/")
    if len(parts) != 3:
        return source
    _, namespace, name = parts
    if cluster.get("Pod", namespace, name) is not None:
        return source
    names = sorted(p["metadata"]["name"] for p in cluster.list("Pod", namespace))
    pieces = name.split("-")
    for cut in (1, 2):
        if len(pieces) <= cut:
            break
        prefix = "-".join(pieces[:-cut]) + "-"
        for candidate in names:
            if candidate.startswith(prefix) and candidate.count("-") == name.count("-"):
                return f"pod/{namespace}/{candidate}"
    return None


#: Milliseconds of spread per student listening (about three times what one catch-up costs a
#: busy server, so that a move's catch-ups take a third of it and the students' own clicks the
#: rest; a page that waits past the teacher's next move, a trace a second after a step,
#: catches up with both at once), and the most a student waits.
SPREAD_PER_STUDENT_MS = 30
SPREAD_MAX_MS = 3000


def catch_up_spread(listening: int) -> int:
    """How many milliseconds the students' catch-ups after one teacher move are spread over.

    Every student following hears the teacher's move at the same moment; if all asked at
    once, the server would answer the last of a lecture hall long after the first. Each page
    waits a random part of this spread (wider for a bigger class, never above
    :data:`SPREAD_MAX_MS`) before it asks.

    Parameters
    ----------
    listening : int
        Students whose pages listen to the class on this server process.

    Returns
    -------
    int
        The spread in milliseconds.

    Examples
    --------
    >>> catch_up_spread(1), catch_up_spread(30), catch_up_spread(100), catch_up_spread(500)
    (30, 900, 3000, 3000)
    """
    return min(SPREAD_MAX_MS, SPREAD_PER_STUDENT_MS * max(0, listening))
