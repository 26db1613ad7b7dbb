"""Doing what a lesson's setup or a step's solution says: apply manifests, delete or scale
objects, switch the CNI plugin, run traces, lookups, batches of requests and terminal
commands, type an answer.

Traces, lookups, requests and commands run here are recorded as the learner's own activity (``Show
me`` does the task for the learner, so the step's checks then pass); the last trace is
handed back for the page to animate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from app.cluster import nodes, rebuild
from app.cluster.apply import apply_text
from app.cluster.deletion import deletion_lines
from app.lessons import notes
from app.lessons.activity import (
    compare_record,
    dns_record,
    terminal_records,
    trace_record,
    traffic_record,
)
from app.lessons.checks_traces import request_of
from app.lessons.lesson import Action
from app.lessons.refs import (
    LessonRefError,
    expand,
    expected_values,
    matching_pods,
    object_ref,
    pod_of,
    source_of,
)
from app.network import dns
from app.network.compare import compare_plugins
from app.network.targets import parse_source, parse_target
from app.network.trace import trace
from app.network.traffic import send_traffic


@dataclass
class Done:
    """What a list of actions did, for the page to say and show."""

    lines: list[str] = field(default_factory=list)
    trace: dict[str, Any] | None = None  # {"query": {from, to, seed}, "result": Trace dict}
    traffic: dict[str, Any] | None = None  # {"query": ..., "result": send_traffic's answer}
    answer: str | None = None
    compare: dict[str, Any] | None = None  # {"query": ..., "runs": [PluginRun dicts]}
    # The terminal session the solution's commands share, as one terminal tab would: a
    # ``kubectl debug node/...`` opens a shell the next command runs in, and ``tcpdump``
    # there sees the request an earlier command sent.
    session: Any = None


def run_actions(cluster: Any, actions: list[Action], step_id: str | None = None) -> Done:
    """Run ``actions`` in order on ``cluster``.

    Parameters
    ----------
    cluster : Cluster
    actions : list of Action
    step_id : str, optional
        The step whose solution this is (an ``answer`` action is typed into it).

    Returns
    -------
    Done

    Raises
    ------
    PodpathError
        When an action cannot be done (a manifest the API refuses, a pod that is not there).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.lessons.lesson import Action
    >>> cluster = Cluster.create(seed=1)
    >>> done = run_actions(cluster, [Action("switch", {"cni": "calico"}, 1)])
    >>> done.lines, cluster.config.cni
    (['The cluster now runs calico.'], 'calico')
    """
    done = Done()
    for action in actions:
        _RUN[action.kind](cluster, action.value, done, step_id)
    return done


def _apply(cluster: Any, value: str, done: Done, step_id: str | None) -> None:
    result = apply_text(cluster, value)
    done.lines += [f"{o.kind.lower()}/{o.name} {o.action}" for o in result.objects]


def _delete(cluster: Any, value: str, done: Done, step_id: str | None) -> None:
    kind, namespace, name = object_ref(value)
    if kind == "Pod" and "=" in value:
        running = matching_pods(cluster, value.split(" ", 1)[1].strip())
        if not running:
            raise LessonRefError(f"no pod matches {value}")
        namespace, name = running[0]["metadata"]["namespace"], running[0]["metadata"]["name"]
    change = cluster.delete(kind, namespace, name)
    done.lines += deletion_lines(cluster, kind, name, change)


def _scale(cluster: Any, value: dict[str, Any], done: Done, step_id: str | None) -> None:
    namespace, _, name = str(value["deployment"]).rpartition("/")
    nodes.scale(cluster, namespace or "default", name, int(value["replicas"]))
    done.lines.append(f"deployment/{name} scaled to {value['replicas']}")


def _switch(cluster: Any, value: dict[str, Any], done: Done, step_id: str | None) -> None:
    rebuild.switch(
        cluster,
        cni=value.get("cni"),
        proxy_mode=value.get("proxy_mode"),
        kube_proxy_replacement=value.get("kube_proxy_replacement"),
        routing_mode=value.get("routing_mode"),
    )
    if value.get("cni"):
        done.lines.append(f"The cluster now runs {value['cni']}.")
    if value.get("proxy_mode"):
        done.lines.append(f"kube-proxy now runs in {value['proxy_mode']} mode.")
    if "kube_proxy_replacement" in value:
        done.lines.append(f"kubeProxyReplacement: {str(value['kube_proxy_replacement']).lower()}.")
    if value.get("routing_mode"):
        done.lines.append(f"Cilium's routingMode: {value['routing_mode']}.")


def _trace(cluster: Any, value: dict[str, Any], done: Done, step_id: str | None) -> None:
    source = source_of(cluster, value["from"])
    seed = int(value.get("seed", 0))
    to = expand(cluster, value["to"])
    request = request_of(value)
    result = trace(cluster, source, to, seed, **request)
    notes.record(cluster, trace_record(cluster, source, to, result))
    query = {"from": source, "to": to, "seed": seed, **request}
    done.trace = {"query": query, "result": result.to_dict()}
    done.lines.append(f"Traced {value['from']} → {to}: {result.verdict}")


def _traffic(cluster: Any, value: dict[str, Any], done: Done, step_id: str | None) -> None:
    source = source_of(cluster, value["from"])
    count = int(value.get("count", 100))
    to = expand(cluster, value["to"])
    result = send_traffic(cluster, source, to, count)
    notes.record(cluster, traffic_record(source, to, parse_target(to).host, result))
    done.traffic = {"query": {"from": source, "to": to, "seed": 0}, "result": result}
    done.lines.append(f"Sent {count} requests {value['from']} → {to}")


def _dns(cluster: Any, value: dict[str, Any], done: Done, step_id: str | None) -> None:
    source = source_of(cluster, value["from"])
    client = parse_source(cluster, source)
    qtype = value.get("type", "A")
    name = expand(cluster, value["name"])
    answer = dns.resolve(cluster, client.pod, name, qtype)
    notes.record(cluster, dns_record(source, name, qtype, answer))
    done.lines.append(f"Looked up {name}: {answer.rcode} {' '.join(answer.addresses())}".strip())


def _compare(cluster: Any, value: dict[str, Any], done: Done, step_id: str | None) -> None:
    names = []
    for ref in (value["from"], value["to"]):
        pod = pod_of(cluster, ref)
        names.append(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
    port = int(value.get("port", 80))
    runs = compare_plugins(cluster, names[0], names[1], port)
    notes.record(cluster, compare_record(names[0], names[1], runs))
    query = {"from": f"pod/{names[0]}", "to": names[1], "port": port}
    done.compare = {"query": query, "runs": [run.to_dict() for run in runs]}
    done.lines.append(f"Compared {names[0]} → {names[1]} under {', '.join(r.cni for r in runs)}")


#: The most lines of a command's output "Show me" says.
SHOWN_LINES = 12


def _run(cluster: Any, value: dict[str, Any], done: Done, step_id: str | None) -> None:
    """Run a command line in the terminal (in a pod's or a node's shell for ``in``/``on``),
    recorded as one the learner typed; its output is said, and a request it sent animated."""
    from app.terminal import Session, run  # the terminal is built on the lessons' layers

    session = done.session or Session()
    where = value.get("in") or value.get("on")
    if where is not None:
        if where.startswith("pod/") and where.count("/") == 1:
            where = f"pod/default/{where[4:]}"
        session = replace(session, where=where)
    line = expand(cluster, value["ran"])  # {service_ip:web} and the like, as they are now
    reply = run(cluster, line, session)
    done.session = reply.session
    for record in terminal_records(cluster, reply):
        notes.record(cluster, record)
    if reply.trace is not None and reply.request is not None:
        source, to, seed = reply.request[:3]
        query = {"from": source, "to": to, "seed": seed}
        done.trace = {"query": query, "result": reply.trace.to_dict()}
    done.lines.append(f"{session.prompt()}{line}")
    output = reply.output.splitlines()
    done.lines += output[:SHOWN_LINES] + (["…"] if len(output) > SHOWN_LINES else [])


def _answer(cluster: Any, value: dict[str, Any], done: Done, step_id: str | None) -> None:
    done.answer = expected_values(cluster, value)[0]
    if step_id is not None:
        notes.set_answer(cluster, step_id, done.answer)
    done.lines.append(f"Answered: {done.answer}")


_RUN = {
    "apply": _apply,
    "delete": _delete,
    "scale": _scale,
    "switch": _switch,
    "trace": _trace,
    "traffic": _traffic,
    "dns": _dns,
    "compare": _compare,
    "answer": _answer,
    "run": _run,
}
