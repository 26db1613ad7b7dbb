"""What a lesson is once its files are read: steps with checks, hints and a solution, a
recap and a quiz. The shapes of checks and actions are checked here, at load time, so a
mistake in a lesson file is reported with its line when the app starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.cluster import constants as c
from app.lessons.source import LessonFileError, Located, Path
from app.lessons.text import LessonText, Section, inline_html

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
#: The checks that run the network at Check time: a step with one is behavioural.
NETWORK_CHECKS = {"trace", "traces", "dns", "traffic"}
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
#: Actions a setup or a solution is made of.
ACTION_KEYS = {
    "apply",
    "delete",
    "scale",
    "switch",
    "trace",
    "traffic",
    "dns",
    "compare",
    "answer",
    "run",
}
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


@dataclass(frozen=True)
class Check:
    kind: str
    spec: dict[str, Any]
    line: int | None


@dataclass(frozen=True)
class Action:
    kind: str
    value: Any
    line: int | None


@dataclass
class Step:
    id: str
    title: str
    text_html: str
    task_html: str
    question: str | None  # a question the learner answers in a text box
    setup: list[Action]
    checks: list[Check]
    hints: list[str]  # HTML
    solution: list[Action]
    line: int | None
    #: Further reference solutions, each a list of actions like ``solution`` ("Show me"
    #: runs the first solution only; the lint test runs every one).
    alternatives: list[list[Action]] = field(default_factory=list)


@dataclass
class Choice:
    text_html: str
    correct: bool
    why_html: str


@dataclass
class Question:
    text_html: str
    choices: list[Choice]


@dataclass
class Lesson:
    slug: str
    order: int
    title: str
    summary: str
    intro_html: str
    recap_html: str
    cni: str
    proxy_mode: str
    workers: int
    seed: int
    setup: list[Action]
    steps: list[Step]
    quiz: list[Question]
    source: str  # the folder it was read from
    extra: bool = False  # from the settings' folder rather than the app's own
    ip_family: str = "ipv4"  # the cluster block's ip_family: ipv4, ipv6 or dual


def is_behavioural(step: Step) -> bool:
    """A step that asks for something the network does: its checks include a network check
    (``trace``, ``dns``, ``traffic``), or its solution builds or fixes objects (``apply``).
    Such a step must be graded by a network check, and it carries at least two different
    reference solutions (``solution`` and ``alternatives``) that both pass (the lesson lint)."""
    return any(ch.kind in NETWORK_CHECKS for ch in step.checks) or any(
        action.kind == "apply" for action in step.solution
    )


def _require(doc: Located, data: Any, path: Path, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(data, kind) or (isinstance(data, bool) and kind is int):
        raise doc.error(path, f"{_dotted(path)}: must be {what}")
    return data


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def _only(doc: Located, data: dict[str, Any], path: Path, allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise doc.error(
                (*path, key),
                f'{_dotted((*path, key))}: unknown field "{key}" (expected one of: {", ".join(sorted(allowed))})',
            )


def parse_lesson(slug: str, order: int, doc: Located, text: LessonText, source: str) -> Lesson:
    """Build a :class:`Lesson` from its YAML and Markdown, checking every shape.

    Raises
    ------
    LessonFileError
        Naming the file and line of the first problem found.
    """
    data = _require(doc, doc.data, (), dict, "a mapping")
    _only(doc, data, (), {"order", "cluster", "setup", "steps", "quiz"})
    order = _require(doc, data.get("order", order), ("order",), int, "a whole number")
    cluster = _require(doc, data.get("cluster", {}), ("cluster",), dict, "a mapping")
    _only(doc, cluster, ("cluster",), {"cni", "proxy_mode", "workers", "seed", "ip_family"})
    cni = cluster.get("cni", "flannel")
    if cni not in c.CNI_PLUGINS:
        raise doc.error(
            ("cluster", "cni"), f"cluster.cni: must be one of {', '.join(c.CNI_PLUGINS)}"
        )
    proxy_mode = cluster.get("proxy_mode", "iptables")
    if proxy_mode not in c.PROXY_MODES:
        raise doc.error(
            ("cluster", "proxy_mode"),
            f"cluster.proxy_mode: must be one of {', '.join(c.PROXY_MODES)}",
        )
    ip_family = cluster.get("ip_family", "ipv4")
    if ip_family not in c.IP_FAMILY_MODES or (ip_family != "ipv4" and cni not in c.IPV6_PLUGINS):
        raise doc.error(
            ("cluster", "ip_family"),
            f"cluster.ip_family: must be one of {', '.join(c.IP_FAMILY_MODES)}, "
            f"and ipv4 with a plugin other than {' or '.join(c.IPV6_PLUGINS)}",
        )
    workers = _require(
        doc, cluster.get("workers", 2), ("cluster", "workers"), int, "a whole number"
    )
    if not 1 <= workers <= 10:
        raise doc.error(("cluster", "workers"), "cluster.workers: must be from 1 to 10")
    seed = _require(doc, cluster.get("seed", order), ("cluster", "seed"), int, "a whole number")
    steps_data = _require(doc, data.get("steps"), ("steps",), list, "a list of steps")
    if not steps_data:
        raise doc.error(("steps",), "steps: a lesson needs at least one step")
    steps = [_step(doc, text, item, ("steps", i)) for i, item in enumerate(steps_data)]
    ids = [s.id for s in steps]
    for i, step_id in enumerate(ids):
        if step_id in ids[:i]:
            raise doc.error(("steps", i, "id"), f'steps[{i}].id: "{step_id}" is used twice')
    for section_id, section in text.sections.items():
        if section_id != "recap" and section_id not in ids:
            raise _md_error(text, section, f'no step in lesson.yaml has the id "{section_id}"')
    if "recap" not in text.sections:
        raise doc.error((), f'{slug}: the Markdown needs a closing "## Recap {{#recap}}" section')
    quiz_data = _require(doc, data.get("quiz"), ("quiz",), list, "a list of questions")
    if not quiz_data:
        raise doc.error(("quiz",), "quiz: a lesson ends with at least one question")
    return Lesson(
        slug=slug,
        order=order,
        title=text.title,
        summary=text.summary,
        intro_html=text.intro_html,
        recap_html=text.sections["recap"].html,
        cni=cni,
        proxy_mode=proxy_mode,
        workers=workers,
        seed=seed,
        ip_family=ip_family,
        setup=_actions(doc, data.get("setup", []), ("setup",)),
        steps=steps,
        quiz=[_question(doc, q, ("quiz", i)) for i, q in enumerate(quiz_data)],
        source=source,
    )


def _md_error(text: LessonText, section: Section, problem: str) -> LessonFileError:
    return LessonFileError(text.filename, section.line, problem)


def _step(doc: Located, text: LessonText, data: Any, path: Path) -> Step:
    data = _require(doc, data, path, dict, "a mapping")
    _only(
        doc,
        data,
        path,
        {"id", "task", "ask", "setup", "checks", "hints", "solution", "alternatives"},
    )
    step_id = _require(doc, data.get("id"), (*path, "id"), str, "the id of a ## section")
    section = text.sections.get(step_id)
    if section is None:
        raise doc.error(
            (*path, "id"),
            f'{_dotted((*path, "id"))}: the Markdown has no section "## ... {{#{step_id}}}"',
        )
    task = _require(doc, data.get("task"), (*path, "task"), str, "one sentence saying what to do")
    question = data.get("ask")
    if question is not None:
        _require(doc, question, (*path, "ask"), str, "a question")
    checks_data = _require(doc, data.get("checks"), (*path, "checks"), list, "a list of checks")
    if not checks_data:
        raise doc.error((*path, "checks"), f"{_dotted((*path, 'checks'))}: a step needs a check")
    checks = [_check(doc, item, (*path, "checks", i)) for i, item in enumerate(checks_data)]
    if any(ch.kind == "answer" for ch in checks) and question is None:
        raise doc.error((*path, "checks"), f"{_dotted(path)}: an answer check needs an ask:")
    # An answer check says what was asked when an answer is wrong and no explanation fits.
    checks = [
        Check(ch.kind, {**ch.spec, "ask": question}, ch.line) if ch.kind == "answer" else ch
        for ch in checks
    ]
    hints = _require(doc, data.get("hints", []), (*path, "hints"), list, "a list of hints")
    for i, hint in enumerate(hints):
        _require(doc, hint, (*path, "hints", i), str, "text")
    solution = _actions(doc, data.get("solution"), (*path, "solution"))
    if not solution:
        raise doc.error((*path, "solution"), f"{_dotted(path)}: a step needs a solution")
    alternatives = _alternatives(doc, data.get("alternatives", []), (*path, "alternatives"))
    return Step(
        id=step_id,
        title=section.title,
        text_html=section.html,
        task_html=inline_html(task),
        question=question,
        setup=_actions(doc, data.get("setup", []), (*path, "setup")),
        checks=checks,
        hints=[inline_html(h) for h in hints],
        solution=solution,
        line=doc.line(path),
        alternatives=alternatives,
    )


def _alternatives(doc: Located, data: Any, path: Path) -> list[list[Action]]:
    """A step's further reference solutions: a list, each written as ``solution:`` is."""
    _require(doc, data, path, list, "a list of solutions (each a list of actions)")
    out = []
    for i, item in enumerate(data):
        _require(doc, item, (*path, i), (list, str), "a solution: a list of actions")
        actions = _actions(doc, item, (*path, i))
        if not actions:
            raise doc.error((*path, i), f"{_dotted((*path, i))}: an alternative needs an action")
        out.append(actions)
    return out


