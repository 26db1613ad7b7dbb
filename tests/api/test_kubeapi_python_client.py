"""The official ``kubernetes`` Python client against a live Podpath server.

It loads the kubeconfig a sandbox hands out (``/k/<id>/kubeconfig``) with
``kubernetes.config.load_kube_config``, as a learner's script would, and uses the typed
CoreV1Api and AppsV1Api. Errors come back as ``ApiException`` whose body is the API server's
``Status`` object (apimachinery's ``metav1.Status``: ``reason`` NotFound with code 404, Invalid
with code 422 and ``details.causes``), which the client hands over as it came.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.conftest import ServerHandle, start_server

pytestmark = pytest.mark.slow

SERVICE_NETWORK = ipaddress.ip_network("10.96.0.0/12")
POD_NETWORK = ipaddress.ip_network("10.244.0.0/16")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    handle = start_server(tmp_path_factory.mktemp("python-client-server") / "data")
    yield handle
    handle.stop()


class Sandbox:
    """One workspace, reached through the kubeconfig it hands out."""

    def __init__(self, server: ServerHandle, home: Path) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            answer = http.post("/api/v1/workspaces", json={"scenario": "web-service"})
            assert answer.status_code == 201, answer.text
            self.workspace = answer.json()["id"]
            kubeconfig = home / "podpath.yaml"
            kubeconfig.write_text(http.get(f"/k/{self.workspace}/kubeconfig").text)
        self.configuration = client.Configuration()
        config.load_kube_config(
            config_file=str(kubeconfig), client_configuration=self.configuration
        )
        self.api_client = client.ApiClient(self.configuration)
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)

    def close(self) -> None:
        self.api_client.close()


@pytest.fixture
def sandbox(server: ServerHandle, tmp_path: Path) -> Iterator[Sandbox]:
    made = Sandbox(server, tmp_path)
    yield made
    made.close()


def test_the_kubeconfig_points_at_the_sandbox(sandbox, server):
    assert sandbox.configuration.host == f"{server.url}/k/{sandbox.workspace}"


def test_discovery_and_nodes(sandbox):
    assert client.CoreApi(sandbox.api_client).get_api_versions().versions == ["v1"]
    groups = {g.name for g in client.ApisApi(sandbox.api_client).get_api_versions().groups}
    assert {"apps", "networking.k8s.io", "discovery.k8s.io"} <= groups
    nodes = sandbox.core.list_node().items
    assert [n.metadata.name for n in nodes] == ["control-plane", "worker-1", "worker-2"]
    info = nodes[1].status.node_info
    assert len(info.machine_id) == 32 and info.kubelet_version.startswith("v1.")


def test_lists_pods_services_and_deployments(sandbox):
    pods = sandbox.core.list_namespaced_pod("default")
    names = sorted(p.metadata.name for p in pods.items)
    assert "client" in names and sum(n.startswith("web-") for n in names) == 3
    assert all(p.status.phase == "Running" for p in pods.items)
    assert all(ipaddress.ip_address(p.status.pod_ip) in POD_NETWORK for p in pods.items)
    web = sandbox.core.list_namespaced_pod("default", label_selector="app=web")
    assert len(web.items) == 3
    services = sandbox.core.list_namespaced_service("default")
    assert sorted(s.metadata.name for s in services.items) == ["kubernetes", "web"]
    everywhere = sandbox.core.list_service_for_all_namespaces()
    assert ("kube-system", "kube-dns") in {
        (s.metadata.namespace, s.metadata.name) for s in everywhere.items
    }
    deployments = sandbox.apps.list_namespaced_deployment("default")
    assert [d.metadata.name for d in deployments.items] == ["web"]
    assert deployments.items[0].spec.replicas == 3
    system = sandbox.apps.list_namespaced_deployment("kube-system")
    assert [d.metadata.name for d in system.items] == ["coredns"]


def test_creates_a_deployment_and_a_service_and_reads_them_back(sandbox):
    deployment = client.V1Deployment(
        api_version="apps/v1",
        kind="Deployment",
        metadata=client.V1ObjectMeta(name="shop", labels={"app": "shop"}),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "shop"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "shop"}),
                spec=client.V1PodSpec(
                    containers=[
                        client.V1Container(
                            name="shop",
                            image="nginx:1.27",
                            ports=[client.V1ContainerPort(container_port=80)],
                        )
                    ]
                ),
            ),
        ),
    )
    made = sandbox.apps.create_namespaced_deployment("default", deployment)
    assert made.metadata.name == "shop" and made.metadata.namespace == "default"
    service = client.V1Service(
        api_version="v1",
        kind="Service",
        metadata=client.V1ObjectMeta(name="shop"),
        spec=client.V1ServiceSpec(
            selector={"app": "shop"},
            ports=[client.V1ServicePort(port=80, target_port=80)],
        ),
    )
    created = sandbox.core.create_namespaced_service("default", service)
    assert ipaddress.ip_address(created.spec.cluster_ip) in SERVICE_NETWORK

    read = sandbox.core.read_namespaced_service("shop", "default")
    assert read.spec.cluster_ip == created.spec.cluster_ip
    assert read.spec.type == "ClusterIP"
    assert read.spec.ports[0].port == 80 and read.spec.ports[0].protocol == "TCP"
    back = sandbox.apps.read_namespaced_deployment("shop", "default")
    assert back.spec.replicas == 2
    assert back.spec.template.spec.containers[0].image == "nginx:1.27"
    pods = sandbox.core.list_namespaced_pod("default", label_selector="app=shop").items
    assert len(pods) == 2
    assert all(p.metadata.name.startswith("shop-") for p in pods)
    assert all(ipaddress.ip_address(p.status.pod_ip) in POD_NETWORK for p in pods)
    assert len({p.status.pod_ip for p in pods}) == 2


def test_a_missing_object_is_a_404_not_found(sandbox):
    with pytest.raises(ApiException) as caught:
        sandbox.core.read_namespaced_pod("nope", "default")
    assert caught.value.status == 404 and caught.value.reason == "Not Found"
    assert json.loads(caught.value.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }
    with pytest.raises(ApiException) as caught:
        sandbox.apps.read_namespaced_deployment("nope", "default")
    body = json.loads(caught.value.body)
    assert (body["reason"], body["code"]) == ("NotFound", 404)
    assert body["message"] == 'deployments.apps "nope" not found'
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


def test_an_invalid_object_is_a_422_invalid_with_its_causes(sandbox):
    bad = client.V1Service(
        api_version="v1",
        kind="Service",
        metadata=client.V1ObjectMeta(name="bad"),
        spec=client.V1ServiceSpec(
            selector={"app": "bad"}, ports=[client.V1ServicePort(port=70000)]
        ),
    )
    with pytest.raises(ApiException) as caught:
        sandbox.core.create_namespaced_service("default", bad)
    assert caught.value.status == 422 and caught.value.reason == "Unprocessable Entity"
    body = json.loads(caught.value.body)
    message = "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'Service "bad" is invalid: {message}',
        "reason": "Invalid",
        "details": {
            "name": "bad",
            "kind": "Service",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: 70000: must be between 1 and 65535, inclusive",
                    "field": "spec.ports[0].port",
                }
            ],
        },
        "code": 422,
    }
    with pytest.raises(ApiException):
        sandbox.core.read_namespaced_service("bad", "default")
