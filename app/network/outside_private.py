"""Why the client outside cannot reach a private address that is none of the cluster's.

The internet routes no private range: RFC 1918 sets 10.0.0.0/8, 172.16.0.0/12 and
192.168.0.0/16 aside for use inside one network, whose routes are not passed on beyond it, and
RFC 4193's unique local IPv6 addresses (fc00::/7; fd00::/8 is the locally assigned half kind
and Podpath use) are meant for a site, not the global internet.

The cluster's own node and load balancer addresses are handled before this (the simulated
cloud forwards to them); any other private address, a ClusterIP of a family the cluster does
not have included, is nowhere the client can reach.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from app.cluster import families

#: The private ranges and the RFC that sets each one aside.
PRIVATE = (
    (ipaddress.ip_network("10.0.0.0/8"), "RFC 1918"),
    (ipaddress.ip_network("172.16.0.0/12"), "RFC 1918"),
    (ipaddress.ip_network("192.168.0.0/16"), "RFC 1918"),
    (ipaddress.ip_network("fc00::/7"), "RFC 4193, unique local"),
)


def private_range(ip: str) -> tuple[str, str] | None:
    """The private range ``ip`` is in and the RFC that reserves it, or None.

    >>> private_range("fd00:10:96::1"), private_range("10.96.0.1"), private_range("8.8.8.8")
    (('fc00::/7', 'RFC 4193, unique local'), ('10.0.0.0/8', 'RFC 1918'), None)
    """
    address = ipaddress.ip_address(ip)
    for network, rfc in PRIVATE:
        if address.version == network.version and address in network:
            return str(network), rfc
    return None


def unreachable_reason(config: Any, ip: str, port: int) -> str | None:
    """Why the outside client's packet to ``[ip]:port`` goes nowhere, or None for an address
    the internet routes.

    >>> from app.cluster.state import ClusterConfig
    >>> print(unreachable_reason(ClusterConfig(), "fd00:10:96::1", 80))
    [fd00:10:96::1]:80 is a private address (fc00::/7, RFC 4193, unique local): the internet has no route to it, so the request never leaves the client's network. This cluster is IPv4-only: it has no IPv6 addresses at all. From outside, use a node's address and a NodePort, a LoadBalancer IP or an Ingress host.
    >>> unreachable_reason(ClusterConfig(), "93.184.216.34", 80) is None
    True
    """
    found = private_range(ip)
    if found is None:
        return None
    network, rfc = found
    family = families.family_of(ip)
    have = families.of(config)
    if family not in have:
        extra = f" This cluster is {have[0]}-only: it has no {family} addresses at all."
    else:
        extra = (
            " It is none of this cluster's node or load balancer addresses, and its pod and "
            "Service addresses only exist inside the cluster."
        )
    return (
        f"{families.bracketed(ip)}:{port} is a private address ({network}, {rfc}): the internet "
        "has no route to it, so the request never leaves the client's network."
        f"{extra} From outside, use a node's address and a NodePort, a LoadBalancer IP or an "
        "Ingress host."
    )
