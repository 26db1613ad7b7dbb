"""Checks on packet traces: a ``trace`` (or several, ``traces``) the engine runs when the
learner presses Check, the traces the learner ran during the step (``traced``), and their
comparison of the CNI plugins on one trace (``compared``)."""

from __future__ import annotations

from typing import Any

from app.errors import PodpathError
from app.lessons.activity import trace_record
from app.lessons.outcome import Outcome, StepState
from app.lessons.refs import expand, matching_pods, pod_of, source_of
from app.network.trace import trace

CONDITIONS = (
    "verdict",
    "endpoint",
    "reason",
    "snat",
    "http_status",
    "via",
    "cni",
    "cross_node",
    "kind",
    "method",
    "headers",
)


def request_of(subject: dict[str, Any]) -> dict[str, Any]:
    """The ``method`` and ``headers`` a lesson's trace gives, as :func:`trace` takes them
    (only those given, so a plain trace is called as before).

    >>> request_of({"from": "outside", "to": "http://x/", "headers": {"X-Version": "v2"}})
    {'headers': {'X-Version': 'v2'}}
    """
    return {k: subject[k] for k in ("method", "headers") if k in subject}


def _describe(record: dict[str, Any], reason: bool = True) -> str:
    source = record["from"].replace("pod/", "Pod ").replace("node/", "node ")
    if source == "external":
        source = "the outside client"
    # The method and headers it was sent with, where they were not a plain GET.
    sent = [record["method"]] if record.get("method", "GET") != "GET" else []
    sent += [f"{k}: {v}" for k, v in (record.get("headers") or {}).items()]
    asked = f" ({', '.join(sent)})" if sent else ""
    text = f"{source} → {record['to']}{asked}: {record['verdict']}"
    if record["verdict"] != "delivered" and record.get("reason"):
        if not reason:
            return text
        text += f" ({record['reason'].rstrip('.')})"
    elif record.get("endpoint"):
        end = record["endpoint"]
        if end.get("kind") == "pod":
            text += f" to {end.get('namespace')}/{end.get('name')}"
        else:  # a host outside the cluster, or a node's own address
            text += f" to {end.get('kind')} {end.get('ip')}:{end.get('port')}"
        if record.get("http_status") not in (None, 200):  # a proxy's own answer (Envoy's 404)
            text += f", which answered HTTP {record['http_status']}"
    return text


