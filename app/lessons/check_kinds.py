"""The check kinds a lesson's ``checks:`` may name, the keys each accepts, and how a check is
read from ``lesson.yaml``: its shape is checked when the lesson loads, so a mistake is
reported with its line when the app starts. What each kind does at Check time is
:mod:`app.lessons.checks`."""

from __future__ import annotations

from typing import Any

from app.lessons.lesson import Check
from app.lessons.source import Located, Path, dotted, only, require

#: Check kinds and the keys each accepts besides its own (``object: Service web``).
CHECK_KEYS: dict[str, set[str]] = {
    "object": {
        "exists",
        "type",
        "selects",
        "endpoints",
        "port",
        "targetPort",
        "nodePort",
        "replicas",
        "fields",
    },
    "pods": {"count", "ready"},
    "replaced": set(),
    "trace": {"expect", "endpoint", "reason", "snat", "http_status", "via"},
    # Several traces that must all come out as written at once (allowed from here, dropped
    # from there): one check, so that it fails until the whole of it holds.
    "traces": set(),
    "dns": {"expect", "address", "cname"},
    # share: {<pod selector>: [least, most]}: how many of the requests the pods it matches
    # got (a weighted split is about the shares, not only which pods answered).
    "traffic": {"endpoints", "max_endpoints", "share"},
    "traced": set(),
    "looked_up": set(),
    "sent_traffic": set(),
    "answer": {"wrong", "otherwise"},
    "cluster": set(),
    "compared": set(),
    "ran": {"in", "on"},
    # Where the learner's request to a Service had its destination translated: at the socket
    # in the client pod (Cilium's socket load balancer) or by a DNAT hop on a node.
    "translated": set(),
}
#: What a ``traced`` check may ask of the learner's own traces.
TRACED_KEYS = {
    "from",
    "to",
    "endpoint",
    "verdict",
    "reason",
    "http_status",
    "cni",
    "via",
    "snat",
    "cross_node",
    "kind",
    "method",
    "headers",
}
#: What a trace may say of its request besides where it goes: the seed, the HTTP method and
#: request headers (HTTPRoute matches read them).
REQUEST_KEYS = {"seed", "method", "headers"}
LOOKED_UP_KEYS = {"from", "name", "type", "rcode"}
SENT_TRAFFIC_KEYS = {"from", "to", "min_endpoints"}
COMPARED_KEYS = {"from", "to"}
TRANSLATED_KEYS = {"from", "to", "endpoint", "at"}
TRANSLATED_AT = ("socket", "node")
VALUE_KEYS = {
    "pod_ip",
    "former_pod_ip",
    "service_ip",
    "node_ip",
    "router_ip",
    "lb_ip",
    "node_port",
    "svc_chain",
    "value",
    "one_of",
}
#: What a likely wrong answer of a question step is written as.
WRONG_KEYS = {"answer", "why"}
VERDICTS = {"delivered", "refused", "dropped", "nxdomain", "unreachable"}
TRACE_ACTIONS = {
    "send",
    "dnat",
    "snat",
    "bridge",
    "route",
    "encapsulate",
    "decapsulate",
    "resolve",
    "deliver",
    "reject",
    "drop",
}


