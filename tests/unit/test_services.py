"""Services: address allocation, EndpointSlices, and the simulated cloud."""

from __future__ import annotations

import ipaddress

import pytest

from app.cluster import nodes
from app.cluster.apply import apply_text
from app.errors import InvalidObjects
from tests.unit.scenarios import cluster, deployment, endpoint_ips, pods_of, service, web_app

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")


def test_clusterip_comes_from_the_service_cidr_and_above_the_static_band():
    c = web_app(cluster())
    ip = ipaddress.ip_address(c.get("Service", "default", "web")["spec"]["clusterIP"])
    assert ip in SERVICE_CIDR
    assert (
        int(ip) - int(SERVICE_CIDR.network_address) > 256
    )  # KEP-3070: low band kept for explicit IPs


def test_an_explicit_clusterip_is_honoured_and_a_taken_one_is_refused():
    c = cluster()
    apply_text(c, service("a") + "  clusterIP: 10.96.100.100\n")
    assert c.get("Service", "default", "a")["spec"]["clusterIP"] == "10.96.100.100"
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, service("b") + "  clusterIP: 10.96.100.100\n")
    error = raised.value.errors[0]
    assert error.field == "spec.clusterIPs[0]" and "already allocated" in error.message


def test_a_clusterip_outside_the_service_cidr_is_refused():
    c = cluster()
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, service("a") + "  clusterIP: 10.200.0.1\n")
    assert "not in the valid range" in raised.value.errors[0].message


def test_clusterip_cannot_change_once_set():
    c = web_app(cluster())
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, service("web") + "  clusterIP: 10.96.200.200\n")
    assert raised.value.errors[0].field.startswith("spec.clusterIP")


def test_reapplying_without_clusterip_keeps_the_allocated_one():
    c = web_app(cluster())
    ip = c.get("Service", "default", "web")["spec"]["clusterIP"]
    result = apply_text(c, service("web", port=8080))
    assert result.objects[0].action == "configured"
    assert c.get("Service", "default", "web")["spec"]["clusterIP"] == ip


def test_nodeport_services_get_a_port_in_range_and_keep_it_when_reapplied():
    c = web_app(cluster(), type_="NodePort")
    port = c.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    assert apply_text(c, service("web", type_="NodePort")).objects[0].action == "unchanged"
    apply_text(c, service("web", type_="NodePort", port=81))
    # the port number changed, so the nodePort is allocated afresh (matched by port+protocol)
    apply_text(c, service("web", type_="NodePort", port=80))
    assert 30000 <= c.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"] <= 32767


@pytest.mark.parametrize(
    "port,message", [(29999, "not in the valid range"), (32768, "not in the valid range")]
)
def test_an_out_of_range_nodeport_is_refused(port, message):
    c = cluster()
    text = service("a", type_="NodePort").replace(
        "targetPort: http}", f"targetPort: http, nodePort: {port}}}"
    )
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, text)
    assert raised.value.errors[0].field == "spec.ports[0].nodePort"
    assert message in raised.value.errors[0].message


def test_a_taken_nodeport_is_refused_and_freed_when_its_service_goes():
    c = cluster()
    text = service("a", type_="NodePort").replace(
        "targetPort: http}", "targetPort: http, nodePort: 30080}"
    )
    apply_text(c, text)
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, text.replace("name: a", "name: b"))
    assert "already allocated" in raised.value.errors[0].message
    c.delete("Service", "default", "a")
    apply_text(c, text.replace("name: a", "name: b"))
    assert c.get("Service", "default", "b")["spec"]["ports"][0]["nodePort"] == 30080


def test_two_services_in_one_apply_cannot_claim_the_same_nodeport():
    c = cluster()
    text = service("a", type_="NodePort").replace(
        "targetPort: http}", "targetPort: http, nodePort: 30080}"
    )
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, text + "---\n" + text.replace("name: a", "name: b"))
    assert raised.value.errors[0].document == 2
    assert c.get("Service", "default", "a") is None


