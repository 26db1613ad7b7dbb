"""The client outside and private addresses that are none of the cluster's.

Sources: RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 for private internets, not
routed beyond them); RFC 4193 (unique local IPv6 unicast, fc00::/7, fd00::/8 the locally
assigned half, not routable on the global internet); RFC 3986 (an IPv6 literal in brackets
before ``:port``).
"""

from __future__ import annotations

import pytest

from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network.outside_private import private_range, unreachable_reason
from app.network.trace import trace


def make(mode: str) -> Cluster:
    return Cluster.create(ClusterConfig(ip_family=mode), seed=1)


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("10.96.0.1", "10.0.0.0/8"),
        ("172.31.255.255", "172.16.0.0/12"),
        ("192.168.1.5", "192.168.0.0/16"),
        ("fd00:10:96::1", "fc00::/7"),
        ("fc00::1", "fc00::/7"),
        ("172.32.0.1", None),
        ("2001:db8::1", None),
        ("203.0.113.10", None),
    ],
)
def test_the_private_ranges(ip: str, expected: str | None) -> None:
    found = private_range(ip)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize("mode", ["ipv4", "dual", "ipv6"])
def test_a_unique_local_address_is_unreachable_from_outside_on_any_cluster(mode: str) -> None:
    traced = trace(make(mode), "external", "http://[fd00:10:96::1]/")
    assert traced.verdict == "unreachable"
    assert traced.reason.startswith("[fd00:10:96::1]:80 is ")
    assert "NodePort" in traced.reason and "LoadBalancer" in traced.reason
    assert "fd00:10:96::1:80" not in traced.reason  # never an unbracketed IPv6 address:port


def test_an_ipv4_cluster_ip_on_an_ipv6_cluster_is_private_and_of_the_missing_family() -> None:
    traced = trace(make("ipv6"), "external", "http://10.96.0.1:443/")
    assert traced.verdict == "unreachable"
    assert traced.reason.startswith("10.96.0.1:443 is a private address (10.0.0.0/8, RFC 1918)")
    assert "IPv6-only" in traced.reason and "no IPv4 addresses" in traced.reason


def test_the_ipv4_only_cluster_says_it_has_no_ipv6() -> None:
    reason = unreachable_reason(ClusterConfig(), "fd00:10:96::1", 80)
    assert reason is not None and "IPv4-only" in reason


def test_public_addresses_and_the_clusters_own_nodes_still_answer() -> None:
    cluster = make("dual")
    public = trace(cluster, "external", "http://[2001:db8::5]/")
    assert public.verdict == "delivered"
    assert public.reason.startswith("[2001:db8::5]:80 outside the cluster got the request")
    node = trace(cluster, "external", "http://10.0.0.11:30099/")
    assert node.verdict == "refused"  # a node address is reached; nothing listens there
