"""``kubectl apply`` and ``kubectl delete`` against a :class:`~app.cluster.cluster.Cluster`.

Apply is all or nothing. Every document is checked first, against the API's rules and then
against the cluster (namespaces exist, ClusterIPs and NodePorts are free, quotas hold, no
immutable field changes); only when all pass is anything changed. The answer lists, per
object, whether it was created, configured or unchanged, as kubectl prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from app.cluster import bootstrap, families, services
from app.cluster import constants as c
from app.cluster.cilium_config import replaces_kube_proxy
from app.cluster.cluster import Change, Cluster
from app.cluster.controllers.gateway.install import install_envoy_gateway
from app.cluster.defaulting import apply_defaults
from app.cluster.manifests import Document, parse_manifests
from app.cluster.objects import (
    API_VERSIONS,
    CLUSTER_SCOPED,
    ObjectKey,
    canonical_json,
    deep_copy,
    key_of,
)
from app.cluster.validation import SUPPORTED_KINDS, validate_manifest, validate_update
from app.cluster.validation.schema import validate_schema
from app.errors import (
    NOT_FOUND,
    FieldError,
    Forbidden,
    InvalidObjects,
    invalid_message,
    qualified_kind,
)

# Fields the server sets; a manifest that carries them (an exported ``kubectl get -o yaml``)
# has them ignored, as the API server ignores them on apply.
SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
    "ownerReferences",
)

# Kinds applied first, so that objects later in the same apply find them.
APPLY_ORDER = {
    "Namespace": 0,
    "Node": 1,
    "IngressClass": 2,
    "GatewayClass": 3,
    "Gateway": 10,
    "ReferenceGrant": 10,
    "HTTPRoute": 11,
    "GRPCRoute": 11,
}


@dataclass
class Applied:
    """One line of ``kubectl apply`` output: ``deployment.apps/web created``."""

    document: int
    kind: str
    namespace: str
    name: str
    action: str  # created, configured or unchanged

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "action": self.action,
        }


@dataclass
class ApplyResult:
    objects: list[Applied] = field(default_factory=list)
    change: Change = field(default_factory=Change)


@dataclass
class _Item:
    doc: Document
    written: dict[str, Any]  # as the learner wrote it (server-set metadata dropped)
    manifest: dict[str, Any]  # with the API server's defaults filled in
    key: ObjectKey


def apply_text(cluster: Cluster, text: str) -> ApplyResult:
    """Apply YAML or JSON manifests, like ``kubectl apply -f``.

    Parameters
    ----------
    cluster : Cluster
        The cluster to change.
    text : str
        One or more documents, or a ``List``.

    Returns
    -------
    ApplyResult
        Per object: created, configured or unchanged; and what the controllers did.

    Raises
    ------
    ManifestSyntaxError
        The text is not readable YAML or JSON (400).
    InvalidObjects
        Any document breaks a rule (422); every error is listed and nothing is changed.
    Forbidden
        The apply would exceed the workspace's quotas (403); nothing is changed.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=3)
    >>> text = '''
    ... apiVersion: v1
    ... kind: Namespace
    ... metadata: {name: shop}
    ... '''
    >>> [(o.kind, o.name, o.action) for o in apply_text(cluster, text).objects]
    [('Namespace', 'shop', 'created')]
    >>> [o.action for o in apply_text(cluster, text).objects]
    ['unchanged']
    """
    # Lines are only needed to point at errors, so the text is read again for them if any.
    return apply_documents(cluster, parse_manifests(text, track_lines=False), text)


def apply_documents(
    cluster: Cluster,
    docs: list[Document],
    text: str | None = None,
    *,
    written: dict[ObjectKey, dict[str, Any] | None] | None = None,
) -> ApplyResult:
    """Apply parsed documents; see :func:`apply_text`. ``text``, when given, is what the
    documents were parsed from, read again to give each error its line.

    ``written`` overrides, per object, what is kept as the learner's own manifest (what
    export gives back): another dict (a patch replayed on what they wrote), or None for an
    object that stays the system's or its controller's (its owner references are kept)."""
    items, errors, rejected = _validate_documents(docs)
    # Every well-formed document is checked against the cluster too, so that one answer
    # lists every error of every document.
    clashes = _check_against_cluster(
        cluster,
        sorted(items + rejected, key=lambda i: i.doc.number),
        already_invalid={i.doc.number for i in rejected},
    )
    errors = sorted(errors + clashes, key=lambda e: e.document or 0)
    if errors:
        if text is not None:
            errors = _with_lines(errors, parse_manifests(text, track_lines=True))
        raise InvalidObjects(_summary(errors), errors)
    _check_quotas(cluster, items)

    state = cluster.state
    mark = (state.event_seq, set(state.objects))
    result = ApplyResult()
    # Routes after their Gateways, so their status names a parent that exists.
    for item in sorted(items, key=lambda i: APPLY_ORDER.get(i.key.kind, 9)):
        mine = item.written if written is None or item.key not in written else written[item.key]
        action = upsert(cluster, item.manifest, written=mine)
        result.objects.append(Applied(item.doc.number, *item.key, action))
    result.objects.sort(key=lambda a: a.document)
    cluster.reconcile()
    result.change = change_since(cluster, mark)
    return result


# Fields the API server reports under a name the learner did not write.
FIELD_WRITTEN_AS = {"spec.clusterIPs[0]": "spec.clusterIP", "spec.clusterIPs": "spec.clusterIP"}


def _with_lines(errors: list[FieldError], docs: list[Document]) -> list[FieldError]:
    by_number = {doc.number: doc for doc in docs}
    located = []
    for error in errors:
        doc = by_number.get(error.document or 0)
        if doc is not None:
            written = FIELD_WRITTEN_AS.get(error.field, error.field)
            path = written if written in doc.lines else error.field
            error = replace(error, line=doc.line_of(path))
        located.append(error)
    return located


def _summary(errors: list[FieldError]) -> str:
    """The message of an apply that failed: the first invalid object's, as the API server
    words it (``Deployment.apps "web" is invalid: [a, b]``, see
    :func:`app.errors.invalid_message`), then how many other objects are invalid too (the API
    server answers one object per request; kubectl prints one such line per object)."""
    first = errors[0]
    where = (first.document, first.kind, first.name)
    own = [e for e in errors if (e.document, e.kind, e.name) == where]
    if first.kind and first.name:
        qualified = qualified_kind(first.kind, API_VERSIONS.get(first.kind))
        message = invalid_message(qualified, first.name, own)
    else:
        message = invalid_message("document", str(first.document), own).replace('"', "", 2)
    others = len({(e.document, e.kind, e.name) for e in errors}) - 1
    if others:
        message += f" (and {others} more invalid object{'s' if others > 1 else ''})"
    return message


def _well_formed(body: dict[str, Any]) -> bool:
    """Whether a document passes the schema (right kinds, types and fields), so that the
    checks against the cluster can read it safely even though it breaks another rule."""
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return False
    if (api_version, kind) not in SUPPORTED_KINDS:
        return False
    meta = body.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return False
    return not validate_schema(body)


def _validate_documents(
    docs: list[Document],
) -> tuple[list[_Item], list[FieldError], list[_Item]]:
    """The valid documents, every error, and the well-formed but invalid documents."""
    items: list[_Item] = []
    errors: list[FieldError] = []
    rejected: list[_Item] = []
    for doc in docs:
        body = doc.body
        if not isinstance(body, dict):
            errors.append(
                FieldError(
                    "",
                    "a Kubernetes object must be a mapping with apiVersion, kind and metadata, "
                    f"not a {type(body).__name__}",
                    document=doc.number,
                    line=doc.line,
                )
            )
            continue
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        where = {
            "document": doc.number,
            "kind": body.get("kind") if isinstance(body.get("kind"), str) else None,
            "name": meta.get("name") if isinstance(meta.get("name"), str) else None,
            "namespace": meta.get("namespace") if isinstance(meta.get("namespace"), str) else None,
        }
        problems = validate_manifest(body)
        if problems:
            errors.extend(p.located(**where, line=doc.line_of(p.field)) for p in problems)
            if not _well_formed(body):
                continue
            # Well-typed but breaking a rule: its clashes with the cluster are reported too,
            # so that one answer lists every error; it is never applied.
            written = _strip_server_fields(body)
            rejected.append(_Item(doc, written, apply_defaults(written), key_of(written)))
            continue
        written = _strip_server_fields(body)
        manifest = apply_defaults(written)
        items.append(_Item(doc, written, manifest, key_of(manifest)))
    return items, errors, rejected


def _normalise(body: dict[str, Any]) -> dict[str, Any]:
    return apply_defaults(_strip_server_fields(body))


def _strip_server_fields(body: dict[str, Any]) -> dict[str, Any]:
    manifest = deep_copy(body)
    manifest.pop("status", None)
    meta = manifest["metadata"]
    for name in SERVER_METADATA:
        meta.pop(name, None)
    if manifest["kind"] in CLUSTER_SCOPED:
        meta.pop("namespace", None)
    else:
        meta.setdefault("namespace", "default")
    return manifest


def _check_against_cluster(
    cluster: Cluster, items: list[_Item], already_invalid: set[int] | frozenset[int] = frozenset()
) -> list[FieldError]:
    state = cluster.state
    errors: list[FieldError] = []
    new_namespaces = {i.key.name for i in items if i.key.kind == "Namespace"}
    claims = services.BatchClaims()
    joining = 0  # new Nodes so far in this apply
    for item in items:
        key, manifest, doc = item.key, item.manifest, item.doc
        problems: list[FieldError] = []
        missing_namespace = key.namespace and key.namespace not in new_namespaces
        if missing_namespace and state.get("Namespace", "", key.namespace) is None:
            problems.append(
                FieldError(
                    "metadata.namespace",
                    f'namespaces "{key.namespace}" not found: create the Namespace first '
                    "(or in the same apply)",
                    NOT_FOUND,
                )
            )
        live = state.objects.get(key)
        try:
            if live is not None:
                candidate = _merge_for_update(live, manifest)
                problems.extend(validate_update(_without_status(live), candidate))
            if key.kind == "Service":
                problems.extend(services.check_allocations(state, manifest, live, claims))
        except (ValueError, KeyError, TypeError, AttributeError):
            if doc.number not in already_invalid:
                raise
            # A document that already broke a rule can break these checks' assumptions too;
            # its own errors are reported, and it is never applied.
        if key.kind == "Node" and live is None:
            joining += 1
            workers = state.count("Node") - 1 + joining
            if workers > cluster.config.max_workers:
                problems.append(
                    FieldError(
                        "metadata.name",
                        f"Forbidden: this workspace may have at most {cluster.config.max_workers} "
                        "worker nodes",
                        "FieldValueForbidden",
                    )
                )
            elif joining > state.ipam.blocks_left():
                problems.append(
                    FieldError(
                        "metadata.name",
                        f"Forbidden: the {cluster.config.cni} pod network has room for "
                        f"{state.ipam.blocks_left()} more node(s)",
                        "FieldValueForbidden",
                    )
                )
        where = {"document": doc.number, "kind": key.kind, "name": key.name}
        where["namespace"] = key.namespace or None
        errors.extend(p.located(**where, line=doc.line_of(p.field)) for p in problems)
    return errors


def _check_quotas(cluster: Cluster, items: list[_Item]) -> None:
    state, config = cluster.state, cluster.config
    pods = state.count("Pod")
    new_services = 0
    new_objects = 0
    nodes = state.count("Node")
    for item in items:
        live = state.objects.get(item.key)
        if live is None:
            new_objects += 1
        kind = item.key.kind
        if kind == "Deployment":
            pods += item.manifest["spec"].get("replicas", 1)
            if live is not None:
                pods -= live["spec"].get("replicas", 1)
        elif kind == "Pod" and live is None:
            pods += 1
        elif kind == "DaemonSet" and live is None:
            pods += nodes
        elif kind == "Service" and live is None:
            new_services += 1
        elif kind == "Node" and live is None:
            pods += state.count("DaemonSet")  # kube-proxy and the CNI agent start on it
    problems = []
    if pods > config.max_pods:
        problems.append(
            f"pods: this workspace may hold at most {config.max_pods}, the apply would make {pods}"
        )
    services_after = state.count("Service") + new_services
    if services_after > config.max_services:
        problems.append(
            f"services: this workspace may hold at most {config.max_services}, "
            f"the apply would make {services_after}"
        )
    objects_after = len(state.objects) + new_objects + max(0, pods - state.count("Pod"))
    if objects_after > config.max_objects:
        problems.append(
            f"objects: this workspace may hold at most {config.max_objects}, "
            f"the apply would make about {objects_after}"
        )
    if problems:
        errors = [FieldError("", f"exceeded quota: {p}", "FieldValueForbidden") for p in problems]
        raise Forbidden("exceeded quota: " + "; ".join(problems), errors)


def _without_status(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "status"}


def _merge_for_update(live: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The object the API server would store: the new manifest plus what apply keeps from the
    live object when the manifest leaves it out (allocated addresses, the pod's node)."""
    candidate = deep_copy(manifest)
    candidate["metadata"] = {**deep_copy(manifest["metadata"])}
    spec, live_spec = candidate.get("spec"), live.get("spec") or {}
    if manifest["kind"] == "Service" and isinstance(spec, dict):
        services.keep_allocations(spec, live_spec)
    pod_left_node_out = (
        manifest["kind"] == "Pod" and isinstance(spec, dict) and not spec.get("nodeName")
    )
    if pod_left_node_out and live_spec.get("nodeName"):
        spec["nodeName"] = live_spec["nodeName"]
    return candidate


