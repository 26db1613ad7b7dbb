"""The sandbox's Build forms: form fields turned into manifests, and what the forms show.

Each builder takes the form's fields as the browser sent them (strings) and returns one
Kubernetes object. Only what a form cannot say in YAML terms is checked here (``app=web`` is
not a label list, ``eighty`` is not a port number); everything else is left to ``apply``, so
a learner sees exactly the errors the YAML tab would show for the same manifest.

>>> from app.cluster.apply import apply_text
>>> from app.cluster.cluster import Cluster
>>> cluster = Cluster.create(seed=1)
>>> text = manifest_yaml(deployment_manifest(
...     {"name": "web", "replicas": "2", "labels": "app=web", "image": "nginx:1.27",
...      "port": "80", "port_name": "http"}))
>>> [(o.kind, o.name, o.action) for o in apply_text(cluster, text).objects]
[('Deployment', 'web', 'created')]
>>> selector_preview(cluster, "default", "app=web")["matches"]
2
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.cluster.manifests import dump_manifests
from app.cluster.selectors import service_selector_matches
from app.errors import FieldError, InvalidObjects
from app.render.sandbox import SYSTEM_NAMESPACES

Fields = Mapping[str, str]

#: Labels the controllers add; a learner does not select on them.
HIDDEN_LABELS = {"pod-template-hash", "controller-revision-hash", "pod-template-generation"}


def _text(fields: Fields, key: str, default: str = "") -> str:
    return (fields.get(key) or "").strip() or default


class _Problems:
    """Errors found while reading the form, reported together like apply reports its own."""

    def __init__(self, kind: str, fields: Fields) -> None:
        self.kind = kind
        self.name = _text(fields, "name") or None
        self.namespace = _text(fields, "namespace", "default")
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(
            FieldError(field, message, kind=self.kind, name=self.name, namespace=self.namespace)
        )

    def raise_any(self) -> None:
        if self.errors:
            label = f'{self.kind} "{self.name}"' if self.name else self.kind
            raise InvalidObjects(f"{label} is invalid", self.errors)


def parse_labels(text: str, field: str = "metadata.labels") -> dict[str, str]:
    """``app=web,tier=front`` as a label map (commas or spaces between pairs).

    Keys and values are checked by the API's own rules when the manifest is applied; here
    only the shape is: each pair is ``key=value``, and no key twice.

    Raises
    ------
    InvalidObjects
        When a pair has no ``=``, an empty key, or a key given twice (422).

    Examples
    --------
    >>> parse_labels("app=web, tier=front")
    {'app': 'web', 'tier': 'front'}
    >>> parse_labels("")
    {}
    >>> parse_labels("app")
    Traceback (most recent call last):
    ...
    app.errors.InvalidObjects: labels are written key=value
    """
    labels: dict[str, str] = {}
    errors: list[FieldError] = []
    for pair in re.split(r"[,\s]+", text.strip()):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            errors.append(
                FieldError(
                    field,
                    f'Invalid value: "{pair}": write each label as key=value, separated by '
                    "commas (app=web,tier=front)",
                )
            )
        elif key in labels:
            errors.append(
                FieldError(
                    field,
                    f'Duplicate value: "{key}": a key may appear only once',
                    "FieldValueDuplicate",
                )
            )
        else:
            labels[key] = value
    if errors:
        raise InvalidObjects("labels are written key=value", errors)
    return labels


def _labels(problems: _Problems, fields: Fields, key: str, path: str) -> dict[str, str]:
    try:
        return parse_labels(_text(fields, key), path)
    except InvalidObjects as error:
        for e in error.errors:
            problems.add(e.field, e.message)
        return {}


def _int(problems: _Problems, fields: Fields, key: str, path: str) -> int | None:
    """The field as a whole number, None when empty (a problem noted when not a number)."""
    text = _text(fields, key)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        problems.add(path, f'Invalid value: "{text}": must be a whole number')
        return None


def _port_ref(text: str) -> int | str:
    """A targetPort or backend port: a number, or the name of a container port."""
    return int(text) if text.isdigit() else text


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


def _container(problems: _Problems, fields: Fields, path: str) -> dict[str, Any]:
    image = _text(fields, "image")
    container: dict[str, Any] = {"name": _container_name(image), "image": image}
    port = _int(problems, fields, "port", f"{path}.ports[0].containerPort")
    port_name = _text(fields, "port_name")
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


def _metadata(fields: Fields, labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": _text(fields, "name"),
        "namespace": _text(fields, "namespace", "default"),
    }
    if labels:
        metadata["labels"] = labels
    return metadata


def deployment_manifest(fields: Fields) -> dict[str, Any]:
    """An apps/v1 Deployment whose selector's matchLabels equal its pods' labels.

    Fields: ``name``, ``namespace``, ``replicas``, ``labels`` (``app=<name>`` when empty, as
    ``kubectl create deployment`` does), ``image``, ``port`` and ``port_name``.

    >>> d = deployment_manifest({"name": "web", "image": "nginx"})
    >>> d["spec"]["selector"], d["spec"]["replicas"]
    ({'matchLabels': {'app': 'web'}}, 1)
    """
    problems = _Problems("Deployment", fields)
    labels = _labels(problems, fields, "labels", "spec.template.metadata.labels")
    if not labels and not _text(fields, "labels") and _text(fields, "name"):
        labels = {"app": _text(fields, "name")}
    replicas = _int(problems, fields, "replicas", "spec.replicas")
    container = _container(problems, fields, "spec.template.spec.containers[0]")
    problems.raise_any()
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(fields, labels),
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
    problems = _Problems("Pod", fields)
    labels = _labels(problems, fields, "labels", "metadata.labels")
    container = _container(problems, fields, "spec.containers[0]")
    problems.raise_any()
    spec: dict[str, Any] = {}
    if _text(fields, "node"):
        spec["nodeName"] = _text(fields, "node")
    spec["containers"] = [container]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _metadata(fields, labels), "spec": spec}


#: The Service form's fields that only some types use (the rest every type but ExternalName
#: uses: selector, port, target port, protocol, session affinity). A field the chosen type
#: does not use is ignored, so a form shown whole (no JavaScript) still makes a clean object.
SERVICE_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "headless": ("ClusterIP",),
    "node_port": ("NodePort", "LoadBalancer"),
    "external_traffic_policy": ("NodePort", "LoadBalancer"),
    "health_check_node_port": ("LoadBalancer",),
    "external_name": ("ExternalName",),
}
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
_ROUTED_FIELDS = ("selector", "port", "target_port", "protocol", "session_affinity")


def service_fields(fields: Fields) -> dict[str, str]:
    """The Service form's fields with those its type does not use left out.

    ``type=headless`` (an older spelling) is ``type=ClusterIP`` with ``headless=on``.

    >>> service_fields({"name": "web", "type": "ClusterIP", "node_port": "30080",
    ...                 "external_name": "x.example.com", "selector": "app=web"})
    {'name': 'web', 'type': 'ClusterIP', 'selector': 'app=web'}
    >>> service_fields({"type": "ExternalName", "selector": "app=web", "port": "80",
    ...                 "external_name": "db.example.com"})
    {'type': 'ExternalName', 'external_name': 'db.example.com'}
    """
    values = dict(fields)
    if _text(values, "type") == "headless":
        values.update(type="ClusterIP", headless="on")
    kind = _text(values, "type", "ClusterIP")
    kept = {}
    for key, value in values.items():
        used_by = SERVICE_TYPE_FIELDS.get(key)
        if used_by is not None and kind not in used_by:
            continue
        if key in _ROUTED_FIELDS and kind == "ExternalName":
            continue
        kept[key] = value
    return kept


def service_manifest(fields: Fields) -> dict[str, Any]:
    """A v1 Service of any type; ``headless`` (on) makes a ClusterIP Service with
    ``clusterIP: None``.

    Fields: ``name``, ``namespace``, ``type``, ``headless``, ``selector``, ``port``,
    ``target_port`` (a number or a port name), ``node_port``, ``protocol``,
    ``external_name``, ``external_traffic_policy``, ``health_check_node_port`` and
    ``session_affinity``; empty ones are left out, so the API server's defaults apply, and
    so are those the type does not use (see ``service_fields``).

    >>> s = service_manifest({"name": "web", "type": "ClusterIP", "headless": "on",
    ...                       "selector": "app=web", "port": "80", "target_port": "http"})
    >>> s["spec"]
    {'clusterIP': 'None', 'selector': {'app': 'web'}, 'ports': [{'port': 80, 'targetPort': 'http'}]}
    """
    fields = service_fields(fields)
    problems = _Problems("Service", fields)
    selector = _labels(problems, fields, "selector", "spec.selector")
    kind = _text(fields, "type", "ClusterIP")
    spec: dict[str, Any] = {}
    if kind == "ClusterIP" and _text(fields, "headless"):
        spec["clusterIP"] = "None"
    elif kind != "ClusterIP":
        spec["type"] = kind
    if kind == "ExternalName":
        spec["externalName"] = _text(fields, "external_name")
    if selector:
        spec["selector"] = selector
    port = _int(problems, fields, "port", "spec.ports[0].port")
    node_port = _int(problems, fields, "node_port", "spec.ports[0].nodePort")
    target = _text(fields, "target_port")
    protocol = _text(fields, "protocol", "TCP")
    if port is not None:
        entry: dict[str, Any] = {"port": port}
        if protocol != "TCP":
            entry["protocol"] = protocol
        if target:
            entry["targetPort"] = _port_ref(target)
        if node_port is not None:
            entry["nodePort"] = node_port
        spec["ports"] = [entry]
    elif target or node_port is not None:
        problems.add("spec.ports[0].port", "Required value: a Service port needs its number")
    if _text(fields, "external_traffic_policy"):
        spec["externalTrafficPolicy"] = _text(fields, "external_traffic_policy")
    health = _int(problems, fields, "health_check_node_port", "spec.healthCheckNodePort")
    if health is not None:
        spec["healthCheckNodePort"] = health
    if _text(fields, "session_affinity", "None") != "None":
        spec["sessionAffinity"] = _text(fields, "session_affinity")
    problems.raise_any()
    return {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(fields), "spec": spec}


#: The fields of one path row of the Ingress form; row ``i`` names them ``path_i`` and so on.
INGRESS_PATH_FIELDS = ("path", "path_type", "service", "service_port")


def ingress_fields(fields: Fields) -> dict[str, str]:
    """The Ingress form's fields with the path rows numbered: ``path``, ``path_type``,
    ``service`` and ``service_port`` without a number (one path, as API clients send it)
    are row 0's when the form has no ``path_0`` and so on.

    >>> ingress_fields({"name": "shop", "path": "/", "service": "web"})
    {'name': 'shop', 'path_0': '/', 'service_0': 'web'}
    """
    numbered = any(re.fullmatch(r"(path|path_type|service|service_port)_\d+", k) for k in fields)
    values: dict[str, str] = {}
    for key, value in fields.items():
        if key in INGRESS_PATH_FIELDS:
            if not numbered:
                values[f"{key}_0"] = value
        else:
            values[key] = value
    return values


def ingress_path_rows(fields: Fields) -> list[dict[str, str]]:
    """The path rows the learner filled in, in row order, each with ``index`` and the row's
    four fields (empty strings when left empty). A row with neither a path nor a Service is
    skipped (the form offers spare rows), unless every row is empty: then row 0 stays, for
    the API server to say what is missing.

    >>> [r["service"] for r in ingress_path_rows({"service_0": "web", "path_1": "",
    ...                                          "service_2": "api", "path_2": "/api"})]
    ['web', 'api']
    """
    values = ingress_fields(fields)
    indexes = sorted(
        {
            int(m.group(2))
            for k in values
            if (m := re.fullmatch(r"(path|path_type|service|service_port)_(\d+)", k))
        }
    )
    rows = [
        {"index": str(i), **{f: _text(values, f"{f}_{i}") for f in INGRESS_PATH_FIELDS}}
        for i in indexes
    ]
    filled = [r for r in rows if r["path"] or r["service"]]
    return filled or rows[:1] or [{"index": "0", **dict.fromkeys(INGRESS_PATH_FIELDS, "")}]


def ingress_manifest(fields: Fields) -> dict[str, Any]:
    """A networking.k8s.io/v1 Ingress with one rule (one host) and one path per row.

    Fields: ``name``, ``namespace``, ``host`` (any host when empty), ``tls`` (any value: on,
    with a ``<name>-tls`` Secret for the host), and for each path row ``i``: ``path_i``
    (``/`` when empty), ``path_type_i``, ``service_i`` and ``service_port_i`` (a number or a
    port name). Empty rows are skipped (see ``ingress_path_rows``).

    >>> i = ingress_manifest({"name": "shop", "host": "shop.example.com", "service_0": "web",
    ...                       "service_port_0": "80", "path_1": "/api", "service_1": "api",
    ...                       "service_port_1": "http", "tls": "on"})
    >>> [(p["path"], p["backend"]) for p in i["spec"]["rules"][0]["http"]["paths"]]
    [('/', {'service': {'name': 'web', 'port': {'number': 80}}}), ('/api', {'service': {'name': 'api', 'port': {'name': 'http'}}})]
    >>> i["spec"]["tls"]
    [{'hosts': ['shop.example.com'], 'secretName': 'shop-tls'}]
    """
    problems = _Problems("Ingress", fields)
    host = _text(fields, "host")
    paths = []
    for row in ingress_path_rows(fields):
        backend: dict[str, Any] = {"service": {"name": row["service"]}}
        if row["service_port"]:
            ref = _port_ref(row["service_port"])
            backend["service"]["port"] = {"number": ref} if isinstance(ref, int) else {"name": ref}
        paths.append(
            {
                "path": row["path"] or "/",
                "pathType": row["path_type"] or "Prefix",
                "backend": backend,
            }
        )
    rule: dict[str, Any] = {"host": host} if host else {}
    rule["http"] = {"paths": paths}
    spec: dict[str, Any] = {}
    if _text(fields, "tls"):
        tls: dict[str, Any] = {"hosts": [host]} if host else {}
        tls["secretName"] = f"{_text(fields, 'name') or 'ingress'}-tls"
        spec["tls"] = [tls]
    spec["rules"] = [rule]
    problems.raise_any()
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _metadata(fields),
        "spec": spec,
    }


BUILDERS = {
    "deployment": deployment_manifest,
    "service": service_manifest,
    "pod": pod_manifest,
    "ingress": ingress_manifest,
}


def manifest_yaml(manifest: dict[str, Any]) -> str:
    """The manifest as the YAML a learner could paste into the YAML form."""
    return dump_manifests([manifest])


def _user_namespace(namespace: str) -> bool:
    return namespace not in SYSTEM_NAMESPACES


def _pod_labels(pod: dict[str, Any]) -> dict[str, str]:
    labels = pod["metadata"].get("labels") or {}
    return {k: v for k, v in labels.items() if k not in HIDDEN_LABELS}


def selector_preview(cluster: Any, namespace: str, selector_text: str) -> dict[str, Any]:
    """Which pods of ``namespace`` a Service selector (``app=web``) would pick.

    Returns ``matches`` (how many), ``pods`` (their names), ``labels_seen`` (every
    ``key=value`` the namespace's pods carry, to pick from), ``selector`` and ``error`` (why
    the text is not a selector, or None).

    >>> from app.cluster.cluster import Cluster
    >>> selector_preview(Cluster.create(seed=1), "default", "app")["error"]
    'Invalid value: "app": write each label as key=value, separated by commas (app=web,tier=front)'
    """
    namespace = namespace.strip() or "default"
    pods = [p for p in cluster.list("Pod", namespace) if not p["metadata"].get("deletionTimestamp")]
    seen = sorted({f"{k}={v}" for p in pods for k, v in _pod_labels(p).items()})
    result: dict[str, Any] = {
        "namespace": namespace,
        "selector_text": selector_text,
        "selector": {},
        "matches": 0,
        "pods": [],
        "labels_seen": seen,
        "error": None,
    }
    try:
        selector = parse_labels(selector_text, "spec.selector")
    except InvalidObjects as error:
        result["error"] = error.errors[0].message
        return result
    result["selector"] = selector
    if selector:
        chosen = [
            p["metadata"]["name"]
            for p in pods
            if service_selector_matches(selector, p["metadata"].get("labels") or {})
        ]
        result["matches"] = len(chosen)
        result["pods"] = chosen
    return result


def forms_view(cluster: Any) -> dict[str, Any]:
    """What the Build forms offer to pick from: namespaces, nodes, the learner's
    Deployments and Services, and the labels their pods carry (to pick a selector from).

    >>> from app.cluster.cluster import Cluster
    >>> view = forms_view(Cluster.create(seed=1))
    >>> view["namespaces"], [(n["name"], n["roles"]) for n in view["nodes"]]
    (['default'], [('control-plane', 'control-plane'), ('worker-1', '<none>'), ('worker-2', '<none>')])
    """
    namespaces = [
        ns["metadata"]["name"]
        for ns in cluster.list("Namespace")
        if _user_namespace(ns["metadata"]["name"])
        and ns["metadata"]["name"] not in ("kube-public", "kube-node-lease")
    ]
    namespaces.sort(key=lambda n: (n != "default", n))
    nodes = [cluster.node_summary(n) for n in cluster.list("Node")]
    deployments = [
        {
            "namespace": d["metadata"]["namespace"],
            "name": d["metadata"]["name"],
            "replicas": d["spec"].get("replicas", 1),
            "ready": (d.get("status") or {}).get("readyReplicas", 0),
        }
        for d in cluster.list("Deployment")
        if cluster.is_user_made(d)
    ]
    services = [
        {
            "namespace": s["metadata"]["namespace"],
            "name": s["metadata"]["name"],
            "ports": [p.get("name") or p["port"] for p in s["spec"].get("ports") or []],
        }
        for s in cluster.list("Service")
        if _user_namespace(s["metadata"]["namespace"]) and s["metadata"]["name"] != "kubernetes"
    ]
    labels = sorted(
        {
            f"{k}={v}"
            for p in cluster.list("Pod")
            if _user_namespace(p["metadata"]["namespace"])
            for k, v in _pod_labels(p).items()
        }
    )
    return {
        "namespaces": namespaces or ["default"],
        "nodes": nodes,
        "deployments": deployments,
        "services": services,
        "labels": labels,
    }
