"""The command lines a replay of the sandbox needs, remembered with the workspace.

The kind export (:mod:`app.cluster.kind_export`) writes a script that runs again what the
learner did in the Terminal. What it needs, and so what is kept here, whether or not a lesson
is open:

- kubectl commands that change the cluster (``create``, ``scale``, ``label``…), in order, so
  the story reads as it happened (their result is in the exported manifests too);
- requests and lookups: ``curl``, ``wget``, ``nslookup``, ``dig``, ``ping`` and ``nc``, run
  from the learner's machine, through ``kubectl exec POD -- …``, or typed in a shell opened in
  a pod (kept in their ``kubectl exec -n NS POD -- …`` form) or on a node.

Pure reads (``kubectl get``, ``describe``, ``cat``, ``ip route``, ``help``) are not kept: a
replay does not depend on them, the learner can run them at any time, and keeping them would
make every read a save of the workspace.

The log lives in ``cluster.state.notes["terminal"]``, beside the lessons' notes, so it is
saved with the workspace but is no part of an undo (the history patches objects and
settings only) and survives one. Each line is kept as ``[seq, "words, as sh would quote
them"]``, with the node's name third for a node's shell: a compact form, since the notes are
written with every save of the workspace::

    {"lines": [[12, "kubectl exec client -- curl -s http://web"],
               [12, "curl -s http://web", "worker-1"]],
     "dropped": 0, "since": 3}

``seq`` is the lessons' activity count when the line was kept, so the export can put the
trace bar's requests (kept in that activity) in order among the terminal's; ``since`` is that
count when the log began (older activity still holds the commands run before).
"""

from __future__ import annotations

import shlex
from typing import Any

from app.terminal.interpreter import CHANGING_VERBS
from app.terminal.kubectl_args import parse_args
from app.terminal.kubectl_exec import SHELLS
from app.terminal.shell import command_words

#: How many command lines a workspace keeps (the oldest go first).
KEEP = 200
#: A kept command's words, in characters in all (a pasted line can be long).
MAX_CHARS = 1000
NOTE = "terminal"
#: The tools whose requests and lookups a replay sends again.
NETWORK_TOOLS = frozenset({"curl", "wget", "nslookup", "dig", "ping", "nc"})
KUBECTL = ("kubectl", "k")


def worth_keeping(
    argv: list[str], where: str, status: int, cluster: Any = None
) -> list[str] | None:
    """The words to keep for one command run at ``where`` (``cluster``, ``pod/NS/NAME`` or
    ``node/NAME``) with exit ``status``, or None when a replay does not need it.

    >>> worth_keeping(["curl", "-s", "web"], "pod/default/client", 7)
    ['kubectl', 'exec', '-n', 'default', 'client', '--', 'curl', '-s', 'web']
    >>> worth_keeping(["kubectl", "scale", "deploy", "web", "--replicas=3"], "cluster", 0)
    ['kubectl', 'scale', 'deploy', 'web', '--replicas=3']
    >>> worth_keeping(["kubectl", "scale", "deploy", "nope", "--replicas=3"], "cluster", 1)
    >>> worth_keeping(["kubectl", "get", "pods"], "cluster", 0)
    >>> worth_keeping(["kubectl", "exec", "-it", "client", "--", "sh"], "cluster", 0)
    >>> worth_keeping(["ip", "route"], "node/worker-1", 0)
    """
    if not argv:
        return None
    if where.startswith("pod/"):
        _, namespace, name = where.split("/", 2)
        if argv[0] not in NETWORK_TOOLS:
            return None
        return ["kubectl", "exec", "-n", namespace, name, "--", *argv]
    if where.startswith("node/"):
        return list(argv) if argv[0] in NETWORK_TOOLS else None
    if argv[0] in NETWORK_TOOLS:
        return list(argv)  # sent from the learner's machine: a failure is worth seeing again
    if argv[0] not in KUBECTL:
        return None
    args = parse_args(argv[1:])
    verb = args.words[0] if args.words else ""
    if verb in CHANGING_VERBS:
        return ["kubectl", *argv[1:]] if status == 0 else None
    if verb == "exec" and _sends(args.after_dash):
        if cluster is not None and not _reachable(cluster, args):
            return None  # a mistyped pod: nothing was sent
        return ["kubectl", *argv[1:]]
    return None