def upsert(
    cluster: Cluster, manifest: dict[str, Any], written: dict[str, Any] | None = None
) -> str:
    """Create or configure one object; returns ``created``, ``configured`` or ``unchanged``.

    ``manifest`` has the defaults filled in; ``written`` is the manifest as the learner wrote
    it (None for the system's own objects, which are not the learner's to export).
    """
    state = cluster.state
    key = key_of(manifest)
    live = state.objects.get(key)
    user_made = written is not None
    if live is not None and user_made and _same(state.applied.get(key), written):
        return "unchanged"
    obj = _merge_for_update(live, manifest) if live is not None else deep_copy(manifest)
    meta = obj["metadata"]
    if live is None:
        meta["generation"] = 1
    else:
        old_spec = canonical_json(
            {k: v for k, v in live.items() if k not in ("metadata", "status")}
        )
        new_spec = canonical_json({k: v for k, v in obj.items() if k not in ("metadata", "status")})
        changed = old_spec != new_spec
        meta["generation"] = live["metadata"].get("generation", 1) + (1 if changed else 0)
        if live["metadata"].get("ownerReferences") and not user_made:
            meta["ownerReferences"] = live["metadata"]["ownerReferences"]
    if key.kind == "Service":
        services.allocate(state, obj, live)
    elif key.kind == "Node":
        _join_node(cluster, obj, live)
    elif "status" in (live or {}):
        obj["status"] = live["status"]
    elif key.kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    state.put(obj)
    if written is not None:
        state.applied[key] = deep_copy(written)
    return "created" if live is None else "configured"