def mismatch(cluster: Any, record: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """Why a trace record does not meet ``wanted`` (None when it does).

    ``wanted`` may hold: ``from`` and ``endpoint`` (pod references), ``to`` (the host asked
    for), ``verdict``, ``reason`` (words the reason contains), ``snat`` (whether the
    receiver saw another source address than the client's), ``http_status``, ``via`` (a hop
    action), ``cni``, ``cross_node`` and ``kind`` (of the source: pod, node or external).

    Parameters
    ----------
    cluster : Cluster
        Where the pod references and placeholders of ``wanted`` are read.
    record : dict
        A trace as :func:`app.lessons.activity.trace_record` keeps it.
    wanted : dict
        What the check asks; ``expect`` stands for ``verdict``.

    Returns
    -------
    str or None
        The first difference, in words that follow "A request ... :" or "Your last trace
        ... is not the one asked for:"; None when the record is as wanted.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> record = {"from": "external", "to": "http://web/", "verdict": "dropped",
    ...           "reason": "No endpoints.", "actions": ["send"]}
    >>> mismatch(cluster, record, {"from": "outside", "expect": "dropped"}) is None
    True
    >>> mismatch(cluster, record, {"verdict": "delivered"})
    'it was dropped (No endpoints); this step needs it delivered'
    >>> mismatch(cluster, record, {"expect": "dropped", "via": "dnat"})
    'no hop did dnat'
    """
    if "from" in wanted:
        try:
            source = source_of(cluster, wanted["from"])
        except PodpathError:  # a pod that is gone matches nothing
            source = None
        if record["from"] != source:
            return f"it was sent from {record['from']}, not from {wanted['from']}"
    if "to" in wanted:
        to = expand(cluster, wanted["to"])
        if to not in (record.get("host"), record["to"]):
            return f"it went to {record['to']}, not to {to}"
    if "kind" in wanted and record.get("source_kind") != wanted["kind"]:
        return f"it started from a {record.get('source_kind')}, not a {wanted['kind']}"
    verdict = wanted.get("verdict", wanted.get("expect"))
    if verdict and record["verdict"] != verdict:
        why = f" ({record['reason'].rstrip('.')})" if record.get("reason") else ""
        return f"it was {record['verdict']}{why}; this step needs it {verdict}"
    if "reason" in wanted and wanted["reason"].lower() not in (record.get("reason") or "").lower():
        return f'its outcome was "{record.get("reason") or record["verdict"]}", not one about {wanted["reason"]}'
    if wanted.get("endpoint") in ("outside", "external"):
        end = record.get("endpoint") or {}
        if end.get("kind") != "external":
            return "it did not leave the cluster for a host outside"
    elif "endpoint" in wanted:
        names = {
            (p["metadata"]["namespace"], p["metadata"]["name"])
            for p in matching_pods(cluster, wanted["endpoint"])
        }
        end = record.get("endpoint") or {}
        if (end.get("namespace"), end.get("name")) not in names:
            reached = f"{end.get('namespace')}/{end.get('name')}" if end.get("name") else "no pod"
            problem = f"it reached {reached}, not a pod matching {wanted['endpoint']}"
            if record.get("http_status") and record.get("reason"):
                # A proxy answered by itself (ingress-nginx's 503, say): its reason is the cause.
                problem += f": HTTP {record['http_status']}, {record['reason'].rstrip('.')}"
            return problem
    if "snat" in wanted and record.get("snat") != wanted["snat"]:
        if record.get("seen_ip") is None:
            return "it never reached a pod, so no pod saw its source address"
        if wanted["snat"]:
            return f"the pod saw the client's own address {record['seen_ip']}: nothing rewrote the source"
        return f"the pod saw {record['seen_ip']}, not the client's {record['client_ip']}: the source was rewritten (SNAT)"
    if "http_status" in wanted and record.get("http_status") != wanted["http_status"]:
        got = record.get("http_status")
        answer = f"HTTP {got}" if got else "no HTTP answer"
        return f"the answer was {answer}, not {wanted['http_status']}"
    if "via" in wanted and wanted["via"] not in record.get("actions", []):
        return f"no hop did {wanted['via']}"
    if "method" in wanted and record.get("method", "GET") != wanted["method"].upper():
        return f"it was a {record.get('method', 'GET')} request, not {wanted['method'].upper()}"
    sent = {k.lower(): v for k, v in (record.get("headers") or {}).items()}
    for name, value in (wanted.get("headers") or {}).items():
        if sent.get(name.lower()) != value:
            had = f"{name}: {sent[name.lower()]}" if name.lower() in sent else f"no {name} header"
            return f"it carried {had}, not {name}: {value}"
    if "cni" in wanted and record.get("cni") != wanted["cni"]:
        return f"it ran on {record.get('cni')}, and this step is about {wanted['cni']}"
    if "cross_node" in wanted and record.get("cross_node") != wanted["cross_node"]:
        return (
            "the sender and receiver were on the same node"
            if wanted["cross_node"]
            else "it crossed to another node"
        )
    return None


def _trace(cluster: Any, spec: dict[str, Any], state: StepState, reason: bool = True) -> Outcome:
    subject = spec["trace"]
    source = source_of(cluster, subject["from"])
    try:
        to = expand(cluster, subject["to"])
    except PodpathError as error:
        # Said in the trace's own terms, so that it differs from an answer check's message
        # about the same missing object.
        return Outcome(
            False,
            f"There is nothing to trace from {subject['from']} to yet: {error}.",
        )
    result = trace(cluster, source, to, int(subject.get("seed", 0)), **request_of(subject))
    record = trace_record(cluster, source, to, result)
    wanted = {k: v for k, v in spec.items() if k in CONDITIONS or k == "expect"}
    wanted.setdefault("expect", "delivered")
    problem = mismatch(cluster, record, wanted)
    if problem:
        return Outcome(False, f"A request from {subject['from']} to {to}: {problem}.")
    return Outcome(True, f"{_describe(record, reason)}.")


def _traces(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    """Every trace of the list as it is written, at once: the first that is not says why."""
    said = []
    for item in spec["traces"]:
        subject = {k: item[k] for k in ("from", "to", "seed", "method", "headers") if k in item}
        conditions = {k: v for k, v in item.items() if k not in subject}
        # A passing drop is said without its reason (a policy's is a paragraph).
        outcome = _trace(cluster, {"trace": subject, **conditions}, state, reason=False)
        if not outcome.passed:
            return outcome
        said.append(outcome.message.rstrip("."))
    return Outcome(True, "; ".join(said) + ".")


def _traced(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = spec["traced"]
    traces = [r for r in state.activity if r["kind"] == "trace"]
    for record in reversed(traces):
        if mismatch(cluster, record, wanted) is None:
            return Outcome(True, f"You traced {_describe(record)}.")
    if not traces:
        return Outcome(
            False,
            f"You have not run a trace{_asked_trace(cluster, wanted)} in this step yet: use the "
            "trace bar above the map.",
        )
    latest = traces[-1]
    problem = mismatch(cluster, latest, wanted) or ""
    # The reason is said once: in the problem when that quotes it, else in the description.
    quoted = bool(latest.get("reason")) and latest["reason"].rstrip(".") in problem
    return Outcome(
        False,
        f"Your last trace ({_describe(latest, reason=not quoted)}) is not the one asked for: "
        f"{problem}.",
    )


def _asked_trace(cluster: Any, wanted: dict[str, Any]) -> str:
    """`` from client to http://web/`` for a ``traced`` check that names where the trace goes
    (so that two such checks of a step do not say the same), else nothing."""
    if "to" not in wanted:
        return ""
    try:
        to = expand(cluster, wanted["to"])
    except PodpathError:
        to = wanted["to"]
    source = wanted.get("from") or {"external": "outside", "node": "a node"}.get(
        wanted.get("kind", ""), ""
    )
    return f" from {source} to {to}" if source else f" to {to}"


def _compared(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = spec["compared"]
    runs = [r for r in state.activity if r["kind"] == "compare"]
    for record in reversed(runs):
        if "from" in wanted and record["from"] != source_of(cluster, wanted["from"]):
            continue
        if "to" in wanted:
            pod = pod_of(cluster, wanted["to"])
            if record["to"] != f"{pod['metadata']['namespace']}/{pod['metadata']['name']}":
                continue
        shown = ", ".join(f"{k}: {v}" for k, v in record["verdicts"].items())
        return Outcome(True, f"You compared {record['from']} → {record['to']} under {shown}.")
    if not runs:
        return Outcome(
            False, 'Compare the plugins first: "Compare CNIs" in the trace bar above the map.'
        )
    return Outcome(False, "Your comparison was between other pods than the ones asked for.")


TRACE_CHECKS = {
    "trace": _trace,
    "traces": _traces,
    "traced": _traced,
    "compared": _compared,
}
