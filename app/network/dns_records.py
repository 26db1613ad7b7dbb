"""What the DNS servers answer: CoreDNS in the cluster, and the simulated internet's DNS.

CoreDNS runs kubeadm's Corefile::

    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . /etc/resolv.conf

so names under ``cluster.local`` get the records of the Kubernetes DNS specification
(https://github.com/kubernetes/dns/blob/master/docs/specification.md), the way CoreDNS's
kubernetes plugin builds them; reverse names it cannot answer fall through; every other name
is forwarded to the node's resolver, the simulated internet of :func:`public_lookup`.

Names are compared case-insensitively (specification, section 2.1) and answered under the name
as the question wrote it, as CoreDNS does (``handler_case_test.go``: ``SvC1.TeStNs...`` is
answered as ``SvC1.TeStNs...``; an SRV target keeps the question's spelling of the zone).

This module is CoreDNS's kubernetes plugin: the records of Services and pods, PTR for their
addresses, and the zone's own records (:mod:`app.network.coredns.apex`). The names and records
themselves are :mod:`app.network.dns_names`, what the servers read of the cluster
:mod:`app.network.dns_lookups`, and the simulated internet :mod:`app.network.dns_public`; their
public names can be imported from here too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from app.network.coredns import apex
from app.network.dns_lookups import Lookups, ready_endpoints
from app.network.dns_names import (
    COREDNS,
    NOERROR,
    NXDOMAIN,
    QTYPES,
    REVERSE_ZONES,
    TTL,
    UPSTREAM,
    ZONE,
    Answer,
    Record,
    address_from_reverse,
    check_name,
    check_type,
    dashed,
    fqdn,
    is_ip,
    reverse_name,
    service_fqdn,
)
from app.network.dns_public import (
    GENERIC_TLDS,
    RESERVED_TLDS,
    is_public_name,
    public_address,
    public_lookup,
)

__all__ = [
    "COREDNS",
    "GENERIC_TLDS",
    "MAX_CNAME_CHAIN",
    "NOERROR",
    "NXDOMAIN",
    "QTYPES",
    "RESERVED_TLDS",
    "REVERSE_ZONES",
    "TTL",
    "UPSTREAM",
    "ZONE",
    "Answer",
    "Lookups",
    "Record",
    "address_from_reverse",
    "authority",
    "check_name",
    "check_type",
    "coredns_lookup",
    "dashed",
    "fqdn",
    "is_ip",
    "is_public_name",
    "public_address",
    "public_lookup",
    "ready_endpoints",
    "reverse_name",
    "service_fqdn",
]

MAX_CNAME_CHAIN = 8  # CoreDNS stops following a CNAME chain after 8 links


# --- CoreDNS ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    """One of CoreDNS's ``msg.Service`` results: an address (or a CNAME target) and a port."""

    host: str  # an IP address, or a name (an ExternalName Service's CNAME target, with a dot)
    port: int | None  # None: an endpoint of a slice without ports
    owner: str  # the FQDN the entry is published under: the Service's or the endpoint's


def coredns_lookup(look: Lookups, qname: str, qtype: str, depth: int = 0) -> tuple[str, list, str]:
    """CoreDNS's answer to one checked FQDN: ``(rcode, records, who answered)``.

    Who answered is ``coredns`` for its own zones and ``upstream`` for what it forwarded.
    Names match in any letter case; the records carry ``qname`` as it was asked.

    Parameters
    ----------
    look : Lookups
        The cluster's lookups for this call.
    qname : str
        The name asked, checked (:func:`fqdn`), with its trailing dot.
    qtype : str
        The query type, upper case (:func:`check_type`).
    depth : int, optional
        How many CNAME links were followed to get here (CoreDNS stops at
        :data:`MAX_CNAME_CHAIN`).

    Returns
    -------
    tuple of (str, list of Record, str)
        The rcode (``NOERROR`` or ``NXDOMAIN``), the answer's records and who answered.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> look = Lookups(Cluster.create(seed=1))
    >>> name = "Kube-DNS.kube-system.svc.cluster.local."
    >>> rcode, records, server = coredns_lookup(look, name, "A")
    >>> rcode, [(r.name, r.data) for r in records], server
    ('NOERROR', [('Kube-DNS.kube-system.svc.cluster.local.', '10.96.0.10')], 'coredns')
    >>> coredns_lookup(look, reverse_name("10.96.0.10"), "PTR")[1][0].data
    'kube-dns.kube-system.svc.cluster.local.'
    >>> coredns_lookup(look, "nope.default.svc.cluster.local.", "A")
    ('NXDOMAIN', [], 'coredns')
    """
    lower = qname.lower()
    if lower == ZONE or lower.endswith("." + ZONE):
        return (*_kubernetes(look, qname, qtype, depth), COREDNS)
    if lower.endswith(REVERSE_ZONES) and qtype == "PTR":
        ip = address_from_reverse(lower)
        targets = look.ptr_targets(ip) if ip else []
        if targets:
            return NOERROR, [Record(qname, "PTR", t) for t in targets], COREDNS
        # `fallthrough in-addr.arpa ip6.arpa`: what the plugin cannot answer goes on to forward.
    return (*public_lookup(look, qname, qtype), UPSTREAM)