def test_switching_back_to_clusterip_drops_the_nodeports():
    c = web_app(cluster(), type_="NodePort")
    apply_text(c, service("web"))
    assert "nodePort" not in c.get("Service", "default", "web")["spec"]["ports"][0]


def test_load_balancer_gets_an_ip_from_the_cloud_and_nodeports():
    c = web_app(cluster(), type_="LoadBalancer")
    svc = c.get("Service", "default", "web")
    assert (
        svc["status"]["loadBalancer"]["ingress"][0]["ip"] == "203.0.113.11"
    )  # .10 is ingress-nginx
    assert svc["spec"]["ports"][0]["nodePort"]
    assert any(e.reason == "EnsuredLoadBalancer" for e in c.events())
    apply_text(c, service("web"))
    assert c.get("Service", "default", "web")["status"] == {"loadBalancer": {}}


def test_external_traffic_policy_local_gets_a_health_check_node_port():
    c = cluster()
    apply_text(c, service("web", type_="LoadBalancer") + "  externalTrafficPolicy: Local\n")
    spec = c.get("Service", "default", "web")["spec"]
    assert 30000 <= spec["healthCheckNodePort"] <= 32767
    assert spec["healthCheckNodePort"] != spec["ports"][0]["nodePort"]


def test_headless_service_has_no_clusterip_and_its_slices_say_so():
    c = cluster()
    apply_text(c, deployment("db", 2) + "---\n" + service("db") + "  clusterIP: None\n")
    assert c.get("Service", "default", "db")["spec"]["clusterIP"] == "None"
    slices = c.list("EndpointSlice", "default")
    headless = [
        s for s in slices if s["metadata"]["labels"].get("kubernetes.io/service-name") == "db"
    ]
    assert headless and "service.kubernetes.io/headless" in headless[0]["metadata"]["labels"]
    assert len(endpoint_ips(c, "db")) == 2


def test_external_name_service_has_no_clusterip_and_no_endpoints():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\n"
        "spec: {type: ExternalName, externalName: db.example.com}\n",
    )
    spec = c.get("Service", "default", "db")["spec"]
    assert "clusterIP" not in spec and spec["externalName"] == "db.example.com"
    assert endpoint_ips(c, "db", ready=False) == set()


# --- EndpointSlices -------------------------------------------------------------------------


def test_endpointslice_lists_the_ready_pods_the_selector_matches():
    c = web_app(cluster())
    assert endpoint_ips(c, "web") == {p["status"]["podIP"] for p in pods_of(c, "web-")}
    slice_ = next(
        s for s in c.list("EndpointSlice", "default") if s["metadata"]["name"].startswith("web-")
    )
    assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    assert (
        slice_["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"]
        == "endpointslice-controller.k8s.io"
    )
    assert slice_["addressType"] == "IPv4"
    assert slice_["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
    for endpoint in slice_["endpoints"]:
        assert endpoint["targetRef"]["kind"] == "Pod" and endpoint["nodeName"].startswith("worker-")


def test_a_selector_that_matches_nothing_gives_an_empty_slice():
    c = cluster()
    apply_text(c, deployment("web", 2) + "---\n" + service("web", selector={"app": "frontend"}))
    assert endpoint_ips(c, "web", ready=False) == set()


def test_a_service_without_selector_gets_no_managed_slices():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {ports: [{port: 5432}]}\n",
    )
    assert not [
        s for s in c.list("EndpointSlice", "default") if s["metadata"]["name"].startswith("ext")
    ]


