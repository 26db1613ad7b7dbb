"""kube-proxy's load-balancer firewall: ``spec.loadBalancerSourceRanges``.

In iptables mode (pkg/proxy/iptables/proxier.go) traffic to a LoadBalancer IP whose Service
has source ranges goes from ``KUBE-SERVICES`` to a ``KUBE-FW-<hash>`` chain instead of
``KUBE-EXT-<hash>``; an accepted source jumps on to ``KUBE-EXT-``, anything else falls off the
end undetected and the filter table's ``KUBE-PROXY-FIREWALL`` drops it. The nftables mode uses
its ``firewall-ips`` map and the ipvs mode the ``KUBE-LOAD-BALANCER-SOURCE-CIDR`` ipset, with
the same sources. NodePorts are not filtered ("nodeports are not subject to
loadBalancerSourceRanges", proxier.go).
"""

from __future__ import annotations

import ipaddress

from app.cluster.families import host_prefix
from app.network.kubeproxy import text as t
from app.network.kubeproxy.chains import Chain
from app.network.kubeproxy.model import ServicePort


def source_ranges(sp: ServicePort) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``spec.loadBalancerSourceRanges`` as the proxier of the port's family uses them (the
    IPv6 proxier's port has an IPv6 ClusterIP): parsed as networks (``203.0.113.5/25``
    becomes ``203.0.113.0/25``, as ``cidr.String()`` prints it), the other family's and
    unparsable values left out.

    >>> from dataclasses import replace
    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy import service_table
    >>> sp = replace(service_table(Cluster.create(seed=1))[0],
    ...              load_balancer_source_ranges=("203.0.113.5/25", "2001:db8::/64"))
    >>> [str(n) for n in source_ranges(sp)]
    ['203.0.113.0/25']
    >>> [str(n) for n in source_ranges(replace(sp, cluster_ip="fd00:10:96::1"))]
    ['2001:db8::/64']
    """
    out = []
    for value in sp.load_balancer_source_ranges:
        try:
            net = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            continue
        if net.version == (6 if ":" in (sp.cluster_ip or "") else 4):
            out.append(net)
    return out


def firewall_allows(sp: ServicePort, src_ip: str, node_ip: str) -> str | None:
    """Which source the Service's load-balancer firewall accepts ``src_ip`` by (a range, or
    the LB IP itself when a range holds the node's IP: a node reaching a VIP it holds locally
    keeps the VIP as source), or None when it drops it. Only meaningful when
    :func:`source_ranges` is not empty.

    >>> from dataclasses import replace
    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy import service_table
    >>> sp = replace(service_table(Cluster.create(seed=1))[0],
    ...              load_balancer_source_ranges=("203.0.113.0/25",))
    >>> firewall_allows(sp, "203.0.113.9", "10.0.0.11"), firewall_allows(sp, "198.51.100.7", "10.0.0.11")
    ('203.0.113.0/25', None)
    """
    src = ipaddress.ip_address(src_ip)
    ranges = source_ranges(sp)
    for net in ranges:
        if src in net:
            return str(net)
    node = ipaddress.ip_address(node_ip)
    if src_ip in sp.load_balancer_ips and any(node in net for net in ranges):
        return host_prefix(src_ip)
    return None


def firewall_chain(chain: Chain, sp: ServicePort, ranges: list, node_ip: str, ext: str) -> None:
    """The ``KUBE-FW-`` chain: accepted sources go on to the ``KUBE-EXT-`` chain; the rest
    fall off its end undetected, so ``KUBE-PROXY-FIREWALL`` (filter) drops them."""
    name, c = sp.name, f"{sp.name} loadbalancer IP"
    sources = [str(net) for net in ranges]
    node = ipaddress.ip_address(node_ip)
    if any(node in net for net in ranges):
        sources += list(sp.load_balancer_ips)
    for src in sources:
        text = t.ipt(chain.name, ext, src=src, comment=c)
        chain.add(("fw-allow", name, src if "/" in src else host_prefix(src)), text, ext, c)
    c = f"other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL"
    chain.add(("fw-end", name), t.ipt(chain.name, "", comment=c), "", c)