def read_check(doc: Located, data: Any, path: Path) -> Check:
    """One entry of a step's ``checks:``, its shape checked against its kind.

    Parameters
    ----------
    doc : Located
        The lesson's YAML (for the line of a problem).
    data : Any
        The entry as read: a mapping naming one kind of check (a key of ``CHECK_KEYS``) and
        the keys that kind accepts.
    path : Path
        Where the entry is (``("steps", 0, "checks", 1)``).

    Returns
    -------
    Check
        Its kind, the entry as written (an ``answer`` check's ``wrong:`` answers read as
        values), and its line.

    Raises
    ------
    LessonFileError
        Naming the line and the key of the first problem found.

    Examples
    --------
    >>> from app.lessons.source import read_yaml
    >>> doc = read_yaml("lesson.yaml", "{trace: {from: client, to: web}, expect: dropped}")
    >>> read_check(doc, doc.data, ("checks", 0))
    Check(kind='trace', spec={'trace': {'from': 'client', 'to': 'web'}, 'expect': 'dropped'}, line=1)
    >>> doc = read_yaml("lesson.yaml", "{trace: {from: client, to: web}, expect: lost}")
    >>> read_check(doc, doc.data, ("checks", 0))
    Traceback (most recent call last):
    ...
    app.lessons.source.LessonFileError: lesson.yaml, line 1: checks[0].expect: one of delivered, dropped, nxdomain, refused, unreachable
    """
    data = require(doc, data, path, dict, "a mapping naming one kind of check")
    kinds = [k for k in data if k in CHECK_KEYS]
    if len(kinds) != 1:
        raise doc.error(
            path,
            f"{dotted(path)}: a check names exactly one of: {', '.join(CHECK_KEYS)}",
        )
    kind = kinds[0]
    only(doc, data, path, {kind} | CHECK_KEYS[kind])
    subject = data[kind]
    sub = (*path, kind)
    if kind in ("trace", "traffic", "dns"):
        require(doc, subject, sub, dict, "a mapping")
        needed = {"trace": ("from", "to"), "traffic": ("from", "to"), "dns": ("from", "name")}[kind]
        optional = {"trace": REQUEST_KEYS, "traffic": {"count"}, "dns": {"type"}}[kind]
        only(doc, subject, sub, set(needed) | optional)
        for key in needed:
            require(doc, subject.get(key), (*sub, key), str, "text")
        _request(doc, subject, sub)
    elif kind == "traces":
        _traces(doc, subject, sub)
    elif kind in ("traced", "looked_up", "sent_traffic", "cluster", "compared", "translated"):
        require(doc, subject, sub, dict, "a mapping (it may be empty: {})")
        allowed = {
            "traced": TRACED_KEYS,
            "looked_up": LOOKED_UP_KEYS,
            "sent_traffic": SENT_TRAFFIC_KEYS,
            "cluster": {"cni", "proxy_mode", "kube_proxy_replacement", "routing_mode"},
            "compared": COMPARED_KEYS,
            "translated": TRANSLATED_KEYS,
        }[kind]
        only(doc, subject, sub, allowed)
        _request(doc, subject, sub)
        if kind == "translated" and subject.get("at") not in TRANSLATED_AT:
            raise doc.error((*sub, "at"), f"{dotted((*sub, 'at'))}: one of socket, node")
    elif kind == "answer":
        read_value(doc, subject, sub)
        data = {**data, "wrong": _wrong_answers(doc, data.get("wrong", []), (*path, "wrong"))}
        if "otherwise" in data:
            require(doc, data["otherwise"], (*path, "otherwise"), str, "an explanation")
    else:
        require(doc, subject, sub, str, "text")
    if kind == "ran":
        read_command(doc, data, path)
    if "expect" in data:
        allowed = VERDICTS if kind == "trace" else {"answer", "nxdomain"}
        if data["expect"] not in allowed:
            raise doc.error(
                (*path, "expect"),
                f"{dotted((*path, 'expect'))}: one of {', '.join(sorted(allowed))}",
            )
    if "address" in data:
        read_value(doc, data["address"], (*path, "address"))
    if "via" in data and data["via"] not in TRACE_ACTIONS:
        raise doc.error((*path, "via"), f"via: one of {', '.join(sorted(TRACE_ACTIONS))}")
    if "fields" in data:
        require(doc, data["fields"], (*path, "fields"), dict, "a mapping of field path to value")
    if "share" in data:
        _share(doc, data["share"], (*path, "share"))
    return Check(kind, data, doc.line(path))


def _request(doc: Located, data: dict[str, Any], path: Path) -> None:
    """A trace's ``method`` (text) and ``headers`` (a mapping of header name to text)."""
    if "method" in data:
        require(doc, data["method"], (*path, "method"), str, "an HTTP method (GET, POST, ...)")
    if "headers" in data:
        headers = require(doc, data["headers"], (*path, "headers"), dict, "a mapping")
        for name, value in headers.items():
            require(doc, value, (*path, "headers", name), str, "text (quote a number)")


def _share(doc: Located, data: Any, path: Path) -> None:
    """A ``traffic`` check's ``share``: ``{<pod selector>: [least, most]}`` requests."""
    require(doc, data, path, dict, "a mapping of pod selector to [least, most] requests")
    for selector, bounds in data.items():
        where = (*path, selector)
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
            or not 0 <= bounds[0] <= bounds[1]
        ):
            raise doc.error(
                where, f"{dotted(where)}: must be [least, most], two whole numbers, least first"
            )


def _traces(doc: Located, data: Any, path: Path) -> None:
    """A ``traces`` check's list: two or more traces, each written as a ``trace`` check's
    subject with its conditions beside it (``{from, to, seed?, expect?, endpoint?, ...}``)."""
    require(doc, data, path, list, "a list of traces ({from, to} and their conditions)")
    if len(data) < 2:
        raise doc.error(path, f"{dotted(path)}: two or more traces (one is a trace check)")
    for i, item in enumerate(data):
        item_path = (*path, i)
        require(doc, item, item_path, dict, "a mapping with from, to and conditions")
        only(doc, item, item_path, {"from", "to"} | REQUEST_KEYS | CHECK_KEYS["trace"])
        subject = {k: item[k] for k in ("from", "to", *REQUEST_KEYS) if k in item}
        conditions = {k: v for k, v in item.items() if k not in subject}
        read_check(doc, {"trace": subject, **conditions}, item_path)


