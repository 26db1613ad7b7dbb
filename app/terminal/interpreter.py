"""The terminal: a command line in, text out (and a trace when a command sent a request).

:func:`run` reads the line as ``sh`` would (:mod:`app.terminal.shell`), runs each pipeline
with the commands of the place the session is in (the learner's machine, a pod, a node), and
returns what a terminal would show. Nothing reaches the host: every command is a Python
function over the cluster model; anything else is ``sh: NAME: not found``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from app.errors import PodpathError
from app.terminal import (
    cilium_commands,
    dns_tools,
    http_tools,
    ip_family,
    node_commands,
    node_ip,
    pod_commands,
    tcpdump,
)
from app.terminal.filters import FILTERS
from app.terminal.output import STDERR, STDOUT, Output, failed, printed
from app.terminal.session import Session, pod_of
from app.terminal.shell import Command, ShellSyntaxError, command_words, parse

Handler = Callable[[Any, Session, list[str], str | None], Output]

#: kubectl's verbs that change the cluster: the page runs these as a change (saved, undoable).
CHANGING_VERBS = frozenset(
    {"apply", "create", "delete", "expose", "run", "scale", "label", "annotate", "rollout", "set"}
)
MAX_OUTPUT = 200_000
#: The most commands one submission runs (a paste of a thousand curls would tie up a worker).
MAX_COMMANDS = 20
#: The caller's clock for this run (kubectl's AGE column); the interpreter has none of its own.
_NOW: ContextVar[float | None] = ContextVar("terminal_now", default=None)


@dataclass
class Reply:
    """What the terminal shows after one line, and what the page does besides."""

    output: str
    status: int
    session: Session
    trace: Any = None  # the last request a command sent (a Trace), for the map
    request: tuple | None = None  # (source, to, seed[, Host header])
    changed: bool = False
    commands: list[list[str]] | None = None  # every command run
    # every command run, as (argv, where it ran: Session.where or "cluster", exit status)
    ran: list[tuple[list[str], str, int]] = field(default_factory=list)
    lookups: list[tuple[str, str, str, Any]] = field(default_factory=list)  # (see Output)

    @property
    def prompt(self) -> str:
        return self.session.prompt()


def changes_cluster(text: str, session: Session) -> bool:
    """Whether the line runs a kubectl verb that changes the cluster (the page then runs it
    as a change, saved and undoable, instead of a read).

    >>> changes_cluster("kubectl scale deploy web --replicas=3", Session())
    True
    >>> changes_cluster("kubectl get pods | grep web", Session())
    False
    >>> changes_cluster("kubectl delete pod x", Session("pod/default/client"))
    False
    """
    if session.kind != "cluster":
        return False
    return any(
        argv[:1] == ["kubectl"] and any(word in CHANGING_VERBS for word in argv[1:3])
        for argv in command_words(text)
    )


def run(cluster: Any, text: str, session: Session, now: float | None = None) -> Reply:
    """Run a command line (one or more lines: a pasted heredoc) in ``session``; ``now`` (the
    caller's clock, seconds since the epoch) gives kubectl's AGE column.

    >>> from app.cluster.scenarios import build
    >>> cluster = build("web-service")
    >>> reply = run(cluster, "kubectl exec -it client -- sh", Session())
    >>> reply.prompt
    'root@client:/# '
    >>> run(cluster, "hostname -i", reply.session).output
    '10.244.1.4\\n'
    >>> print(run(cluster, "kubectl get pods", reply.session).output, end="")
    sh: kubectl: not found
    Podpath: in a pod you can run curl, wget, nslookup, dig, ping, nc, cat, ip, hostname, env, exit (and grep, head, tail, wc, sort, uniq after a |).
    """
    token = _NOW.set(now) if now is not None else None
    try:
        return _run(cluster, text, session)
    finally:
        if token is not None:
            _NOW.reset(token)


def _run(cluster: Any, text: str, session: Session) -> Reply:
    try:
        pipelines = parse(text)
    except ShellSyntaxError as error:
        return Reply(f"{error}\n", 2, session)
    count = sum(len(p.commands) for p in pipelines)
    if count > MAX_COMMANDS:
        return Reply(
            f"sh: {count} commands in one go: Podpath runs at most {MAX_COMMANDS}.\n", 2, session
        )
    shown: list[str] = []
    status = 0
    reply = Reply("", 0, session, commands=[])
    joined_by = ";"
    for pipeline in pipelines:
        skip = (joined_by == "&&" and status != 0) or (joined_by == "||" and status == 0)
        joined_by = pipeline.then
        if skip:
            continue
        status = _pipeline(cluster, pipeline.commands, reply, shown)
        if reply.session.kind == "exit":
            break
    if reply.session.kind == "exit":
        reply.session = Session(sent=reply.session.sent, last=reply.session.last)
    reply.output = "".join(shown)[:MAX_OUTPUT]
    reply.status = status
    return reply


def _pipeline(cluster: Any, commands: list[Command], reply: Reply, shown: list[str]) -> int:
    stdin: str | None = None
    status = 0
    later: list[str] = []
    for position, command in enumerate(commands):
        last = position == len(commands) - 1
        given = command.stdin if command.stdin is not None else stdin
        where = reply.session.where or "cluster"
        result = _command(cluster, reply.session, command.argv, given)
        result.chunks = _redirected(command, result.chunks)
        reply.commands = [*(reply.commands or []), list(command.argv)]
        reply.ran.append((list(command.argv), where, result.status))
        if result.session is not None:
            reply.session = result.session
        if result.trace is not None:
            reply.trace, reply.request = result.trace, result.request
        reply.changed = reply.changed or result.changed
        reply.lookups.extend(result.lookups)
        if last:
            shown.extend(text for _, text in result.chunks)
        else:
            # A command piped on writes to the screen as it runs: what it says on stderr before
            # its output comes first, what it says after (tcpdump's count at ^C, curl's "left
            # intact") once the commands after it have printed what its output became.
            first_out = next((i for i, (s, _) in enumerate(result.chunks) if s == STDOUT), None)
            for i, (stream, text) in enumerate(result.chunks):
                if stream == STDERR:
                    (shown if first_out is None or i < first_out else later).append(text)
        stdin = result.stdout
        status = result.status
    shown.extend(reversed(later))
    return status


def _redirected(command: Command, chunks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Apply ``2>&1``, ``> /dev/null`` and ``2> /dev/null`` (in sh's order: 2>&1 first)."""
    if command.stderr_to_stdout:
        chunks = [(STDOUT, text) for _, text in chunks]
    return [
        (stream, text)
        for stream, text in chunks
        if not (stream == STDOUT and command.drop_stdout)
        and not (stream == STDERR and command.drop_stderr)
    ]


def _command(cluster: Any, session: Session, argv: list[str], stdin: str | None) -> Output:
    name, args = argv[0], argv[1:]
    if name in FILTERS:
        text, status = FILTERS[name](args, stdin or "")
        return printed(text, status) if status < 2 else failed(text, status)
    common = _COMMON.get(name)
    if common is not None:
        return common(cluster, session, args, stdin)
    table = {"cluster": _CLUSTER, "pod": _POD, "node": _NODE}[session.kind]
    handler = table.get(name)
    if handler is None:
        return not_found(name, session)
    try:
        return handler(cluster, session, args, stdin)
    except PodpathError as error:
        return failed(f"{name}: {error.message}\n", 1)


def not_found(name: str, session: Session) -> Output:
    """What ``sh`` says to a name it cannot find, and what there is here instead."""
    where = {"cluster": "here", "pod": "in a pod", "node": "on a node"}[session.kind]
    available = ", ".join(COMMANDS[session.kind])
    return failed(
        f"sh: {name}: not found\nPodpath: {where} you can run {available} "
        "(and grep, head, tail, wc, sort, uniq after a |).\n",
        127,
    )


# --- the commands of each place -------------------------------------------------------------------


def _exit(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    if session.kind == "cluster":
        return printed("")
    # "exit" is a marker :func:`run` turns into the learner's own shell again.
    return Output(session=replace(session, where="exit"))


def _echo(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    if args[:1] == ["-n"]:
        return printed(" ".join(args[1:]))
    return printed(" ".join(args) + "\n")


def _true(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    return printed("")


def _help(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    where = {"cluster": "On your machine", "pod": "In this pod", "node": "On this node"}
    lines = [f"{where[session.kind]}: {', '.join(COMMANDS[session.kind])}."]
    if session.kind == "cluster":
        lines.append("Open a shell in a pod: kubectl exec -it POD -- sh")
        lines.append("Open a shell on a node: kubectl debug node/NAME -it --image=busybox")
    else:
        lines.append("exit goes back to your machine.")
    return printed("\n".join(lines) + "\n")


def _network(tool: Callable[[Any, Session, list[str]], Output]) -> Handler:
    def handler(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
        return tool(cluster, session, args)

    return handler


def _cat(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    if not args:
        return printed(stdin or "")
    pod = pod_of(cluster, session) if session.kind == "pod" else None
    out = Output()
    for path in args:
        if path == "/etc/resolv.conf":
            out.out(pod_commands.resolv_conf_text(cluster, pod))
        elif path == "/etc/hosts" and pod is not None:
            out.out(pod_commands.hosts_text(pod))
        elif path == "/etc/hostname":
            out.out(f"{_hostname(cluster, session)}\n")
        else:
            out.err(f"cat: can't open '{path}': No such file or directory\n")
            out.status = 1
    return out


def _hostname(cluster: Any, session: Session) -> str:
    if session.kind == "pod":
        pod = pod_of(cluster, session)
        return (pod.get("spec") or {}).get("hostname") or session.name
    return session.name or "podpath"


def _hostname_cmd(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    if args[:1] in (["-i"], ["-I"]):
        if session.kind == "pod":
            return printed(f"{pod_of(cluster, session)['status']['podIP']}\n")
        from app.network.topology import network_index

        return printed(f"{network_index(cluster).node_ip.get(session.name, '')}\n")
    return printed(f"{_hostname(cluster, session)}\n")


def _ip(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    family, words = ip_family.parse(args)
    what = words[0] if words else ""
    on_node = session.kind == "node"
    if (what and "address".startswith(what)) or what in ("link", "l"):
        if on_node:
            return printed(node_ip.ip_addr(cluster, session.name, family))
        return printed(pod_commands.ip_addr(cluster, pod_of(cluster, session), family))
    if what and "route".startswith(what):
        if on_node:
            return printed(node_ip.ip_route(cluster, session.name, family))
        return printed(pod_commands.ip_route(cluster, pod_of(cluster, session), family))
    if (what and "neighbour".startswith(what)) or what == "neighbor":
        if on_node:
            return printed(node_commands.ip_neigh(cluster, session.name))
        return printed("")
    return failed(
        "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { address | route | neigh | link }\n",
        1,
    )


def _env(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    """The Service variables the kubelet injects (``WEB_SERVICE_HOST`` …) for Services that
    existed when the pod started; here: the pod's namespace's Services now."""
    pod = pod_of(cluster, session)
    namespace = pod["metadata"]["namespace"]
    lines = [f"HOSTNAME={_hostname(cluster, session)}", "HOME=/root"]
    for service in cluster.list("Service", namespace):
        ip = service["spec"].get("clusterIP")
        if not ip or ip == "None" or not service["spec"].get("ports"):
            continue
        prefix = service["metadata"]["name"].upper().replace("-", "_")
        port = service["spec"]["ports"][0]
        lines.append(f"{prefix}_SERVICE_HOST={ip}")
        lines.append(f"{prefix}_SERVICE_PORT={port['port']}")
        lines.append(f"{prefix}_PORT={port.get('protocol', 'TCP').lower()}://{ip}:{port['port']}")
    return printed("".join(f"{line}\n" for line in sorted(lines)))


def _node_tool(tool: Callable[[Any, str, list[str]], Output]) -> Handler:
    def handler(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
        return tool(cluster, session.name, args)

    return handler


def _node_session_tool(tool: Callable[[Any, Session, list[str]], Output]) -> Handler:
    def handler(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
        return tool(cluster, session, args)

    return handler


def _conntrack(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    return node_commands.conntrack(cluster, session, args)


def _tcpdump(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    return tcpdump.tcpdump(cluster, session, args)


def _bridge(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    if args[:1] == ["fdb"]:
        return printed(node_commands.bridge_fdb(cluster, session.name))
    return failed(
        "Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { link | fdb | mdb | vlan }\n",
        1,
    )


def _kubectl(cluster: Any, session: Session, args: list[str], stdin: str | None) -> Output:
    from app.terminal import kubectl

    return kubectl.run(cluster, session, args, stdin, run, _NOW.get())


NETWORK: dict[str, Handler] = {
    "curl": _network(http_tools.curl),
    "wget": _network(http_tools.wget),
    "nslookup": _network(dns_tools.nslookup),
    "dig": _network(dns_tools.dig),
    "ping": _network(pod_commands.ping),
    "nc": _network(http_tools.nc),
}
_COMMON: dict[str, Handler] = {
    "exit": _exit,
    "logout": _exit,
    "echo": _echo,
    "true": _true,
    "help": _help,
}
_CLUSTER: dict[str, Handler] = {"kubectl": _kubectl, "k": _kubectl, **NETWORK}
_POD: dict[str, Handler] = {
    **NETWORK,
    "cat": _cat,
    "ip": _ip,
    "hostname": _hostname_cmd,
    "env": _env,
}
_NODE: dict[str, Handler] = {
    "iptables-save": _node_session_tool(node_commands.iptables_save),
    "ip6tables-save": _node_session_tool(node_commands.ip6tables_save),
    "iptables": _node_tool(node_commands.iptables),
    "ipvsadm": _node_tool(node_commands.ipvsadm),
    "nft": _node_tool(node_commands.nft),
    "cilium-dbg": _node_tool(cilium_commands.cilium_dbg),
    "cilium": _node_tool(cilium_commands.cilium_old),
    "conntrack": _conntrack,
    "tcpdump": _tcpdump,
    "ip": _ip,
    "bridge": _bridge,
    **NETWORK,
    "cat": _cat,
    "hostname": _hostname_cmd,
}
#: What each place offers, in the order the hint lists it.
COMMANDS = {
    "cluster": ["kubectl", "curl", "wget", "nslookup", "dig", "ping", "nc", "help"],
    "pod": [*_POD, "exit"],
    "node": [*_NODE, "exit"],
}
