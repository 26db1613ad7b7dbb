"""What ``kubectl apply`` checks before it changes anything.

Every document is checked against the API's rules, then against the cluster (namespaces
exist, ClusterIPs and NodePorts are free, no immutable field changes, room for new nodes),
then the whole apply against the workspace's quotas. One answer lists every error of every
document, each at its line when the text is at hand, and the message names the first invalid
object as the API server words it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from app.cluster import services
from app.cluster.defaulting import apply_defaults
from app.cluster.manifests import Document, parse_manifests
from app.cluster.objects import API_VERSIONS, ObjectKey, key_of
from app.cluster.upsert import merge_for_update, strip_server_fields
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

if TYPE_CHECKING:  # pragma: no cover
    from app.cluster.cluster import Cluster

# Fields the API server reports under a name the learner did not write.
FIELD_WRITTEN_AS = {"spec.clusterIPs[0]": "spec.clusterIP", "spec.clusterIPs": "spec.clusterIP"}


@dataclass
class Item:
    """One document that passed every check, ready to store."""

    doc: Document
    written: dict[str, Any]  # as the learner wrote it (server-set metadata dropped)
    manifest: dict[str, Any]  # with the API server's defaults filled in
    key: ObjectKey


def check_documents(cluster: Cluster, docs: list[Document], text: str | None = None) -> list[Item]:
    """The documents of one apply, each checked, with nothing changed.

    Parameters
    ----------
    cluster : Cluster
        The cluster the documents would be applied to (only read).
    docs : list of Document
        The parsed documents, numbered from 1.
    text : str, optional
        What the documents were parsed from, read again to give each error its line.

    Returns
    -------
    list of Item
        Every document, in order, as the learner wrote it and with the defaults filled in.

    Raises
    ------
    InvalidObjects
        Any document breaks a rule of the API or clashes with the cluster (422); every
        error of every document is listed.
    Forbidden
        The apply would exceed the workspace's quotas (403).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> text = "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: web, namespace: shop}\\n"
    >>> try:
    ...     check_documents(cluster, parse_manifests(text), text)
    ... except InvalidObjects as error:
    ...     print(error.errors[0].field, error.errors[0].line)
    metadata.namespace 3
    """
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
    return items


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
) -> tuple[list[Item], list[FieldError], list[Item]]:
    """The valid documents, every error, and the well-formed but invalid documents."""
    items: list[Item] = []
    errors: list[FieldError] = []
    rejected: list[Item] = []
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
            written = strip_server_fields(body)
            rejected.append(Item(doc, written, apply_defaults(written), key_of(written)))
            continue
        written = strip_server_fields(body)
        manifest = apply_defaults(written)
        items.append(Item(doc, written, manifest, key_of(manifest)))
    return items, errors, rejected


def _check_against_cluster(
    cluster: Cluster, items: list[Item], already_invalid: set[int] | frozenset[int] = frozenset()
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
                candidate = merge_for_update(live, manifest)
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


def _check_quotas(cluster: Cluster, items: list[Item]) -> None:
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
