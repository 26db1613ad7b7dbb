"""The ready scenarios an instructor opens a class from (app/cluster/scenarios.py): each
applies cleanly, is the same every time, and each suggested request gets the verdict it
promises, under every CNI plugin and kube-proxy mode."""

from __future__ import annotations

import pytest
import yaml

from app.cluster import constants as c
from app.cluster import persistence, scenarios
from app.cluster.scenarios import BY_NAME, SCENARIOS, build, scenario_of, scenario_requests
from app.cluster.state import ClusterConfig
from app.errors import InvalidObjects
from app.network.trace import trace

CONFIGS = [
    pytest.param(ClusterConfig(cni=cni, proxy_mode=mode), id=f"{cni}-{mode}")
    for cni in c.CNI_PLUGINS
    for mode in c.PROXY_MODES
]


def _docs(scenario: scenarios.Scenario) -> list[dict]:
    return [d for d in yaml.safe_load_all(scenario.manifests) if d]


def test_the_four_class_scenarios_are_listed_in_order():
    assert [s.name for s in SCENARIOS] == [
        "web-service",
        "ingress-two-apps",
        "nodeport-policies",
        "empty",
    ]
    for s in SCENARIOS:
        assert s.title and s.description and "\n" not in s.description
        assert s.requests, f"{s.name} has nothing to trace"


@pytest.mark.parametrize("name", list(BY_NAME))
@pytest.mark.parametrize("cni", c.CNI_PLUGINS)
def test_every_scenario_applies_cleanly_and_its_pods_run(name: str, cni: str):
    scenario = BY_NAME[name]
    cluster = build(name, ClusterConfig(cni=cni))
    assert scenario_of(cluster) == name
    for doc in _docs(scenario):
        namespace = doc["metadata"].get("namespace", "default")
        obj = cluster.get(doc["kind"], namespace, doc["metadata"]["name"])
        assert obj is not None, f"{doc['kind']} {doc['metadata']['name']} was not created"
    for deployment in cluster.list("Deployment", "default"):
        status = deployment.get("status") or {}
        assert status.get("readyReplicas") == deployment["spec"]["replicas"]
    for pod in cluster.list("Pod", "default"):
        assert pod["status"]["phase"] == "Running" and pod["status"].get("podIP")
    assert not [e for e in cluster.state.events if e.type == "Warning"]


@pytest.mark.parametrize("name", list(BY_NAME))
def test_a_scenario_is_the_same_every_time_it_is_opened(name: str):
    def shape(cluster) -> list[tuple]:
        return sorted(
            (p["metadata"]["namespace"], p["metadata"]["name"], p["status"].get("podIP"))
            for p in cluster.list("Pod")
        ) + sorted(
            (s["metadata"]["name"], s["spec"].get("clusterIP")) for s in cluster.list("Service")
        )

    assert shape(build(name)) == shape(build(name))
    assert shape(build(name, seed=5)) != shape(build(name)), "an explicit seed is used"


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("name", list(BY_NAME))
def test_every_suggested_request_gets_the_verdict_it_promises(name: str, config: ClusterConfig):
    cluster = build(name, config)
    for request in scenario_requests(name, config.cni):
        result = trace(cluster, request.source, request.to, seed=0)
        assert result.verdict == request.verdict, (request, result.reason)


def test_the_web_service_request_goes_from_the_client_on_worker_1_to_a_web_pod():
    cluster = build("web-service")
    client = cluster.get("Pod", "default", "client")
    assert client["spec"]["nodeName"] == "worker-1"
    service = cluster.get("Service", "default", "web")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["targetPort"] == "http"  # a named container port
    endpoints = {
        trace(cluster, "pod/default/client", "http://web/", seed=s).endpoint["name"]
        for s in range(20)
    }
    web_pods = {p["metadata"]["name"] for p in cluster.list("Pod", "default")} - {"client"}
    assert len(web_pods) == 3 and endpoints <= web_pods and len(endpoints) > 1


