"""Nodes joining, failing, recovering and leaving, and what the controllers do about it."""

from __future__ import annotations

from .conftest import Api, apply_ok, deployment, list_items, new_workspace

WS = "/api/v1/workspaces"
WEB_SERVICE = (
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    "spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}\n"
)


def web_slice_endpoints(api: Api, workspace: str) -> list[dict]:
    slices = [
        s
        for s in list_items(api, workspace, "kind=endpointslices&namespace=default")
        if s["metadata"]["labels"].get("kubernetes.io/service-name") == "web"
    ]
    return [e for s in slices for e in s.get("endpoints") or []]


def ready_addresses(endpoints: list[dict]) -> set[str]:
    return {a for e in endpoints if e["conditions"].get("ready") for a in e["addresses"]}


def test_adding_a_worker_gives_the_next_name_ip_cidr_and_daemon_pods(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.post(f"{WS}/{workspace}/nodes")
    assert response.status_code == 201, response.text
    body = response.json()
    node = body["node"]
    assert node["name"] == "worker-3"
    assert node["internalIP"] == "10.0.0.13"
    assert node["ready"] is True
    assert node["podCIDRs"] == ["10.244.3.0/24"]
    created_pods = [c for c in body["created"] if c["kind"] == "Pod"]
    assert all(p["nodeName"] == "worker-3" for p in created_pods)
    names = {p["name"].rsplit("-", 1)[0] for p in created_pods}
    assert names == {"kube-proxy", "kube-flannel-ds"}
    assert {"kind": "Node", "namespace": "", "name": "worker-3"} in body["created"]
    summary = api.get(f"{WS}/{workspace}").json()
    assert [n["name"] for n in summary["nodes"]][-1] == "worker-3"
    assert summary["settings"]["workers"] == 3
    # and the next one after that
    assert api.post(f"{WS}/{workspace}/nodes").json()["node"]["internalIP"] == "10.0.0.14"


def test_adding_a_node_runs_the_cni_agent_of_the_workspaces_cni(api: Api) -> None:
    workspace = new_workspace(api, cni="calico")
    body = api.post(f"{WS}/{workspace}/nodes", json={}).json()
    names = {p["name"].rsplit("-", 1)[0] for p in body["created"] if p["kind"] == "Pod"}
    assert names == {"kube-proxy", "calico-node"}
    assert body["node"]["podCIDRs"][0].endswith("/26")


def test_adding_a_named_node_and_a_taken_name(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.post(f"{WS}/{workspace}/nodes", json={"name": "gpu-1"})
    assert response.status_code == 201, response.text
    assert response.json()["node"]["name"] == "gpu-1"
    taken = api.post(f"{WS}/{workspace}/nodes", json={"name": "worker-1"})
    assert taken.status_code in (409, 422), taken.text
    bad = api.post(f"{WS}/{workspace}/nodes", json={"name": "Not A Node"})
    assert bad.status_code == 422, bad.text


def test_worker_quota_is_403(tmp_path) -> None:
    from .conftest import make_api

    api = make_api(tmp_path, max_workers=3)
    workspace = new_workspace(api)
    assert api.post(f"{WS}/{workspace}/nodes").status_code == 201
    response = api.post(f"{WS}/{workspace}/nodes")
    assert response.status_code == 403, response.text
    assert len(api.get(f"{WS}/{workspace}").json()["nodes"]) == 4


def test_new_deployment_pods_can_land_on_a_new_worker(api: Api) -> None:
    workspace = new_workspace(api)
    api.post(f"{WS}/{workspace}/nodes")
    apply_ok(api, workspace, deployment("web", replicas=6))
    nodes = {p["spec"]["nodeName"] for p in list_items(api, workspace, "kind=po&namespace=default")}
    assert nodes == {"worker-1", "worker-2", "worker-3"}


def test_not_ready_node_loses_its_endpoints_and_its_pods_are_replaced(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=4) + "---\n" + WEB_SERVICE)
    pods = list_items(api, workspace, "kind=po&namespace=default")
    on_worker_1 = {p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] == "worker-1"}
    ips_on_worker_1 = {p["status"]["podIP"] for p in pods if p["spec"]["nodeName"] == "worker-1"}
    assert on_worker_1, "the scheduler put nothing on worker-1?"

    response = api.patch(f"{WS}/{workspace}/nodes/worker-1", json={"ready": False})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["node"]["ready"] is False
    assert any(e["reason"] == "NodeNotReady" for e in body["events"])
    removed = {r["name"] for r in body["removed"] if r["kind"] == "Pod"}
    assert on_worker_1 <= removed
    replacements = [
        c for c in body["created"] if c["kind"] == "Pod" and c["namespace"] == "default"
    ]
    assert len(replacements) == len(on_worker_1)
    assert all(c["nodeName"] != "worker-1" for c in replacements)

    pods = list_items(api, workspace, "kind=po&namespace=default")
    assert len(pods) == 4
    assert all(p["spec"]["nodeName"] == "worker-2" for p in pods)
    endpoints = web_slice_endpoints(api, workspace)
    assert not (ready_addresses(endpoints) & ips_on_worker_1)
    assert all(e.get("nodeName") != "worker-1" or not e["conditions"]["ready"] for e in endpoints)
    assert ready_addresses(endpoints) == {p["status"]["podIP"] for p in pods}
    # CoreDNS, too, is now served only from healthy nodes
    dns = list_items(api, workspace, "kind=po&namespace=kube-system")
    coredns = [p for p in dns if p["metadata"]["name"].startswith("coredns-")]
    assert len(coredns) == 2 and all(p["spec"]["nodeName"] != "worker-1" for p in coredns)
    # DaemonSet pods tolerate the taint and stay, not ready
    [proxy] = [
        p
        for p in dns
        if p["metadata"]["name"].startswith("kube-proxy-") and p["spec"]["nodeName"] == "worker-1"
    ]
    ready = {c["type"]: c["status"] for c in proxy["status"]["conditions"]}["Ready"]
    assert ready == "False"