def authority(look: Lookups, qname: str, server: str, records: list[Record]) -> list[Record]:
    """The authority section of CoreDNS's answer: its zone's SOA when the answer holds no
    records (NXDOMAIN or NODATA, ``plugin.BackendError``); empty otherwise, and for what it
    forwarded (the simulated internet sends no SOA).

    >>> from app.cluster.cluster import Cluster
    >>> look = Lookups(Cluster.create(seed=1))
    >>> authority(look, "nope.Cluster.Local.", COREDNS, [])[0].data.split()[:2]
    ['ns.dns.Cluster.Local.', 'hostmaster.Cluster.Local.']
    """
    if server != COREDNS or records:
        return []
    zone = qname[-len(ZONE) :] if qname.lower().endswith(ZONE) else ZONE
    soa = apex.soa_data(zone, apex.serial(look.cluster), TTL)
    return [Record(zone, "SOA", soa, min(TTL, 300))]


def _kubernetes(look: Lookups, qname: str, qtype: str, depth: int) -> Answer:
    """The kubernetes plugin's ``ServeDNS``: the zone's own records (SOA, NS, TXT) by type,
    then ``Records`` for the rest; a type it has no records of answers as an A query would
    decide between NODATA and NXDOMAIN (its "fake A lookup")."""
    zone = qname[-len(ZONE) :]  # the question's spelling of the zone (CoreDNS keeps it)
    lower = qname.lower()
    if qtype == "SOA":  # only the apex has one; any other name is NODATA, existing or not
        soa = apex.soa_data(zone, apex.serial(look.cluster), TTL)
        return NOERROR, [Record(qname, "SOA", soa, min(TTL, 300))] if lower == ZONE else []
    if qtype == "NS" and lower == ZONE:
        return NOERROR, [Record(qname, "NS", apex.ns_target(look.cluster, zone)[0])]
    if lower == f"{apex.NS_LABEL}.{ZONE}":  # the SOA's primary: the DNS Service's ClusterIP
        address = apex.ns_target(look.cluster, zone)[1]
        wanted = "AAAA" if address and ":" in address else "A"  # kube-dns's family
        return NOERROR, [Record(qname, wanted, address)] if address and qtype == wanted else []
    if qtype == "TXT" and lower == f"dns-version.{ZONE}":
        return NOERROR, [Record(qname, "TXT", f'"{apex.SCHEMA_VERSION}"', apex.SCHEMA_TTL)]
    if qtype not in ("A", "AAAA", "CNAME", "SRV", "PTR"):
        return _kubernetes(look, qname, "A", depth)[0], []
    return _records_of(look, qname, qtype, depth, zone)


def _records_of(look: Lookups, qname: str, qtype: str, depth: int, zone: str) -> Answer:
    """``parseRequest``, ``Records``, ``findPods``, ``findServices``, on the lower-cased name."""
    base = qname.lower()[: -len(ZONE)].rstrip(".")
    if base in ("", "svc", "pod"):
        return NOERROR, []  # the zone apex and its two subtrees exist but hold no records
    labels = base.split(".")
    kind = labels.pop()
    if kind not in ("svc", "pod"):
        return NXDOMAIN, []
    namespace = labels.pop()
    if not look.namespace_exists(namespace):
        return NXDOMAIN, []
    if not labels:
        return NOERROR, []  # <ns>.svc.<zone> of an existing namespace: NODATA
    name = labels.pop()
    if kind == "pod":
        return _pod(qname, name, qtype) if not labels else (NXDOMAIN, [])
    endpoint = port = protocol = ""
    if len(labels) == 1:
        endpoint = labels[0]
    elif len(labels) == 2:
        port, protocol = (label.removeprefix("_") for label in labels)
    elif labels:
        return NXDOMAIN, []  # too long to be a Kubernetes name
    service = look.service(namespace, name)
    if service is None:
        return NXDOMAIN, []
    entries = _service_entries(look, service, endpoint, port, protocol, zone)
    if not entries:
        return NXDOMAIN, []  # e.g. a headless Service with no ready endpoint
    return NOERROR, _records(look, qname, qtype, entries, depth)