def _same(applied: dict[str, Any] | None, manifest: dict[str, Any]) -> bool:
    return applied is not None and canonical_json(applied) == canonical_json(manifest)


def _join_node(cluster: Cluster, node: dict[str, Any], live: dict[str, Any] | None) -> None:
    """A new Node joins: it gets the next InternalIP and its pod range; an existing one keeps
    its status, and is cordoned or tainted as its spec now says."""
    state = cluster.state
    name = node["metadata"]["name"]
    labels = node["metadata"].setdefault("labels", {})
    for label, value in bootstrap.node_manifest(name, "", False)["metadata"]["labels"].items():
        labels.setdefault(label, value)
    if live is not None:
        node["status"] = live["status"]
        return
    taken = {
        address["address"]
        for n in state.of_kind("Node")
        for address in n["status"]["addresses"]
        if address["type"] == "InternalIP"
    }
    number = 0
    while families.node_ips(cluster.config, bootstrap.node_ip(number))[0] in taken:
        number += 1
    ips = families.node_ips(cluster.config, bootstrap.node_ip(number))
    node["status"] = bootstrap.node_status(ips, name, ready=True)
    # kube-controller-manager gives a node one range per family (--cluster-cidr lists both on
    # a dual-stack cluster), primary first.
    ranges = [ipam.add_node(name).ranges[0] for ipam in state.ipams()]
    if cluster.config.cni != "weave":
        node.setdefault("spec", {})["podCIDR"] = ranges[0]
        node["spec"]["podCIDRs"] = ranges
    state.record(
        "Normal",
        "RegisteredNode",
        ObjectKey("Node", "", name),
        f"Node {name} event: Registered Node {name} in Controller",
    )


