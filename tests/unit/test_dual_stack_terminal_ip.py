"""``ip addr`` / ``ip route`` in the Terminal of a dual-stack or IPv6 cluster.

Sources: iproute2's ip(8) (``-4`` is ``-family inet``, ``-6`` is ``-family inet6``; with a
family ``ip addr`` shows only that family's addresses); RFC 4291 appendix A (the modified
EUI-64 interface identifier of a link-local address); flannel's backend/vxlan (``flannel.1``
only with EnableIPv4, ``flannel-v6.1`` with EnableIPv6 holding the subnet address as a /128);
Calico's host veths (MAC ee:ee:ee:ee:ee:ee, link-local fe80::ecee:eeff:feee:eeee, a Calico
pod's IPv6 gateway).
"""

from __future__ import annotations

import pytest

from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.terminal import Session, run
from app.terminal.ip_family import link_local


def make(mode: str, cni: str = "flannel") -> Cluster:
    return Cluster.create(ClusterConfig(cni=cni, ip_family=mode), seed=1)


def out(cluster: Cluster, line: str, session: str) -> str:
    return run(cluster, line, Session(session)).output


def a_pod(cluster: Cluster) -> dict:
    return next(
        p
        for p in cluster.state.of_kind("Pod")
        if not p["spec"].get("hostNetwork") and p["spec"].get("nodeName") == "worker-1"
    )


@pytest.fixture(scope="module")
def dual() -> Cluster:
    return make("dual")


def test_link_local_addresses_are_the_macs_modified_eui64() -> None:
    # RFC 4291 appendix A: invert the universal/local bit, insert ff:fe.
    assert link_local("ee:ee:ee:ee:ee:ee") == "fe80::ecee:eeff:feee:eeee/64"
    assert link_local("00:00:5e:00:53:01") == "fe80::200:5eff:fe00:5301/64"


def test_a_dual_stack_nodes_ip_addr_lists_each_devices_inet6_addresses(dual) -> None:
    text = out(dual, "ip addr", "node/worker-1")
    assert "    inet6 ::1/128 scope host\n" in text
    eth0 = text[text.index("2: eth0:") : text.index("3: cni0:")]
    assert "    inet 10.0.0.11/16 brd 10.0.255.255 scope global eth0\n" in eth0
    assert "    inet6 fc00:f853:ccd:e793::b/64 scope global\n" in eth0
    assert eth0.index("inet 10.0.0.11") < eth0.index("inet6 fc00") < eth0.index("inet6 fe80::")
    assert "    inet6 fd00:10:244:1::1/64 scope global\n" in text  # cni0's IPv6 gateway
    assert ": flannel-v6.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1430" in text
    assert "    inet6 fd00:10:244:1::/128 scope global\n" in text
    # one veth per pod, though a dual-stack pod has two addresses
    veths = [line.split(": ")[1] for line in text.splitlines() if ": veth" in line]
    assert len(veths) == len(set(veths))


def test_ip_minus_4_and_minus_6_filter_addr_by_family_without_link_lines(dual) -> None:
    four = out(dual, "ip -4 addr", "node/worker-1")
    six = out(dual, "ip -6 addr", "node/worker-1")
    assert "inet6" not in four and "link/" not in four and "inet 10.244.1.1/24" in four
    assert "flannel-v6.1" not in four  # no IPv4 address: the device is left out
    assert "\n    inet " not in six and "link/" not in six and "flannel-v6.1" in six
    assert out(dual, "ip -family inet6 a", "node/worker-1") == six
    assert out(dual, "ip -f inet addr show", "node/worker-1") == four


def test_ip_route_is_ipv4_only_and_ip_minus_6_route_the_ipv6_table(dual) -> None:
    four = out(dual, "ip route", "node/worker-1")
    assert ":" not in four and "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink \n" in four
    assert out(dual, "ip -4 route", "node/worker-1") == four
    six = out(dual, "ip -6 route", "node/worker-1").splitlines()
    assert six == [
        "fc00:f853:ccd:e793::/64 dev eth0 proto kernel metric 256 pref medium",
        "fd00:10:244::/64 via fd00:10:244:: dev flannel-v6.1 onlink metric 1024 pref medium",
        "fd00:10:244:1::/64 dev cni0 proto kernel metric 256 pref medium",
        "fd00:10:244:2::/64 via fd00:10:244:2:: dev flannel-v6.1 onlink metric 1024 pref medium",
        "default via fc00:f853:ccd:e793::1 dev eth0 proto ra metric 1024 expires 1798sec pref medium",
    ]


def test_a_dual_stack_pod_has_both_addresses_on_eth0_and_an_ipv6_table(dual) -> None:
    pod = a_pod(dual)
    session = f"pod/{pod['metadata']['namespace']}/{pod['metadata']['name']}"
    ip4, ip6 = (e["ip"] for e in pod["status"]["podIPs"])
    text = out(dual, "ip addr", session)
    assert f"    inet {ip4}/24 brd 10.244.1.255 scope global eth0\n" in text
    assert f"    inet6 {ip6}/64 scope global\n" in text
    assert "inet6 fe80::858:aff:fef4:1" in text  # 0a:58:0a:f4:01:xx, the bridge plugin's MAC
    assert ":" not in out(dual, "ip route", session)
    assert out(dual, "ip -6 route", session).splitlines() == [
        "fd00:10:244:1::/64 dev eth0 proto kernel metric 256 pref medium",
        "fd00:10:244::/56 via fd00:10:244:1::1 dev eth0 metric 1024 pref medium",
        "fe80::/64 dev eth0 proto kernel metric 256 pref medium",
        "default via fd00:10:244:1::1 dev eth0 metric 1024 pref medium",
    ]


def test_an_ipv6_calico_cluster_has_no_ipv4_but_lo_and_routes_via_the_veths_link_local() -> None:
    cluster = make("ipv6", "calico")
    pod = a_pod(cluster)
    session = f"pod/{pod['metadata']['namespace']}/{pod['metadata']['name']}"
    text = out(cluster, "ip addr", session)
    assert f"    inet6 {pod['status']['podIP']}/128 scope global\n" in text
    assert out(cluster, "ip -4 addr", session).count("inet ") == 1  # lo's 127.0.0.1 only
    assert out(cluster, "ip route", session) == ""
    assert out(cluster, "ip -6 route", session).splitlines()[-1] == (
        "default via fe80::ecee:eeff:feee:eeee dev eth0 metric 1024 pref medium"
    )
    node = out(cluster, "ip addr", "node/worker-1")
    assert "tunl0" not in node and "inet 10." not in node
    assert "link/ether ee:ee:ee:ee:ee:ee" in node and "inet6 fe80::ecee:eeff:feee:eeee/64" in node
    assert "fc00:f853:ccd:e793::b/64 scope global" in node
    assert out(cluster, "ip route", "node/worker-1") == ""
    assert "blackhole fd00:10:244::40/122" in out(cluster, "ip -6 route", "node/worker-1")


def test_an_ipv4_cluster_keeps_its_output_and_has_no_ipv6_table() -> None:
    cluster = make("ipv4")
    assert "inet6" not in out(cluster, "ip addr", "node/worker-1")
    assert out(cluster, "ip -6 route", "node/worker-1") == ""
    assert out(cluster, "ip -6 addr", "node/worker-1") == ""
