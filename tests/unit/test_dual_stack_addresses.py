"""The address plan of IPv6 and dual-stack clusters: nodes, pod ranges, pod addresses.

Sources: kind's Cluster config docs (``networking.ipFamily`` ipv4/ipv6/dual; IPv6 pod subnet
fd00:10:244::/56, service subnet fd00:10:96::/112); kube-controller-manager
``--node-cidr-mask-size-ipv6`` (default 64); flannel's configuration docs (``EnableIPv6``,
``IPv6Network``); Calico's IPPool reference (IPv6 ``blockSize`` default 122); the Pod API
(``status.podIPs``: "the first entry must match the podIP field"; at most one per family).
"""

from __future__ import annotations

import ipaddress

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.rebuild import switch
from app.cluster.state import ClusterConfig
from app.errors import InvalidObjects

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: nginx}]}\n"


def make(mode: str, cni: str = "flannel") -> Cluster:
    return Cluster.create(ClusterConfig(cni=cni, ip_family=mode), seed=1)


def test_a_dual_stack_node_has_an_address_and_a_pod_range_per_family_primary_first():
    node = make("dual").get("Node", "", "worker-1")
    internal = [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
    assert internal == ["10.0.0.11", "fc00:f853:ccd:e793::b"]
    assert node["spec"]["podCIDRs"] == ["10.244.1.0/24", "fd00:10:244:1::/64"]
    assert node["spec"]["podCIDR"] == "10.244.1.0/24"


def test_an_ipv6_node_has_only_ipv6():
    node = make("ipv6").get("Node", "", "control-plane")
    assert [a["address"] for a in node["status"]["addresses"]] == [
        "fc00:f853:ccd:e793::a",
        "control-plane",
    ]
    assert node["spec"]["podCIDRs"] == ["fd00:10:244::/64"]


def test_a_dual_stack_pod_gets_both_addresses_primary_first_from_its_nodes_ranges():
    cluster = make("dual")
    apply_text(cluster, POD)
    pod = cluster.get("Pod", "default", "a")
    node = cluster.get("Node", "", pod["spec"]["nodeName"])
    ips = [entry["ip"] for entry in pod["status"]["podIPs"]]
    assert pod["status"]["podIP"] == ips[0]
    assert [ipaddress.ip_address(ip).version for ip in ips] == [4, 6]
    for ip, cidr in zip(ips, node["spec"]["podCIDRs"], strict=True):
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)
    assert [h["ip"] for h in pod["status"]["hostIPs"]] == [
        a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"
    ]


def test_the_ipv4_cluster_is_unchanged():
    pod_ips = {}
    for mode in ("ipv4", "dual"):
        cluster = make(mode)
        apply_text(cluster, POD)
        pod_ips[mode] = cluster.get("Pod", "default", "a")["status"]["podIPs"]
    assert pod_ips["ipv4"] == pod_ips["dual"][:1]  # same seed: same IPv4 address, one entry


def test_calico_takes_slash_122_blocks_of_its_ipv6_pool():
    cluster = make("dual", "calico")
    ranges = cluster.get("Node", "", "worker-1")["spec"]["podCIDRs"]
    assert ranges[0].endswith("/26") and ranges[1].endswith("/122")
    apply_text(cluster, POD)
    pod = cluster.get("Pod", "default", "a")
    v6 = pod["status"]["podIPs"][1]["ip"]
    assert ipaddress.ip_address(v6) in ipaddress.ip_network("fd00:10:244::/56")


def test_weave_net_has_no_ipv6_and_says_which_field():
    with pytest.raises(InvalidObjects) as caught:
        make("dual", "weave")
    error = caught.value.errors[0]
    assert error.field == "ipFamily"
    assert "Weave Net does not support IPv6" in error.message


def test_an_unknown_ip_family_is_refused_with_the_supported_values():
    with pytest.raises(InvalidObjects) as caught:
        make("ipv5")
    assert caught.value.errors[0].message == (
        'Unsupported value: "ipv5": supported values: "ipv4", "ipv6", "dual"'
    )


def test_switching_to_weave_on_a_dual_stack_cluster_is_refused_and_nothing_changes():
    cluster = make("dual")
    with pytest.raises(InvalidObjects):
        switch(cluster, cni="weave")
    assert cluster.config.cni == "flannel"


def test_switching_cni_readdresses_both_families():
    cluster = make("dual")
    apply_text(cluster, POD)
    switch(cluster, cni="calico")
    ips = [e["ip"] for e in cluster.get("Pod", "default", "a")["status"]["podIPs"]]
    assert ipaddress.ip_address(ips[0]) in ipaddress.ip_network("192.168.0.0/16")
    assert ipaddress.ip_address(ips[1]) in ipaddress.ip_network("fd00:10:244::/56")


def test_a_saved_dual_stack_cluster_keeps_handing_out_new_ipv6_addresses():
    cluster = make("dual")
    apply_text(cluster, POD)
    loaded = Cluster.from_state(cluster.to_state())
    taken = loaded.get("Pod", "default", "a")["status"]["podIPs"][1]["ip"]
    apply_text(loaded, POD.replace("name: a", "name: b"))
    fresh = loaded.get("Pod", "default", "b")["status"]["podIPs"][1]["ip"]
    assert fresh != taken and loaded.config.ip_family == "dual"


def test_the_summary_lists_both_ranges_as_kubeadm_writes_them():
    settings = make("dual").summary()["settings"]
    assert settings["ipFamily"] == "dual"
    assert settings["podCIDR"] == "10.244.0.0/16,fd00:10:244::/56"
    assert settings["serviceCIDR"] == "10.96.0.0/12,fd00:10:96::/112"
