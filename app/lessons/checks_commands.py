"""The ``ran`` check: the learner ran a command in the Terminal tab during the step, as the
lesson wrote it or any other way of writing the same command (:mod:`app.terminal.meaning`),
optionally in a pod (``in: pod/client``) or on a node (``on: node/worker-1``)."""

from __future__ import annotations

from typing import Any

from app.lessons.outcome import Outcome, StepState
from app.lessons.refs import matching_pods
from app.terminal.meaning import Meaning, command_text, difference, meaning, same, words_of


def places(cluster: Any, spec: dict[str, Any]) -> tuple[set[str] | None, str]:
    """Where a ``ran`` check's command must run (None: anywhere), and how to say it.

    >>> from app.cluster.cluster import Cluster
    >>> places(Cluster.create(seed=1), {"on": "node/worker-1"})
    ({'node/worker-1'}, 'on node worker-1')
    >>> places(Cluster.create(seed=1), {"in": "pod/shop/client"})
    ({'pod/shop/client'}, 'in pod shop/client')
    """
    if "on" in spec:
        node = str(spec["on"]).removeprefix("node/")
        return {f"node/{node}"}, f"on node {node}"
    if "in" in spec:
        ref = str(spec["in"]).removeprefix("pod/")
        if "=" in ref:
            pods = matching_pods(cluster, ref)
            return {
                f"pod/{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods
            }, f"in a pod matching {ref}"
        namespace, _, name = ref.rpartition("/")
        shown = f"{namespace}/{name}" if namespace else name
        return {f"pod/{namespace or 'default'}/{name}"}, f"in pod {shown}"
    return None, ""


def how_to_get_there(spec: dict[str, Any]) -> str:
    """The command that opens a shell where the check's command must run.

    >>> how_to_get_there({"in": "pod/client"}), how_to_get_there({"on": "worker-1"})
    ('kubectl exec -it client -- sh', 'kubectl debug node/worker-1 -it --image=busybox')
    """
    if "on" in spec:
        return f"kubectl debug node/{str(spec['on']).removeprefix('node/')} -it --image=busybox"
    if "in" in spec:
        namespace, _, name = str(spec["in"]).removeprefix("pod/").rpartition("/")
        if "=" in name:  # a selector: any pod it matches
            name, namespace = "POD", ""
        return f"kubectl exec -it {name}{f' -n {namespace}' if namespace else ''} -- sh"
    return ""


def _ran(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    line = spec["ran"]
    asked = meaning(words_of(line))
    wanted, where = places(cluster, spec)
    commands = [r for r in state.activity if r["kind"] == "command"]
    done = [(r, _meaning_of(r)) for r in commands]
    shown = f"`{line}`" + (f" {where}" if where else "")
    here = [r for r, got in done if same(asked, got) and (wanted is None or got.where in wanted)]
    if any(r["ok"] for r in here):
        return Outcome(True, f"You ran {shown}.")
    if here:
        return Outcome(
            False, f"You ran {shown}, but it failed: read what it printed, then run it again."
        )
    for _record, got in reversed(done):
        if same(asked, got):
            return Outcome(
                False,
                f"You ran `{line}` {_said(got.where)}; this step asks for it {where}: "
                f"open a shell there first ({how_to_get_there(spec)}).",
            )
    todo = f"In the Terminal tab, run {shown}"
    if where:
        todo += f" (open a shell there with `{how_to_get_there(spec)}`)"
    if not done:
        return Outcome(False, f"{todo}.")
    # The learner's last try at it: their last command of the same program (not the grep it
    # was piped to), else their last command.
    tries = [(r, got) for r, got in done if got.program == asked.program] or done
    last_record, last = tries[-1]
    typed = command_text(last_record["argv"])
    return Outcome(
        False,
        f"Your last command, `{typed}`, is not the one asked for ({difference(asked, last)}). {todo}.",
    )


def _meaning_of(record: dict[str, Any]) -> Meaning:
    return meaning(record["argv"], record["where"])


def _said(where: str) -> str:
    if where == "cluster":
        return "on your own machine"
    kind, _, name = where.partition("/")
    return f"in pod {name.removeprefix('default/')}" if kind == "pod" else f"on node {name}"


COMMAND_CHECKS = {"ran": _ran}
