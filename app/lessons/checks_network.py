"""Checks on what the network does: a trace, a DNS answer or a batch of requests the engine
runs now, and the traces, lookups and requests the learner ran during the step."""

from __future__ import annotations

import contextlib
import re
from fractions import Fraction
from typing import Any

from app.errors import PodpathError
from app.lessons.activity import trace_record
from app.lessons.outcome import Outcome, StepState
from app.lessons.refs import (
    expand,
    expected_values,
    is_running,
    matching_pods,
    pod_of,
    source_of,
)
from app.network import dns
from app.network.targets import parse_source
from app.network.trace import trace
from app.network.traffic import send_traffic

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


def _dns(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    subject = spec["dns"]
    client = parse_source(cluster, source_of(cluster, subject["from"]))
    qtype = subject.get("type", "A")
    answer = dns.resolve(cluster, client.pod, expand(cluster, subject["name"]), qtype)
    label = f"{subject['name']} looked up from {subject['from']}"
    expect = spec.get("expect", "answer")
    if expect == "nxdomain":
        if answer.rcode == "NXDOMAIN":
            return Outcome(True, f"{label}: NXDOMAIN, as it should be.")
        return Outcome(
            False, f"{label} still answers {', '.join(answer.addresses()) or answer.rcode}."
        )
    if answer.rcode != "NOERROR" or not answer.answers:
        tried = ", ".join(a.name for a in answer.tried)
        return Outcome(False, f"{label}: {answer.rcode} (tried {tried}).")
    if "address" in spec:
        wanted = expected_values(cluster, spec["address"])
        got = answer.addresses()
        if not set(wanted) & set(got):
            return Outcome(
                False, f"{label} answers {', '.join(got) or 'no address'}, not {', '.join(wanted)}."
            )
    if "cname" in spec:
        cnames = [r.data.rstrip(".") for r in answer.answers if r.type == "CNAME"]
        if spec["cname"].rstrip(".") not in cnames:
            return Outcome(
                False, f"{label} has no CNAME to {spec['cname']} ({', '.join(cnames) or 'none'})."
            )
    shown = ", ".join(f"{r.type} {r.data}" for r in answer.answers)
    return Outcome(True, f"{label}: {shown}.")


def _looked_up(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = spec["looked_up"]
    lookups = [r for r in state.activity if r["kind"] == "dns"]
    for record in reversed(lookups):
        if "name" in wanted and record["name"] != wanted["name"].rstrip("."):
            continue
        if "type" in wanted and record["type"] != wanted["type"]:
            continue
        if "rcode" in wanted and record["rcode"] != wanted["rcode"]:
            continue
        if "from" in wanted and record["from"] != source_of(cluster, wanted["from"]):
            continue
        return Outcome(
            True,
            f"You looked up {record['name']}: {record['rcode']} {' '.join(record['addresses'])}.",
        )
    asked = wanted.get("name", "a name")
    if not lookups:
        return Outcome(False, f"Look up {asked} in the DNS tab first.")
    return Outcome(
        False,
        f"Your lookups ({', '.join(r['name'] for r in lookups[-3:])}) are not {asked} as asked.",
    )


def _traffic(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    subject = spec["traffic"]
    source = source_of(cluster, subject["from"])
    count = int(subject.get("count", 100))
    result = send_traffic(cluster, source, expand(cluster, subject["to"]), count)
    hit = [e for e in result["endpoints"] if e["requests"]]
    spread = (
        ", ".join(f"{e.get('pod') or e['ip']}: {e['requests']}" for e in hit) or "none delivered"
    )
    sent = f"{count} requests from {subject['from']} to {subject['to']}"
    if "endpoints" in spec and len(hit) != spec["endpoints"]:
        return Outcome(
            False,
            f"{sent} reached {len(hit)} pods ({spread}); this step needs {spec['endpoints']}.",
        )
    if "max_endpoints" in spec and len(hit) > spec["max_endpoints"]:
        return Outcome(
            False,
            f"{sent} were spread over {len(hit)} pods ({spread}); this step needs at most {spec['max_endpoints']}.",
        )
    if not hit:
        return Outcome(False, f"None of {sent} reached a pod.")
    for selector, (least, most) in (spec.get("share") or {}).items():
        addresses = {(p.get("status") or {}).get("podIP") for p in matching_pods(cluster, selector)}
        got = sum(e["requests"] for e in result["endpoints"] if e["ip"] in addresses)
        if not least <= got <= most:
            wanted = f"between {least} and {most}" if least != most else f"{least}"
            return Outcome(
                False,
                f"{sent}: {got} reached pods matching {selector} ({spread}); this step needs "
                f"{wanted}.",
            )
    return Outcome(True, f"{sent}: {spread}.")


def _sent_traffic(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = spec["sent_traffic"]
    batches = [r for r in state.activity if r["kind"] == "traffic"]
    for record in reversed(batches):
        if "to" in wanted and wanted["to"] not in (record["host"], record["to"]):
            continue
        if "from" in wanted and record["from"] != source_of(cluster, wanted["from"]):
            continue
        if record["endpoints"] < wanted.get("min_endpoints", 1):
            continue
        return Outcome(
            True,
            f"You sent {record['count']} requests to {record['to']}: {record['endpoints']} pods answered.",
        )
    if not batches:
        return Outcome(
            False, 'Send a batch of requests first: "Send 100" in the trace bar above the map.'
        )
    last = batches[-1]
    return Outcome(
        False,
        f"Your last batch went to {last['to']} and reached {last['endpoints']} pods; that is not the one asked for.",
    )


_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(%?)$")
#: How far apart two numbers may be and still be the same answer, relative to the expected
#: one: iptables keeps a statistic probability as a fraction of 2^31, so iptables-save
#: prints 0.33333333349 where kube-proxy wrote 0.3333333333.
_PRECISION = Fraction(1, 10**9)
_FRACTION = re.compile(r"^([+-]?\d+)\s*/\s*(\d+)$")


def _number(text: str) -> tuple[Fraction, Fraction | None, int] | None:
    """An answer read as a number: its value, the half unit of its last written digit (None
    for an exact fraction or a whole number), and how many significant digits it has.

    >>> _number("0.33")
    (Fraction(33, 100), Fraction(1, 200), 2)
    >>> _number("33%")
    (Fraction(33, 100), Fraction(1, 200), 2)
    >>> _number("1/3")
    (Fraction(1, 3), None, 0)
    >>> _number("web") is None
    True
    """
    fraction = _FRACTION.match(text)
    if fraction:
        if int(fraction.group(2)) == 0:
            return None
        return Fraction(int(fraction.group(1)), int(fraction.group(2))), None, 0
    number = _NUMBER.match(text)
    if not number:
        return None
    digits, percent = number.groups()
    decimals = len(digits.partition(".")[2])
    scale = 100 if percent else 1
    value = Fraction(digits) / scale
    significant = len(digits.replace(".", "").lstrip("+-").lstrip("0"))
    if "." not in digits and not percent:
        return value, None, significant
    return value, Fraction(1, 2 * 10**decimals * scale), significant


def _same_number(given: str, wanted: str) -> bool:
    """Whether ``given`` is ``wanted`` as a number, allowing any rounding of either to two
    significant digits or more, and to within a billionth (what a value stored as a 32-bit
    fraction loses): 0.33, 0.333, 1/3, 33% and 0.33333333349 (what iptables-save prints
    for the statistic match) are all 0.3333333333 (what kube-proxy writes). A whole number
    must be exact.

    >>> [_same_number(a, "0.3333333333") for a in ("0.33", "1/3", "33.3%", "0.33333333349")]
    [True, True, True, True]
    >>> [_same_number(a, "0.3333333333") for a in ("0.3", "0.34", "0.3334", "3")]
    [False, False, False, False]
    >>> _same_number("10800", "10800"), _same_number("10800.4", "10800")
    (True, False)
    """
    g, w = _number(given), _number(wanted)
    if g is None or w is None:
        return False
    if w[1] is None and w[0].denominator == 1:  # a whole number: a port, a count
        return g[0] == w[0]
    tolerance = max(
        g[1] if g[1] is not None and g[2] >= 2 else Fraction(0),
        w[1] if w[1] is not None else Fraction(0),
        abs(w[0]) * _PRECISION,
    )
    return abs(g[0] - w[0]) <= tolerance


def _same_answer(given: str, wanted: str) -> bool:
    """An answer equal to an expected value, case and surrounding spaces ignored; a DNS name
    with or without its trailing dot (``api.backend.svc.cluster.local.``); a number in any
    reasonable rounding (see ``_same_number``).

    >>> _same_answer("API.backend.svc.cluster.local.", "api.backend.svc.cluster.local")
    True
    >>> _same_answer("10.0.0.11.", "10.0.0.11")
    False
    """
    given, wanted = given.strip().lower(), wanted.strip().lower()
    if given == wanted:
        return True
    if re.search(r"[a-z]", given) and given.rstrip(".") == wanted.rstrip("."):
        return True
    return _same_number(given, wanted)


def _answer(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = expected_values(cluster, spec["answer"])
    given = (state.answer or "").strip()
    if not given:
        return Outcome(False, "Type your answer in the box first.")
    if any(_same_answer(given, value) for value in wanted):
        return Outcome(True, f"{given} is right.")
    return Outcome(False, wrong_answer(cluster, spec, given))


def wrong_answer(cluster: Any, spec: dict[str, Any], given: str) -> str:
    """Why ``given`` is wrong: the explanation the lesson wrote for that answer when it is one
    of the step's likely wrong answers (``wrong:``), else its general one (``otherwise:``),
    else a sentence that repeats what the step asked.

    In an explanation, ``{answer}`` is the text typed and ``{node_ip:worker-1}``-style
    placeholders are the cluster's values now.

    >>> from app.cluster.cluster import Cluster
    >>> spec = {
    ...     "answer": {"value": "10.244.1.3"},
    ...     "ask": "Source IP address seen by web-b",
    ...     "wrong": [{"answer": {"node_ip": "worker-1"}, "why": "{answer} is worker-1's own address."}],
    ... }
    >>> cluster = Cluster.create(seed=1)
    >>> wrong_answer(cluster, spec, "10.0.0.11")
    "10.0.0.11 is worker-1's own address."
    >>> wrong_answer(cluster, spec, "web-b")
    'web-b is not the answer to "Source IP address seen by web-b".'
    """
    for wrong in spec.get("wrong", []):
        try:
            values = wrong_values(cluster, wrong["answer"])
        except PodpathError:  # what it names is not there now: it cannot be this answer
            continue
        if any(_same_answer(given, value) for value in values):
            return explain(cluster, wrong["why"], given)
    if spec.get("otherwise"):
        return explain(cluster, spec["otherwise"], given)
    asked = (spec.get("ask") or "what the step asks").rstrip(".?")
    return f'{given} is not the answer to "{asked}".'


def wrong_values(cluster: Any, value: dict[str, Any]) -> list[str]:
    """The answers a wrong answer's value stands for. ``pod_ip`` with a label selector is the
    address of any running pod it matches (``{pod_ip: app=web}``: any web pod's address)."""
    ((kind, text),) = value.items()
    if kind == "pod_ip":
        return [p["status"]["podIP"] for p in matching_pods(cluster, str(text)) if is_running(p)]
    return expected_values(cluster, value)


def explain(cluster: Any, text: str, given: str) -> str:
    """A lesson's explanation of a wrong answer as the learner reads it: ``{answer}`` is what
    they typed, and value placeholders are the cluster's values now."""
    with contextlib.suppress(PodpathError):  # a value gone now: the words still hold
        text = expand(cluster, text)
    return text.replace("{answer}", given).strip()


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


NETWORK_CHECKS = {
    "compared": _compared,
    "trace": _trace,
    "traces": _traces,
    "traced": _traced,
    "dns": _dns,
    "looked_up": _looked_up,
    "traffic": _traffic,
    "sent_traffic": _sent_traffic,
    "answer": _answer,
}
