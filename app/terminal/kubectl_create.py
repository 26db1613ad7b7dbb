"""The kubectl verbs that make objects: ``apply -f -``, ``create``, ``expose``, ``run``.

Each builds the manifest kubectl's generator would (``kubectl create deployment`` labels
``app=NAME``, ``kubectl run`` labels ``run=NAME``, ``kubectl expose`` copies the selector)
and applies it as the YAML tab does (:func:`app.cluster.apply.apply_text`), so the
controllers react the same way, and the page saves the change to the workspace's history.
"""

from __future__ import annotations

import re
from typing import Any

from app.cluster.apply import apply_text
from app.terminal import kube_objects as ko
from app.terminal.kubectl import namespace_of, to_yaml
from app.terminal.kubectl_args import (
    Args,
    kind_and_name,
    not_found,
    qualified_plural,
    resource_name,
)
from app.terminal.output import Output, changed, failed


def apply(cluster: Any, args: Args, stdin: str | None) -> Output:
    """``kubectl apply -f -`` with the manifests on stdin (a heredoc or a pipe)."""
    source = args.get("-f", "--filename")
    if source is None:
        return failed("error: must specify one of -f and -k\n", 1)
    if source != "-":
        return failed(
            f'error: the path "{source}" does not exist\n'
            "Podpath: this terminal has no files; paste the YAML: kubectl apply -f - <<EOF … EOF\n",
            1,
        )
    if not (stdin or "").strip():
        return failed("error: no objects passed to apply\n", 1)
    result = apply_text(cluster, stdin or "")
    lines = [f"{resource_name(o.kind)}/{o.name} {o.action}\n" for o in result.objects]
    return changed("".join(lines))


def _apply_new(cluster: Any, manifest: dict[str, Any], verb: str = "created") -> Output:
    """Create one object kubectl generated; AlreadyExists when its name is taken."""
    kind, meta = manifest["kind"], manifest["metadata"]
    if ko.get_object(cluster, kind, meta.get("namespace", "default"), meta["name"]) is not None:
        return failed(
            f'Error from server (AlreadyExists): {qualified_plural(kind)} "{meta["name"]}" already exists\n'
        )
    apply_text(cluster, to_yaml(manifest))
    return changed(f"{resource_name(kind)}/{meta['name']} {verb}\n")


def _container_name(image: str) -> str:
    """kubectl names the container after the image: its last path part, without the tag."""
    base = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    return re.sub(r"[^a-z0-9-]", "-", base.lower()).strip("-") or "app"


def _ports_of(text: str) -> list[tuple[int, str]]:
    """``--tcp=80:8080,443`` as (port, targetPort)."""
    pairs = []
    for item in text.split(","):
        port, _, target = item.partition(":")
        if port.isdigit():
            pairs.append((int(port), target or port))
    return pairs


def create(cluster: Any, args: Args, stdin: str | None) -> Output:
    """``kubectl create deployment|service TYPE|namespace NAME …`` (or ``-f -``)."""
    if args.has("-f", "--filename"):
        return apply(cluster, args, stdin)
    what = args.words[1:2]
    namespace = namespace_of(args)
    if what in (["deployment"], ["deploy"]):
        if len(args.words) < 3:
            return failed("error: exactly one NAME is required, got 0\n", 1)
        name, image = args.words[2], args.get("--image")
        if not image:
            return failed('error: required flag(s) "image" not set\n', 1)
        container: dict[str, Any] = {"name": _container_name(image), "image": image}
        if (args.get("--port") or "").isdigit():
            container["ports"] = [{"containerPort": int(args.get("--port") or 0)}]
        labels = {"app": name}
        replicas = args.get("-r", "--replicas", default="1") or "1"
        manifest = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "replicas": int(replicas) if replicas.isdigit() else 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }
        return _apply_new(cluster, manifest)
    if what in (["service"], ["svc"]):
        return _create_service(cluster, args, namespace)
    if what in (["namespace"], ["ns"]) and len(args.words) >= 3:
        manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.words[2]}}
        return _apply_new(cluster, manifest)
    return failed(
        "error: Podpath's kubectl creates: deployment NAME --image=IMAGE, service "
        "clusterip|nodeport|loadbalancer|externalname NAME --tcp=PORT:TARGET, namespace NAME, -f -\n",
        1,
    )


