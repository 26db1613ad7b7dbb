"""The kubectl verbs that change objects already there: scale, label, annotate, delete,
rollout restart (and the map of every changing verb, :data:`VERBS`).

A change goes through :func:`app.cluster.apply.upsert` (or the cluster's own delete and scale)
as the forms' do, then the controllers reconcile; the page saves it to the history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.cluster import nodes
from app.cluster.apply import upsert
from app.cluster.objects import deep_copy, key_of
from app.errors import PodpathError
from app.terminal import kube_objects as ko
from app.terminal import kubectl_create
from app.terminal.kubectl import namespace_of, server_error
from app.terminal.kubectl_args import (
    Args,
    is_cluster_scoped,
    kind_and_name,
    not_found,
    resolve_kind,
    resource_name,
    selector_from_text,
    unknown_resource,
)
from app.terminal.output import Output, changed, failed, printed

Verb = Callable[[Any, Args, "str | None"], Output]


def scale(cluster: Any, args: Args, stdin: str | None) -> Output:
    """``kubectl scale deployment NAME --replicas=N`` (or ``deploy/NAME``)."""
    found = kind_and_name(args.words[1:])
    if isinstance(found, str):
        return failed(found, 1)
    kind, name = found
    replicas = args.get("--replicas") or ""
    if not replicas.isdigit():  # kubectl checks COUNT >= 0 before asking the server
        return failed(
            "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n",
            1,
        )
    if kind != "Deployment":
        return failed(
            f"error: Podpath scales Deployments; {resource_name(kind)}/{name} is not one\n", 1
        )
    nodes.scale(cluster, namespace_of(args), name, int(replicas))
    return changed(f"deployment.apps/{name} scaled\n")


def _edit_metadata(cluster: Any, args: Args, field: str, past: str) -> Output:
    """``kubectl label|annotate TYPE NAME k=v … k- [--overwrite]``."""
    found = kind_and_name(args.words[1:])
    if isinstance(found, str):
        return failed(found, 1)
    kind, name = found
    pairs = args.words[3:] if "/" not in args.words[1] else args.words[2:]
    if not pairs:
        return failed(f"error: at least one {field[:-1]} update is required\n", 1)
    namespace = namespace_of(args)
    obj = ko.get_object(cluster, kind, namespace, name)
    if obj is None or kind in ("Endpoints", "Event"):
        return failed(not_found(kind, name), 1)
    manifest = deep_copy(obj)
    manifest.pop("status", None)
    values = dict(manifest["metadata"].get(field) or {})
    for pair in pairs:
        if pair.endswith("-") and "=" not in pair:
            values.pop(pair[:-1], None)
            continue
        key, eq, value = pair.partition("=")
        if not eq:
            return failed(f"error: invalid {field[:-1]} spec: {pair}\n", 1)
        if key in values and values[key] != value and not args.has("--overwrite"):
            return failed(
                f"error: '{key}' already has a value ({values[key]}), and --overwrite is false\n", 1
            )
        values[key] = value
    manifest["metadata"][field] = values
    written = cluster.state.applied.get(key_of(obj))
    if written is not None:
        written = deep_copy(written)
        written.setdefault("metadata", {})[field] = values
    upsert(cluster, manifest, written=written)
    cluster.reconcile()
    return changed(f"{resource_name(kind)}/{name} {past}\n")


def label(cluster: Any, args: Args, stdin: str | None) -> Output:
    return _edit_metadata(cluster, args, "labels", "labeled")


def annotate(cluster: Any, args: Args, stdin: str | None) -> Output:
    return _edit_metadata(cluster, args, "annotations", "annotated")


def delete(cluster: Any, args: Args, stdin: str | None) -> Output:
    """``kubectl delete TYPE NAME… | TYPE/NAME… | TYPE -l SEL | TYPE --all``."""
    namespace = namespace_of(args)
    words = args.words[1:]
    targets: list[tuple[str, str]] = []
    if words and "/" in words[0]:
        for word in words:
            found = kind_and_name([word])
            if isinstance(found, str):
                return failed(found, 1)
            targets.append(found)
    elif words:
        kind = resolve_kind(words[0])
        if kind is None:
            return failed(unknown_resource(words[0]), 1)
        if args.has("-l", "--selector", "--all"):
            selector = selector_from_text(args.get("-l", "--selector") or "")
            objects = ko.list_objects(cluster, kind, namespace, selector)
            targets = [(kind, o["metadata"]["name"]) for o in objects]
            if not targets:
                return failed("No resources found\n", 0)
        else:
            targets = [(kind, name) for name in words[1:]]
    if not targets:
        return failed("error: resource(s) were provided, but no name was specified\n", 1)
    output = Output()
    for kind, name in targets:
        try:
            cluster.delete(kind, namespace, name)
        except PodpathError as error:
            output.err(not_found(kind, name) if error.status == 404 else server_error(error))
            output.status = 1
            continue
        # kubectl's DeleteOptions.PrintObj (pkg/cmd/delete/delete.go): the group-qualified kind,
        # and the namespace of a namespaced object.
        where = "" if is_cluster_scoped(kind) else f" from {namespace} namespace"
        output.out(f'{resource_name(kind)} "{name}" deleted{where}\n')
        output.changed = True
    return output


def rollout(cluster: Any, args: Args, stdin: str | None) -> Output:
    """``kubectl rollout restart|status deployment/NAME``: a restart stamps the pod template
    (``kubectl.kubernetes.io/restartedAt``), so the Deployment makes new pods."""
    action = args.words[1:2]
    found = kind_and_name(args.words[2:])
    if isinstance(found, str):
        return failed(found, 1)
    kind, name = found
    namespace = namespace_of(args)
    obj = ko.get_object(cluster, kind, namespace, name)
    if obj is None:
        return failed(not_found(kind, name), 1)
    if action == ["status"]:
        return printed(f'deployment "{name}" successfully rolled out\n')
    if action != ["restart"] or kind != "Deployment":
        return failed(
            "error: Podpath's kubectl rollout knows restart and status, for Deployments\n", 1
        )
    manifest = deep_copy(obj)
    manifest.pop("status", None)
    template = manifest["spec"]["template"].setdefault("metadata", {})
    stamp = f"restart-{cluster.state.resource_version}"
    template.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = stamp
    written = cluster.state.applied.get(key_of(obj))
    if written is not None:
        written = deep_copy(written)
        written["spec"]["template"] = deep_copy(manifest["spec"]["template"])
    upsert(cluster, manifest, written=written)
    cluster.reconcile()
    return changed(f"deployment.apps/{name} restarted\n")


VERBS: dict[str, Verb] = {
    "apply": kubectl_create.apply,
    "create": kubectl_create.create,
    "expose": kubectl_create.expose,
    "run": kubectl_create.run_pod,
    "scale": scale,
    "label": label,
    "annotate": annotate,
    "delete": delete,
    "rollout": rollout,
}
