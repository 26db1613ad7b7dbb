"""The cluster's IP families: which ones it has, and each family's address plan.

A cluster is IPv4 (the default), IPv6, or dual-stack with IPv4 primary, as kind's
``networking.ipFamily`` makes it. The primary family is the first of
``--service-cluster-ip-range`` and ``--cluster-cidr``: a Service that asks for nothing gets it,
and a pod's ``status.podIP`` is of it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from app.cluster import constants as c
from app.errors import FieldError

IPV4, IPV6 = "IPv4", "IPv6"

#: The simulated cloud's IPv6 pool for LoadBalancer Services whose primary family is IPv6
#: (beside constants.LOAD_BALANCER_POOL, RFC 5737's 203.0.113.0/24): inside RFC 3849's
#: documentation prefix 2001:db8::/32, so no address can be mistaken for a real one. A /112
#: (65536 addresses, as many as the Services' fd00:10:96::/112) is plenty for a sandbox and
#: keeps the addresses short to read aloud: the first is 2001:db8:203::a, its "203" echoing
#: 203.0.113.x. A dual-stack Service keeps one IPv4 address: what a cloud puts in
#: status.loadBalancer.ingress for both families differs by provider.
LOAD_BALANCER_POOL6 = ipaddress.ip_network("2001:db8:203::/112")


def of(config: Any) -> tuple[str, ...]:
    """The families of a cluster config (or of its ``ip_family`` mode), primary first.

    Parameters
    ----------
    config : ClusterConfig or str
        The config, or its ``ip_family`` (``ipv4``, ``ipv6`` or ``dual``).

    Returns
    -------
    tuple of str
        ``("IPv4",)``, ``("IPv6",)`` or ``("IPv4", "IPv6")``.

    >>> of("dual"), of("ipv6")
    (('IPv4', 'IPv6'), ('IPv6',))
    """
    mode = config if isinstance(config, str) else getattr(config, "ip_family", "ipv4")
    return c.IP_FAMILIES_OF[mode]


def family_of(ip: str) -> str:
    """``IPv6`` when ``ip`` holds a colon, else ``IPv4`` (``netutils.IsIPv6String``).

    >>> family_of("10.96.0.1"), family_of("fd00:10:96::1")
    ('IPv4', 'IPv6')
    """
    return IPV6 if ":" in ip else IPV4


def other(family: str) -> str:
    return IPV4 if family == IPV6 else IPV6


def service_cidr(family: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The Service range of one family: 10.96.0.0/12 or fd00:10:96::/112.

    >>> str(service_cidr("IPv6"))
    'fd00:10:96::/112'
    """
    return c.SERVICE_CIDR6 if family == IPV6 else c.SERVICE_CIDR


def service_cidrs(config: Any) -> str:
    """``--service-cluster-ip-range`` as kubeadm writes it: the ranges, primary first, by commas.

    >>> service_cidrs("dual")
    '10.96.0.0/12,fd00:10:96::/112'
    """
    return ",".join(str(service_cidr(f)) for f in of(config))


def pod_cidrs(config: Any) -> str:
    """The pod network(s), primary first, by commas (``--cluster-cidr``; kind's podSubnet).

    >>> from app.cluster.state import ClusterConfig
    >>> pod_cidrs(ClusterConfig(ip_family="dual"))
    '10.244.0.0/16,fd00:10:244::/56'
    """
    return ",".join(str(pod_network(config.cni, f)) for f in of(config))