def test_named_target_port_is_resolved_per_pod():
    """Pods that number the named port differently land in different slices."""
    c = cluster()
    apply_text(
        c,
        deployment(
            "a", 1, labels={"app": "web", "v": "a"}, ports=[{"name": "http", "containerPort": 8080}]
        )
        + "---\n"
        + deployment(
            "b", 1, labels={"app": "web", "v": "b"}, ports=[{"name": "http", "containerPort": 9090}]
        )
        + "---\n"
        + service("web", selector={"app": "web"}),
    )
    slices = [
        s
        for s in c.list("EndpointSlice", "default")
        if s["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    ]
    ports = sorted(s["ports"][0]["port"] for s in slices)
    assert ports == [8080, 9090]


def test_a_pod_without_the_named_port_is_listed_without_that_port():
    c = cluster()
    apply_text(c, deployment("web", 1, ports=[]) + "---\n" + service("web", target="http"))
    slices = [
        s for s in c.list("EndpointSlice", "default") if s["metadata"]["name"].startswith("web-")
    ]
    assert slices[0]["ports"] == [] and len(slices[0]["endpoints"]) == 1


def test_numeric_target_port_is_used_as_is():
    c = cluster()
    apply_text(c, deployment("web", 1) + "---\n" + service("web", target=9999))
    slice_ = next(
        s for s in c.list("EndpointSlice", "default") if s["metadata"]["name"].startswith("web-")
    )
    assert slice_["ports"][0]["port"] == 9999


def test_relabelling_a_pod_moves_it_out_of_the_slice():
    c = web_app(cluster(), replicas=1)
    apply_text(c, service("web", selector={"app": "web", "tier": "gold"}))
    assert endpoint_ips(c, "web", ready=False) == set()


def test_pods_on_a_not_ready_node_leave_the_slices_and_are_replaced():
    c = web_app(cluster(), replicas=2)
    before = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in pods_of(c, "web-")}
    assert sorted(before.values()) == ["worker-1", "worker-2"]
    change = nodes.set_node_ready(c, "worker-1", False)
    after = pods_of(c, "web-")
    assert all(p["spec"]["nodeName"] == "worker-2" for p in after) and len(after) == 2
    assert all(ip.startswith("10.244.2.") for ip in endpoint_ips(c, "web"))
    assert any(e.reason == "TaintManagerEviction" for e in change.events)
    assert any(e.reason == "NodeNotReady" for e in change.events)
    nodes.set_node_ready(c, "worker-1", True)
    assert c.node_summary(c.get("Node", "", "worker-1"))["ready"]


def test_a_bare_pod_on_a_not_ready_node_stays_but_is_not_ready():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, labels: {app: solo}}\n"
        "spec: {nodeName: worker-1, containers: [{name: c, image: nginx}]}\n---\n"
        + service("solo", target=80),
    )
    assert endpoint_ips(c, "solo")
    nodes.set_node_ready(c, "worker-1", False)
    assert c.get("Pod", "default", "solo") is not None
    assert endpoint_ips(c, "solo") == set() and endpoint_ips(c, "solo", ready=False)
    nodes.set_node_ready(c, "worker-1", True)
    assert endpoint_ips(c, "solo")


def test_publish_not_ready_addresses_keeps_not_ready_pods_ready_in_the_slice():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, labels: {app: solo}}\n"
        "spec: {nodeName: worker-1, containers: [{name: c, image: nginx}]}\n---\n"
        + service("solo", target=80)
        + "  publishNotReadyAddresses: true\n",
    )
    nodes.set_node_ready(c, "worker-1", False)
    assert endpoint_ips(c, "solo")


def test_slices_hold_at_most_100_endpoints():
    c = cluster(max_pods=400)
    apply_text(c, deployment("web", 150) + "---\n" + service("web"))
    slices = [
        s for s in c.list("EndpointSlice", "default") if s["metadata"]["name"].startswith("web-")
    ]
    assert sorted(len(s["endpoints"]) for s in slices) == [50, 100]


def test_adding_and_removing_nodes():
    c = cluster()
    change = nodes.add_node(c)
    node = c.get("Node", "", "worker-3")
    assert c.node_summary(node)["internalIP"] == "10.0.0.13"
    assert {k.name.split("-")[0] for k in change.created if k.kind == "Pod"} >= {"kube"}
    apply_text(c, deployment("web", 6))
    c.delete("Node", "", "worker-3")
    assert c.get("Node", "", "worker-3") is None
    assert all(p["spec"]["nodeName"] != "worker-3" for p in c.list("Pod"))
    assert len(pods_of(c, "web-")) == 6
