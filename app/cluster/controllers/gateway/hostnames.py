"""Gateway API hostnames: how a listener's hostname and a route's hostnames meet.

The rules are the Gateway API's (``apis/v1`` ``Hostname``, ``Listener.hostname`` and
``HTTPRouteSpec.hostnames``), not the Ingress API's: a wildcard ``*.example.com`` is a suffix
match, so it matches ``foo.example.com`` and ``foo.bar.example.com`` but not ``example.com``.
A listener without a hostname matches every host; a route without hostnames takes its
listener's.
"""

from __future__ import annotations


def matches(pattern: str | None, host: str) -> bool:
    """Whether a Gateway API hostname (exact or ``*.`` wildcard; None or ``""``: any) matches
    a request's host.

    >>> matches("*.example.com", "foo.bar.example.com"), matches("*.example.com", "example.com")
    (True, False)
    >>> matches("shop.example.com", "SHOP.example.com."), matches(None, "anything.test")
    (True, True)
    """
    host = host.lower().rstrip(".")
    if not pattern:
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


def intersect(listener: str | None, route: list[str]) -> list[str]:
    """The hostnames a route serves on a listener (``["*"]`` when neither names any), or
    ``[]`` when they have none in common (the route's Accepted condition is then False with
    reason NoMatchingListenerHostname).

    Per ``HTTPRouteSpec.hostnames``: a route hostname equal to the listener's, or matched by
    the listener's wildcard, is kept as written; a route wildcard that covers the listener's
    hostname gives the listener's hostname; of two wildcards the narrower is kept.

    >>> intersect("*.example.com", ["foo.example.com", "bar.example.net"])
    ['foo.example.com']
    >>> intersect("very.specific.com", ["*.specific.com"])
    ['very.specific.com']
    >>> intersect("*.example.com", ["*.wildcard.example.com"])
    ['*.wildcard.example.com']
    >>> intersect("foo.example.com", []), intersect(None, []), intersect("a.test", ["b.test"])
    (['foo.example.com'], ['*'], [])
    """
    if not route:
        return [listener] if listener else ["*"]
    if not listener:
        return list(route)
    kept: list[str] = []
    for name in route:
        if name == listener or matches(listener, name):
            found = name
        elif name.startswith("*.") and matches(name, listener.removeprefix("*.")):
            found = listener  # the route's wildcard covers the listener's (narrower) name
        else:
            continue
        if found not in kept:
            kept.append(found)
    return kept


def rank(hostname: str) -> tuple[int, int]:
    """Sort key of hostname precedence: exact first, then wildcards longest first, then any.

    >>> sorted(["*", "*.example.com", "a.example.com", "*.b.example.com"], key=rank)
    ['a.example.com', '*.b.example.com', '*.example.com', '*']
    """
    if hostname in ("", "*"):
        return (2, 0)
    if hostname.startswith("*."):
        return (1, -len(hostname))
    return (0, 0)