def _create_service(cluster: Any, args: Args, namespace: str) -> Output:
    types = {"clusterip": "ClusterIP", "nodeport": "NodePort", "loadbalancer": "LoadBalancer"}
    types["externalname"] = "ExternalName"
    if len(args.words) < 4 or args.words[2] not in types:
        return failed(
            "error: create service needs a type (clusterip, nodeport, loadbalancer, externalname) and a NAME\n",
            1,
        )
    type_, name = types[args.words[2]], args.words[3]
    spec: dict[str, Any] = {"type": type_}
    ports = _ports_of(args.get("--tcp") or "")
    if type_ == "ExternalName":
        external = args.get("--external-name")
        if not external:
            return failed('error: required flag(s) "external-name" not set\n', 1)
        spec["externalName"] = external
    else:
        if not ports and args.get("--clusterip") != "None":
            return failed("error: at least one tcp port specifier must be provided\n", 1)
        spec["selector"] = {"app": name}
    spec["ports"] = [
        {
            "name": f"{port}-{target}",
            "port": port,
            "protocol": "TCP",
            "targetPort": int(target) if target.isdigit() else target,
            **(
                {"nodePort": int(args.get("--node-port") or 0)}
                if (args.get("--node-port") or "").isdigit() and type_ == "NodePort"
                else {}
            ),
        }
        for port, target in ports
    ]
    if not spec["ports"]:
        del spec["ports"]
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": spec,
    }
    return _apply_new(cluster, manifest)


def expose(cluster: Any, args: Args, stdin: str | None) -> Output:
    """``kubectl expose deployment|pod|service NAME --port=N [--target-port=T] [--type=T]
    [--name=N]``: a Service selecting what the object's pods carry."""
    found = kind_and_name(args.words[1:])
    if isinstance(found, str):
        return failed(found, 1)
    kind, name = found
    namespace = namespace_of(args)
    obj = ko.get_object(cluster, kind, namespace, name)
    if obj is None:
        return failed(not_found(kind, name), 1)
    if kind == "Pod":
        selector = dict(obj["metadata"].get("labels") or {})
        containers = obj["spec"].get("containers") or []
    elif kind == "Service":
        selector = dict(obj["spec"].get("selector") or {})
        containers = []
    elif kind in ("Deployment", "ReplicaSet"):
        selector = dict((obj["spec"].get("selector") or {}).get("matchLabels") or {})
        containers = obj["spec"]["template"]["spec"].get("containers") or []
    else:
        return failed(f"error: cannot expose a {kind}\n", 1)
    if not selector:
        return failed(
            f"error: couldn't retrieve selectors via --selector flag or introspection: the {kind.lower()} has no labels\n",
            1,
        )
    declared = [p["containerPort"] for c in containers for p in c.get("ports") or []]
    port_text = args.get("--port") or (str(declared[0]) if len(declared) == 1 else "")
    if not port_text.isdigit():
        return failed(
            "error: couldn't find port via --port flag or introspection\nSee 'kubectl expose -h' for help and examples\n",
            1,
        )
    target = args.get("--target-port") or port_text
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": args.get("--name") or name, "namespace": namespace},
        "spec": {
            "type": args.get("--type") or "ClusterIP",
            "selector": selector,
            "ports": [
                {
                    "port": int(port_text),
                    "protocol": "TCP",
                    "targetPort": int(target) if target.isdigit() else target,
                }
            ],
        },
    }
    return _apply_new(cluster, manifest, "exposed")


def run_pod(cluster: Any, args: Args, stdin: str | None) -> Output:
    """``kubectl run NAME --image=IMAGE [--port=N] [--labels=k=v] [-- ARGS…]``."""
    if len(args.words) < 2:
        return failed("error: NAME is required for run\n", 1)
    name, image = args.words[1], args.get("--image")
    if not image:
        return failed('error: required flag(s) "image" not set\n', 1)
    labels = {"run": name}
    if args.get("-l", "--labels"):
        labels = dict(
            p.split("=", 1) for p in (args.get("-l", "--labels") or "").split(",") if "=" in p
        )
    container: dict[str, Any] = {"name": name, "image": image}
    if (args.get("--port") or "").isdigit():
        container["ports"] = [{"containerPort": int(args.get("--port") or 0)}]
    if args.after_dash:
        container["command" if args.has("--command") else "args"] = list(args.after_dash)
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace_of(args), "labels": labels},
        "spec": {"containers": [container], "restartPolicy": args.get("--restart") or "Always"},
    }
    return _apply_new(cluster, manifest)
