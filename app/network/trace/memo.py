"""Traces remembered per state of a cluster's objects.

The same request asked again of the same objects gives the same trace (every random choice
comes from the seed): a learner replaying a trace, or a class whose every student follows the
teacher's trace on a copy of one cluster, asks again and again. The answer is kept with the
state (:meth:`ClusterState.memoised <app.cluster.state.ClusterState.memoised>`) and dropped
with it at the next change.
"""

from __future__ import annotations

from typing import Any

from app.network.model import Trace
from app.network.trace.request import trace

#: Distinct requests kept per state (then the kept ones are dropped, and kept again as asked).
MAX_KEPT = 16


def remembered_trace(
    cluster: Any,
    source: str,
    target: str,
    seed: int = 0,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    ip_family: str | None = None,
) -> tuple[Trace, dict[str, Any]]:
    """``trace(cluster, source, target, seed)`` and its ``to_dict()``, computed once per state
    of the cluster's objects.

    Parameters
    ----------
    cluster : Cluster
    source, target, seed, method, headers, ip_family
        As for :func:`app.network.trace.trace` (no session affinity, no Host header of its
        own: those traces are not remembered). The method and headers are part of the key:
        an HTTPRoute may send GET and POST, or two header values, to different backends;
        so is the family (``curl -4`` / ``-6``).

    Returns
    -------
    tuple of (Trace, dict)
        Shared by every caller until the cluster changes: both must be treated as read-only.

    Raises
    ------
    PodpathError
        As :func:`~app.network.trace.trace` does (an error is not remembered).

    Examples
    --------
    >>> from app.cluster.scenarios import build
    >>> from app.cluster.apply import apply_text
    >>> cluster = build("web-service")
    >>> first = remembered_trace(cluster, "pod/default/client", "http://web/")
    >>> remembered_trace(cluster, "pod/default/client", "http://web/") is first
    True
    >>> first[1] == first[0].to_dict() and first[0].verdict
    'delivered'
    >>> _ = apply_text(cluster, "apiVersion: v1\\nkind: Namespace\\nmetadata: {name: team}\\n")
    >>> remembered_trace(cluster, "pod/default/client", "http://web/") is first
    False
    """
    kept: dict[tuple[Any, ...], tuple[Trace, dict[str, Any]]]
    kept = cluster.state.memoised("network.traces", dict)
    key = (source, target, seed, method, tuple(sorted((headers or {}).items())), ip_family)
    found = kept.get(key)
    if found is None:
        traced = trace(
            cluster, source, target, seed, method=method, headers=headers, ip_family=ip_family
        )
        if len(kept) >= MAX_KEPT:
            kept.clear()
        found = kept[key] = (traced, traced.to_dict())
    return found
