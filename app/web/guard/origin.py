"""Refuse requests from other sites, and Host names the server does not answer to.

A workspace's id is its only key, so a page on another site that knows it could otherwise
make the learner's browser change the workspace (a form POST, or a ``text/plain`` fetch that
needs no CORS preflight). Browsers say where a request comes from in ``Sec-Fetch-Site`` and
``Origin``; a change from another site is refused with 403. Programs (curl, kubectl, scripts)
send neither header and are not browsers a page can steer, so they pass.

The Host check closes DNS rebinding against a server on the learner's own machine: a page
on ``evil.example`` whose name is re-pointed at 127.0.0.1 reaches the server with
``Host: evil.example``, which a server bound to loopback refuses.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import Forbidden, PodpathError, UnsupportedMediaType
from app.settings import Settings
from app.web.errors import error_response

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: The names a server bound to loopback answers to unless told otherwise.
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})

#: Content types a page on another site may send without a CORS preflight. The JSON API
#: takes JSON or YAML, so it refuses these for changes.
SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)

#: Paths any Host may ask for: a load balancer's health check often uses an address.
ANY_HOST_PATHS = frozenset({"/healthz"})


def split_list(text: str) -> list[str]:
    """The entries of a comma-separated setting, trimmed and lower case.

    >>> split_list(" Podpath.example.org, ,localhost ")
    ['podpath.example.org', 'localhost']
    """
    return [part.strip().lower() for part in text.split(",") if part.strip()]


def is_loopback(host: str) -> bool:
    """Whether a listening address is only reachable from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The Host names the server answers to; None for any.

    >>> sorted(allowed_hosts(Settings()))
    ['127.0.0.1', '[::1]', 'localhost']
    >>> allowed_hosts(Settings(host="0.0.0.0")) is None
    True
    >>> sorted(allowed_hosts(Settings(host="0.0.0.0", allowed_hosts="podpath.school.example")))
    ['podpath.school.example']
    """
    names = split_list(settings.allowed_hosts)
    if "*" in names:
        return None
    if names:
        return frozenset(names)
    return LOCAL_NAMES if is_loopback(settings.host) else None


def host_name(host_header: str) -> str:
    """The name in a Host header, without the port.

    >>> host_name("Podpath.Example:8000"), host_name("[::1]:8000"), host_name("[::1]")
    ('podpath.example', '[::1]', '[::1]')
    """
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.index("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def host_allowed(name: str, allowed: frozenset[str] | None) -> bool:
    """Whether ``name`` is in the list; an entry starting with a dot allows its subdomains.

    >>> host_allowed("a.school.example", frozenset({".school.example"}))
    True
    >>> host_allowed("evil.example", frozenset({"localhost"}))
    False
    """
    if allowed is None:
        return True
    return name in allowed or any(
        entry.startswith(".") and (name.endswith(entry) or name == entry[1:]) for entry in allowed
    )


def same_site(headers: Headers, allowed_origins: frozenset[str]) -> bool:
    """Whether a change was sent by Podpath's own pages (or a program, or an allowed origin).

    ``Origin`` is compared by host and port with the ``Host`` the request was sent to, so a
    proxy that terminates HTTPS does not make the server's own pages look foreign.
    """
    origin = headers.get("origin")
    if origin is not None and origin.lower() in allowed_origins:
        return True
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in {"same-origin", "none"}
    if origin is None:
        return True  # not sent by a browser
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


class OriginGuard:
    """Answer 400 to a Host not allowed, 403 to a change from another site, and 415 to a
    change to the JSON API in a content type a page on another site could send."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts(settings)
        self.allowed_origins = frozenset(
            o.rstrip("/") for o in split_list(settings.allowed_origins)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self.problem(scope)
        if problem is None:
            await self.app(scope, receive, send)
            return
        response = error_response(Request(scope), problem)
        await response(scope, receive, send)

    def problem(self, scope: Scope) -> PodpathError | None:
        headers = Headers(scope=scope)
        path = scope["path"]
        name = host_name(headers.get("host", ""))
        if path not in ANY_HOST_PATHS and not host_allowed(name, self.allowed_hosts):
            return PodpathError(
                f'the Host header "{name[:100]}" is not a name this server answers to; '
                "add it to PODPATH_ALLOWED_HOSTS if Podpath should be reached by that name"
            )
        if scope["method"] not in UNSAFE_METHODS:
            return None
        if not same_site(headers, self.allowed_origins):
            origin = headers.get("origin") or "another site"
            return Forbidden(
                f"refused a change sent from {origin[:100]}: only Podpath's own pages may change "
                "a sandbox. If Podpath is served under another name behind a proxy, add that "
                "origin to PODPATH_ALLOWED_ORIGINS"
            )
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if path.startswith("/api/") and media_type in SIMPLE_CONTENT_TYPES:
            return UnsupportedMediaType(
                f"the API takes changes as application/json or application/yaml, not "
                f"{media_type}: a page on another site could send {media_type} without asking"
            )
        return None
