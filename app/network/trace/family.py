"""Which IP family a trace travels in, on a cluster with IPv6.

A URL with an IPv6 address (``http://[fd00:10:96::1234]/``) travels over IPv6. A name is
resolved as curl resolves it: both families asked, and the IPv6 answer tried first (curl's
"happy eyeballs", RFC 8305, gives IPv6 a head start and falls back to IPv4); so a name with an
AAAA record travels over IPv6 from a client that has an IPv6 address, unless the trace asks
for a family (curl's ``-4`` and ``-6``). The client then sends from its own address of that
family: a dual-stack pod has one of each.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.cluster import constants as c
from app.cluster import families
from app.errors import FieldError, InvalidObjects

FAMILY_CHOICES = ("IPv4", "IPv6")


def query_types(cluster: Any, source: Any, wanted: str | None = None) -> list[str]:
    """The DNS record types to ask for, in the order the client tries them.

    Parameters
    ----------
    cluster : Cluster
    source : Source
        The client (its addresses decide whether it can use IPv6).
    wanted : str, optional
        ``IPv4`` or ``IPv6`` when the trace names the family (curl ``-4`` / ``-6``).

    Returns
    -------
    list of str
        ``["A"]`` on an IPv4 cluster; ``["AAAA", "A"]`` on a dual-stack one from a client with
        an IPv6 address; ``["AAAA"]`` on an IPv6 cluster.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> from app.network.targets import parse_source
    >>> cluster = Cluster.create(ClusterConfig(ip_family="dual"), seed=1)
    >>> node = parse_source(cluster, "node/worker-1")
    >>> query_types(cluster, node), query_types(cluster, node, "IPv4")
    (['AAAA', 'A'], ['A'])
    """
    if wanted:
        return ["AAAA" if wanted == "IPv6" else "A"]
    have = families.of(cluster.config)
    if have == (families.IPV4,):
        return ["A"]
    if have == (families.IPV6,) and source.kind != "external":
        return ["AAAA"]
    # A client with both addresses (a dual-stack pod or node, the outside client) asks for
    # both, IPv6 first.
    return ["AAAA", "A"] if addresses_of(cluster, source)[1:] else ["A"]


def addresses_of(cluster: Any, source: Any) -> list[str]:
    """The source's addresses, primary first: a pod's ``podIPs``, a node's InternalIPs, the
    outside client's IPv4 and IPv6 address."""
    if source.kind == "pod" and source.pod is not None:
        status = source.pod.get("status") or {}
        return [e["ip"] for e in status.get("podIPs") or ()] or [status.get("podIP", "")]
    if source.kind == "node":
        node = cluster.get("Node", "", source.node)
        return [
            a["address"]
            for a in (node or {}).get("status", {}).get("addresses") or ()
            if a.get("type") == "InternalIP"
        ]
    return [source.ip, c.EXTERNAL_CLIENT_IP6 if ":" not in source.ip else c.EXTERNAL_CLIENT_IP]


def address_like(cluster: Any, source: Any, address: str) -> str | None:
    """The source's own address of ``address``'s family, or None when it has none."""
    if (":" in source.ip) == (":" in address):
        return source.ip
    return next(
        (ip for ip in addresses_of(cluster, source) if ip and (":" in ip) == (":" in address)),
        None,
    )


def send_from_family(run: Any, address: str) -> bool:
    """Make the trace's source send from its address of ``address``'s family; when it has
    none, end the trace (unreachable, saying why) and return False.

    >>> from types import SimpleNamespace
    >>> from app.cluster.cluster import Cluster
    >>> from app.network.targets import parse_source
    >>> from app.network.model import Trace
    >>> cluster = Cluster.create(seed=1)
    >>> run = SimpleNamespace(cluster=cluster, source=parse_source(cluster, "node/worker-1"),
    ...                       trace=Trace({}, {}, 0))
    >>> run.end = lambda verdict, reason: setattr(run.trace, "verdict", verdict)
    >>> send_from_family(run, "fd00:10:96::1"), run.trace.verdict
    (False, 'unreachable')
    """
    source = run.source
    match = address_like(run.cluster, source, address)
    if match is None:
        family = "IPv6" if ":" in address else "IPv4"
        only = (
            "this cluster is IPv4-only (a dual-stack sandbox gives every pod an IPv6 address)"
            if run.cluster.config.ip_family == "ipv4"
            else "this cluster is IPv6-only"
        )
        run.end(
            "unreachable",
            f"{source.label} has no {family} address, so it cannot send to {address}: {only}.",
        )
        return False
    if match != source.ip:
        run.source = replace(source, ip=match)
        run.trace.source = run.source.to_dict()
    return True


def check_family(value: str | None) -> str | None:
    """The trace's ``ipFamily``: None, ``IPv4`` or ``IPv6``.

    Raises
    ------
    InvalidObjects
        For anything else, naming the field.

    >>> check_family("IPv6"), check_family(None)
    ('IPv6', None)
    """
    if value in (None, "", *FAMILY_CHOICES):
        return value or None
    listed = ", ".join(f'"{x}"' for x in FAMILY_CHOICES)
    message = f'Unsupported value: "{value}": supported values: {listed}'
    raise InvalidObjects(f"ipFamily: {message}", [FieldError("ipFamily", message)])


def no_record_reason(cluster: Any, name: str, qtype: str) -> str:
    """Why a name that exists resolves to nothing of the family asked for (``curl -6`` on an
    IPv4-only cluster: NOERROR with no AAAA record, which curl reports as "Could not resolve
    host", exit 6).

    >>> from app.cluster.cluster import Cluster
    >>> no_record_reason(Cluster.create(seed=1), "web", "AAAA")[:63]
    'The name web has no AAAA record (the answer is NOERROR, empty):'
    """
    family = "IPv6" if qtype == "AAAA" else "IPv4"
    have = families.of(cluster.config)
    if family not in have:
        why = f"this cluster is {have[0]}-only, so no Service has an {family} ClusterIP"
    else:
        why = (
            f"its Service is single-stack {families.other(family)} (spec.ipFamilies); "
            "ipFamilyPolicy: PreferDualStack gives it both families' ClusterIPs and records"
        )
    return (
        f"The name {name} has no {qtype} record (the answer is NOERROR, empty): {why}. A client "
        f"that asks for {family} addresses only (curl -{family[-1]}) has nothing to connect to "
        "and stops there, as curl does with Could not resolve host."
    )
