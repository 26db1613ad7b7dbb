"""Cilium's datapath in traces (app/network/cilium/datapath.py), pinned to Cilium's docs:
"Cluster Scope (Default)" IPAM (docs.cilium.io, network/concepts/ipam/cluster-pool: a /24
per node, clusterPoolIPv4MaskSize), "Routing" (network/concepts/routing: VXLAN encapsulation
on UDP 8472 by default, native routing with autoDirectNodeRoutes), the eBPF datapath's lxc
veths with no bridge and cilium_host (network/ebpf/intro, "Life of a Packet"), and the
masquerade rule of pkg/datapath/iptables/iptables.go ("cilium masquerade non-cluster")."""

from __future__ import annotations

import ipaddress

import pytest

from app.cluster import constants as c
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network.trace import trace
from tests.unit.scenarios import deployment, pods_of
from tests.unit.test_trace import check_invariants

CLIENT = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: client, labels: {app: client}}\n"
    "spec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}\n"
)


def cilium(**settings) -> Cluster:
    c_ = Cluster.create(ClusterConfig(cni="cilium", **settings), seed=7)
    apply_text(c_, CLIENT + "---\n" + deployment("web", 2))
    return c_


def remote_web(c_: Cluster) -> dict:
    return next(p for p in pods_of(c_, "web-") if p["spec"]["nodeName"] == "worker-2")


def test_each_node_gets_a_24_of_the_pool_and_cilium_host_its_first_address():
    summary = cilium().summary()
    assert summary["settings"]["podCIDR"] == "10.1.0.0/16"
    # The pool does not overlap the node network (Cilium's default 10.0.0.0/8 would).
    assert not ipaddress.ip_network("10.1.0.0/16").overlaps(c.NODE_NETWORK)
    ranges = [n["podCIDRs"][0] for n in summary["nodes"]]
    assert ranges == ["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"]
    for node in summary["nodes"]:
        assert node["gateway"]["device"] == "cilium_host"
        assert node["gateway"]["ip"] == str(ipaddress.ip_network(node["podCIDRs"][0])[1])


def test_pods_get_addresses_from_their_nodes_range():
    c_ = cilium()
    for pod in pods_of(c_, "web-"):
        node = pod["spec"]["nodeName"]
        rng = c_.node_summary(c_.get("Node", "", node))["podCIDRs"][0]
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(rng)


def test_cross_node_pod_to_pod_is_vxlan_on_8472_through_cilium_vxlan_with_the_identity_as_vni():
    c_ = cilium()
    target = remote_web(c_)
    t = trace(c_, "pod/default/client", f"{target['status']['podIP']}:8080")
    check_invariants(t)
    assert [h.action for h in t.hops] == [
        "send", "route", "encapsulate", "route", "decapsulate", "route", "deliver",
    ]  # fmt: skip
    wrap = t.hops[2]
    assert wrap.where == "cilium_vxlan"
    outer = wrap.packet.outer
    assert (outer["src"], outer["dst"], outer["protocol"], outer["port"]) == (
        "10.0.0.11",
        "10.0.0.12",
        "UDP",
        8472,
    )
    # The VNI carries the sender's security identity, not a fixed VNI 1 as flannel's.
    assert outer["vni"] >= 256
    last = t.hops[-2]
    assert last.where == "lxc veth" and "lxc" in last.summary and "no bridge" in last.summary
    assert t.hops[-1].packet.src_ip == c_.get("Pod", "default", "client")["status"]["podIP"]


def test_native_routing_sends_the_packet_as_it_is_over_the_node_network():
    c_ = cilium(routing_mode="native")
    target = remote_web(c_)
    t = trace(c_, "pod/default/client", f"{target['status']['podIP']}:8080")
    check_invariants(t)
    assert "encapsulate" not in [h.action for h in t.hops]
    route = t.hops[1]
    assert route.why["entry"] == "10.1.2.0/24 via 10.0.0.12 dev eth0 proto kernel"


def test_tunnel_mode_routes_every_pod_cidr_via_cilium_host():
    c_ = cilium()
    target = remote_web(c_)
    t = trace(c_, "pod/default/client", f"{target['status']['podIP']}:8080")
    assert t.hops[1].why["entry"].startswith("10.1.2.0/24 via 10.1.1.1 dev cilium_host")