def _check(doc: Located, data: Any, path: Path) -> Check:
    data = _require(doc, data, path, dict, "a mapping naming one kind of check")
    kinds = [k for k in data if k in CHECK_KEYS]
    if len(kinds) != 1:
        raise doc.error(
            path,
            f"{_dotted(path)}: a check names exactly one of: {', '.join(CHECK_KEYS)}",
        )
    kind = kinds[0]
    _only(doc, data, path, {kind} | CHECK_KEYS[kind])
    subject = data[kind]
    sub = (*path, kind)
    if kind in ("trace", "traffic", "dns"):
        _require(doc, subject, sub, dict, "a mapping")
        needed = {"trace": ("from", "to"), "traffic": ("from", "to"), "dns": ("from", "name")}[kind]
        optional = {"trace": REQUEST_KEYS, "traffic": {"count"}, "dns": {"type"}}[kind]
        _only(doc, subject, sub, set(needed) | optional)
        for key in needed:
            _require(doc, subject.get(key), (*sub, key), str, "text")
        _request(doc, subject, sub)
    elif kind == "traces":
        _traces(doc, subject, sub)
    elif kind in ("traced", "looked_up", "sent_traffic", "cluster", "compared", "translated"):
        _require(doc, subject, sub, dict, "a mapping (it may be empty: {})")
        allowed = {
            "traced": TRACED_KEYS,
            "looked_up": LOOKED_UP_KEYS,
            "sent_traffic": SENT_TRAFFIC_KEYS,
            "cluster": {"cni", "proxy_mode", "kube_proxy_replacement", "routing_mode"},
            "compared": COMPARED_KEYS,
            "translated": TRANSLATED_KEYS,
        }[kind]
        _only(doc, subject, sub, allowed)
        _request(doc, subject, sub)
        if kind == "translated" and subject.get("at") not in TRANSLATED_AT:
            raise doc.error((*sub, "at"), f"{_dotted((*sub, 'at'))}: one of socket, node")
    elif kind == "answer":
        _value(doc, subject, sub)
        data = {**data, "wrong": _wrong_answers(doc, data.get("wrong", []), (*path, "wrong"))}
        if "otherwise" in data:
            _require(doc, data["otherwise"], (*path, "otherwise"), str, "an explanation")
    else:
        _require(doc, subject, sub, str, "text")
    if kind == "ran":
        _command(doc, data, path)
    if "expect" in data:
        allowed = VERDICTS if kind == "trace" else {"answer", "nxdomain"}
        if data["expect"] not in allowed:
            raise doc.error(
                (*path, "expect"),
                f"{_dotted((*path, 'expect'))}: one of {', '.join(sorted(allowed))}",
            )
    if "address" in data:
        _value(doc, data["address"], (*path, "address"))
    if "via" in data and data["via"] not in TRACE_ACTIONS:
        raise doc.error((*path, "via"), f"via: one of {', '.join(sorted(TRACE_ACTIONS))}")
    if "fields" in data:
        _require(doc, data["fields"], (*path, "fields"), dict, "a mapping of field path to value")
    if "share" in data:
        _share(doc, data["share"], (*path, "share"))
    return Check(kind, data, doc.line(path))


