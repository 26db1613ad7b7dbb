"""How the ingress controller picks a backend for a request: host, then path.

Matching follows the Kubernetes Ingress documentation:

- **Hosts**: a rule with a host matches that exact host; ``*.example.com`` matches exactly one
  more label (``shop.example.com``, not ``example.com`` or ``a.shop.example.com``); a rule
  without a host matches every request. An exact host beats a wildcard, which beats no host.
- **Paths**: ``Exact`` matches the path exactly, case-sensitively. ``Prefix`` matches element
  by element, split on ``/``: ``/foo`` matches ``/foo``, ``/foo/`` and ``/foo/bar`` but not
  ``/foobar``; a trailing slash in the rule is ignored. ingress-nginx treats
  ``ImplementationSpecific`` as a prefix of characters. The longest matching path wins, and
  ``Exact`` wins over ``Prefix`` at the same length.
- Rules of every Ingress the controller serves are merged, as ingress-nginx merges them into
  one server per host. A path no rule of its host matches goes to the ``defaultBackend`` of an
  Ingress that has rules for that host; a host no rule names goes to the ``defaultBackend`` of
  an Ingress with no rules at all (the catch-all). Otherwise the controller's own default
  backend answers 404, as ingress-nginx does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.cluster import constants as c
from app.network.explain import Reason, field_cause

CONTROLLER_NAME = "k8s.io/ingress-nginx"


@dataclass(frozen=True)
class Route:
    """One path of one Ingress rule, flattened."""

    ingress: tuple[str, str]  # (namespace, name)
    host: str  # "" when the rule has no host
    path: str
    path_type: str
    service: str | None
    port: int | str | None  # number or port name
    tls: bool
    field: str = ""  # where the backend is written: spec.rules[i].http.paths[j].backend.service


@dataclass(frozen=True)
class Match:
    """What the controller decided for one request."""

    route: Route | None  # None when a default backend or a 404 answers
    namespace: str | None
    service: str | None
    port: int | str | None
    default_backend: bool
    explanation: str
    field: str = ""  # the backend's field path in the Ingress (see Route.field)
    ingress: tuple[str, str] | None = None  # (namespace, name) of the Ingress that decided

    @property
    def found(self) -> bool:
        return self.service is not None


def host_matches(rule_host: str, host: str) -> bool:
    """Whether an Ingress rule's host matches a request's Host header.

    >>> host_matches("shop.example.com", "shop.example.com")
    True
    >>> host_matches("*.example.com", "shop.example.com"), host_matches("*.example.com", "example.com")
    (True, False)
    >>> host_matches("*.example.com", "a.shop.example.com")
    False
    >>> host_matches("", "anything.test")
    True
    """
    host = host.lower().rstrip(".")
    if not rule_host:
        return True
    if rule_host.startswith("*."):
        suffix = rule_host[1:]  # ".example.com"
        head = host[: -len(suffix)] if host.endswith(suffix) else ""
        return bool(head) and "." not in head
    return rule_host == host


def path_matches(path_type: str, rule_path: str, path: str) -> bool:
    """Whether an Ingress path matches a request path (see the module docstring).

    >>> path_matches("Prefix", "/foo", "/foo/bar"), path_matches("Prefix", "/foo", "/foobar")
    (True, False)
    >>> path_matches("Prefix", "/foo/", "/foo"), path_matches("Prefix", "/", "/anything")
    (True, True)
    >>> path_matches("Exact", "/foo", "/foo/"), path_matches("Exact", "/Foo", "/foo")
    (False, False)
    """
    if path_type == "Exact":
        return rule_path == path
    if path_type == "ImplementationSpecific":
        return path.startswith(rule_path or "/")
    rule_parts = [p for p in rule_path.split("/") if p]
    parts = [p for p in path.split("/") if p]
    return parts[: len(rule_parts)] == rule_parts


def served_ingresses(cluster: Any) -> list[dict[str, Any]]:
    """The Ingresses ingress-nginx serves: class ``nginx`` (by name or as the default class)."""
    classes = {
        ic["metadata"]["name"]: ic
        for ic in cluster.list("IngressClass")
        if (ic.get("spec") or {}).get("controller") == CONTROLLER_NAME
    }
    default = {
        name
        for name, ic in classes.items()
        if (ic["metadata"].get("annotations") or {}).get(c.DEFAULT_INGRESS_CLASS_ANNOTATION)
        == "true"
    }
    served = []
    for ingress in cluster.list("Ingress"):
        spec = ingress.get("spec") or {}
        wanted = spec.get("ingressClassName") or (
            (ingress["metadata"].get("annotations") or {}).get("kubernetes.io/ingress.class")
        )
        if (wanted and wanted in classes) or (not wanted and default):
            served.append(ingress)
    return served


def unserved_note(cluster: Any, host: str) -> str:
    """Why the Ingresses that name ``host`` are ignored: their class is no controller's.

    ingress-nginx serves an Ingress whose ``spec.ingressClassName`` (or the older
    ``kubernetes.io/ingress.class`` annotation) names an IngressClass with its controller
    ``k8s.io/ingress-nginx``, or that names no class while such a class is the default. Any
    other Ingress is stored and served by no one here.

    Parameters
    ----------
    cluster : Cluster
    host : str
        The Host the request was sent to.

    Returns
    -------
    Reason
        One sentence per ignored Ingress naming ``host``, or ``""``; its cause is the first
        one's ``spec.ingressClassName``.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: networking.k8s.io/v1
    ... kind: Ingress
    ... metadata: {name: shop}
    ... spec:
    ...   ingressClassName: traefik
    ...   rules:
    ...   - host: shop.example.com
    ...     http:
    ...       paths:
    ...       - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    ... ''')
    >>> unserved_note(cluster, "shop.example.com")[:68]
    'Ingress default/shop names host shop.example.com, but its spec.ingre'
    """
    served = {
        (i["metadata"]["namespace"], i["metadata"]["name"]) for i in served_ingresses(cluster)
    }
    classes = {ic["metadata"]["name"]: ic for ic in cluster.list("IngressClass")}
    known = ", ".join(
        f"{name} (controller {(ic.get('spec') or {}).get('controller')})"
        for name, ic in sorted(classes.items())
    )
    notes = []
    causes = []
    for ingress in cluster.list("Ingress"):
        key = (ingress["metadata"]["namespace"], ingress["metadata"]["name"])
        if key in served:
            continue
        hosts = {r.get("host", "") for r in (ingress.get("spec") or {}).get("rules") or []}
        if not any(h and host_matches(h, host) for h in hosts):
            continue
        spec = ingress.get("spec") or {}
        annotation = (ingress["metadata"].get("annotations") or {}).get(
            "kubernetes.io/ingress.class"
        )
        wanted = spec.get("ingressClassName")
        label = f"Ingress {key[0]}/{key[1]} names host {host}, but"
        if wanted or annotation:
            field = (
                "spec.ingressClassName" if wanted else "the kubernetes.io/ingress.class annotation"
            )
            name = wanted or annotation
            ic = classes.get(name)
            if ic is None:
                why = f"its {field} is {name}, and no IngressClass {name} exists"
            else:
                why = (
                    f"its {field} is {name}, whose controller is "
                    f"{(ic.get('spec') or {}).get('controller')}, and no such controller runs here"
                )
        else:
            why = "it has no spec.ingressClassName and no IngressClass is marked default"
        causes.append(
            field_cause(
                "Ingress",
                key[0],
                key[1],
                "spec.ingressClassName"
                if wanted or not annotation
                else 'metadata.annotations["kubernetes.io/ingress.class"]',
            )
        )
        notes.append(
            f"{label} {why}: no controller serves it, so nothing routes {host} into the cluster. "
            f"Set spec.ingressClassName to a class ingress-nginx serves (IngressClasses here: "
            f"{known or 'none'})."
        )
    return Reason(" ".join(notes), causes[0] if causes else None)


def routes(ingresses: list[dict[str, Any]]) -> list[Route]:
    """Every path of every rule, flattened."""
    flat = []
    for ingress in ingresses:
        spec = ingress.get("spec") or {}
        key = (ingress["metadata"]["namespace"], ingress["metadata"]["name"])
        tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
        for i, rule in enumerate(spec.get("rules") or []):
            host = rule.get("host", "")
            for j, path in enumerate((rule.get("http") or {}).get("paths") or []):
                backend = (path.get("backend") or {}).get("service") or {}
                port = backend.get("port") or {}
                flat.append(
                    Route(
                        key,
                        host,
                        path.get("path", "/") or "/",
                        path.get("pathType", "Prefix"),
                        backend.get("name"),
                        port.get("number", port.get("name")),
                        bool(host) and any(host_matches(h, host) or h == host for h in tls_hosts),
                        f"spec.rules[{i}].http.paths[{j}].backend.service",
                    )
                )
    return flat


def match(cluster: Any, host: str, path: str) -> Match:
    """Pick the backend ingress-nginx sends ``host`` + ``path`` to.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: networking.k8s.io/v1
    ... kind: Ingress
    ... metadata: {name: shop}
    ... spec:
    ...   rules:
    ...   - host: shop.example.com
    ...     http:
    ...       paths:
    ...       - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    ...       - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 8080}}}}
    ... ''')
    >>> m = match(cluster, "shop.example.com", "/api/cart")
    >>> m.service, m.port
    ('api', 8080)
    >>> match(cluster, "shop.example.com", "/apiary").service
    'web'
    >>> match(cluster, "other.example.com", "/").found
    False
    """
    ingresses, all_routes = cluster.state.memoised("ingress-routes", lambda: _routes_of(cluster))
    candidates = [r for r in all_routes if host_matches(r.host, host)]
    if candidates:
        best_host_rank = min(_host_rank(r.host) for r in candidates)
        candidates = [r for r in candidates if _host_rank(r.host) == best_host_rank]
        matching = [r for r in candidates if path_matches(r.path_type, r.path, path)]
        if matching:
            best = max(matching, key=lambda r: (len(r.path.rstrip("/")), r.path_type == "Exact"))
            shown_host = best.host or "any host"
            return Match(
                best,
                best.ingress[0],
                best.service,
                best.port,
                False,
                f"Ingress {best.ingress[1]}: host {shown_host}, path {best.path} ({best.path_type}) "
                f"matches {path}, so the request goes to Service {best.service}",
                best.field,
                best.ingress,
            )
        # ingress-nginx gives each host a root location: an Ingress's defaultBackend serves
        # the paths its own rules for that host do not match.
        owners = {r.ingress for r in candidates}
        fallback = [
            i for i in ingresses if (i["metadata"]["namespace"], i["metadata"]["name"]) in owners
        ]
        why = f"no path of host {host} matches {path}"
    else:
        # The catch-all server: an Ingress with a defaultBackend and no rules at all.
        fallback = [i for i in ingresses if not (i.get("spec") or {}).get("rules")]
        known = sorted({r.host or "*" for r in all_routes})
        why = f"no Ingress rule matches host {host}" + (
            f" (the rules know {', '.join(known)})" if known else " (no Ingress exists yet)"
        )
    for ingress in fallback:
        backend = ((ingress.get("spec") or {}).get("defaultBackend") or {}).get("service")
        if backend:
            port = backend.get("port") or {}
            return Match(
                None,
                ingress["metadata"]["namespace"],
                backend.get("name"),
                port.get("number", port.get("name")),
                True,
                f"{why}, so Ingress {ingress['metadata']['name']}'s defaultBackend, Service "
                f"{backend.get('name')}, gets it",
                "spec.defaultBackend.service",
                (ingress["metadata"]["namespace"], ingress["metadata"]["name"]),
            )
    missing = (
        "the Ingresses for that host have no defaultBackend"
        if candidates
        else "no Ingress without rules has a defaultBackend"
    )
    return Match(
        None,
        None,
        None,
        None,
        False,
        f"{why}, and {missing}, so ingress-nginx answers 404 Not Found",
    )


def _routes_of(cluster: Any) -> tuple[list[dict[str, Any]], list[Route]]:
    served = served_ingresses(cluster)
    return served, routes(served)


def _host_rank(host: str) -> int:
    if not host:
        return 2
    return 1 if host.startswith("*.") else 0


def controller(cluster: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The ingress controller's Service and one of its ready pods (or None)."""
    service = cluster.get("Service", "ingress-nginx", "ingress-nginx-controller")
    pods = [
        p
        for p in cluster.list("Pod", "ingress-nginx")
        if p["metadata"]["name"].startswith("ingress-nginx-controller-")
        and (p.get("status") or {}).get("podIP")
    ]
    return service, (pods[0] if pods else None)
