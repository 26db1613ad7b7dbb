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
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any

from app.cluster import constants as c
from app.errors import NOT_SUPPORTED, FieldError, InvalidObjects
from app.network import ingress as ingress_rules
from app.network.coredns import apex
from app.network.gateway.names import gateway_address

TTL = 30  # the Corefile's `ttl 30`
QTYPES = ("A", "AAAA", "CNAME", "PTR", "SRV", "TXT", "SOA", "NS")
NOERROR = "NOERROR"
NXDOMAIN = "NXDOMAIN"
COREDNS = "coredns"
UPSTREAM = "upstream"
ZONE = f"{c.CLUSTER_DOMAIN}."
REVERSE_ZONES = ("in-addr.arpa.", "ip6.arpa.")
MAX_CNAME_CHAIN = 8  # CoreDNS stops following a CNAME chain after 8 links
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
_LABEL = r"[a-z0-9_-]{1,63}"
_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*\.?")
_HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")

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
    """An address as one DNS label (CoreDNS's ``endpointHostname``): 10.244.1.5 → 10-244-1-5."""
    return ip.replace(".", "-").replace(":", "-")


# --- the per-call lookups -----------------------------------------------------------------------
class Lookups:
    """Indexes over one cluster's objects, each built on first use and kept for one call.

    Direct questions (a Service, a Namespace, a Pod) go to ``cluster.get``; the indexes that
    need a scan (EndpointSlices by Service, addresses for PTR, Ingress hosts) are built once,
    only when a query needs them. Nothing outlives the object, so no state leaks between calls.
    """

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self._slices: dict[tuple[str, str], list[dict[str, Any]]] | None = None
        self._hosts: tuple[dict[str, str], list[tuple[str, str]]] | None = None

    def namespace_exists(self, namespace: str) -> bool:
        return self.cluster.get("Namespace", "", namespace) is not None

    def service(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.cluster.get("Service", namespace, name)

    def slices(self, namespace: str, service: str) -> list[dict[str, Any]]:
        """The EndpointSlices labelled for one Service, by name. The cluster state's own
        ``slices_by_service`` index answers when it is there; otherwise one scan builds it."""
        index = getattr(getattr(self.cluster, "state", None), "slices_by_service", None)
        if index is not None and self._slices is None:
            found = (
                self.cluster.get(k.kind, k.namespace, k.name)
                for k in sorted(index.get((namespace, service), ()))
            )
            return [item for item in found if item is not None]
        return self._slice_index().get((namespace, service), [])

    def _slice_index(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        if self._slices is None:
            self._slices = {}
            for item in self.cluster.list("EndpointSlice"):
                owner = (item["metadata"].get("labels") or {}).get(c.SERVICE_NAME_LABEL)
                if owner:
                    key = (item["metadata"].get("namespace", ""), owner)
                    self._slices.setdefault(key, []).append(item)
        return self._slices

    def endpoint_hostname(self, namespace: str, service: str, endpoint: dict, ip: str) -> str:
        """The endpoint's ``hostname``, else its dashed address (CoreDNS ``endpointHostname``).

        The EndpointSlice controller copies a pod's ``hostname`` only when the pod's
        ``subdomain`` names this Service (Kubernetes' endpointslice utils); a hostname on an
        endpoint of a pod whose subdomain differs is ignored here for the same reason.
        """
        hostname = endpoint.get("hostname")
        if hostname:
            ref = endpoint.get("targetRef") or {}
            if ref.get("kind") != "Pod":
                return str(hostname).lower()
            pod = self.cluster.get("Pod", ref.get("namespace") or namespace, ref.get("name", ""))
            if pod is None or (pod.get("spec") or {}).get("subdomain") == service:
                return str(hostname).lower()
        return dashed(ip)

    def ptr_targets(self, ip: str) -> list[str]:
        """What CoreDNS's ``serviceRecordForIP`` finds: the Service holding this ClusterIP, else
        every ready endpoint with this address (``<hostname>.<svc>.<ns>.svc.<zone>``)."""
        for svc in self.cluster.list("Service"):
            spec = svc.get("spec") or {}
            if ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
                return [service_fqdn(svc["metadata"]["namespace"], svc["metadata"]["name"])]
        targets: list[str] = []
        for item in self.cluster.list("EndpointSlice"):
            for endpoint in item.get("endpoints") or ():
                if ip in endpoint.get("addresses", ()) and _is_ready(endpoint):
                    namespace = item["metadata"].get("namespace", "")
                    name = (item["metadata"].get("labels") or {}).get(c.SERVICE_NAME_LABEL)
                    if name:
                        host = self.endpoint_hostname(namespace, name, endpoint, ip)
                        target = f"{host}.{service_fqdn(namespace, name)}"
                        if target not in targets:
                            targets.append(target)
        return targets

    def ingress_address(self, name: str) -> str | None:
        """The ingress controller's LoadBalancer IP when ``name`` is a served Ingress's host."""
        if self._hosts is None:
            exact: dict[str, str] = {}
            wildcards: list[tuple[str, str]] = []
            controller = self.cluster.get("Service", "ingress-nginx", "ingress-nginx-controller")
            lb = ((controller or {}).get("status") or {}).get("loadBalancer") or {}
            ip = next((i["ip"] for i in lb.get("ingress") or () if i.get("ip")), None)
            if ip:
                for ingress in ingress_rules.served_ingresses(self.cluster):
                    for rule in (ingress.get("spec") or {}).get("rules") or ():
                        host = str(rule.get("host") or "").lower()
                        if host.startswith("*."):
                            wildcards.append((host, ip))
                        elif host:
                            exact[host] = ip
            self._hosts = (exact, wildcards)
        exact, wildcards = self._hosts
        if name in exact:
            return exact[name]
        found = next((ip for host, ip in wildcards if ingress_rules.host_matches(host, name)), None)
        return found or gateway_address(self.cluster, name)


def service_fqdn(namespace: str, name: str, zone: str = ZONE) -> str:
    """A Service's name under ``zone`` (the question's spelling of the cluster zone)."""
    return f"{name}.{namespace}.svc.{zone}"


def ready_endpoints(endpoint_slice: dict[str, Any]) -> list[dict[str, Any]]:
    """Endpoints whose ``conditions.ready`` is true or unset (unset means ready, per the API)."""
    return [e for e in endpoint_slice.get("endpoints") or () if _is_ready(e)]


def _is_ready(endpoint: dict[str, Any]) -> bool:
    return (endpoint.get("conditions") or {}).get("ready") is not False


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


# --- the simulated internet -------------------------------------------------------------------
def public_lookup(look: Lookups, qname: str, qtype: str) -> Answer:
    """The public DNS's answer to one checked FQDN (see :func:`app.network.dns.public_answer`)."""
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
