"""DNS as a pod sees it: its resolv.conf, the search-list walk, and what each server answers.

A pod's resolver (glibc or musl) reads the ``/etc/resolv.conf`` the kubelet wrote for it
(:func:`resolv_conf`), expands the name with the search list under the ``ndots`` rule, and
sends each candidate to the nameserver until one answers. :func:`resolve` returns every name
it sent with the rcode and records it got (``tried``) and the final answer. The records are
CoreDNS's (:func:`coredns_answer`) or, for the node and the outside world, the simulated
internet's (:func:`public_answer`); see :mod:`app.network.dns_records`.

Pure: each call reads the cluster through ``cluster.get``/``cluster.list`` and builds the few
indexes it needs for that call only.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from app.cluster import constants as c
from app.cluster import families
from app.network.dns_records import (
    COREDNS,
    NOERROR,
    NXDOMAIN,
    QTYPES,
    TTL,
    UPSTREAM,
    Lookups,
    Record,
    authority,
    check_name,
    check_type,
    coredns_lookup,
    fqdn,
    public_lookup,
    reverse_name,
)

__all__ = [
    "COREDNS",
    "NOERROR",
    "NXDOMAIN",
    "QTYPES",
    "TTL",
    "UPSTREAM",
    "UPSTREAM_RESOLVER",
    "Attempt",
    "Record",
    "Resolution",
    "ask",
    "coredns_answer",
    "public_answer",
    "resolv_conf",
    "resolve",
]

# The node network's resolver, which a node's (and a `dnsPolicy: Default` pod's) resolv.conf
# names, as a cloud network's resolver sits at its .2. It answers from the simulated internet.
UPSTREAM_RESOLVER = "10.0.0.2"
DEFAULT_NDOTS = 1  # resolv.conf(5)
CLUSTER_NDOTS = 5  # the kubelet's `options ndots:5`
MAX_NDOTS = 15  # glibc caps ndots at 15
MAX_NAME = 253


@dataclass
class Attempt:
    """One query the resolver sent: the name, the rcode and records it got, and who answered
    (``coredns`` for the cluster's zones, ``upstream`` for what the public DNS answered).
    ``authority`` is the answer's authority section: CoreDNS's SOA on an empty answer."""

    name: str
    rcode: str
    answers: list[Record]
    server: str
    authority: list[Record] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rcode": self.rcode,
            "answers": [r.to_dict() for r in self.answers],
            "server": self.server,
            "authority": [r.to_dict() for r in self.authority],
        }


@dataclass
class Resolution:
    """A whole lookup: the resolver's settings, each name it tried in order, the final answer.

    ``answers`` holds a CNAME chain whole: the CNAME, then its target's records.
    """

    query: str
    type: str
    nameserver: str
    search: list[str]
    ndots: int
    tried: list[Attempt] = field(default_factory=list)
    rcode: str = NXDOMAIN
    answers: list[Record] = field(default_factory=list)

    def addresses(self) -> list[str]:
        """The A (or, for an AAAA question, AAAA) records' addresses, in order."""
        wanted = "AAAA" if self.type == "AAAA" else "A"
        return [r.data for r in self.answers if r.type == wanted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "type": self.type,
            "nameserver": self.nameserver,
            "search": list(self.search),
            "ndots": self.ndots,
            "tried": [a.to_dict() for a in self.tried],
            "rcode": self.rcode,
            "answers": [r.to_dict() for r in self.answers],
        }


def resolv_conf(cluster: Any, client: dict[str, Any] | None) -> dict[str, Any]:
    """The resolv.conf the kubelet writes for ``client`` (a Pod), or the node's (None).

    Following "DNS for Services and Pods": ``ClusterFirst`` (the default) gets the cluster DNS,
    ``search <ns>.svc.cluster.local svc.cluster.local cluster.local`` and ``ndots:5``; a
    ``hostNetwork`` pod with ``ClusterFirst`` falls back to ``Default`` unless it asks for
    ``ClusterFirstWithHostNet``; ``Default`` inherits the node's resolv.conf; ``None`` takes
    everything from ``dnsConfig``, whose nameservers and searches are otherwise appended and
    whose ``ndots`` option overrides. Only the first nameserver is returned: it is the one the
    resolver asks while it answers.

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> pod = {"metadata": {"namespace": "shop", "name": "cart"}, "spec": {}}
    >>> resolv_conf(cluster, pod)
    {'nameserver': '10.96.0.10', 'search': ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], 'ndots': 5}
    >>> resolv_conf(cluster, None)
    {'nameserver': '10.0.0.2', 'search': [], 'ndots': 1}
    """
    if client is None:
        return {"nameserver": UPSTREAM_RESOLVER, "search": [], "ndots": DEFAULT_NDOTS}
    spec = client.get("spec") or {}
    namespace = (client.get("metadata") or {}).get("namespace") or "default"
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    nameservers: list[str] = []
    search: list[str] = []
    ndots = DEFAULT_NDOTS
    if policy == "ClusterFirstWithHostNet" or (
        policy == "ClusterFirst" and not spec.get("hostNetwork")
    ):
        nameservers = [families.kube_dns_ip(cluster.config)]  # fd00:10:96::a on IPv6
        domain = c.CLUSTER_DOMAIN
        search = [f"{namespace}.svc.{domain}", f"svc.{domain}", domain]
        ndots = CLUSTER_NDOTS
    elif policy != "None":
        nameservers = [UPSTREAM_RESOLVER]
    config = spec.get("dnsConfig") or {}
    for server in config.get("nameservers") or ():
        if server not in nameservers:
            nameservers.append(str(server))
    for domain in config.get("searches") or ():
        domain = str(domain).lower().rstrip(".")
        if domain and domain not in search:
            search.append(domain)
    for option in config.get("options") or ():
        if option.get("name") == "ndots":
            with contextlib.suppress(TypeError, ValueError):  # unreadable: ignored
                ndots = min(max(int(option.get("value")), 0), MAX_NDOTS)
    return {
        "nameserver": nameservers[0] if nameservers else UPSTREAM_RESOLVER,
        "search": search,
        "ndots": ndots,
    }


def candidates(name: str, search: list[str], ndots: int) -> list[str]:
    """The FQDNs a resolver sends for ``name``, in order (resolv.conf(5), ``ndots``).

    A trailing dot makes the name absolute: only it is sent. A name with at least ``ndots``
    dots is tried as given first, then with each search domain; a shorter one is tried with
    each search domain first, then as given. Expansions longer than 253 characters are skipped.

    >>> candidates("web", ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"], 5)
    ['web.default.svc.cluster.local.', 'web.svc.cluster.local.', 'web.cluster.local.', 'web.']
    >>> candidates("a.b.c.d.e.f", ["svc.cluster.local"], 5)
    ['a.b.c.d.e.f.', 'a.b.c.d.e.f.svc.cluster.local.']
    >>> candidates("web.", ["svc.cluster.local"], 5)
    ['web.']
    """
    if name.endswith("."):
        return [name]
    expanded = [f"{name}.{domain}." for domain in search if len(name) + 1 + len(domain) <= MAX_NAME]
    as_given = f"{name}."
    names = [as_given, *expanded] if name.count(".") >= ndots else [*expanded, as_given]
    return list(dict.fromkeys(names))


def resolve(cluster: Any, client: dict[str, Any] | None, name: str, qtype: str = "A") -> Resolution:
    """Look ``name`` up as ``client``'s resolver would (``client`` None: a node's host network
    or the outside client, both on the public resolver, which knows no cluster names).

    The walk stops at the first NOERROR answer, records or not (NODATA, as musl does; glibc
    would try the remaining names). When every name is NXDOMAIN, so is the result. An IPv4
    address asked for PTR becomes its ``in-addr.arpa`` name (as ``dig -x``); an address asked
    for A is answered without a query (as ``getaddrinfo`` does), so ``tried`` is empty.

    Raises :class:`app.errors.InvalidObjects` for an unsupported type or a malformed name.

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> pod = {"metadata": {"namespace": "default", "name": "client"}, "spec": {}}
    >>> answer = resolve(cluster, pod, "kubernetes")
    >>> [a.name for a in answer.tried], answer.addresses()
    (['kubernetes.default.svc.cluster.local.'], ['10.96.0.1'])
    >>> resolve(cluster, None, "kubernetes.default.svc.cluster.local").rcode
    'NXDOMAIN'
    """
    qtype = check_type(qtype)
    # An IPv6 address is no DNS name (its colons), yet nslookup and dig -x look it up.
    literal = _address(name.strip()) if isinstance(name, str) else None
    text = name.strip() if literal is not None else check_name(name)
    conf = resolv_conf(cluster, client)
    result = Resolution(str(name).strip(), qtype, conf["nameserver"], conf["search"], conf["ndots"])
    if literal is not None and qtype == "PTR":
        text = reverse_name(literal)
    elif literal is not None and qtype in ("A", "AAAA"):
        wanted = "A" if ipaddress.ip_address(literal).version == 4 else "AAAA"
        result.rcode = NOERROR
        result.answers = [Record(f"{literal}.", wanted, literal, 0)] if qtype == wanted else []
        return result
    look = Lookups(cluster)
    via_coredns = _is_cluster_dns(cluster, conf["nameserver"])
    for candidate in candidates(text, conf["search"], conf["ndots"]):
        if via_coredns:
            rcode, records, server = coredns_lookup(look, candidate, qtype)
        else:
            rcode, records = public_lookup(look, candidate, qtype)
            server = UPSTREAM
        soa = authority(look, candidate, server, records)
        result.tried.append(Attempt(candidate, rcode, records, server, soa))
        result.rcode, result.answers = rcode, list(records)
        if rcode == NOERROR:
            break
    return result


def coredns_answer(cluster: Any, fqdn_: str, qtype: str) -> tuple[str, list[Record]]:
    """What CoreDNS (kubeadm's Corefile) answers for one FQDN: ``(rcode, records)``.

    Cluster names get the records of the Kubernetes DNS specification; reverse names it does
    not know and every other name are answered by the upstream DNS it forwards to.

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> coredns_answer(cluster, "kubernetes.default.svc.cluster.local", "A")
    ('NOERROR', [Record(name='kubernetes.default.svc.cluster.local.', type='A', data='10.96.0.1', ttl=30)])
    >>> coredns_answer(cluster, "_https._tcp.kubernetes.default.svc.cluster.local.", "SRV")[1][0].data
    '0 100 443 kubernetes.default.svc.cluster.local.'
    >>> coredns_answer(cluster, "nothing.default.svc.cluster.local", "A")
    ('NXDOMAIN', [])
    """
    qtype = check_type(qtype)
    rcode, records, _server = coredns_lookup(Lookups(cluster), fqdn(fqdn_), qtype)
    return rcode, records


def ask(cluster: Any, fqdn_: str, qtype: str, cluster_dns: bool = True) -> Attempt:
    """One query for one FQDN, to CoreDNS (``cluster_dns``) or the public DNS, as ``dig``
    sends it: the whole answer, authority section included.

    >>> from app.cluster.cluster import Cluster
    >>> answer = ask(Cluster.create(seed=1), "dns-version.cluster.local", "TXT")
    >>> answer.rcode, answer.answers[0].data, answer.answers[0].ttl
    ('NOERROR', '"1.1.0"', 28800)
    >>> ask(Cluster.create(seed=1), "Nope.Default.svc.cluster.local", "A").authority[0].name
    'cluster.local.'
    """
    qtype = check_type(qtype)
    look, name = Lookups(cluster), fqdn(fqdn_)
    if cluster_dns:
        rcode, records, server = coredns_lookup(look, name, qtype)
    else:
        (rcode, records), server = public_lookup(look, name, qtype), UPSTREAM
    return Attempt(name, rcode, records, server, authority(look, name, server, records))


def public_answer(cluster: Any, fqdn_: str, qtype: str) -> tuple[str, list[Record]]:
    """What the simulated internet's DNS answers for one FQDN: ``(rcode, records)``.

    The simulated internet knows every public name: each host of an Ingress that ingress-nginx
    serves (exact, or one label under a ``*.`` wildcard host) points at the controller's
    LoadBalancer IP; each hostname a Gateway's listener or attached HTTPRoute names (a
    wildcard: any name under it) at the Gateway's address; any other name with hostname labels under a known top-level domain
    (``example.com``, ``example.org``, ``github.io``, any two-letter country code) gets a stable
    address in 192.0.2.0/24 derived from a hash of the name. Special-use names (``.local``,
    ``.test``, ``.invalid``, ``.localhost``, ``.internal``, reverse names) and names under no
    known TLD (``web.default.svc``) are NXDOMAIN. It is IPv4-only: a known name has no AAAA,
    SRV, PTR or CNAME records (NOERROR, no answers).

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> rcode, records = public_answer(cluster, "example.com", "A")
    >>> rcode, records[0].data.startswith("192.0.2.")
    ('NOERROR', True)
    >>> public_answer(cluster, "web.default.svc.cluster.local.", "A")
    ('NXDOMAIN', [])
    """
    qtype = check_type(qtype)
    return public_lookup(Lookups(cluster), fqdn(fqdn_), qtype)


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.rstrip(".")))
    except ValueError:
        return None


def _is_cluster_dns(cluster: Any, nameserver: str) -> bool:
    """Whether queries to this nameserver reach CoreDNS: the kube-dns ClusterIP or a CoreDNS
    pod's own address (a ``dnsConfig`` may name either)."""
    if nameserver in families.dns_ips():
        return True
    if nameserver == UPSTREAM_RESOLVER:
        return False
    return any(
        nameserver in [e.get("ip") for e in (pod.get("status") or {}).get("podIPs") or ()]
        and (pod["metadata"].get("labels") or {}).get("k8s-app") == "kube-dns"
        for pod in cluster.list("Pod", "kube-system")
    )