def read_command(doc: Located, data: dict[str, Any], path: Path) -> None:
    """A ``ran`` check's or a ``run`` action's command: one command the terminal can read,
    run in one place at most (``in: pod/<name>`` or ``on: node/<name>``).

    Parameters
    ----------
    doc : Located
    data : dict
        The check or action: ``ran`` (the command line), and ``in`` or ``on``.
    path : Path
        Where it is.

    Raises
    ------
    LessonFileError
        For a line the terminal cannot read as one command, both ``in`` and ``on``, or a
        place that is not ``pod/<name>`` or ``node/<name>``.

    Examples
    --------
    >>> from app.lessons.source import read_yaml
    >>> doc = read_yaml("lesson.yaml", "{ran: iptables-save -t nat, on: node/worker-1}")
    >>> read_command(doc, doc.data, ("checks", 0))
    >>> doc = read_yaml("lesson.yaml", "{ran: hostname, in: client}")
    >>> read_command(doc, doc.data, ("checks", 0))
    Traceback (most recent call last):
    ...
    app.lessons.source.LessonFileError: lesson.yaml, line 1: checks[0].in: pod/<name>
    """
    from app.terminal.meaning import words_of  # the terminal's own reading of a line

    line = require(doc, data.get("ran"), (*path, "ran"), str, "a command line")
    try:
        words_of(line)
    except ValueError as error:
        raise doc.error((*path, "ran"), f"{dotted((*path, 'ran'))}: {error}") from None
    if "in" in data and "on" in data:
        raise doc.error(path, f"{dotted(path)}: in (a pod) or on (a node), not both")
    for key, prefix in (("in", "pod/"), ("on", "node/")):
        if key in data and not str(data[key]).startswith(prefix):
            raise doc.error((*path, key), f"{dotted((*path, key))}: {prefix}<name>")


def read_value(doc: Located, data: Any, path: Path) -> None:
    """A value an answer is compared with: a mapping with one key of ``VALUE_KEYS``
    (``{node_ip: worker-1}``, ``{value: "80"}``).

    Parameters
    ----------
    doc : Located
    data : Any
        The value as written.
    path : Path
        Where it is.

    Raises
    ------
    LessonFileError
        For anything but a mapping with exactly one of ``VALUE_KEYS``.

    Examples
    --------
    >>> from app.lessons.source import read_yaml
    >>> doc = read_yaml("lesson.yaml", "answer: {node_ip: worker-1}")
    >>> read_value(doc, doc.data["answer"], ("answer",))
    >>> doc = read_yaml("lesson.yaml", "answer: {node: worker-1}")
    >>> read_value(doc, doc.data["answer"], ("answer",))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    app.lessons.source.LessonFileError: lesson.yaml, line 1: answer: one of former_pod_ip, lb_ip, ...
    """
    require(doc, data, path, dict, f"a mapping with one of: {', '.join(sorted(VALUE_KEYS))}")
    if len(data) != 1 or next(iter(data)) not in VALUE_KEYS:
        raise doc.error(path, f"{dotted(path)}: one of {', '.join(sorted(VALUE_KEYS))}")


def _wrong_answers(doc: Located, data: Any, path: Path) -> list[dict[str, Any]]:
    """A question step's likely wrong answers, each with the explanation written for it:
    ``[{answer: <text or value>, why: <explanation>}]``. A plain text or number answer is
    read as ``{value: <text>}``; a mapping is a value (``{node_ip: worker-1}``)."""
    require(doc, data, path, list, "a list of {answer, why}")
    out = []
    for i, item in enumerate(data):
        item_path = (*path, i)
        require(doc, item, item_path, dict, "a mapping with answer and why")
        only(doc, item, item_path, WRONG_KEYS)
        for key in WRONG_KEYS:
            if key not in item:
                raise doc.error(item_path, f'{dotted(item_path)}: needs "{key}"')
        answer = item["answer"]
        if isinstance(answer, dict):
            read_value(doc, answer, (*item_path, "answer"))
        elif isinstance(answer, (str, int, float)) and not isinstance(answer, bool):
            answer = {"value": str(answer)}
        else:
            raise doc.error(
                (*item_path, "answer"),
                f"{dotted((*item_path, 'answer'))}: must be text or a value "
                f"(a mapping with one of: {', '.join(sorted(VALUE_KEYS))})",
            )
        why = require(doc, item["why"], (*item_path, "why"), str, "an explanation")
        if not why.strip():
            raise doc.error((*item_path, "why"), f"{dotted((*item_path, 'why'))}: is empty")
        out.append({"answer": answer, "why": why.strip()})
    return out
