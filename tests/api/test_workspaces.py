"""Workspaces over HTTP: the default kubeadm cluster each CNI builds, ids, forks and 404s."""

from __future__ import annotations

import ipaddress
import re

import pytest

from .conftest import Api, apply_ok, deployment, new_workspace

WS = "/api/v1/workspaces"


def items(api: Api, workspace: str, query: str) -> list[dict]:
    response = api.get(f"{WS}/{workspace}/objects?{query}")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.ip_network(text)


def test_create_answers_201_with_id_location_settings_nodes_and_counts(api: Api) -> None:
    response = api.post(WS, json={})
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"{WS}/{body['id']}"
    assert body["settings"]["cni"] == "flannel"
    assert body["settings"]["proxyMode"] == "iptables"
    assert body["settings"]["serviceCIDR"] == "10.96.0.0/12"
    assert body["settings"]["nodePortRange"] == "30000-32767"
    assert [(n["name"], n["internalIP"]) for n in body["nodes"]] == [
        ("control-plane", "10.0.0.10"),
        ("worker-1", "10.0.0.11"),
        ("worker-2", "10.0.0.12"),
    ]
    assert body["counts"]["Node"] == 3
    assert api.get(response.headers["location"]).json()["nodes"] == body["nodes"]


def test_create_without_a_body_uses_the_defaults(api: Api) -> None:
    response = api.post(WS)
    assert response.status_code == 201
    assert response.json()["settings"]["cni"] == "flannel"


def test_workspace_ids_are_long_random_url_safe_and_distinct(api: Api) -> None:
    ids = {new_workspace(api) for _ in range(5)}
    assert len(ids) == 5
    for workspace in ids:
        # >= 128 random bits in base64url is at least 22 characters.
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", workspace), workspace


def test_flannel_gives_each_node_a_slash_24_in_join_order(api: Api) -> None:
    body = api.post(WS, json={"cni": "flannel", "workers": 3}).json()
    assert [n["podCIDRs"] for n in body["nodes"]] == [
        ["10.244.0.0/24"],
        ["10.244.1.0/24"],
        ["10.244.2.0/24"],
        ["10.244.3.0/24"],
    ]
    assert body["nodes"][0]["name"] == "control-plane"
    assert body["nodes"][1]["gateway"] == {"device": "cni0", "ip": "10.244.1.1"}


def test_calico_gives_each_node_a_slash_26_block_from_192_168(api: Api) -> None:
    body = api.post(WS, json={"cni": "calico", "workers": 3}).json()
    blocks = [net(n["podCIDRs"][0]) for n in body["nodes"]]
    assert len(blocks) == 4
    for block in blocks:
        assert block.prefixlen == 26
        assert block.subnet_of(net("192.168.0.0/16"))
    assert len(set(blocks)) == 4
    assert all(not a.overlaps(b) for a in blocks for b in blocks if a is not b)


def test_weave_gives_node_ranges_inside_10_32_slash_12(api: Api) -> None:
    body = api.post(WS, json={"cni": "weave"}).json()
    ranges = [net(cidr) for n in body["nodes"] for cidr in n["podCIDRs"]]
    assert ranges
    assert all(r.subnet_of(net("10.32.0.0/12")) for r in ranges)
    assert all(not a.overlaps(b) for a in ranges for b in ranges if a is not b)


@pytest.mark.parametrize("cni", ["flannel", "calico", "weave"])
def test_pod_ips_fall_inside_their_nodes_pod_cidr(api: Api, cni: str) -> None:
    body = api.post(WS, json={"cni": cni}).json()
    cidrs = {n["name"]: [net(c) for c in n["podCIDRs"]] for n in body["nodes"]}
    node_ips = {n["internalIP"] for n in body["nodes"]}
    pods = items(api, body["id"], "kind=pods")
    pod_network_ips = []
    for pod in pods:
        ip = pod["status"]["podIP"]
        if ip in node_ips:  # hostNetwork pods (kube-proxy, the CNI agent, static pods)
            continue
        pod_network_ips.append(ip)
        address = ipaddress.ip_address(ip)
        assert any(address in c for c in cidrs[pod["spec"]["nodeName"]]), (pod, cidrs)
    assert len(pod_network_ips) == len(set(pod_network_ips)) >= 3  # 2 CoreDNS + controller


def test_kubernetes_and_kube_dns_services_sit_at_their_fixed_cluster_ips(api: Api) -> None:
    workspace = new_workspace(api)
    kubernetes = api.get(f"{WS}/{workspace}/objects/Service/default/kubernetes").json()
    assert kubernetes["spec"]["clusterIP"] == "10.96.0.1"
    kube_dns = api.get(f"{WS}/{workspace}/objects/svc/kube-system/kube-dns").json()
    assert kube_dns["spec"]["clusterIP"] == "10.96.0.10"
    for service in items(api, workspace, "kind=svc"):
        ip = ipaddress.ip_address(service["spec"]["clusterIP"])
        assert ip in net("10.96.0.0/12"), service["metadata"]["name"]


