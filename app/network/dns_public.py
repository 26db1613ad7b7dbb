"""The simulated internet's DNS: what the node's resolver answers for every name outside the
cluster (CoreDNS forwards them to it).

The host of a served Ingress or Gateway answers with its load balancer's address; any other
name that looks public answers with a stable address in 192.0.2.0/24 (TEST-NET-1), made from
its hash; special-use names and names that do not look public are NXDOMAIN.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from app.cluster import constants as c
from app.network.dns_names import NOERROR, NXDOMAIN, ZONE, Answer, Record

if TYPE_CHECKING:  # pragma: no cover
    from app.network.dns_lookups import Lookups

# Special-use names that no public DNS answers (RFC 6761, RFC 6762, ICANN's .internal).
RESERVED_TLDS = frozenset({"local", "test", "invalid", "localhost", "internal", "arpa"})
# Generic top-level domains the simulated internet knows; every two-letter label counts as a
# country-code TLD. Cluster-looking names (`web.default`, `web.default.svc`) stay unknown.
GENERIC_TLDS = frozenset(
    (  # noqa: SIM905 (a word list reads better as words)
        "com net org edu gov mil int info biz name pro mobi aero coop museum jobs travel tel "
        "asia io ai app dev cloud tech online site store shop blog xyz page news website space "
        "live email digital software games media academy wiki"
    ).split()
)
_HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def public_lookup(look: Lookups, qname: str, qtype: str) -> Answer:
    """The public DNS's answer to one checked FQDN (see :func:`app.network.dns.public_answer`).

    Parameters
    ----------
    look : Lookups
        The cluster's lookups, for the hosts of its Ingresses and Gateways.
    qname : str
        The name asked, checked (:func:`app.network.dns_names.fqdn`), with its trailing dot.
    qtype : str
        The query type, upper case.

    Returns
    -------
    tuple of (str, list of Record)
        The rcode and the records, under ``qname`` as it was asked: an A (or AAAA) record,
        or none when the name exists but has no record of that type.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.network.dns_lookups import Lookups
    >>> look = Lookups(Cluster.create(seed=1))
    >>> rcode, records = public_lookup(look, "Example.com.", "A")
    >>> rcode, records[0].name, records[0].data == public_address("example.com")
    ('NOERROR', 'Example.com.', True)
    >>> public_lookup(look, "web.default.svc.", "A"), public_lookup(look, "printer.local.", "A")
    (('NXDOMAIN', []), ('NXDOMAIN', []))
    """
    lower = qname.lower()
    name = lower.rstrip(".")
    labels = name.split(".")
    in_cluster_domain = lower.endswith("." + ZONE) or lower == ZONE
    address = None if in_cluster_domain else look.ingress_address(name)
    if address is None:
        if labels[-1] in RESERVED_TLDS or not is_public_name(labels):
            return NXDOMAIN, []
        address = public_address(name)
    # An Ingress or Gateway host on an IPv6 cluster points at an IPv6 load balancer: AAAA.
    rtype = "AAAA" if ":" in address else "A"
    return NOERROR, [Record(qname, rtype, address)] if qtype == rtype else []


def is_public_name(labels: list[str]) -> bool:
    """Whether the simulated internet knows a name: two labels or more, hostname labels, under
    a generic TLD it knows or a two-letter (country-code) one.

    >>> is_public_name(["shop", "example", "com"]), is_public_name(["web", "default", "svc"])
    (True, False)
    """
    tld = labels[-1]
    known = tld in GENERIC_TLDS or (len(tld) == 2 and tld.isalpha())
    return len(labels) >= 2 and known and all(_HOST_LABEL.fullmatch(x) for x in labels)


def public_address(name: str) -> str:
    """A stable address for a public name in 192.0.2.0/24 (never .0 or .255), from its hash.

    >>> public_address("example.com") == public_address("example.com")
    True
    >>> public_address("example.com").startswith("192.0.2.")
    True
    """
    digest = hashlib.sha256(name.rstrip(".").lower().encode()).digest()
    host = int.from_bytes(digest[:4], "big") % 254 + 1
    return str(c.PUBLIC_HOSTS.network_address + host)