def _request(doc: Located, data: dict[str, Any], path: Path) -> None:
    """A trace's ``method`` (text) and ``headers`` (a mapping of header name to text)."""
    if "method" in data:
        _require(doc, data["method"], (*path, "method"), str, "an HTTP method (GET, POST, ...)")
    if "headers" in data:
        headers = _require(doc, data["headers"], (*path, "headers"), dict, "a mapping")
        for name, value in headers.items():
            _require(doc, value, (*path, "headers", name), str, "text (quote a number)")


def _share(doc: Located, data: Any, path: Path) -> None:
    """A ``traffic`` check's ``share``: ``{<pod selector>: [least, most]}`` requests."""
    _require(doc, data, path, dict, "a mapping of pod selector to [least, most] requests")
    for selector, bounds in data.items():
        where = (*path, selector)
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
            or not 0 <= bounds[0] <= bounds[1]
        ):
            raise doc.error(
                where, f"{_dotted(where)}: must be [least, most], two whole numbers, least first"
            )


def _traces(doc: Located, data: Any, path: Path) -> None:
    """A ``traces`` check's list: two or more traces, each written as a ``trace`` check's
    subject with its conditions beside it (``{from, to, seed?, expect?, endpoint?, ...}``)."""
    _require(doc, data, path, list, "a list of traces ({from, to} and their conditions)")
    if len(data) < 2:
        raise doc.error(path, f"{_dotted(path)}: two or more traces (one is a trace check)")
    for i, item in enumerate(data):
        item_path = (*path, i)
        _require(doc, item, item_path, dict, "a mapping with from, to and conditions")
        _only(doc, item, item_path, {"from", "to"} | REQUEST_KEYS | CHECK_KEYS["trace"])
        subject = {k: item[k] for k in ("from", "to", *REQUEST_KEYS) if k in item}
        conditions = {k: v for k, v in item.items() if k not in subject}
        _check(doc, {"trace": subject, **conditions}, item_path)