def test_coredns_runs_two_ready_pods_in_kube_system(api: Api) -> None:
    workspace = new_workspace(api)
    pods = items(api, workspace, "kind=po&namespace=kube-system")
    coredns = [p for p in pods if p["metadata"]["name"].startswith("coredns-")]
    assert len(coredns) == 2
    for pod in coredns:
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"]
        assert ready == "True"
        assert pod["spec"]["nodeName"] != "control-plane"  # tainted: no workloads
    assert {p["metadata"]["namespace"] for p in pods} == {"kube-system"}


def test_ingress_nginx_controller_is_a_load_balancer_with_a_cloud_ip(api: Api) -> None:
    workspace = new_workspace(api)
    service = api.get(
        f"{WS}/{workspace}/objects/Service/ingress-nginx/ingress-nginx-controller"
    ).json()
    assert service["spec"]["type"] == "LoadBalancer"
    ingress = service["status"]["loadBalancer"]["ingress"]
    assert ipaddress.ip_address(ingress[0]["ip"]) in net("203.0.113.0/24")
    for port in service["spec"]["ports"]:
        assert 30000 <= port["nodePort"] <= 32767


def test_ingress_class_nginx_is_the_default_class(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.get(f"{WS}/{workspace}/objects/IngressClass/-/nginx")
    assert response.status_code == 200, response.text
    annotations = response.json()["metadata"]["annotations"]
    assert annotations["ingressclass.kubernetes.io/is-default-class"] == "true"


@pytest.mark.parametrize("mode", ["iptables", "ipvs", "nftables"])
def test_each_proxy_mode_is_accepted_and_reported(api: Api, mode: str) -> None:
    body = api.post(WS, json={"proxyMode": mode}).json()
    assert body["settings"]["proxyMode"] == mode


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"cni": "canal"}, "cni"),
        ({"proxyMode": "userspace"}, "proxyMode"),
        ({"workers": 0}, "workers"),
        ({"workers": 251}, "workers"),
        ({"scenario": "nope"}, "scenario"),
        ({"workers": "many"}, "workers"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_workspace_options_are_422_naming_the_field(
    api: Api, options: dict, field: str
) -> None:
    response = api.post(WS, json=options)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == 422
    assert body["reason"] == "Invalid"
    assert field in [e["field"] for e in body["errors"]]


def test_same_seed_gives_the_same_cluster(api: Api) -> None:
    first = new_workspace(api, seed=7)
    second = new_workspace(api, seed=7)
    assert first != second

    def shape(workspace: str) -> list[tuple]:
        return sorted(
            (p["metadata"]["name"], p["spec"]["nodeName"], p["status"]["podIP"])
            for p in items(api, workspace, "kind=Pod")
        )

    assert shape(first) == shape(second)


@pytest.mark.parametrize(
    "workspace",
    [
        "nope",
        "A" * 32,
        "a" * 200,
        "%2e%2e",
        "..%2Fetc",
        "a%00b" * 8,
        "%F0%9F%98%80" * 8,
        "x'%20OR%201=1--",
        "%3Cscript%3E",
    ],
)
def test_unknown_or_garbage_workspace_ids_are_404_json(api: Api, workspace: str) -> None:
    new_workspace(api)
    for url in (f"{WS}/{workspace}", f"{WS}/{workspace}/objects", f"{WS}/{workspace}/events"):
        response = api.get(url)
        assert response.status_code == 404, (url, response.text)
        body = response.json()
        assert body["status"] == 404
        assert body["reason"] == "NotFound"
        assert body["errors"] == []
        assert isinstance(body["message"], str)
    assert api.post(f"{WS}/{workspace}/apply", content=b"{}").status_code == 404


def test_fork_copies_and_then_the_two_go_their_own_ways(api: Api) -> None:
    original = new_workspace(api)
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {ports: [{port: 5432}]}"
    assert api.post_yaml(f"{WS}/{original}/apply", service).status_code == 200
    response = api.post(f"{WS}/{original}/fork")
    assert response.status_code == 201, response.text
    copy = response.json()["id"]
    assert copy != original
    assert response.headers["location"] == f"{WS}/{copy}"
    ip = api.get(f"{WS}/{original}/objects/svc/default/db").json()["spec"]["clusterIP"]
    assert api.get(f"{WS}/{copy}/objects/svc/default/db").json()["spec"]["clusterIP"] == ip

    extra = "apiVersion: v1\nkind: Service\nmetadata: {name: cache}\nspec: {ports: [{port: 6379}]}"
    assert api.post_yaml(f"{WS}/{copy}/apply", extra).status_code == 200
    assert api.delete(f"{WS}/{copy}/objects/svc/default/db").status_code == 200
    assert api.get(f"{WS}/{original}/objects/svc/default/db").status_code == 200
    assert api.get(f"{WS}/{original}/objects/svc/default/cache").status_code == 404
    assert api.get(f"{WS}/{copy}/objects/svc/default/db").status_code == 404


def test_fork_of_an_unknown_workspace_is_404(api: Api) -> None:
    assert api.post(f"{WS}/{'Q' * 32}/fork").status_code == 404


def test_events_are_listed_newest_first(api: Api) -> None:
    workspace = new_workspace(api)
    for name in ("first", "second"):
        apply_ok(api, workspace, deployment(name, replicas=1))
    events = api.get(f"{WS}/{workspace}/events").json()["items"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs, reverse=True)
    names = [e["name"] for e in events if e["kind"] == "Deployment"]
    assert names.index("second") < names.index("first"), names
