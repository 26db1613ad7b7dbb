"""What a request path names: ``/api/v1/namespaces/shop/pods/web/status`` read as group,
version, namespace, resource, name and subresource, as the API server's router reads it."""

from __future__ import annotations

from dataclasses import dataclass

from app.kubeapi.resources import Resource, by_plural
from app.kubeapi.status import ApiError, bad_request, no_such_path

# Subresources of a Namespace, which make /api/v1/namespaces/<name>/<x> not a collection.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
# A pod's subresources that need a running container, and what the learner asked for.
_NO_CONTAINERS = {
    "exec": "shell to exec into",
    "attach": "process to attach to",
    "log": "logs",
    "portforward": "ports to forward",
}


@dataclass(frozen=True)
class Target:
    """The resource a request is about, and which of its objects (all when ``name`` is None,
    in every namespace when ``namespace`` is None)."""

    resource: Resource
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse(path: str) -> tuple[str, str, Target | None]:
    """Read a path below the server's base URL: (group, version, target). The target is
    None for the group version itself (its discovery document).

    >>> group, version, target = parse("/apis/apps/v1/namespaces/shop/deployments/web/scale")
    >>> group, target.resource.kind, target.namespace, target.name, target.subresource
    ('apps', 'Deployment', 'shop', 'web', 'scale')
    >>> parse("/api/v1/namespaces/shop")[2].resource.kind
    'Namespace'
    >>> parse("/api/v1/pods")[2].namespace is None
    True
    >>> parse("/api/v1/widgets")
    Traceback (most recent call last):
    ...
    app.kubeapi.status.ApiError: ...the server could not find the requested resource...
    """
    parts = [p for p in path.strip("/").split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise no_such_path()
    if not rest:
        return group, version, None
    namespace = None
    is_namespaced_path = (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES)
    )
    if is_namespaced_path:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise no_such_path()
    resource = by_plural(group, rest[0], version)
    if resource is None or (namespace is not None and not resource.namespaced):
        raise no_such_path()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource in _NO_CONTAINERS and resource.kind == "Pod":
        raise bad_request(
            f"Podpath runs no containers, so a pod has no {_NO_CONTAINERS[subresource]}: the "
            "sandbox's Terminal tab answers kubectl exec with curl, nslookup, dig and more"
        )
    if subresource is not None and not (subresource == "scale" and resource.scalable):
        raise no_such_path()
    return group, version, Target(resource, namespace, name, subresource)


__all__ = ["ApiError", "Target", "parse"]
