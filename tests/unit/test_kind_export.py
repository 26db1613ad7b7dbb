"""The sandbox as a kind cluster (app/cluster/kind_export.py): the config follows kind's
v1alpha4 Cluster schema (https://kind.sigs.k8s.io/docs/user/configuration/)."""

from __future__ import annotations

import pytest
import yaml

from app.cluster import scenarios
from app.cluster.cluster import Cluster
from app.cluster.kind_export import (
    CNI_INSTALL,
    kind_config_yaml,
    kind_manifests,
    replay_commands,
    replay_script,
)
from app.cluster.nodes import add_node
from app.cluster.state import ClusterConfig
from app.lessons import notes

POD_SUBNETS = {"flannel": "10.244.0.0/16", "calico": "192.168.0.0/16", "weave": "10.32.0.0/12"}


@pytest.mark.parametrize("cni", sorted(POD_SUBNETS))
@pytest.mark.parametrize("proxy_mode", ["iptables", "ipvs", "nftables"])
def test_config_matches_the_sandboxs_network(cni: str, proxy_mode: str) -> None:
    cluster = Cluster.create(ClusterConfig(cni=cni, proxy_mode=proxy_mode))
    config = yaml.safe_load(kind_config_yaml(cluster))
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["networking"] == {
        # kind's default CNI is kindnet: none of the sandbox's plugins.
        "disableDefaultCNI": True,
        "podSubnet": POD_SUBNETS[cni],
        "serviceSubnet": "10.96.0.0/12",
        "kubeProxyMode": proxy_mode,
    }
    assert CNI_INSTALL[cni] in replay_script(cluster)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_one_control_plane_and_the_sandboxs_workers(workers: int) -> None:
    cluster = Cluster.create(ClusterConfig(workers=workers))
    roles = [n["role"] for n in yaml.safe_load(kind_config_yaml(cluster))["nodes"]]
    assert roles == ["control-plane"] + ["worker"] * workers


def test_a_worker_added_later_is_a_kind_worker_too() -> None:
    cluster = Cluster.create()
    add_node(cluster)
    roles = [n["role"] for n in yaml.safe_load(kind_config_yaml(cluster))["nodes"]]
    assert roles == ["control-plane", "worker", "worker", "worker"]


def test_manifests_are_the_export_without_nodes() -> None:
    cluster = scenarios.build("ingress-two-apps")
    kinds = {d["kind"] for d in yaml.safe_load_all(kind_manifests(cluster)) if d}
    assert {"Deployment", "Service", "Ingress"} <= kinds
    assert "Node" not in kinds


def test_traces_become_kubectl_exec_through_the_deployment() -> None:
    cluster = scenarios.build("web-service")
    pod = next(p for p in cluster.list("Pod", "default") if p["metadata"].get("ownerReferences"))
    owner = pod["metadata"]["ownerReferences"][0]["name"].rsplit("-", 1)[0]
    source = f"pod/default/{pod['metadata']['name']}"
    notes.record(cluster, {"kind": "trace", "from": source, "to": "http://web/"})
    notes.record(cluster, {"kind": "dns", "from": source, "name": "web.default"})
    notes.record(cluster, {"kind": "trace", "from": "node/worker-2", "to": "10.96.0.10:53/udp"})
    notes.record(
        cluster,
        {
            "kind": "trace",
            "from": "external",
            "to": "http://10.0.0.11/",
            "host": "shop.example.com",
        },
    )
    assert replay_commands(cluster) == [
        f"kubectl exec -n default deploy/{owner} -- curl -s http://web/",
        f"kubectl exec -n default deploy/{owner} -- nslookup web.default",
        "docker exec podpath-worker2 nslookup kubernetes.default 10.96.0.10",
        "# from outside: use a node address from docker network inspect kind",
        "curl -s -H 'Host: shop.example.com' http://10.0.0.11/",
    ]


def test_script_says_what_a_real_cluster_shows_differently() -> None:
    script = replay_script(scenarios.build("ingress-two-apps"))
    assert script.startswith("#!/bin/sh\n")
    head = script.split("set -e")[0]
    for words in ("random name suffixes", "ingress controller", "Docker containers"):
        assert words in head
    assert "ingress-nginx" in script
    assert "kubectl apply -f manifests.yaml" in script