def test_a_not_ready_node_gets_no_new_pods(api: Api) -> None:
    workspace = new_workspace(api)
    api.patch(f"{WS}/{workspace}/nodes/worker-2", json={"ready": False})
    apply_ok(api, workspace, deployment("web", replicas=3))
    nodes = {p["spec"]["nodeName"] for p in list_items(api, workspace, "kind=po&namespace=default")}
    assert nodes == {"worker-1"}


def test_a_node_ready_again_takes_pods_again(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=2) + "---\n" + WEB_SERVICE)
    api.patch(f"{WS}/{workspace}/nodes/worker-1", json={"ready": False})
    response = api.patch(f"{WS}/{workspace}/nodes/worker-1", json={"ready": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["node"]["ready"] is True
    assert any(e["reason"] == "NodeReady" for e in body["events"])
    summary = api.get(f"{WS}/{workspace}").json()
    assert all(n["ready"] for n in summary["nodes"])
    # the same request twice is a no-op
    again = api.patch(f"{WS}/{workspace}/nodes/worker-1", json={"ready": True}).json()
    assert again["created"] == [] and again["removed"] == [] and again["events"] == []
    # the node takes new pods again, and they are endpoints
    api.post(f"{WS}/{workspace}/objects/deploy/default/web/scale", json={"replicas": 6})
    pods = list_items(api, workspace, "kind=po&namespace=default")
    assert "worker-1" in {p["spec"]["nodeName"] for p in pods}
    endpoints = web_slice_endpoints(api, workspace)
    assert ready_addresses(endpoints) == {p["status"]["podIP"] for p in pods}
    for proxy in list_items(api, workspace, "kind=po&namespace=kube-system"):
        ready = {c["type"]: c["status"] for c in proxy["status"]["conditions"]}["Ready"]
        assert ready == "True", proxy["metadata"]["name"]


def test_removing_a_worker_moves_its_pods(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=4) + "---\n" + WEB_SERVICE)
    response = api.delete(f"{WS}/{workspace}/nodes/worker-2")
    assert response.status_code == 200, response.text
    assert response.json()["output"] == ["node/worker-2 deleted"]
    pods = list_items(api, workspace, "kind=po")
    assert all(p["spec"]["nodeName"] != "worker-2" for p in pods)
    web = [p for p in pods if p["metadata"]["namespace"] == "default"]
    assert len(web) == 4
    assert ready_addresses(web_slice_endpoints(api, workspace)) == {
        p["status"]["podIP"] for p in web
    }
    names = [n["name"] for n in api.get(f"{WS}/{workspace}").json()["nodes"]]
    assert names == ["control-plane", "worker-1"]


def test_removing_the_control_plane_is_403(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.delete(f"{WS}/{workspace}/nodes/control-plane")
    assert response.status_code == 403, response.text
    assert response.json()["reason"] == "Forbidden"
    via_objects = api.delete(f"{WS}/{workspace}/objects/Node/-/control-plane")
    assert via_objects.status_code == 403, via_objects.text
    assert len(api.get(f"{WS}/{workspace}").json()["nodes"]) == 3


def test_unknown_nodes_are_404(api: Api) -> None:
    workspace = new_workspace(api)
    assert api.patch(f"{WS}/{workspace}/nodes/ghost", json={"ready": False}).status_code == 404
    assert api.delete(f"{WS}/{workspace}/nodes/ghost").status_code == 404