def _pod(qname: str, name: str, qtype: str) -> Answer:
    """``pods insecure``: any ``a-b-c-d.<ns>.pod.<zone>`` answers a.b.c.d, pod or not."""
    text = (
        name.replace("-", ".")
        if name.count("-") == 3 and "--" not in name
        else name.replace("-", ":")
    )
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return NXDOMAIN, []
    wanted = "A" if ip.version == 4 else "AAAA"
    return NOERROR, [Record(qname, wanted, str(ip))] if qtype == wanted else []


def _port_matches(port: str, protocol: str, item: dict[str, Any]) -> bool:
    """CoreDNS ``matchPortAndProtocol``: an empty query part matches anything."""
    name = str(item.get("name") or "").lower()
    proto = str(item.get("protocol") or "TCP").lower()
    return (not port or port == name) and (not protocol or protocol == proto)


def _service_entries(
    look: Lookups, service: dict[str, Any], endpoint: str, port: str, protocol: str, zone: str
) -> list[_Entry]:
    spec = service.get("spec") or {}
    namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
    owner = service_fqdn(namespace, name, zone)
    if spec.get("type") == "ExternalName":
        target = str(spec.get("externalName") or "").lower().rstrip(".")
        if endpoint or port or protocol or not target or is_ip(target):
            # CoreDNS findServices: an ExternalName has no endpoints and takes no
            # _port._proto labels (`_http._tcp.ext...`, `a.b.ext...` are NXDOMAIN), and an
            # IP is not a CNAME target.
            return []
        return [_Entry(target + ".", 0, owner)]
    if spec.get("clusterIP") == "None" or endpoint:
        entries = []
        for item in look.slices(namespace, name):
            ports: list[dict[str, Any] | None] = list(item.get("ports") or ()) or [None]
            for ep in ready_endpoints(item):
                for address in ep.get("addresses") or ():
                    host = look.endpoint_hostname(namespace, name, ep, address)
                    if endpoint and endpoint != host:
                        continue
                    for item_port in ports:
                        if item_port is None:
                            if not port and not protocol:
                                entries.append(_Entry(address, None, f"{host}.{owner}"))
                        elif _port_matches(port, protocol, item_port):
                            entries.append(
                                _Entry(address, item_port.get("port"), f"{host}.{owner}")
                            )
        return entries
    addresses = [ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip]
    return [
        _Entry(ip, item.get("port"), owner)
        for item in spec.get("ports") or ()
        if _port_matches(port, protocol, item)
        for ip in addresses
    ]


def _records(look: Lookups, qname: str, qtype: str, entries: list[_Entry], depth: int) -> list:
    """Entries as the records of ``qtype`` (CoreDNS ``plugin.A``/``AAAA``/``SRV``/``CNAME``)."""
    records: list[Record] = []
    if qtype in ("A", "AAAA"):
        version = 4 if qtype == "A" else 6
        for entry in entries:
            if not is_ip(entry.host):
                records.append(Record(qname, "CNAME", entry.host))
                records.extend(_follow(look, entry.host, qtype, depth + 1))
            elif ipaddress.ip_address(entry.host).version == version:
                record = Record(qname, qtype, entry.host)
                if record not in records:
                    records.append(record)
    elif qtype == "CNAME":
        if not is_ip(entries[0].host):
            records.append(Record(qname, "CNAME", entries[0].host))
    elif qtype == "SRV":
        usable = [e for e in entries if e.port is not None]
        weight = max(1, 100 // len(usable)) if usable else 0  # 100 split evenly, at least 1
        for entry in usable:
            target = entry.owner if is_ip(entry.host) else entry.host
            record = Record(qname, "SRV", f"0 {weight} {entry.port} {target}")
            if record not in records:
                records.append(record)
    return records  # PTR on a forward name that exists: NOERROR with no records (NODATA)


def _follow(look: Lookups, target: str, qtype: str, depth: int) -> list[Record]:
    """The target's records for a CNAME: from CoreDNS itself inside the cluster domain,
    otherwise from upstream (CoreDNS's ``Lookup``); nothing when the chain is too long."""
    if depth >= MAX_CNAME_CHAIN:
        return []
    rcode, records, _server = coredns_lookup(look, target, qtype, depth)
    return records if rcode == NOERROR else []
