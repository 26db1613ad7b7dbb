"""The Deployment and Pod forms: their fields turned into manifests."""

from __future__ import annotations

import re
from typing import Any

from app.render.forms.fields import (
    Fields,
    Problems,
    field_int,
    field_labels,
    field_text,
    object_meta,
)


def _container_name(image: str) -> str:
    """What ``kubectl create deployment --image`` names the container: the image's name.

    >>> _container_name("registry.example.com/team/http-echo:1.0")
    'http-echo'
    >>> _container_name("")
    'app'
    """
    base = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0].lower()
    base = re.sub(r"[^a-z0-9-]+", "-", base).strip("-")[:63].strip("-")
    return base or "app"


def _container(problems: Problems, fields: Fields, path: str) -> dict[str, Any]:
    image = field_text(fields, "image")
    container: dict[str, Any] = {"name": _container_name(image), "image": image}
    port = field_int(problems, fields, "port", f"{path}.ports[0].containerPort")
    port_name = field_text(fields, "port_name")
    if port is not None:
        entry: dict[str, Any] = {"containerPort": port}
        if port_name:
            entry = {"name": port_name, **entry}
        container["ports"] = [entry]
    elif port_name:
        problems.add(
            f"{path}.ports[0].containerPort", "Required value: a named port needs a number"
        )
    return container


def deployment_manifest(fields: Fields) -> dict[str, Any]:
    """An apps/v1 Deployment whose selector's matchLabels equal its pods' labels.

    Fields: ``name``, ``namespace``, ``replicas``, ``labels`` (``app=<name>`` when empty, as
    ``kubectl create deployment`` does), ``image``, ``port`` and ``port_name``.

    >>> d = deployment_manifest({"name": "web", "image": "nginx"})
    >>> d["spec"]["selector"], d["spec"]["replicas"]
    ({'matchLabels': {'app': 'web'}}, 1)
    """
    problems = Problems("Deployment", fields)
    labels = field_labels(problems, fields, "labels", "spec.template.metadata.labels")
    if not labels and not field_text(fields, "labels") and field_text(fields, "name"):
        labels = {"app": field_text(fields, "name")}
    replicas = field_int(problems, fields, "replicas", "spec.replicas")
    container = _container(problems, fields, "spec.template.spec.containers[0]")
    problems.raise_any()
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(fields, labels),
        "spec": {
            "replicas": 1 if replicas is None else replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [container]},
            },
        },
    }


def pod_manifest(fields: Fields) -> dict[str, Any]:
    """A bare v1 Pod. Fields: ``name``, ``namespace``, ``labels``, ``image``, ``node``
    (``spec.nodeName``; the scheduler picks when empty), ``port`` and ``port_name``.

    >>> pod_manifest({"name": "client", "image": "busybox", "node": "worker-1"})["spec"]["nodeName"]
    'worker-1'
    """
    problems = Problems("Pod", fields)
    labels = field_labels(problems, fields, "labels", "metadata.labels")
    container = _container(problems, fields, "spec.containers[0]")
    problems.raise_any()
    spec: dict[str, Any] = {}
    if field_text(fields, "node"):
        spec["nodeName"] = field_text(fields, "node")
    spec["containers"] = [container]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": object_meta(fields, labels),
        "spec": spec,
    }
