"""``kubectl`` in the terminal: the everyday commands against the workspace's cluster.

``get`` prints the tables the API server's printers define (:mod:`app.render.tables`, the
same renderer the Kubernetes-compatible API's Table answers use) or the objects as YAML,
JSON or names; ``exec`` and ``debug node/…`` open a shell in a pod or on a node; the changing
verbs live in :mod:`app.terminal.kubectl_change` and ``describe`` in
:mod:`app.terminal.describe`. Messages read as kubectl 1.34 prints them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import yaml

from app.errors import PodpathError
from app.terminal import jsonpath
from app.terminal import kube_objects as ko
from app.terminal.get_text import table_text
from app.terminal.kubectl_args import (
    Args,
    is_cluster_scoped,
    not_found,
    parse_args,
    resolve_kind,
    resource_name,
    selector_from_text,
    unknown_resource,
)
from app.terminal.output import Output, failed, printed
from app.terminal.session import Session

#: What ``kubectl get all`` lists, in kubectl's order.
ALL_KINDS = ("Pod", "Service", "DaemonSet", "Deployment", "ReplicaSet")
VERBS = [
    "get",
    "describe",
    "apply",
    "create",
    "expose",
    "run",
    "scale",
    "label",
    "annotate",
    "delete",
    "rollout",
    "exec",
    "debug",
    "version",
    "cluster-info",
]

Runner = Callable[..., Any]
#: kubectl commands a learner may try that the sandbox cannot do, and why.
NOT_HERE = {
    "logs": "no container runs in the sandbox, so there is nothing to log",
    "attach": "no container runs in the sandbox",
    "port-forward": "no container runs in the sandbox; curl a Service from a pod instead",
    "top": "the sandbox has no metrics",
    "edit": "there is no editor here; use the YAML tab's Edit as YAML, or your own kubectl",
    "patch": "use kubectl label, annotate or apply here, or your own kubectl",
    "explain": "use your own kubectl (download the kubeconfig above)",
}


class KubectlDumper(yaml.SafeDumper):
    """YAML as kubectl prints it: a string that needs quotes gets double quotes (go-yaml's
    choice), keys sorted."""

    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def to_yaml(document: Any) -> str:
    """An object as ``kubectl get -o yaml`` prints it.

    >>> print(to_yaml({"metadata": {"resourceVersion": "64", "name": "web"}}), end="")
    metadata:
      name: web
      resourceVersion: "64"
    """
    return yaml.dump(
        document, Dumper=KubectlDumper, sort_keys=True, default_flow_style=False, allow_unicode=True
    )


def namespace_of(args: Args) -> str:
    return args.get("-n", "--namespace", default="default") or "default"


def run(
    cluster: Any,
    session: Session,
    argv: list[str],
    stdin: str | None,
    runner: Runner,
    now: float | None = None,
) -> Output:
    """Run ``kubectl ARGV`` (``runner`` is :func:`app.terminal.interpreter.run`, for ``exec``)."""
    args = parse_args(argv)
    if not args.words:
        if args.has("--help", "-h"):
            return printed(usage())
        return failed(usage(), 1)
    verb = args.words[0]
    try:
        if verb == "get":
            return get(cluster, args, now)
        if verb == "describe":
            from app.terminal.describe import describe

            return describe(cluster, args, now)
        if verb in ("exec", "debug"):
            from app.terminal.kubectl_exec import debug, exec_

            return (
                exec_(cluster, session, args, runner)
                if verb == "exec"
                else debug(cluster, session, args)
            )
        if verb == "version":
            return printed(
                "Client Version: v1.34.1\nKustomize Version: v5.7.1\nServer Version: v1.34.1\n"
            )
        if verb == "cluster-info":
            return printed(
                "Kubernetes control plane is running at https://10.0.0.10:6443\n"
                "CoreDNS is running at https://10.0.0.10:6443/api/v1/namespaces/kube-system/"
                "services/kube-dns:dns/proxy\n\n"
                "To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n"
            )
        from app.terminal import kubectl_change

        if verb in kubectl_change.VERBS:
            if now is not None:  # what the command creates is stamped with the terminal's time
                cluster.state.now = now
            return kubectl_change.VERBS[verb](cluster, args, stdin)
    except PodpathError as error:
        return failed(server_error(error))
    if verb in NOT_HERE:
        return failed(f"Podpath: kubectl {verb} is not in this terminal: {NOT_HERE[verb]}\n", 1)
    return failed(f'error: unknown command "{verb}" for "kubectl"\n' + hint(), 1)


def server_error(error: PodpathError) -> str:
    """A Podpath error as kubectl prints the API server's Status for it.

    >>> from app.errors import NotFound
    >>> server_error(NotFound('pods "x" not found'))
    'Error from server (NotFound): pods "x" not found\\n'
    >>> from app.errors import InvalidObjects
    >>> server_error(InvalidObjects('Deployment.apps "web" is invalid: spec.replicas: bad'))
    'The Deployment "web" is invalid: spec.replicas: bad\\n'
    """
    message = error.message
    invalid = re.match(r'^([A-Z][A-Za-z]*)(?:\.[a-z0-9.]+)? (".*?") is invalid(.*)$', message, re.S)
    if error.reason == "Invalid" and invalid:
        kind, name, rest = invalid.groups()
        if not rest and error.errors:
            rest = ": " + ", ".join(f"{e.field}: {e.message}" for e in error.errors)
        return f"The {kind} {name} is invalid{rest}\n"
    return f"Error from server ({error.reason}): {message}\n"


def hint() -> str:
    return f"Podpath: kubectl here knows {', '.join(VERBS)}.\n"


def usage() -> str:
    return (
        "kubectl controls the Kubernetes cluster manager.\n\n"
        " Find more information at: https://kubernetes.io/docs/reference/kubectl/\n\n"
        "Basic Commands:\n  create, expose, run, get, delete, label, annotate, scale, rollout\n"
        "Troubleshooting:\n  describe, exec, debug\n"
        "Advanced:\n  apply\n\n"
        "Usage:\n  kubectl [flags] [options]\n"
    )


# --- get ------------------------------------------------------------------------------------------


def _targets(args: Args, words: list[str]) -> tuple[list[tuple[str, str | None]], str | None]:
    """The (kind, name or None) pairs the words ask for, or an error message."""
    if not words:
        return [], (
            'You must specify the type of resource to get. Use "kubectl api-resources" for a '
            "complete list of supported resources.\n\nerror: Required resource not specified.\n"
        )
    pairs: list[tuple[str, str | None]] = []
    if "/" in words[0]:
        for word in words:
            type_, _, name = word.partition("/")
            kind = resolve_kind(type_)
            if kind is None:
                return [], unknown_resource(type_)
            pairs.append((kind, name))
        return pairs, None
    kinds = []
    for type_ in words[0].split(","):
        if type_ == "all":
            kinds.extend(ALL_KINDS)
            continue
        kind = resolve_kind(type_)
        if kind is None:
            return [], unknown_resource(type_)
        kinds.append(kind)
    names = words[1:]
    for kind in kinds:
        pairs.extend([(kind, n) for n in names] or [(kind, None)])
    return pairs, None


def get(cluster: Any, args: Args, now: float | None = None) -> Output:
    """``kubectl get TYPE[,TYPE] [NAME…] [-n NS | -A] [-l SEL] [-o wide|yaml|json|name]
    [--show-labels] [--no-headers]``."""
    pairs, error = _targets(args, args.words[1:])
    if error:
        return failed(error, 1)
    everywhere = args.has("-A", "--all-namespaces")
    namespace = None if everywhere else namespace_of(args)
    selector = None
    if args.has("-l", "--selector"):
        selector = selector_from_text(args.get("-l", "--selector") or "")
        if selector is None:
            return failed(
                f"error: unable to parse requirement: {args.get('-l', '--selector')}\n", 1
            )
    form = args.get("-o", "--output", default="") or ""
    template = None
    if form.startswith("jsonpath="):
        form, template = "jsonpath", form.split("=", 1)[1]
    if form not in ("", "wide", "yaml", "json", "name", "jsonpath"):
        return failed(
            f'error: unable to match a printer suitable for the output format "{form}", allowed '
            "formats are: json,jsonpath,name,wide,yaml\n",
            1,
        )
    output = Output()
    if args.has("-w", "--watch"):
        output.err("Podpath: -w (watch) is not in this terminal: here is the list as it is now.\n")
    found: list[tuple[str, list[dict[str, Any]]]] = []
    for kind, name in pairs:
        if name is None:
            objects = ko.list_objects(cluster, kind, namespace, selector)
        else:
            obj = ko.get_object(cluster, kind, namespace or "default", name)
            if obj is None:
                output.err(not_found(kind, name))
                output.status = 1
                continue
            objects = [obj]
        if found and found[-1][0] == kind:
            found[-1][1].extend(objects)
        else:
            found.append((kind, objects))
    shown = [(kind, objects) for kind, objects in found if objects]
    if form in ("yaml", "json", "jsonpath"):
        items = [o for _, objects in shown for o in objects]
        single = len(items) == 1 and all(n is not None for _, n in pairs)
        document = (
            items[0]
            if single
            else {
                "apiVersion": "v1",
                "items": items,
                "kind": "List",
                "metadata": {"resourceVersion": ""},
            }
        )
        if items or not output.status:
            if template is not None:
                try:
                    output.out(jsonpath.render(template, document))
                except jsonpath.JsonPathError as error:
                    return failed(f"error: error parsing jsonpath {template}, {error}\n", 1)
            elif form == "json":
                output.out(json.dumps(document, indent=4, ensure_ascii=False) + "\n")
            else:
                output.out(to_yaml(document))
        return output
    if form == "name":
        for kind, objects in shown:
            output.out("".join(f"{resource_name(kind)}/{o['metadata']['name']}\n" for o in objects))
        return output
    several = len(found) > 1 or any(w == "all" for w in args.words[1:2])
    blocks = []
    for kind, objects in shown:
        prefix = None
        if several:
            prefix = resource_name(kind) if kind != "Service" else "service"
        blocks.append(
            table_text(  # the cells kept per state of the cluster; the ages worked out now
                cluster,
                kind,
                objects,
                now,
                prefix,
                wide=form == "wide",
                with_namespace=everywhere and not is_cluster_scoped(kind),
                show_labels=args.has("--show-labels"),
                no_headers=args.has("--no-headers"),
            )
            + "\n"
        )
    output.out("\n".join(blocks))
    if not shown and not output.status:
        where = (
            ""
            if everywhere or all(is_cluster_scoped(k) for k, _ in pairs)
            else f" in {namespace} namespace"
        )
        output.err(f"No resources found{where}.\n")
    return output
