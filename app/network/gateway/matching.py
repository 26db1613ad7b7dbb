"""Which HTTPRoute rule Envoy Gateway picks for a request on a listener.

The Gateway API (``apis/v1`` ``HTTPRouteRule.matches``) orders every match of every route
attached to the listener, continuing on ties:

1. the route hostname the request's host matched: exact, then wildcards longest first, then
   a route without hostnames;
2. the path: ``Exact``, then ``PathPrefix`` with the most characters (then
   ``RegularExpression``, whose place the spec leaves to the implementation);
3. a ``method`` match;
4. the most ``headers`` matches;
5. the most ``queryParams`` matches;
6. the oldest route (``creationTimestamp``), then ``namespace/name`` alphabetically;
7. the rule's order in its route, then the match's order in its rule.

Within a rule the matches are ORed and each match's fields ANDed; a rule without matches
matches every path (``PathPrefix /``). ``PathPrefix`` compares whole path elements:
``/foo`` matches ``/foo``, ``/foo/`` and ``/foo/bar``, not ``/foobar``. Header names are
case-insensitive; query parameter names are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from app.cluster.controllers.gateway import hostnames
from app.cluster.controllers.gateway.attachment import Attached

DEFAULT_MATCH = {"path": {"type": "PathPrefix", "value": "/"}}


@dataclass(frozen=True)
class Request:
    """What a route can match on: host, path (no query), query string, method, headers."""

    host: str
    path: str = "/"
    query: str = ""
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict, hash=False)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def params(self) -> dict[str, str]:
        """Query parameters; a repeated name keeps its first value (as Envoy matches it)."""
        found: dict[str, str] = {}
        for name, value in parse_qsl(self.query, keep_blank_values=True):
            found.setdefault(name, value)
        return found


@dataclass(frozen=True)
class Choice:
    """The rule a request matched, and why it beat the others."""

    attached: Attached
    rule: int
    match: int
    hostname: str  # the route hostname that matched ("*" for any)
    spec: dict[str, Any]  # the match itself (path, method, headers, queryParams)
    candidates: int  # how many matches of how many routes the request satisfied

    @property
    def route_rule(self) -> dict[str, Any]:
        return ((self.attached.route.get("spec") or {}).get("rules") or [])[self.rule]

    def describe(self) -> str:
        """``HTTPRoute shop/cart rule 0 (path /cart PathPrefix, header env=canary)``."""
        ns, name = self.attached.key
        parts = []
        path = self.spec.get("path") or DEFAULT_MATCH["path"]
        parts.append(f"path {path.get('value', '/')} {path.get('type', 'PathPrefix')}")
        if self.spec.get("method"):
            parts.append(f"method {self.spec['method']}")
        for h in self.spec.get("headers") or []:
            parts.append(f"header {h.get('name')}={h.get('value')}")
        for q in self.spec.get("queryParams") or []:
            parts.append(f"query {q.get('name')}={q.get('value')}")
        host = "any host" if self.hostname == "*" else f"host {self.hostname}"
        return f"HTTPRoute {ns}/{name} rule {self.rule} ({host}, {', '.join(parts)})"


def path_matches(kind: str, value: str, path: str) -> bool:
    """One ``path`` match against a request path.

    >>> path_matches("PathPrefix", "/foo", "/foo/bar"), path_matches("PathPrefix", "/foo", "/foobar")
    (True, False)
    >>> path_matches("PathPrefix", "/foo/", "/foo"), path_matches("Exact", "/foo", "/foo/")
    (True, False)
    >>> path_matches("RegularExpression", "/v[0-9]+/.*", "/v2/items")
    True
    """
    if kind == "Exact":
        return path == value
    if kind == "RegularExpression":
        return _full_match(value, path)
    wanted = [p for p in value.split("/") if p]
    parts = [p for p in path.split("/") if p]
    return parts[: len(wanted)] == wanted


def _full_match(pattern: str, text: str) -> bool:
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return False


def _value_matches(spec: dict[str, Any], value: str | None) -> bool:
    if value is None:
        return False
    if spec.get("type") == "RegularExpression":
        return _full_match(str(spec.get("value", "")), value)
    return value == str(spec.get("value", ""))


def match_applies(spec: dict[str, Any], request: Request) -> bool:
    """Whether every field of one ``HTTPRouteMatch`` holds for the request (ANDed).

    >>> r = Request("a.test", "/cart", "v=2", "POST", {"X-Env": "canary"})
    >>> match_applies({"path": {"type": "Exact", "value": "/cart"}, "method": "POST",
    ...                "headers": [{"name": "x-env", "value": "canary"}],
    ...                "queryParams": [{"name": "v", "value": "2"}]}, r)
    True
    >>> match_applies({"method": "GET"}, r), match_applies({"queryParams": [{"name": "V", "value": "2"}]}, r)
    (False, False)
    """
    path = spec.get("path") or DEFAULT_MATCH["path"]
    if not path_matches(path.get("type", "PathPrefix"), path.get("value", "/"), request.path):
        return False
    if spec.get("method") and spec["method"] != request.method:
        return False
    for header in spec.get("headers") or []:
        if not _value_matches(header, request.header(str(header.get("name", "")))):
            return False
    params = request.params()
    return all(
        _value_matches(query, params.get(str(query.get("name", ""))))
        for query in spec.get("queryParams") or []
    )


def _precedence(spec: dict[str, Any]) -> tuple[int, int, int, int, int]:
    path = spec.get("path") or DEFAULT_MATCH["path"]
    kind = path.get("type", "PathPrefix")
    order = {"Exact": 0, "PathPrefix": 1}.get(kind, 2)
    length = len(str(path.get("value", "/")).rstrip("/")) if kind == "PathPrefix" else 0
    return (
        order,
        -length,
        0 if spec.get("method") else 1,
        -len(spec.get("headers") or []),
        -len(spec.get("queryParams") or []),
    )


def choose(routes: list[Attached], request: Request) -> Choice | None:
    """The match that wins for ``request`` among the routes on one listener, or None (Envoy
    then answers 404).

    Parameters
    ----------
    routes : list of Attached
        The routes attached to the listener the request came in on.
    request : Request

    Returns
    -------
    Choice or None

    Examples
    --------
    >>> def route(name, rules, hosts=(), created="2026-01-01T00:00:00Z"):
    ...     obj = {"metadata": {"namespace": "d", "name": name, "creationTimestamp": created},
    ...            "spec": {"hostnames": list(hosts), "rules": rules}}
    ...     return Attached(obj, ("d", name), tuple(hosts) or ("*",))
    >>> a = route("a", [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}])
    >>> b = route("b", [{"matches": [{"path": {"type": "PathPrefix", "value": "/v2"}}]}])
    >>> choose([a, b], Request("x.test", "/v2/cart")).attached.key
    ('d', 'b')
    >>> choose([a, b], Request("x.test", "/v22")).attached.key
    ('d', 'a')
    >>> choose([b], Request("x.test", "/")) is None
    True
    """
    best: tuple[Any, ...] | None = None
    chosen: tuple[Attached, int, int, str, dict[str, Any]] | None = None
    count = 0
    for attached in routes:
        host = _matching_hostname(attached.hostnames, request.host)
        if host is None:
            continue
        meta = attached.route["metadata"]
        for i, rule in enumerate((attached.route.get("spec") or {}).get("rules") or []):
            for j, spec in enumerate(rule.get("matches") or [DEFAULT_MATCH]):
                if not match_applies(spec, request):
                    continue
                count += 1
                key = (
                    hostnames.rank(host),
                    _precedence(spec),
                    meta.get("creationTimestamp", ""),
                    f"{meta['namespace']}/{meta['name']}",
                    i,
                    j,
                )
                if best is None or key < best:
                    best, chosen = key, (attached, i, j, host, spec)
    if chosen is None:
        return None
    return Choice(*chosen, candidates=count)


def _matching_hostname(names: tuple[str, ...], host: str) -> str | None:
    """The most specific of a route's hostnames (on this listener) that matches ``host``."""
    found = [n for n in names if n == "*" or hostnames.matches(n, host)]
    return min(found, key=hostnames.rank) if found else None


def listener_for(listeners: list[Any], host: str) -> Any | None:
    """Of the listeners on one port, the one whose hostname matches ``host`` most closely
    (exact, then the longest wildcard, then one without a hostname), as Envoy's virtual
    hosts pick.

    >>> from app.cluster.controllers.gateway.attachment import Listener
    >>> any_ = Listener(("d", "g"), "any", 80, "HTTP", None, 0)
    >>> shop = Listener(("d", "g"), "shop", 80, "HTTP", "shop.example.com", 1)
    >>> listener_for([any_, shop], "shop.example.com").name, listener_for([any_, shop], "x.test").name
    ('shop', 'any')
    """
    found = [x for x in listeners if hostnames.matches(x.hostname, host)]
    return min(found, key=lambda x: hostnames.rank(x.hostname or "*")) if found else None
