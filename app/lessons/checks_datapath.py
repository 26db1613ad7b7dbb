"""The ``translated`` check: where the learner's request to a Service had its destination
turned from the address the client dialled (a ClusterIP) into the pod's.

``at: node`` is kube-proxy's way: the packet leaves the client pod with the ClusterIP and a
DNAT hop on a node rewrites it. ``at: socket`` is Cilium's socket load balancer (kube-proxy
replacement): the eBPF program at ``connect()`` picks the backend, so the packet already
carries the pod's address when it leaves the client pod and no hop on a node rewrites it.
It reads the traces the learner ran in the step (:func:`app.lessons.activity.trace_record`).
"""

from __future__ import annotations

from typing import Any

from app.lessons.checks_traces import mismatch
from app.lessons.outcome import Outcome, StepState

#: Where a translation may be asked for, and how a message says it.
PLACES = {
    "socket": "at the socket, in the client pod (Cilium's socket load balancer)",
    "node": "on the client's node, by a DNAT hop (kube-proxy's rules)",
}


def translated_at(record: dict[str, Any]) -> str | None:
    """Where a traced request's destination was translated: ``socket``, ``node``, or None
    (nothing was translated: the client dialled the pod itself, or the request was not
    delivered to a pod).

    >>> base = {"dialled_ip": "10.96.5.5", "endpoint": {"kind": "pod", "ip": "10.1.2.7"}}
    >>> translated_at({**base, "sent_ip": "10.96.5.5", "dnat_at": ["node/worker-1"]})
    'node'
    >>> translated_at({**base, "sent_ip": "10.1.2.7", "dnat_at": []})
    'socket'
    >>> translated_at({**base, "dialled_ip": "10.1.2.7", "sent_ip": "10.1.2.7", "dnat_at": []})
    """
    end = record.get("endpoint") or {}
    dialled, sent = record.get("dialled_ip"), record.get("sent_ip")
    if end.get("kind") != "pod" or not dialled or dialled == end.get("ip"):
        return None
    on_node = any(str(at).startswith("node/") for at in record.get("dnat_at") or [])
    if on_node and sent == dialled:
        return "node"
    if sent == end.get("ip") and not on_node:
        return "socket"
    return None


def _said(record: dict[str, Any]) -> str:
    """How the request went, in the terms of a capture: what left the pod, what rewrote it."""
    end = record.get("endpoint") or {}
    dialled, sent = record.get("dialled_ip"), record.get("sent_ip")
    where = translated_at(record)
    if where == "node":
        nodes = [str(at).removeprefix("node/") for at in record.get("dnat_at") or []]
        return (
            f"it left the client pod addressed to {dialled}, and a DNAT hop on "
            f"{', '.join(nodes)} rewrote it to {end.get('ip')}"
        )
    if where == "socket":
        return f"it left the client pod already addressed to {end.get('ip')}, the pod it reached"
    if end.get("kind") != "pod":
        return "it reached no pod"
    return f"the client dialled {dialled} and sent it to {sent}: nothing had to translate it"


def _translated(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = dict(spec["translated"])
    at = wanted.pop("at")
    traces = [
        r
        for r in state.activity
        if r["kind"] == "trace" and mismatch(cluster, r, {**wanted, "expect": "delivered"}) is None
    ]
    asked = f" from {wanted['from']}" if "from" in wanted else ""
    asked += f" to {wanted['to']}" if "to" in wanted else ""
    if "endpoint" in wanted:
        asked += f"{',' if 'to' in wanted else ' to'} a pod matching {wanted['endpoint']}"
    for record in reversed(traces):
        if translated_at(record) == at:
            return Outcome(True, f"Your trace{asked} was translated {PLACES[at]}: {_said(record)}.")
    if not traces:
        return Outcome(
            False,
            f"Trace a request{asked} first (the trace bar above the map): this step reads "
            "where its ClusterIP was turned into a pod's address.",
        )
    return Outcome(
        False,
        f"In your last trace{asked}, {_said(traces[-1])}. This step needs the translation "
        f"{PLACES[at]}.",
    )


DATAPATH_CHECKS = {"translated": _translated}