def test_pod_to_outside_is_masqueraded_by_ciliums_iptables_rule():
    t = trace(cilium(), "pod/default/client", "192.0.2.10:80")
    check_invariants(t)
    snat = next(h for h in t.hops if h.action == "snat")
    assert snat.packet.src_ip == "10.0.0.11"
    assert "CILIUM_POST_nat" in snat.summary
    assert snat.why["entry"] == (
        "-A CILIUM_POST_nat -s 10.1.1.0/24 ! -d 10.1.1.0/24 ! -o cilium_+ "
        '-m comment --comment "cilium masquerade non-cluster" -j MASQUERADE'
    )


@pytest.mark.parametrize("kpr", [True, False])
def test_without_and_with_kube_proxy_the_datapath_is_ciliums(kpr: bool):
    c_ = cilium(kube_proxy_replacement=kpr)
    kube_proxy = c_.get("DaemonSet", "kube-system", "kube-proxy")
    assert (kube_proxy is None) == kpr
    assert c_.get("DaemonSet", "kube-system", "cilium") is not None
    target = remote_web(c_)
    t = trace(c_, "pod/default/client", f"{target['status']['podIP']}:8080")
    assert "cilium_vxlan" in [h.where for h in t.hops]


def test_in_a_cilium_pod_eth0_holds_a_32_and_routes_everything_to_cilium_host():
    from app.terminal import Session, run

    c_ = cilium()
    pod = run(c_, "kubectl exec -it client -- sh", Session()).session
    ip = c_.get("Pod", "default", "client")["status"]["podIP"]
    assert f"inet {ip}/32 scope global eth0" in run(c_, "ip addr", pod).output
    assert run(c_, "ip route", pod).output.splitlines() == [
        "default via 10.1.1.1 dev eth0 mtu 1450 ",
        "10.1.1.1 dev eth0 scope link ",
    ]


def test_the_docs_say_ciliums_ipam_picks_cilium_hosts_address_and_the_sandbox_uses_the_first():
    """cilium/cilium daemon/cmd ``allocateRouterIPv4``: without ``local-router-ipv4`` the router
    address comes from ``allocateDatapathIPs``, IPAM's next free address of the node's range,
    not a fixed ``.1``; README, lesson 10 and the datapath say the sandbox picks the first."""
    from pathlib import Path

    from app.network.cilium import datapath

    root = Path(__file__).resolve().parents[2]
    lesson = (root / "app/lessons/catalog/10-cni-plugins/lesson.md").read_text()
    readme = " ".join((root / "README.md").read_text().split())
    assert "the first of its pod range" not in lesson
    assert "Cilium's IPAM picks it from the" in lesson and "first one, to keep it" in lesson
    assert "Cilium's IPAM picks the router address from the node's range" in readme
    assert "allocateDatapathIPs" in " ".join((datapath.__doc__ or "").split())


@pytest.mark.parametrize("mode, route_mtu", [("tunnel", 1450), ("native", 1500)])
def test_the_pods_eth0_and_its_lxc_veth_agree_and_the_routes_carry_the_tunnel_mtu(mode, route_mtu):
    """plugins/cilium-cni (cmd.go): connector.SetupVeth makes both ends with conf.DeviceMTU,
    prepareIP gives the pod's routes conf.RouteMTU; pkg/mtu: GetDeviceMTU is the device's
    1500, GetRouteMTU subtracts the tunnel overhead only when encapsulating."""
    from app.terminal import Session, run

    c_ = cilium(routing_mode=mode)
    pod = c_.get("Pod", "default", "client")
    shell = Session("pod/default/client")
    assert "eth0@if" in run(c_, "ip addr", shell).output
    assert " mtu 1500 " in run(c_, "ip addr", shell).output.split("eth0@if")[1].split("\n")[0]
    assert f"dev eth0 mtu {route_mtu}" in run(c_, "ip route", shell).output
    from app.network.cilium import datapath

    veth = datapath.host_veth(pod)
    links = run(c_, "ip link", Session("node/worker-1")).output
    line = next(x for x in links.splitlines() if veth in x)
    assert " mtu 1500 " in line