def _sends(command: list[str]) -> bool:
    """Whether a command given to ``kubectl exec`` sends a request or looks a name up
    (``curl …``, or ``sh -c 'curl … | head'``)."""
    if not command:
        return False
    if command[0] in SHELLS and command[1:2] == ["-c"] and len(command) > 2:
        return any(argv[:1] and argv[0] in NETWORK_TOOLS for argv in command_words(command[2]))
    return command[0] in NETWORK_TOOLS


def _reachable(cluster: Any, args: Any) -> bool:
    """Whether ``kubectl exec``'s target names a pod that exists (a ``type/name`` target is
    left to the replay: ``deploy/web`` works on any cluster)."""
    target = args.words[1] if len(args.words) > 1 else ""
    if "/" in target:
        return True
    namespace = args.get("-n", "--namespace", default="default") or "default"
    return cluster.get("Pod", namespace, target) is not None


def may_keep(text: str, where: str) -> bool:
    """Whether running ``text`` at ``where`` may leave a line to keep, read from the words
    alone (the page then runs it as a change of the workspace, in one trip).

    >>> may_keep("kubectl exec client -- curl -s http://web", "")
    True
    >>> may_keep("kubectl get pods -o wide", ""), may_keep("ip route", "pod/default/a")
    (False, False)
    >>> may_keep("nslookup web | head -3", "pod/default/a")
    True
    """
    for argv in command_words(text):
        if not argv:
            continue
        if argv[0] in NETWORK_TOOLS:
            return True
        if where == "" and argv[0] in KUBECTL:
            args = parse_args(argv[1:])
            verb = args.words[0] if args.words else ""
            if verb in CHANGING_VERBS or (verb == "exec" and _sends(args.after_dash)):
                return True
    return False


def to_keep(cluster: Any, ran: list[tuple[list[str], str, int]]) -> list[dict[str, Any]]:
    """The log entries for the commands one line ran (``Reply.ran``), without their ``seq``.

    >>> from app.cluster.scenarios import build
    >>> cluster = build("web-service")
    >>> to_keep(cluster, [(["curl", "-s", "web"], "node/worker-1", 0), (["kubectl", "get", "svc"], "cluster", 0)])
    [{'argv': ['curl', '-s', 'web'], 'node': 'worker-1'}]
    """
    kept = []
    for argv, where, status in ran:
        words = worth_keeping(list(argv), where, status, cluster)
        if words is None:
            continue
        entry: dict[str, Any] = {"argv": _capped(words)}
        if where.startswith("node/"):
            entry["node"] = where.split("/", 1)[1]
        kept.append(entry)
    return kept


def _capped(words: list[str]) -> list[str]:
    out: list[str] = []
    left = MAX_CHARS
    for word in words:
        if left <= 0:
            break
        out.append(word[:left])
        left -= len(out[-1])
    return out


def remember(cluster: Any, entries: list[dict[str, Any]], since: int | None = None) -> None:
    """Add entries to the workspace's log, keeping the last :data:`KEEP`. ``since``: the
    lessons' activity count before this line's own records (the log's start, when this line
    begins it).

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> remember(cluster, [{"argv": ["curl", str(n)]} for n in range(KEEP + 5)])
    >>> log = kept(cluster)
    >>> len(log["lines"]), log["dropped"], log["lines"][0]
    (200, 5, [0, 'curl 5'])
    >>> remember(cluster, [{"argv": ["dig", "my web"], "node": "worker-1"}])
    >>> kept(cluster)["lines"][-1]
    [0, "dig 'my web'", 'worker-1']
    """
    if not entries:
        return
    notes = cluster.state.notes
    seq = notes.get("seq", 0)
    log = notes.get(NOTE)
    if log is None:
        log = notes[NOTE] = {"lines": [], "dropped": 0, "since": seq if since is None else since}
    lines = log["lines"]
    for entry in entries:
        line = [seq, shlex.join(entry["argv"])]
        lines.append([*line, entry["node"]] if entry.get("node") else line)
    over = len(lines) - KEEP
    if over > 0:
        del lines[:over]
        log["dropped"] = log.get("dropped", 0) + over


def kept(cluster: Any) -> dict[str, Any] | None:
    """The workspace's log (None when no line was ever kept)."""
    return cluster.state.notes.get(NOTE)
