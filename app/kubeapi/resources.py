"""The resources Podpath serves, as ``kubectl api-resources`` lists them.

Each :class:`Resource` says where it lives (group, version, plural), what it is (kind,
scope, short names) and which verbs it takes. Resources the model only derives (Endpoints,
Events, ReplicaSets) take no create or update. The Gateway API kinds are custom resources:
their entries come from their CRDs (``app/cluster/validation/crds``), served as JSON only.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.cluster.objects import GATEWAY_KINDS
from app.cluster.validation.crd_schema import crd

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    """One REST resource: ``/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>``."""

    group: str  # "" for the core group (served under /api/v1)
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = WRITE
    categories: tuple[str, ...] = ()
    scalable: bool = False

    @property
    def group_version(self) -> str:
        """``v1`` or ``apps/v1``, as ``apiVersion`` is written."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The name kubectl prints: ``deployment.apps``, ``pod``.

        >>> by_plural("", "pods").qualified, by_plural("apps", "deployments").qualified
        ('pod', 'deployment.apps')
        """
        return f"{self.singular}.{self.group}" if self.group else self.singular

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The object's (or the collection's) path below the server's base URL.

        >>> by_plural("apps", "deployments").path("shop", "web")
        '/apis/apps/v1/namespaces/shop/deployments/web'
        """
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        scope = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        return f"{root}{scope}/{self.plural}" + (f"/{name}" if name else "")


_ALL = ("all",)
RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "configmaps", "configmap", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "endpoints", "endpoints", "Endpoints", True, ("ep",), READ),
    Resource("", "v1", "events", "event", "Event", True, ("ev",), READ),
    Resource("", "v1", "namespaces", "namespace", "Namespace", False, ("ns",)),
    Resource("", "v1", "nodes", "node", "Node", False, ("no",)),
    Resource("", "v1", "pods", "pod", "Pod", True, ("po",), categories=_ALL),
    Resource("", "v1", "services", "service", "Service", True, ("svc",), categories=_ALL),
    Resource("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, ("ds",), categories=_ALL),
    Resource(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        True,
        ("deploy",),
        categories=_ALL,
        scalable=True,
    ),
    Resource(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        True,
        ("rs",),
        (*READ, "delete"),
        _ALL,
    ),
    Resource("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", True),
    Resource("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", False),
    Resource("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", True, ("ing",)),
    Resource(
        "networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", True,
        ("netpol",),
    ),
)  # fmt: skip


def _custom_resources() -> tuple[Resource, ...]:
    """The Gateway API CRDs, at every version they serve (v1 first: the preferred one), with
    the names, short names and categories their CRDs declare."""
    found = []
    for kind in GATEWAY_KINDS:
        definition = crd(kind)
        for version in definition["served"]:
            found.append(
                Resource(
                    definition["group"],
                    version,
                    definition["plural"],
                    definition["singular"],
                    kind,
                    definition["scope"] == "Namespaced",
                    tuple(definition["shortNames"]),
                    categories=tuple(definition["categories"]),
                )
            )
    return tuple(sorted(found, key=lambda r: (r.version != "v1", r.version)))


RESOURCES += _custom_resources()

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
# A kind's resource is the one at its preferred (first listed) version.
_BY_KIND: dict[str, Resource] = {}
for _resource in RESOURCES:
    _BY_KIND.setdefault(_resource.kind, _resource)


def by_plural(group: str, plural: str, version: str = "v1") -> Resource | None:
    """The resource served at ``group/version/plural``, or None.

    >>> by_plural("", "services").kind, by_plural("", "widgets")
    ('Service', None)
    """
    return _BY_PATH.get((group, version, plural))


def by_kind(kind: str) -> Resource | None:
    """The resource of a kind.

    >>> by_kind("Ingress").group_version
    'networking.k8s.io/v1'
    """
    return _BY_KIND.get(kind)


def groups() -> list[tuple[str, str]]:
    """The (group, version) pairs served, core first, as discovery lists them; a group's
    preferred version before its others.

    >>> groups()[:2]
    [('', 'v1'), ('apps', 'v1')]
    >>> [v for g, v in groups() if g == "gateway.networking.k8s.io"]
    ['v1', 'v1beta1']
    """
    seen: list[tuple[str, str]] = []
    for resource in RESOURCES:
        if (resource.group, resource.version) not in seen:
            seen.append((resource.group, resource.version))
    return seen


def in_group(group: str, version: str) -> list[Resource]:
    return [r for r in RESOURCES if (r.group, r.version) == (group, version)]