def test_terminal_commands_are_replayed_without_their_own_traces() -> None:
    cluster = scenarios.build("web-service")
    pod = next(p for p in cluster.list("Pod", "default") if p["metadata"].get("ownerReferences"))
    name = pod["metadata"]["name"]
    owner = "deploy/" + pod["metadata"]["ownerReferences"][0]["name"].rsplit("-", 1)[0]

    def ran(argv: list[str], where: str = "cluster", ok: bool = True) -> None:
        notes.record(cluster, {"kind": "command", "argv": argv, "where": where, "ok": ok})

    ran(["kubectl", "get", "pods", "-o", "wide"])
    ran(["kubectl", "exec", "-n", "default", name, "--", "curl", "-s", "http://web"])
    # What the terminal records after the command: its lookup and its request.
    notes.record(cluster, {"kind": "dns", "from": f"pod/default/{name}", "name": "web"})
    notes.record(cluster, {"kind": "trace", "from": f"pod/default/{name}", "to": "http://web"})
    ran(["kubectl", "exec", "-it", name, "--", "sh"])
    ran(["nslookup", "web"], where=f"pod/default/{name}")
    ran(["kubectl", "scale", "deploy/web", "--replicas=3"])  # in manifests.yaml already
    ran(["kubectl", "get", "nope"], ok=False)
    ran(["ip", "route"], where="node/worker-1")
    assert replay_commands(cluster) == [
        "kubectl get pods -o wide",
        f"kubectl exec -n default {owner} -- curl -s http://web",
        f"kubectl exec -n default {owner} -- nslookup web",
        "docker exec podpath-worker ip route",
    ]


def test_each_cni_is_installed_as_its_project_documents() -> None:
    """flannel's README (the latest release's manifest), Calico's on-premises install,
    Manifest tab (release v3.33.0, the latest in docs.tigera.io/calico), Weave Net's last
    release (the project is archived), Cilium's Helm chart pinned to the release the sandbox
    models (docs.cilium.io, "Installation using Helm")."""
    from app.cluster import constants

    assert set(CNI_INSTALL) == set(constants.CNI_PLUGINS)
    assert CNI_INSTALL == {
        "flannel": "kubectl apply -f "
        "https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml",
        "calico": "kubectl apply -f "
        "https://raw.githubusercontent.com/projectcalico/calico/v3.33.0/manifests/calico.yaml",
        "weave": "kubectl apply -f "
        "https://github.com/weaveworks/weave/releases/download/v2.8.1/weave-daemonset-k8s.yaml",
        "cilium": "helm repo add cilium https://helm.cilium.io/ && helm install cilium "
        "cilium/cilium --version 1.18.5 --namespace kube-system",
    }


def test_gateway_api_objects_install_the_crds_and_envoy_gateway_before_the_manifests() -> None:
    """Envoy Gateway's install page: kubectl apply --server-side -f <release>/install.yaml
    (the Gateway API CRDs included), then the quickstart's wait for deployment/envoy-gateway."""
    cluster = scenarios.build("web-service")
    assert "envoyproxy/gateway" not in replay_script(cluster)
    from app.cluster.apply import apply_text

    apply_text(
        cluster,
        """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web-gw}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
""",
    )
    script = replay_script(cluster)
    install = (
        "kubectl apply --server-side -f "
        "https://github.com/envoyproxy/gateway/releases/download/v1.9.0/install.yaml"
    )
    assert install in script
    assert script.index(install) < script.index("kubectl wait --timeout=5m -n envoy-gateway-system")
    assert script.index("name: eg\n") < script.index("kubectl apply -f manifests.yaml")
    assert "Gateway API v1.6.1 CRDs" in script
    assert "kind: Gateway\n" in kind_manifests(cluster)


def test_cilium_is_installed_with_the_sandboxs_helm_values() -> None:
    """Cilium's "Installation using Helm" and "Kubernetes Without kube-proxy" guides: with
    kubeProxyReplacement=true kind installs no kube-proxy (kubeProxyMode: none) and Cilium is
    told the API server's address; routingMode, the cluster-pool and loadBalancer.mode are
    the sandbox's."""
    from app.cluster.kind_export import cni_install

    cluster = Cluster.create(ClusterConfig(cni="cilium"))
    config = yaml.safe_load(kind_config_yaml(cluster))
    assert config["networking"]["kubeProxyMode"] == "none"
    assert config["networking"]["podSubnet"] == "10.1.0.0/16"
    script = replay_script(cluster)
    assert "helm install cilium cilium/cilium --version 1.18.5" in script
    words = cni_install(cluster.config).split()
    for value in (
        "routingMode=tunnel",
        "tunnelProtocol=vxlan",
        "ipam.operator.clusterPoolIPv4PodCIDRList=10.1.0.0/16",
        "kubeProxyReplacement=true",
        "k8sServiceHost=podpath-control-plane",
    ):
        assert value in words
    dsr = ClusterConfig(cni="cilium", routing_mode="native", load_balancer_mode="dsr")
    words = cni_install(dsr).split()
    assert "routingMode=native" in words and "loadBalancer.mode=dsr" in words
    # loadBalancer.mode belongs to the kube-proxy replacement: dsr without it is refused.
    native = ClusterConfig(
        cni="cilium", routing_mode="native", kube_proxy_replacement=False, proxy_mode="nftables"
    )
    words = cni_install(native).split()
    assert "kubeProxyReplacement=false" in words and "autoDirectNodeRoutes=true" in words
    config = yaml.safe_load(kind_config_yaml(Cluster.create(native)))
    assert config["networking"]["kubeProxyMode"] == "nftables"
