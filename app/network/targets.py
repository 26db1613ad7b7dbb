"""Where a trace starts and where it is sent: ``pod/<ns>/<name>``, ``node/<name>``,
``external[/<ip>]``; and a URL or ``host:port[/udp]``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.cluster import constants as c
from app.errors import FieldError, InvalidObjects, NotFound


@dataclass(frozen=True)
class Source:
    kind: str  # pod, node or external
    ip: str
    node: str | None
    pod: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        if self.pod is not None:
            return f"Pod {self.pod['metadata']['namespace']}/{self.pod['metadata']['name']}"
        if self.kind == "node":
            return f"node {self.node}"
        return f"the outside client {self.ip}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "ip": self.ip, "node": self.node}
        if self.pod is not None:
            data["namespace"] = self.pod["metadata"]["namespace"]
            data["name"] = self.pod["metadata"]["name"]
        return data


@dataclass(frozen=True)
class Target:
    scheme: str  # http, https or "" for host:port
    host: str
    port: int
    protocol: str  # TCP or UDP
    path: str
    # The URL's query string (no "?"): HTTPRoute queryParams match it; not in the repr.
    query: str = field(default="", repr=False, compare=False)

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "host": self.host,
            "port": self.port,
            "protocol": self.protocol,
            "path": self.path,
            **({"query": self.query} if self.query else {}),
        }


def _bad(field: str, message: str) -> InvalidObjects:
    return InvalidObjects(f"{field}: {message}", [FieldError(field, message)])


def parse_source(cluster: Any, text: str) -> Source:
    """Read ``from``.

    >>> from app.cluster.cluster import Cluster
    >>> parse_source(Cluster.create(seed=1), "external").ip
    '198.51.100.7'
    >>> parse_source(Cluster.create(seed=1), "node/worker-2").ip
    '10.0.0.12'

    Raises
    ------
    InvalidObjects
        For text of the wrong shape.
    NotFound
        For a pod or node that does not exist.
    """
    parts = text.strip().split("/")
    if parts[0] == "external" and len(parts) <= 2:
        ip = parts[1] if len(parts) == 2 else c.EXTERNAL_CLIENT_IP
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            raise _bad(
                "from", f'Invalid value: "{text}": external/<IPv4 or IPv6 address>'
            ) from None
        if address.version == 6 and (
            address.is_loopback or address.is_unspecified or address.is_multicast
        ):
            raise _bad(
                "from", f'Invalid value: "{text}": an outside client needs a unicast address'
            )
        return Source("external", str(address), None)
    if parts[0] == "node" and len(parts) == 2:
        node = cluster.get("Node", "", parts[1])
        if node is None:
            raise NotFound(f'nodes "{parts[1]}" not found')
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        return Source("node", ip, parts[1])
    if parts[0] == "pod" and len(parts) == 3:
        pod = cluster.get("Pod", parts[1], parts[2])
        if pod is None:
            raise NotFound(f'pods "{parts[2]}" not found in namespace "{parts[1]}"')
        status = pod.get("status") or {}
        if not status.get("podIP") or not pod["spec"].get("nodeName"):
            raise _bad(
                "from",
                f"Pod {parts[1]}/{parts[2]} is {status.get('phase', 'Pending')} and has no IP yet: it cannot send anything",
            )
        return Source("pod", status["podIP"], pod["spec"]["nodeName"], pod)
    raise _bad(
        "from",
        f'Invalid value: "{text}": use pod/<namespace>/<name>, node/<name>, external or external/<ip>',
    )


def parse_target(text: str) -> Target:
    """Read ``to``: a URL (``http://web/api``, ``https://shop.example.com/``) or
    ``host:port`` with an optional ``/udp`` or ``/tcp``.

    >>> parse_target("http://web.default.svc.cluster.local/api")
    Target(scheme='http', host='web.default.svc.cluster.local', port=80, protocol='TCP', path='/api')
    >>> parse_target("10.96.0.10:53/udp")
    Target(scheme='', host='10.96.0.10', port=53, protocol='UDP', path='')
    >>> parse_target("https://shop.example.com").port
    443
    >>> parse_target("http://[fd00:10:96::1234]:8080/").host, parse_target("[fd00:10:96::a]:53/udp").port
    ('fd00:10:96::1234', 53)

    Raises
    ------
    InvalidObjects
        For anything else, naming the field ``to``.
    """
    text = text.strip()
    if not text or len(text) > 2048 or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise _bad("to", f'Invalid value: "{text[:80]}": give a URL or host:port')
    if "://" in text:
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            raise _bad(
                "to", f'Invalid value: "{text}": not a URL with a host and a port 1-65535'
            ) from None
        if parts.scheme not in ("http", "https"):
            raise _bad(
                "to", f'Unsupported value: "{parts.scheme}": supported values: "http", "https"'
            )
        if port is None:
            port = 443 if parts.scheme == "https" else 80
        host = _host(parts.hostname or "", text)
        if not 1 <= port <= 65535:
            raise _bad("to", f'Invalid value: "{text}": the port must be 1-65535')
        return Target(parts.scheme, host, port, "TCP", parts.path or "/", parts.query)
    protocol = "TCP"
    lowered = text.lower()
    if lowered.endswith(("/udp", "/tcp")):
        protocol = lowered[-3:].upper()
        text = text[:-4]
    if text.startswith("["):  # [IPv6]:port, as in a URL
        host, _, port_text = text[1:].partition("]")
        if not port_text.startswith(":"):
            raise _bad("to", f'Invalid value: "{text}": write an IPv6 address as [address]:port')
        port_text = port_text[1:]
        return Target("", _host(host, text), _port(port_text), protocol, "")
    host, _, port_text = text.rpartition(":")
    if ":" in host:  # an IPv6 address needs its brackets to tell it from the port
        raise _bad("to", f'Invalid value: "{text}": write an IPv6 address as [address]:port')
    if not host:
        host, port_text = text, "80"
    return Target("", _host(host, text), _port(port_text), protocol, "")


def _port(port_text: str) -> int:
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise _bad("to", f'Invalid value: "{port_text}": the port must be 1-65535')
    return int(port_text)


def _host(host: str, text: str) -> str:
    """A host name (DNS labels) or an IP address, lower-cased, without a trailing dot; an IPv6
    address in its compressed form (``fd00:10:96::1234``)."""
    host = host.rstrip(".").lower()
    if ":" in host:
        try:
            address6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise _bad("to", f'Invalid value: "{text}": not an IPv6 address') from None
        if address6.is_unspecified or address6.is_multicast:
            raise _bad(
                "to", f'Invalid value: "{text}": {host} is not an address one host can connect to'
            )
        return str(address6)
    labels = host.split(".")
    valid = (
        bool(host)
        and len(host) <= 253
        and all(
            label
            and len(label) <= 63
            and label.isascii()
            and all(ch.isalnum() or ch == "-" for ch in label)
            and not label.startswith("-")
            and not label.endswith("-")
            for label in labels
        )
    )
    if not valid:
        raise _bad("to", f'Invalid value: "{text}": the host must be a DNS name or an IP address')
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return host
    if address in ipaddress.ip_network("0.0.0.0/8") or address.is_multicast or address.is_reserved:
        raise _bad(
            "to", f'Invalid value: "{text}": {host} is not an address one host can connect to'
        )
    return host


#: RFC 9110 ``token`` (methods and header names): visible ASCII but delimiters.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
MAX_METHOD, MAX_HEADERS, MAX_HEADER_NAME, MAX_HEADER_VALUE = 32, 32, 128, 1024


def check_request(method: Any, headers: Any) -> tuple[str, dict[str, str]]:
    """Check a trace's HTTP ``method`` and ``headers`` (RFC 9110: both a ``token``; a field
    value visible characters, spaces and tabs, no CR, LF or NUL), sizes bounded.

    Returns
    -------
    tuple of (str, dict)
        The method and a copy of the headers.

    Raises
    ------
    InvalidObjects
        Naming ``method`` or ``headers.<name>`` and the rule broken.

    >>> check_request("POST", {"X-Env": "canary"})
    ('POST', {'X-Env': 'canary'})
    >>> try:
    ...     check_request("GET", {"Bad Name": "x"})
    ... except InvalidObjects as error:
    ...     print(error.errors[0].field)
    headers.Bad Name
    """
    if method is None:
        method = "GET"
    if (
        not isinstance(method, str)
        or not method
        or len(method) > MAX_METHOD
        or not set(method) <= _TOKEN
    ):
        raise _bad(
            "method",
            f'Invalid value: "{str(method)[:40]}": an HTTP method is a token (letters, digits and '
            f"!#$%&'*+-.^_`|~), 1-{MAX_METHOD} characters, such as GET or POST",
        )
    if headers is None:
        headers = {}
    if not isinstance(headers, dict):
        raise _bad("headers", "Invalid value: give an object of header name → value")
    if len(headers) > MAX_HEADERS:
        raise _bad("headers", f"Too many: {len(headers)}: at most {MAX_HEADERS} headers")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        where = f"headers.{str(name)[:MAX_HEADER_NAME]}"
        if (
            not isinstance(name, str)
            or not name
            or len(name) > MAX_HEADER_NAME
            or not set(name) <= _TOKEN
        ):
            raise _bad(
                where,
                f"Invalid value: a header name is a token (letters, digits and !#$%&'*+-.^_`|~), "
                f"1-{MAX_HEADER_NAME} characters",
            )
        if not isinstance(value, str) or len(value) > MAX_HEADER_VALUE:
            raise _bad(
                where,
                f"Invalid value: a header value is text of at most {MAX_HEADER_VALUE} characters",
            )
        if any(ch in "\r\n\0" or (ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in value):
            raise _bad(
                where,
                "Invalid value: a header value may not hold CR, LF, NUL or other control characters",
            )
        checked[name] = value.strip(" \t")
    return method, checked
