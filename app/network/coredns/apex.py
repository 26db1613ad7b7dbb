"""The cluster zone's own records, as CoreDNS's kubernetes plugin serves them.

Pinned to CoreDNS (``plugin/backend_lookup.go`` ``SOA``, ``plugin/kubernetes/kubernetes.go``
``Services`` and ``Serial``, ``ns.go``) and its tests (``handler_test.go``,
``kubernetes_apex_test.go``, ``handler_case_test.go``), and to the Kubernetes DNS
specification's schema-version record (kubernetes/dns ``docs/specification.md`` 2.2):

- SOA ``<zone> 30 IN SOA ns.dns.<zone> hostmaster.<zone> <serial> 7200 1800 86400 30``: the
  TTL is the Corefile's ``ttl 30`` (capped at 300), refresh/retry/expire are fixed, the
  minimum is the TTL again, and the zone is written in the letter case of the question.
- NS ``<zone> 30 IN NS kube-dns.kube-system.svc.<zone>``: the Service in front of the CoreDNS
  pods; ``ns.dns.<zone>`` (the SOA's primary) answers that Service's ClusterIP.
- TXT ``dns-version.<zone> 28800 IN TXT "1.1.0"``.

Pure: the serial comes from the objects' own ``creationTimestamp``s, never from a clock.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = "1.1.0"  # CoreDNS DNSSchemaVersion, the specification's version
SCHEMA_TTL = 28800  # CoreDNS answers dns-version with this fixed TTL
SOA_TIMERS = "7200 1800 86400"  # refresh, retry, expire (CoreDNS plugin.SOA)
NS_LABEL = "ns.dns"  # CoreDNS defaultNSName, the SOA's primary server
DNS_SERVICE = ("kube-system", "kube-dns")
# CoreDNS's Modified() moves when a Service, an Endpoints/EndpointSlice or a Namespace changes.
WATCHED = ("Service", "EndpointSlice", "Namespace")


def soa_data(zone: str, serial: int, ttl: int) -> str:
    """The SOA's data as dig prints it, for ``zone`` written as the question wrote it.

    >>> soa_data("ClUsTeR.lOcAl.", 1499347823, 30)
    'ns.dns.ClUsTeR.lOcAl. hostmaster.ClUsTeR.lOcAl. 1499347823 7200 1800 86400 30'
    """
    return f"{NS_LABEL}.{zone} hostmaster.{zone} {serial} {SOA_TIMERS} {ttl}"


def serial(cluster: Any) -> int:
    """The SOA serial: CoreDNS uses the Unix time of the last change it saw (``Serial``); here,
    the newest ``creationTimestamp`` of the objects it watches (0 when none carries one).

    Parameters: ``cluster``, anything with ``list(kind)``. Returns: seconds since 1970.

    >>> class Fake:
    ...     def list(self, kind):
    ...         return [{"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}}]
    >>> serial(Fake())
    1767225600
    """
    newest = 0
    for kind in WATCHED:
        for item in cluster.list(kind):
            stamp = (item.get("metadata") or {}).get("creationTimestamp")
            if isinstance(stamp, str):
                newest = max(newest, _seconds(stamp))
    return newest % 2**32  # a uint32, as the wire format holds it


def ns_target(cluster: Any, zone: str) -> tuple[str, str | None]:
    """The NS record's target and the address ``ns.dns.<zone>`` answers: the kube-dns Service
    when it exists (``nsAddrs`` finds it through the CoreDNS pod's endpoint), else
    ``ns.dns.<zone>`` itself with no address known.

    >>> class Empty:
    ...     def get(self, kind, namespace, name):
    ...         return None
    >>> ns_target(Empty(), "cluster.local.")
    ('ns.dns.cluster.local.', None)
    """
    namespace, name = DNS_SERVICE
    service = cluster.get("Service", namespace, name)
    ip = ((service or {}).get("spec") or {}).get("clusterIP")
    if service is None or not ip or ip == "None":
        return f"{NS_LABEL}.{zone}", None
    return f"{name}.{namespace}.svc.{zone}", ip


def _seconds(stamp: str) -> int:
    """An RFC 3339 ``...Z`` time as seconds since 1970 (days from the civil date, Howard
    Hinnant's algorithm, so no clock module is imported); 0 when unreadable."""
    try:
        year, month, day = (int(x) for x in stamp[:10].split("-"))
        hour, minute, second = (int(x) for x in stamp[11:19].split(":"))
    except ValueError:
        return 0
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second
