"""``kubectl apply`` against a :class:`~app.cluster.cluster.Cluster`.

Apply is all or nothing. Every document is checked first, against the API's rules and then
against the cluster (namespaces exist, ClusterIPs and NodePorts are free, quotas hold, no
immutable field changes; :mod:`app.cluster.apply_checks`); only when all pass is anything
changed, one object at a time (:mod:`app.cluster.upsert`). The answer lists, per object,
whether it was created, configured or unchanged, as kubectl prints it.

The names callers import from here stay here: storing one object and the system's own
objects (:func:`upsert`, :func:`install_system_manifest`, :func:`install_system_objects`)
and :func:`change_since` live in :mod:`app.cluster.upsert`, :mod:`app.cluster.system_objects`
and :mod:`app.cluster.change`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.cluster.apply_checks import check_documents
from app.cluster.change import Change, change_since
from app.cluster.cluster import Cluster
from app.cluster.manifests import Document, parse_manifests
from app.cluster.objects import ObjectKey
from app.cluster.system_objects import install_system_objects
from app.cluster.upsert import SERVER_METADATA, install_system_manifest, upsert

__all__ = [
    "APPLY_ORDER",
    "SERVER_METADATA",
    "Applied",
    "ApplyResult",
    "apply_documents",
    "apply_text",
    "change_since",
    "install_system_manifest",
    "install_system_objects",
    "upsert",
]

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
    """Apply parsed documents; see :func:`apply_text`.

    Parameters
    ----------
    cluster : Cluster
        The cluster to change.
    docs : list of Document
        The parsed documents (:func:`app.cluster.manifests.parse_manifests`).
    text : str, optional
        What the documents were parsed from, read again to give each error its line.
    written : dict, optional
        Per object, what is kept as the learner's own manifest (what export gives back):
        another dict (a patch replayed on what they wrote), or None for an object that stays
        the system's or its controller's (its owner references are kept). Objects it does
        not name keep what their document says.

    Returns
    -------
    ApplyResult
        Per object, in document order: created, configured or unchanged; and what the
        controllers did.

    Raises
    ------
    InvalidObjects
        Any document breaks a rule (422); every error is listed and nothing is changed.
    Forbidden
        The apply would exceed the workspace's quotas (403); nothing is changed.

    Examples
    --------
    >>> cluster = Cluster.create(seed=3)
    >>> docs = parse_manifests("apiVersion: v1\\nkind: Namespace\\nmetadata: {name: shop}\\n")
    >>> result = apply_documents(cluster, docs)
    >>> [o.to_dict()["action"] for o in result.objects], [str(k) for k in result.change.created]
    (['created'], ['Namespace/shop'])
    """
    items = check_documents(cluster, docs, text)

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
