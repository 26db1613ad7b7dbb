"""IP address, CIDR and port number checks, worded the way apimachinery words them."""

from __future__ import annotations

import ipaddress

IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"


def parse_ip(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse an IP address the way Go's ``net.ParseIP`` would (no zones, no spaces).

    Parameters
    ----------
    value : object
        The candidate.

    Returns
    -------
    IPv4Address or IPv6Address or None
        The address, or None when it is not one.

    Examples
    --------
    >>> str(parse_ip("10.0.0.1"))
    '10.0.0.1'
    >>> parse_ip("10.0.0") is None
    True
    """
    if not isinstance(value, str) or "%" in value or value.strip() != value:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def parse_cidr(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """Parse a CIDR the way Go's ``net.ParseCIDR`` would (host bits may be set).

    Parameters
    ----------
    value : object
        The candidate.

    Returns
    -------
    IPv4Network or IPv6Network or None
        The network, or None when it is not a CIDR.

    Examples
    --------
    >>> str(parse_cidr("10.244.1.7/24"))
    '10.244.1.0/24'
    >>> parse_cidr("10.244.1.7") is None
    True
    """
    if not isinstance(value, str) or "/" not in value or "%" in value:
        return None
    addr, _, bits = value.partition("/")
    if not bits.isdigit() or parse_ip(addr) is None:
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def ip_address(value: str) -> list[str]:
    """Check an IPv4 or IPv6 address string.

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> ip_address("2001:db8::1")
    []
    >>> ip_address("300.1.1.1")
    ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']
    """
    return [] if parse_ip(value) is not None else [IP_MSG]


def cidr(value: str) -> list[str]:
    """Check a CIDR string such as ``10.244.0.0/16``.

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> cidr("10.244.0.0/16")
    []
    >>> cidr("10.244.0.0")
    ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)']
    """
    return [] if parse_cidr(value) is not None else [CIDR_MSG]


def port_number(value: int) -> list[str]:
    """Check a port number (1-65535).

    Parameters
    ----------
    value : int
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> port_number(80)
    []
    >>> port_number(0)
    ['must be between 1 and 65535, inclusive']
    """
    return [] if 1 <= value <= 65535 else [PORT_RANGE_MSG]
