"""A new workspace holds the default kubeadm cluster of DESIGN.md."""

from __future__ import annotations

import ipaddress

import pytest

from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import InvalidObjects
from tests.unit.scenarios import cluster


def test_default_cluster_has_a_tainted_control_plane_and_two_workers():
    c = cluster()
    nodes = {n["metadata"]["name"]: n for n in c.list("Node")}
    assert list(nodes) == ["control-plane", "worker-1", "worker-2"]
    ips = {name: c.node_summary(n)["internalIP"] for name, n in nodes.items()}
    assert ips == {"control-plane": "10.0.0.10", "worker-1": "10.0.0.11", "worker-2": "10.0.0.12"}
    taints = nodes["control-plane"]["spec"]["taints"]
    assert taints == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert "taints" not in nodes["worker-1"]["spec"]


def test_kubeadm_namespaces_exist():
    names = {n["metadata"]["name"] for n in cluster().list("Namespace")}
    assert {"default", "kube-system", "kube-public", "kube-node-lease", "ingress-nginx"} <= names


def test_kubernetes_service_is_10_96_0_1_and_points_at_the_api_server():
    c = cluster()
    svc = c.get("Service", "default", "kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["ports"][0]["port"] == 443
    endpoints = c.get("EndpointSlice", "default", "kubernetes")["endpoints"]
    assert endpoints[0]["addresses"] == ["10.0.0.10"]


def test_kube_dns_is_10_96_0_10_in_front_of_two_coredns_pods():
    c = cluster()
    svc = c.get("Service", "kube-system", "kube-dns")
    assert svc["spec"]["clusterIP"] == "10.96.0.10"
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
        ("metrics", 9153, "TCP"),
    ]
    coredns = [
        p for p in c.list("Pod", "kube-system") if p["metadata"]["name"].startswith("coredns-")
    ]
    assert len(coredns) == 2
    assert all(p["status"]["phase"] == "Running" for p in coredns)
    slices = [s for s in c.list("EndpointSlice", "kube-system")]
    addresses = {a for s in slices for e in s["endpoints"] for a in e["addresses"]}
    assert addresses == {p["status"]["podIP"] for p in coredns}


def test_kube_proxy_and_the_cni_agent_run_on_every_node_with_the_node_address():
    c = cluster(cni="flannel")
    proxies = [
        p for p in c.list("Pod", "kube-system") if p["metadata"]["name"].startswith("kube-proxy-")
    ]
    flannel = [p for p in c.list("Pod", "kube-flannel")]
    for group in (proxies, flannel):
        assert sorted(p["spec"]["nodeName"] for p in group) == [
            "control-plane",
            "worker-1",
            "worker-2",
        ]
        for pod in group:
            node = c.get("Node", "", pod["spec"]["nodeName"])
            assert pod["status"]["podIP"] == node["status"]["addresses"][0]["address"]


@pytest.mark.parametrize(
    "cni,agent_namespace,agent",
    [("calico", "kube-system", "calico-node-"), ("weave", "kube-system", "weave-net-")],
)
def test_each_cni_plugin_brings_its_own_agent(cni, agent_namespace, agent):
    c = cluster(cni=cni)
    agents = [p for p in c.list("Pod", agent_namespace) if p["metadata"]["name"].startswith(agent)]
    assert len(agents) == 3


def test_ingress_controller_sits_behind_a_load_balancer_with_a_cloud_ip():
    c = cluster()
    svc = c.get("Service", "ingress-nginx", "ingress-nginx-controller")
    assert svc["spec"]["type"] == "LoadBalancer"
    ip = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("203.0.113.0/24")
    assert all(30000 <= p["nodePort"] <= 32767 for p in svc["spec"]["ports"])
    ingress_class = c.get("IngressClass", "", "nginx")
    assert (
        ingress_class["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"]
        == "true"
    )
    assert ingress_class["spec"]["controller"] == "k8s.io/ingress-nginx"


def test_system_workloads_stay_off_the_control_plane_unless_they_tolerate_it():
    c = cluster()
    for pod in c.list("Pod"):
        tolerations = pod["spec"].get("tolerations") or []
        if pod["spec"]["nodeName"] == "control-plane":
            assert tolerations, f"{pod['metadata']['name']} landed on the tainted control plane"


@pytest.mark.parametrize(
    "cni,pool,prefix",
    [
        ("flannel", "10.244.0.0/16", 24),
        ("calico", "192.168.0.0/16", 26),
        ("weave", "10.32.0.0/12", 20),
    ],
)
def test_each_node_gets_its_own_pod_range_from_the_plugins_pool(cni, pool, prefix):
    c = cluster(cni=cni)
    ranges = []
    for node in c.list("Node"):
        summary = c.node_summary(node)
        assert len(summary["podCIDRs"]) == 1
        net = ipaddress.ip_network(summary["podCIDRs"][0])
        assert net.prefixlen == prefix and net.subnet_of(ipaddress.ip_network(pool))
        ranges.append(net)
    assert len(set(ranges)) == len(ranges)


def test_flannel_gives_per_node_slash_24s_in_join_order_and_cni0_takes_dot_1():
    c = cluster(cni="flannel")
    summaries = {n["metadata"]["name"]: c.node_summary(n) for n in c.list("Node")}
    assert summaries["control-plane"]["podCIDRs"] == ["10.244.0.0/24"]
    assert summaries["worker-1"]["podCIDRs"] == ["10.244.1.0/24"]
    assert summaries["worker-2"]["gateway"] == {"device": "cni0", "ip": "10.244.2.1"}
    assert c.get("Node", "", "worker-1")["spec"]["podCIDR"] == "10.244.1.0/24"


def test_worker_count_is_chosen_at_creation_up_to_at_least_100():
    c = cluster(workers=100)
    assert len(c.list("Node")) == 101
    ips = [c.node_summary(n)["internalIP"] for n in c.list("Node")]
    assert len(set(ips)) == 101


@pytest.mark.parametrize(
    "config,field",
    [
        (ClusterConfig(cni="canal"), "cni"),
        (ClusterConfig(cni="cilium", routing_mode="geneve"), "routingMode"),
        (ClusterConfig(proxy_mode="userspace"), "proxyMode"),
        (ClusterConfig(workers=0), "workers"),
    ],
)
def test_unknown_settings_are_refused_naming_the_field(config, field):
    with pytest.raises(InvalidObjects) as raised:
        Cluster.create(config)
    assert raised.value.errors[0].field == field


def test_same_seed_same_cluster():
    a, b = cluster(seed=42), cluster(seed=42)
    assert [p["metadata"]["name"] for p in a.list("Pod")] == [
        p["metadata"]["name"] for p in b.list("Pod")
    ]
    assert (
        a.get("Service", "ingress-nginx", "ingress-nginx-controller")["spec"]
        == b.get("Service", "ingress-nginx", "ingress-nginx-controller")["spec"]
    )
