"""DNS names and records as a resolver sends them and ``dig`` prints them: the query types
and rcodes, one resource record, a name checked as a resolver would send it, and the names of
addresses (the reverse names of PTR queries, the dashed labels of endpoints).

Names keep the letter case they were written in: resolvers send it, and servers answer in it
(:mod:`app.network.dns_records`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any

from app.cluster import constants as c
from app.errors import NOT_SUPPORTED, FieldError, InvalidObjects

TTL = 30  # the Corefile's `ttl 30`
QTYPES = ("A", "AAAA", "CNAME", "PTR", "SRV", "TXT", "SOA", "NS")
NOERROR = "NOERROR"
NXDOMAIN = "NXDOMAIN"
COREDNS = "coredns"
UPSTREAM = "upstream"
ZONE = f"{c.CLUSTER_DOMAIN}."
REVERSE_ZONES = ("in-addr.arpa.", "ip6.arpa.")
_LABEL = r"[a-z0-9_-]{1,63}"
_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*\.?")

Answer = tuple[str, list["Record"]]


@dataclass(frozen=True)
class Record:
    """One resource record, as ``dig`` prints it.

    >>> Record("web.default.svc.cluster.local.", "A", "10.96.12.34").to_dict()
    {'name': 'web.default.svc.cluster.local.', 'type': 'A', 'data': '10.96.12.34', 'ttl': 30}
    """

    name: str  # the FQDN, with the trailing dot
    type: str  # A, AAAA, SRV, PTR, CNAME, TXT, SOA, NS
    data: str  # "10.96.12.34" | "0 100 80 web.default.svc.cluster.local." | '"1.1.0"' (TXT)
    ttl: int = TTL

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- input checks -----------------------------------------------------------------------------
def check_type(qtype: str) -> str:
    """The query type in upper case, or :class:`InvalidObjects` naming field ``type``.

    >>> check_type("srv")
    'SRV'
    """
    text = qtype.upper() if isinstance(qtype, str) else qtype
    if text not in QTYPES:
        supported = ", ".join(f'"{t}"' for t in QTYPES)
        raise InvalidObjects(
            "the DNS query is invalid",
            [
                FieldError(
                    "type",
                    f'Unsupported value: "{qtype}": supported values: {supported}',
                    NOT_SUPPORTED,
                )
            ],
        )
    return text


def check_name(name: str) -> str:
    """The name without surrounding blanks, in its own letter case (a trailing dot is kept:
    resolvers send the case they were given, and servers answer in it), or
    :class:`InvalidObjects` naming field ``name`` when no resolver would send it.

    >>> check_name(" Web.Default ")
    'Web.Default'
    >>> check_name("web..default")
    Traceback (most recent call last):
    ...
    app.errors.InvalidObjects: the DNS query is invalid
    """
    text = name.strip() if isinstance(name, str) else ""
    if _NAME.fullmatch(text.lower()) and len(text.rstrip(".")) <= 253:
        return text
    raise InvalidObjects(
        "the DNS query is invalid",
        [
            FieldError(
                "name",
                f'Invalid value: "{name}": a DNS name is labels of 1 to 63 letters, digits, '
                "'-' or '_' separated by dots, at most 253 characters, with an optional "
                "trailing dot",
            )
        ],
    )


def fqdn(name: str) -> str:
    """``name`` checked, in its own letter case, with its trailing dot.

    >>> fqdn("Web.default.svc.cluster.local")
    'Web.default.svc.cluster.local.'
    """
    return check_name(name).rstrip(".") + "."


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address (not a name, not a range).

    Parameters
    ----------
    text : str
        An address or a DNS name, without a trailing dot.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_ip("10.96.0.10"), is_ip("fd00:10:96::a"), is_ip("web.default"), is_ip("10.0.0.0/8")
    (True, True, False, False)
    """
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def reverse_name(ip: str) -> str:
    """The PTR name of an address, as ``dig -x`` asks it.

    >>> reverse_name("10.96.0.10")
    '10.0.96.10.in-addr.arpa.'
    """
    return ipaddress.ip_address(ip).reverse_pointer + "."


def address_from_reverse(name: str) -> str | None:
    """The address a full reverse name stands for, or None (a partial or foreign name).

    >>> address_from_reverse("10.0.96.10.in-addr.arpa."), address_from_reverse("96.10.in-addr.arpa.")
    ('10.96.0.10', None)
    """
    labels = name.rstrip(".").split(".")
    if name.endswith(".in-addr.arpa.") and len(labels) == 6:
        text = ".".join(reversed(labels[:4]))
    elif name.endswith(".ip6.arpa.") and len(labels) == 34:
        nibbles = "".join(reversed(labels[:32]))
        text = ":".join(nibbles[i : i + 4] for i in range(0, 32, 4))
    else:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def dashed(ip: str) -> str:
    """An address as one DNS label (CoreDNS's ``endpointHostname``): 10.244.1.5 → 10-244-1-5.

    >>> dashed("10.244.1.5"), dashed("fd00:10:244:1::5")
    ('10-244-1-5', 'fd00-10-244-1--5')
    """
    return ip.replace(".", "-").replace(":", "-")


def service_fqdn(namespace: str, name: str, zone: str = ZONE) -> str:
    """A Service's name under ``zone`` (the question's spelling of the cluster zone).

    Parameters
    ----------
    namespace, name : str
        The Service's namespace and name.
    zone : str, optional
        The cluster zone with its trailing dot, :data:`ZONE` unless the question spelt it
        another way (CoreDNS answers in the question's letter case).

    Returns
    -------
    str
        ``<name>.<namespace>.svc.<zone>``, with the trailing dot.

    Examples
    --------
    >>> service_fqdn("default", "web"), service_fqdn("shop", "db", "Cluster.Local.")
    ('web.default.svc.cluster.local.', 'db.shop.svc.Cluster.Local.')
    """
    return f"{name}.{namespace}.svc.{zone}"
