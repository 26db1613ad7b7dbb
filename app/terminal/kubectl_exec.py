"""``kubectl exec`` and ``kubectl debug node/…``: a shell in a pod or on a node, or one
command run there (the interpreter runs it in that place and hands the output back)."""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import replace
from typing import Any

from app.terminal import kube_objects as ko
from app.terminal.kubectl_args import Args, not_found, resolve_kind, unknown_resource
from app.terminal.output import Output, failed, printed
from app.terminal.session import Session

SHELLS = ("sh", "bash", "ash", "/bin/sh", "/bin/bash", "/bin/ash")
Runner = Any


def _exec_pod(cluster: Any, target: str, namespace: str) -> dict[str, Any] | str:
    """The pod ``kubectl exec`` reaches for ``POD``, ``pod/POD`` or ``deploy/NAME``."""
    type_, slash, name = target.partition("/")
    if not slash:
        type_, name = "pod", target
    kind = resolve_kind(type_)
    if kind is None:
        return unknown_resource(type_)
    if kind == "Pod":
        pod = cluster.get("Pod", namespace, name)
        return pod if pod is not None else not_found("Pod", name)
    owner = cluster.get(kind, namespace, name)
    if owner is None:
        return not_found(kind, name)
    selector = (owner.get("spec") or {}).get("selector") or {}
    if kind == "Service":
        selector = {"matchLabels": selector}
    pods = ko.list_objects(cluster, "Pod", namespace, selector)
    if not pods:
        return f"error: no pods found for {kind.lower()}/{name}\n"
    return pods[0]


def exec_(cluster: Any, session: Session, args: Args, runner: Runner) -> Output:
    """``kubectl exec [-it] POD [-c C] [-n NS] -- COMMAND [ARGS…]``: a shell (``sh``, ``bash``)
    with ``-i`` opens the pod's prompt; any other command runs there once."""
    targets = args.words[1:]
    if not targets:
        return failed("error: pod, type/name or --filename must be specified\n", 1)
    if not args.after_dash:
        if len(targets) > 1:
            return failed(
                "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\n"
                "See 'kubectl exec -h' for help and examples\n",
                1,
            )
        return failed("error: you must specify at least one command for the container\n", 1)
    namespace = args.get("-n", "--namespace", default="default") or "default"
    pod = _exec_pod(cluster, targets[0], namespace)
    if isinstance(pod, str):
        return failed(pod, 1)
    name = pod["metadata"]["name"]
    if not (pod.get("status") or {}).get("podIP") or not pod["spec"].get("nodeName"):
        return failed(
            f"error: unable to upgrade connection: pod {name} does not have a host assigned\n", 1
        )
    if (pod.get("spec") or {}).get("hostNetwork"):
        where = f"node/{pod['spec']['nodeName']}"
    else:
        where = f"pod/{pod['metadata']['namespace']}/{name}"
    inside = replace(session, where=where)
    command = args.after_dash
    if command[0] in SHELLS and len(command) == 1:
        if args.has("-i", "--stdin"):
            return Output(session=inside)
        return failed(
            f"Podpath: add -it for an interactive shell: kubectl exec -it {name} -- {command[0]}\n",
            0,
        )
    line = (
        command[2]
        if command[0] in SHELLS and command[1:2] == ["-c"] and len(command) > 2
        else shlex.join(command)
    )
    reply = runner(cluster, line, inside)
    output = Output(status=reply.status).out(reply.output)
    output.session = (
        replace(reply.session, where=session.where) if reply.session.kind != "exit" else session
    )
    output.trace, output.request = reply.trace, reply.request
    output.lookups = list(reply.lookups)
    if reply.status and reply.status != 127:
        output.err(f"command terminated with exit code {reply.status}\n")
    return output


def debug(cluster: Any, session: Session, args: Args) -> Output:
    """``kubectl debug node/NAME -it --image=busybox``: a shell on the node."""
    targets = args.words[1:]
    if not targets or not targets[0].startswith(("node/", "nodes/", "no/")):
        return failed(
            "Podpath: debug opens a shell on a node here: kubectl debug node/NAME -it --image=busybox\n"
            "(for a pod, use kubectl exec -it POD -- sh)\n",
            1,
        )
    node = targets[0].split("/", 1)[1]
    if cluster.get("Node", "", node) is None:
        return failed(not_found("Node", node), 1)
    if not args.has("--image"):
        return failed("error: --image is required for node debugging\n", 1)
    suffix = hashlib.sha1(f"{node}/{session.sent}".encode()).hexdigest()
    letters = "".join(
        "bcdfghjklmnpqrstvwxz2456789"[int(suffix[i : i + 2], 16) % 27] for i in range(0, 10, 2)
    )
    output = printed(
        f"Creating debugging pod node-debugger-{node}-{letters} with container debugger on node {node}.\n"
    )
    if args.has("-i", "--stdin"):
        output.out("If you don't see a command prompt, try pressing enter.\n")
        output.session = replace(session, where=f"node/{node}")
    return output