def _command(doc: Located, data: dict[str, Any], path: Path) -> None:
    """A ``ran`` check's or a ``run`` action's command: one command the terminal can read,
    run in one place at most (``in: pod/<name>`` or ``on: node/<name>``)."""
    from app.terminal.meaning import words_of  # the terminal's own reading of a line

    line = _require(doc, data.get("ran"), (*path, "ran"), str, "a command line")
    try:
        words_of(line)
    except ValueError as error:
        raise doc.error((*path, "ran"), f"{_dotted((*path, 'ran'))}: {error}") from None
    if "in" in data and "on" in data:
        raise doc.error(path, f"{_dotted(path)}: in (a pod) or on (a node), not both")
    for key, prefix in (("in", "pod/"), ("on", "node/")):
        if key in data and not str(data[key]).startswith(prefix):
            raise doc.error((*path, key), f"{_dotted((*path, key))}: {prefix}<name>")


def _value(doc: Located, data: Any, path: Path) -> None:
    _require(doc, data, path, dict, f"a mapping with one of: {', '.join(sorted(VALUE_KEYS))}")
    if len(data) != 1 or next(iter(data)) not in VALUE_KEYS:
        raise doc.error(path, f"{_dotted(path)}: one of {', '.join(sorted(VALUE_KEYS))}")