def test_the_ingress_scenario_routes_each_host_to_its_app_and_the_bare_ip_gets_404():
    cluster = build("ingress-two-apps")
    ingress = cluster.get("Ingress", "default", "sites")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    shop, blog, bare = scenario_requests("ingress-two-apps")
    assert trace(cluster, shop.source, shop.to).endpoint["name"].startswith("shop-")
    assert trace(cluster, blog.source, blog.to).endpoint["name"].startswith("blog-")
    controller = cluster.get("Service", "ingress-nginx", "ingress-nginx-controller")
    lb_ip = controller["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert bare.to == f"http://{lb_ip}/" == f"http://{scenarios.INGRESS_LB_IP}/"
    result = trace(cluster, bare.source, bare.to)
    assert result.http_status == 404 and "no Ingress rule matches" in result.reason


def test_nodeport_local_drops_on_the_node_without_an_endpoint_as_kube_proxy_does():
    """Kubernetes docs (Service, externalTrafficPolicy): "If the traffic policy is Local and
    there are no node-local endpoints, the kube-proxy does not forward any traffic for the
    relevant Service." kube-proxy (iptables) installs a DROP for it in KUBE-EXTERNAL-SERVICES;
    with Cluster the node forwards to another node's pod and SNATs."""
    cluster = build("nodeport-policies")
    assert {p["spec"]["nodeName"] for p in cluster.list("Pod", "default")} == {"worker-1"}
    ports = {
        s["metadata"]["name"]: (s["spec"]["externalTrafficPolicy"], s["spec"]["ports"][0])
        for s in cluster.list("Service", "default")
        if s["spec"]["type"] == "NodePort"
    }
    assert ports["web-cluster"][0] == "Cluster" and ports["web-local"][0] == "Local"
    assert ports["web-cluster"][1]["nodePort"] == scenarios.CLUSTER_NODE_PORT
    assert ports["web-local"][1]["nodePort"] == scenarios.LOCAL_NODE_PORT
    for _, port in ports.values():
        assert c.NODE_PORT_MIN <= port["nodePort"] <= c.NODE_PORT_MAX

    via_cluster, local_dropped, local_kept = scenario_requests("nodeport-policies")
    assert "10.0.0.12" in via_cluster.to and "10.0.0.12" in local_dropped.to

    forwarded = trace(cluster, via_cluster.source, via_cluster.to)
    assert forwarded.verdict == "delivered"
    assert forwarded.hops[-1].packet.src_ip != c.EXTERNAL_CLIENT_IP  # SNAT to reach worker-1

    dropped = trace(cluster, local_dropped.source, local_dropped.to)
    assert dropped.verdict == "dropped" and dropped.hops[-1].action == "drop"
    assert "KUBE-EXTERNAL-SERVICES" in dropped.hops[-1].where
    assert "externalTrafficPolicy: Local" in dropped.reason and "worker-2" in dropped.reason

    kept = trace(cluster, local_kept.source, local_kept.to)
    assert kept.verdict == "delivered"
    assert kept.hops[-1].packet.src_ip == c.EXTERNAL_CLIENT_IP  # the client's own address


def test_the_empty_scenario_has_nothing_of_yours_and_reaches_the_api_server():
    cluster = build("empty")
    assert cluster.list("Pod", "default") == [] and not cluster.state.applied
    result = trace(cluster, "node/worker-1", scenario_requests("empty")[0].to)
    assert result.verdict == "delivered" and result.hops[-1].packet.dst_port == 6443


def test_the_manifests_are_real_kubernetes_yaml():
    for scenario in SCENARIOS:
        for doc in _docs(scenario):
            assert set(doc) >= {"apiVersion", "kind", "metadata", "spec"}
            assert doc["apiVersion"] in ("v1", "apps/v1", "networking.k8s.io/v1")


def test_an_unknown_scenario_is_refused_like_the_api_server_refuses_a_value():
    with pytest.raises(InvalidObjects) as raised:
        build("nope")
    error = raised.value.errors[0]
    assert error.field == "scenario"
    assert error.message.startswith('Unsupported value: "nope": supported values: "default", ')
    assert scenario_requests("nope") == []


def test_a_scenario_that_names_worker_2_needs_two_workers():
    with pytest.raises(InvalidObjects) as raised:
        build("nodeport-policies", ClusterConfig(workers=1))
    assert raised.value.errors[0].field == "workers"
    assert scenario_of(build("ingress-two-apps", ClusterConfig(workers=1))) == "ingress-two-apps"


def test_the_scenario_is_saved_with_the_workspace():
    cluster = build("web-service")
    restored = persistence.restore(persistence.save_all(cluster.state))
    assert restored.notes["scenario"] == "web-service"