def install_system_objects(cluster: Cluster) -> None:
    """Install the default cluster: nodes, namespaces, system Services and workloads."""
    config = cluster.config
    for manifest in bootstrap.namespaces(config.cni):
        upsert(cluster, _normalise(manifest))
    nodes = [bootstrap.node_manifest(c.CONTROL_PLANE_NAME, c.CONTROL_PLANE_IP, control_plane=True)]
    nodes += [
        bootstrap.node_manifest(bootstrap.worker_name(n), bootstrap.node_ip(n))
        for n in range(1, config.workers + 1)
    ]
    for node in nodes:
        upsert(cluster, _normalise(node))
    manifests = [
        *bootstrap.control_plane_pods(),
        *bootstrap.system_services(config.ip_family),
        *bootstrap.system_workloads(config.cni, not replaces_kube_proxy(config)),
    ]
    for manifest in manifests:
        install_system_manifest(cluster, manifest)
    cluster.reconcile()
    install_envoy_gateway(cluster)


def install_system_manifest(cluster: Cluster, manifest: dict[str, Any]) -> None:
    """Store one of Podpath's own objects (from :mod:`app.cluster.bootstrap`) as the system's,
    not the learner's; the caller reconciles.

    Raises
    ------
    RuntimeError
        When the manifest is invalid: a bug in Podpath, not a user error.

    Examples
    --------
    >>> cluster = Cluster.create(seed=1)
    >>> install_system_manifest(cluster, bootstrap.namespaces("flannel")[-1])
    >>> cluster.get("Namespace", "", "kube-flannel") is not None
    True
    """
    problems = validate_manifest(manifest)
    if problems:  # a bug in Podpath's own manifests
        raise RuntimeError(f"system manifest {key_of(manifest)} is invalid: {problems}")
    upsert(cluster, _normalise(manifest))


def change_since(cluster: Cluster, mark: tuple[int, set[ObjectKey]]) -> Change:
    state = cluster.state
    seq, before = mark
    after = set(state.objects)
    return Change(
        created=sorted(after - before),
        deleted=sorted(before - after),
        events=[e for e in state.events if e.seq > seq],
    )