def pod_network(cni: str, family: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The pod network one plugin hands addresses of ``family`` out of.

    >>> str(pod_network("calico", "IPv6")), str(pod_network("calico", "IPv4"))
    ('fd00:10:244::/56', '192.168.0.0/16')
    """
    return c.POD_NETWORK6[cni] if family == IPV6 else c.POD_NETWORK[cni]


def kubernetes_ip(config: Any) -> str:
    """The ``kubernetes`` Service's ClusterIP: the primary range's first address."""
    return c.KUBERNETES_SERVICE_IP6 if of(config)[0] == IPV6 else c.KUBERNETES_SERVICE_IP


def kube_dns_ip(config: Any) -> str:
    """kube-dns's ClusterIP, the pods' nameserver: 10.96.0.10, or fd00:10:96::a on IPv6.

    >>> kube_dns_ip("ipv6"), kube_dns_ip("dual")
    ('fd00:10:96::a', '10.96.0.10')
    """
    return c.KUBE_DNS_IP6 if of(config)[0] == IPV6 else c.KUBE_DNS_IP


def dns_ips() -> tuple[str, str]:
    """Both addresses kube-dns can have (the nameserver a pod's resolv.conf names)."""
    return c.KUBE_DNS_IP, c.KUBE_DNS_IP6


def node_ip6(ipv4: str) -> str:
    """A node's IPv6 address: the same offset in the nodes' IPv6 /64 as its IPv4 address has
    in 10.0.0.0/16.

    >>> node_ip6("10.0.0.10"), node_ip6("10.0.1.1")
    ('fc00:f853:ccd:e793::a', 'fc00:f853:ccd:e793::101')
    """
    offset = int(ipaddress.ip_address(ipv4)) - int(c.NODE_NETWORK.network_address)
    return str(c.NODE_NETWORK6.network_address + offset)


def node_ips(config: Any, ipv4: str) -> list[str]:
    """A node's InternalIPs, primary family first."""
    return [ipv4 if f == IPV4 else node_ip6(ipv4) for f in of(config)]


def bracketed(ip: str) -> str:
    """An address as it stands before ``:port`` in a URL or a packet: IPv6 in brackets.

    >>> bracketed("10.96.0.1"), bracketed("fd00:10:96::1")
    ('10.96.0.1', '[fd00:10:96::1]')
    """
    return f"[{ip}]" if ":" in ip else ip


def host_prefix(ip: str) -> str:
    """A single-address prefix: ``/32`` for IPv4, ``/128`` for IPv6.

    >>> host_prefix("fd00:10:96::1")
    'fd00:10:96::1/128'
    """
    return f"{ip}/128" if ":" in ip else f"{ip}/32"


def config_problems(config: Any) -> list[FieldError]:
    """Why a cluster config's ``ip_family`` cannot be built: an unknown mode, or IPv6 with a
    plugin that cannot give pods IPv6 addresses (Weave Net never could).

    >>> from app.cluster.state import ClusterConfig
    >>> [e.message for e in config_problems(ClusterConfig(cni="weave", ip_family="dual"))]
    ['Invalid value: "dual": Weave Net does not support IPv6: choose flannel, calico or cilium for an ipv6 or dual-stack cluster']
    """
    mode = config.ip_family
    if mode not in c.IP_FAMILY_MODES:
        listed = ", ".join(f'"{x}"' for x in c.IP_FAMILY_MODES)
        return [FieldError("ipFamily", f'Unsupported value: "{mode}": supported values: {listed}')]
    if mode == "ipv4" or config.cni in c.IPV6_PLUGINS or config.cni not in c.CNI_PLUGINS:
        return []
    title = {"weave": "Weave Net"}.get(config.cni, config.cni)
    plugins = ", ".join(c.IPV6_PLUGINS[:-1]) + " or " + c.IPV6_PLUGINS[-1]
    return [
        FieldError(
            "ipFamily",
            f'Invalid value: "{mode}": {title} does not support IPv6: choose {plugins} for an '
            "ipv6 or dual-stack cluster",
        )
    ]


def summary(config: Any) -> dict[str, str]:
    """The workspace summary's address settings: the IP family mode and, for each family,
    the pod and Service ranges (primary first, comma-separated as kubeadm writes them)."""
    return {
        "ipFamily": config.ip_family,
        "podCIDR": pod_cidrs(config),
        "serviceCIDR": service_cidrs(config),
    }


def primary_family_slices(
    service: dict[str, Any], slices: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The slices the endpoints controller reads for a Service: those of its primary family
    (``spec.ipFamilies[0]``), as it lists one address per pod, of that family; a Service
    without a selector (its slices written by hand) keeps them all.

    >>> svc = {"spec": {"selector": {"a": "b"}, "ipFamilies": ["IPv4", "IPv6"]}}
    >>> [s["addressType"] for s in primary_family_slices(svc, [{"addressType": "IPv6"},
    ...                                                        {"addressType": "IPv4"}])]
    ['IPv4']
    """
    spec = service.get("spec") or {}
    if not spec.get("selector"):
        return slices
    primary = (spec.get("ipFamilies") or ["IPv4"])[0]
    return [s for s in slices if s.get("addressType", "IPv4") == primary]


_IPV4_LITERAL = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def ipv6_target(text: str) -> str:
    """A trace target written for an IPv4 cluster as it reads on an IPv6 one: the
    ``kubernetes`` and ``kube-dns`` ClusterIPs, node addresses and the cloud's load balancer
    addresses become their IPv6 counterparts, in brackets (other addresses are left as they
    are).

    >>> ipv6_target("10.96.0.10:53/udp"), ipv6_target("http://10.0.0.12:30081/")
    ('[fd00:10:96::a]:53/udp', 'http://[fc00:f853:ccd:e793::c]:30081/')
    >>> ipv6_target("http://203.0.113.10/")
    'http://[2001:db8:203::a]/'
    >>> ipv6_target("http://web/")
    'http://web/'
    """

    def swap(match: re.Match[str]) -> str:
        ip = match.group(1)
        known = {c.KUBERNETES_SERVICE_IP: c.KUBERNETES_SERVICE_IP6, c.KUBE_DNS_IP: c.KUBE_DNS_IP6}
        if ip in known:
            return f"[{known[ip]}]"
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return ip
        if address in c.LOAD_BALANCER_POOL:  # the same offset in the IPv6 pool
            offset = int(address) - int(c.LOAD_BALANCER_POOL.network_address)
            return f"[{LOAD_BALANCER_POOL6.network_address + offset}]"
        return f"[{node_ip6(ip)}]" if address in c.NODE_NETWORK else ip

    return _IPV4_LITERAL.sub(swap, text)