def _wrong_answers(doc: Located, data: Any, path: Path) -> list[dict[str, Any]]:
    """A question step's likely wrong answers, each with the explanation written for it:
    ``[{answer: <text or value>, why: <explanation>}]``. A plain text or number answer is
    read as ``{value: <text>}``; a mapping is a value (``{node_ip: worker-1}``)."""
    _require(doc, data, path, list, "a list of {answer, why}")
    out = []
    for i, item in enumerate(data):
        item_path = (*path, i)
        _require(doc, item, item_path, dict, "a mapping with answer and why")
        _only(doc, item, item_path, WRONG_KEYS)
        for key in WRONG_KEYS:
            if key not in item:
                raise doc.error(item_path, f'{_dotted(item_path)}: needs "{key}"')
        answer = item["answer"]
        if isinstance(answer, dict):
            _value(doc, answer, (*item_path, "answer"))
        elif isinstance(answer, (str, int, float)) and not isinstance(answer, bool):
            answer = {"value": str(answer)}
        else:
            raise doc.error(
                (*item_path, "answer"),
                f"{_dotted((*item_path, 'answer'))}: must be text or a value "
                f"(a mapping with one of: {', '.join(sorted(VALUE_KEYS))})",
            )
        why = _require(doc, item["why"], (*item_path, "why"), str, "an explanation")
        if not why.strip():
            raise doc.error((*item_path, "why"), f"{_dotted((*item_path, 'why'))}: is empty")
        out.append({"answer": answer, "why": why.strip()})
    return out


def _actions(doc: Located, data: Any, path: Path) -> list[Action]:
    if data is None:
        return []
    if isinstance(data, str):  # a manifest on its own
        return [Action("apply", data, doc.line(path))]
    _require(doc, data, path, list, "a list of actions")
    actions = []
    for i, item in enumerate(data):
        item_path = (*path, i)
        _require(doc, item, item_path, dict, f"one of: {', '.join(sorted(ACTION_KEYS))}")
        if len(item) != 1 or next(iter(item)) not in ACTION_KEYS:
            raise doc.error(
                item_path,
                f"{_dotted(item_path)}: an action is one of: {', '.join(sorted(ACTION_KEYS))}",
            )
        kind, value = next(iter(item.items()))
        if kind == "answer":
            _value(doc, value, (*item_path, kind))
        elif kind == "run":
            value = {"ran": value} if isinstance(value, str) else value
            _require(doc, value, (*item_path, kind), dict, "a command, or {ran, in or on}")
            _only(doc, value, (*item_path, kind), {"ran", "in", "on"})
            _command(doc, value, (*item_path, kind))
        elif kind in ("apply", "delete"):
            _require(doc, value, (*item_path, kind), str, "text")
        else:
            _require(doc, value, (*item_path, kind), dict, "a mapping")
        actions.append(Action(kind, value, doc.line(item_path)))
    return actions


def _question(doc: Located, data: Any, path: Path) -> Question:
    data = _require(doc, data, path, dict, "a mapping with question and choices")
    _only(doc, data, path, {"question", "choices"})
    text = _require(doc, data.get("question"), (*path, "question"), str, "text")
    choices_data = _require(doc, data.get("choices"), (*path, "choices"), list, "a list")
    choices = []
    for i, item in enumerate(choices_data):
        cp = (*path, "choices", i)
        _require(doc, item, cp, dict, "a mapping with answer, why and (for the right one) correct")
        _only(doc, item, cp, {"answer", "correct", "why"})
        choices.append(
            Choice(
                inline_html(_require(doc, item.get("answer"), (*cp, "answer"), str, "text")),
                _require(doc, item.get("correct", False), (*cp, "correct"), bool, "true or false"),
                inline_html(_require(doc, item.get("why"), (*cp, "why"), str, "an explanation")),
            )
        )
    if len(choices) < 2 or sum(ch.correct for ch in choices) != 1:
        raise doc.error(path, f"{_dotted(path)}: needs two or more choices, exactly one correct")
    return Question(inline_html(text), choices)
