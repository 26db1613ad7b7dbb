"""Listing, reading and deleting objects, and what the controllers do after a delete."""

from __future__ import annotations

import ipaddress

import pytest

from .conftest import Api, apply_ok, deployment, list_items, new_workspace

WS = "/api/v1/workspaces"
NAMESPACE_SHOP = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"


def node_port_service(name: str, node_port: int, namespace: str = "default") -> str:
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  type: NodePort
  selector: {{app: web}}
  ports: [{{port: 80, nodePort: {node_port}}}]
"""


@pytest.mark.parametrize("alias", ["Pod", "pod", "pods", "po"])
def test_kind_accepts_kubectl_resource_names(api: Api, alias: str) -> None:
    workspace = new_workspace(api)
    kinds = {o["kind"] for o in list_items(api, workspace, f"kind={alias}")}
    assert kinds == {"Pod"}


@pytest.mark.parametrize(
    ("alias", "kind"),
    [("svc", "Service"), ("deploy", "Deployment"), ("ns", "Namespace"), ("no", "Node")],
)
def test_short_names_list_their_kind(api: Api, alias: str, kind: str) -> None:
    workspace = new_workspace(api)
    found = list_items(api, workspace, f"kind={alias}")
    assert found and {o["kind"] for o in found} == {kind}


def test_list_without_kind_has_every_kind_and_is_a_list(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.get(f"{WS}/{workspace}/objects")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "List"
    kinds = {o["kind"] for o in body["items"]}
    assert kinds >= {"Namespace", "Node", "Pod", "Service", "Deployment", "EndpointSlice"}


def test_list_filters_by_namespace(api: Api) -> None:
    workspace = new_workspace(api)
    pods = list_items(api, workspace, "kind=pods&namespace=kube-system")
    assert pods and {p["metadata"]["namespace"] for p in pods} == {"kube-system"}
    assert list_items(api, workspace, "kind=pods&namespace=nowhere") == []


@pytest.mark.parametrize("kind", ["widgets", "Pods2", "secret", "%00"])
def test_unknown_kind_is_404(api: Api, kind: str) -> None:
    workspace = new_workspace(api)
    response = api.get(f"{WS}/{workspace}/objects?kind={kind}")
    assert response.status_code == 404, response.text
    assert response.json()["reason"] == "NotFound"
    assert api.get(f"{WS}/{workspace}/objects/{kind}/default/x").status_code == 404
    assert api.delete(f"{WS}/{workspace}/objects/{kind}/default/x").status_code == 404


def test_get_one_object_and_404_when_missing(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web"))
    response = api.get(f"{WS}/{workspace}/objects/deployments/default/web")
    assert response.status_code == 200
    assert response.json()["metadata"]["name"] == "web"
    missing = api.get(f"{WS}/{workspace}/objects/deploy/default/nope")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404
    assert api.get(f"{WS}/{workspace}/objects/deploy/shop/web").status_code == 404


def test_pods_carry_pod_ip_and_node_name(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=4))
    pods = list_items(api, workspace, "kind=po&namespace=default")
    assert len(pods) == 4
    for pod in pods:
        assert pod["spec"]["nodeName"] in {"worker-1", "worker-2"}
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network("10.244.0.0/16")
        assert pod["metadata"]["name"].startswith("web-")
    assert len({p["status"]["podIP"] for p in pods}) == 4
    # the scheduler spreads replicas over the two workers
    assert {p["spec"]["nodeName"] for p in pods} == {"worker-1", "worker-2"}


def test_deleting_a_deployment_pod_brings_a_replacement_with_new_name_and_ip(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=2))
    before = list_items(api, workspace, "kind=po&namespace=default")
    victim = before[0]
    name = victim["metadata"]["name"]
    response = api.delete(f"{WS}/{workspace}/objects/pods/default/{name}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["deleted"] == {"kind": "Pod", "namespace": "default", "name": name}
    assert body["output"] == [f"pod/{name} deleted"]
    assert {"kind": "Pod", "namespace": "default", "name": name} in body["removed"]
    [replacement] = [c for c in body["created"] if c["kind"] == "Pod"]
    assert replacement["name"] != name
    assert replacement["name"].rsplit("-", 1)[0] == name.rsplit("-", 1)[0]  # same ReplicaSet
    old_ips = {p["status"]["podIP"] for p in before}
    assert replacement["podIP"] not in old_ips
    assert replacement["nodeName"] in {"worker-1", "worker-2"}
    after = list_items(api, workspace, "kind=po&namespace=default")
    assert len(after) == 2
    assert name not in {p["metadata"]["name"] for p in after}
    assert api.get(f"{WS}/{workspace}/objects/po/default/{name}").status_code == 404


def test_deleting_a_bare_pod_does_not_bring_it_back(api: Api) -> None:
    workspace = new_workspace(api)
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\n"
        "spec: {containers: [{name: c, image: busybox}]}\n"
    )
    apply_ok(api, workspace, pod)
    body = api.delete(f"{WS}/{workspace}/objects/Pod/default/solo").json()
    assert [c for c in body["created"] if c["kind"] == "Pod"] == []
    assert list_items(api, workspace, "kind=po&namespace=default") == []


def test_deleting_a_deployment_removes_its_replica_set_and_pods(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=3))
    response = api.delete(f"{WS}/{workspace}/objects/deploy/default/web")
    assert response.status_code == 200, response.text
    removed = {(r["kind"]) for r in response.json()["removed"]}
    assert removed == {"Deployment", "ReplicaSet", "Pod"}
    assert list_items(api, workspace, "kind=po&namespace=default") == []
    assert list_items(api, workspace, "kind=rs&namespace=default") == []


def test_deleting_a_namespace_removes_everything_in_it(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(
        api,
        workspace,
        NAMESPACE_SHOP + deployment("web", namespace="shop") + "---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
        "spec: {selector: {app: web}, ports: [{port: 80}]}\n",
    )
    assert list_items(api, workspace, "kind=po&namespace=shop")
    response = api.delete(f"{WS}/{workspace}/objects/Namespace/-/shop")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["deleted"] == {"kind": "Namespace", "namespace": "", "name": "shop"}
    removed_kinds = {r["kind"] for r in body["removed"]}
    assert removed_kinds >= {"Namespace", "Deployment", "ReplicaSet", "Pod", "Service"}
    for kind in ("pods", "svc", "deploy", "rs", "endpointslices"):
        assert list_items(api, workspace, f"kind={kind}&namespace=shop") == [], kind
    assert api.get(f"{WS}/{workspace}/objects/ns/-/shop").status_code == 404
    # the name is free again
    apply_ok(api, workspace, NAMESPACE_SHOP + deployment("web", namespace="shop"))


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public"])
def test_deleting_a_protected_namespace_is_403(api: Api, namespace: str) -> None:
    workspace = new_workspace(api)
    before = list_items(api, workspace)
    response = api.delete(f"{WS}/{workspace}/objects/ns/-/{namespace}")
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["status"] == 403 and body["reason"] == "Forbidden"
    assert list_items(api, workspace) == before


def test_deleting_what_does_not_exist_is_404(api: Api) -> None:
    workspace = new_workspace(api)
    for path in ("pod/default/ghost", "ns/-/ghost", "svc/nowhere/web", "deploy/default/web"):
        response = api.delete(f"{WS}/{workspace}/objects/{path}")
        assert response.status_code == 404, (path, response.text)
        assert response.json()["reason"] == "NotFound"


def test_deleting_a_service_frees_its_node_port(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, node_port_service("first", 30100))
    taken = api.post_yaml(f"{WS}/{workspace}/apply", node_port_service("second", 30100))
    assert taken.status_code == 422
    response = api.delete(f"{WS}/{workspace}/objects/svc/default/first")
    assert response.status_code == 200, response.text
    kinds = {r["kind"] for r in response.json()["removed"]}
    assert kinds == {"Service", "EndpointSlice"}
    apply_ok(api, workspace, node_port_service("second", 30100))
    second = api.get(f"{WS}/{workspace}/objects/svc/default/second").json()
    assert second["spec"]["ports"][0]["nodePort"] == 30100


def test_deleting_a_service_frees_its_cluster_ip(api: Api) -> None:
    workspace = new_workspace(api)
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: NAME}\n"
        "spec: {clusterIP: 10.96.50.50, ports: [{port: 80}]}\n"
    )
    apply_ok(api, workspace, text.replace("NAME", "a"))
    assert api.post_yaml(f"{WS}/{workspace}/apply", text.replace("NAME", "b")).status_code == 422
    assert api.delete(f"{WS}/{workspace}/objects/svc/default/a").status_code == 200
    apply_ok(api, workspace, text.replace("NAME", "b"))


def test_delete_answers_events_of_what_happened(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=1))
    [pod] = list_items(api, workspace, "kind=po&namespace=default")
    name = pod["metadata"]["name"]
    body = api.delete(f"{WS}/{workspace}/objects/po/default/{name}").json()
    reasons = [e["reason"] for e in body["events"]]
    assert "Killing" in reasons and "SuccessfulCreate" in reasons
    newest = api.get(f"{WS}/{workspace}/events").json()["items"][0]
    assert newest["seq"] == max(e["seq"] for e in body["events"])


MIX = """apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless, namespace: shop}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {role: client}}
spec:
  containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-client, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {role: client}}}]
    ports: [{port: 8080}]
"""
USER_OBJECTS = [
    ("Namespace", "", "shop"),
    ("Deployment", "shop", "web"),
    ("Service", "shop", "web"),
    ("Service", "shop", "web-headless"),
    ("Service", "default", "front"),
    ("Pod", "shop", "client"),
    ("Ingress", "shop", "web"),
    ("NetworkPolicy", "shop", "only-client"),
]


def service_addresses(api: Api, workspace: str) -> dict[str, tuple]:
    return {
        f"{s['metadata']['namespace']}/{s['metadata']['name']}": (
            s["spec"].get("clusterIP"),
            tuple(p.get("nodePort") for p in s["spec"]["ports"]),
        )
        for s in list_items(api, workspace, "kind=svc")
    }


def test_manifests_export_only_the_users_objects(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, MIX)
    response = api.get(f"{WS}/{workspace}/manifests")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    text = response.text
    for system in ("coredns", "kube-proxy", "kube-dns", "ingress-nginx", "kube-system", "flannel"):
        assert system not in text, system
    assert "kind: ReplicaSet" not in text
    assert "kind: EndpointSlice" not in text
    assert "kind: Node\n" not in text
    assert "uid:" not in text and "resourceVersion:" not in text and "status:" not in text
    listed = api.get(f"{WS}/{workspace}/manifests?format=json").json()
    assert listed["kind"] == "List"
    found = [
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
        for o in listed["items"]
    ]
    assert sorted(found) == sorted(USER_OBJECTS)
    assert found[0] == ("Namespace", "", "shop")  # cluster-wide things first


def test_manifests_of_a_fresh_workspace_are_empty(api: Api) -> None:
    workspace = new_workspace(api)
    assert api.get(f"{WS}/{workspace}/manifests?format=json").json()["items"] == []
    assert api.get(f"{WS}/{workspace}/manifests").text.strip() in ("", "[]", "{}")


def test_manifests_format_must_be_yaml_or_json(api: Api) -> None:
    workspace = new_workspace(api)
    assert api.get(f"{WS}/{workspace}/manifests?format=xml").status_code == 422


def test_export_then_apply_to_a_fresh_workspace_rebuilds_the_same_objects(api: Api) -> None:
    source = new_workspace(api)
    apply_ok(api, source, MIX)
    exported = api.get(f"{WS}/{source}/manifests").text

    target = new_workspace(api)
    answer = apply_ok(api, target, exported)
    assert sorted((o["kind"], o["namespace"], o["name"]) for o in answer["objects"]) == sorted(
        USER_OBJECTS
    )
    assert {o["action"] for o in answer["objects"]} == {"created"}
    theirs = service_addresses(api, source)
    ours = service_addresses(api, target)
    for name in ("shop/web", "shop/web-headless", "default/front"):
        assert ours[name] == theirs[name], name
    assert theirs["shop/web-headless"][0] == "None"
    assert api.get(f"{WS}/{target}/manifests").text == exported
    # the same number of derived pods, on the fresh cluster
    assert len(list_items(api, target, "kind=po&namespace=shop")) == 3
    # and applying the export again changes nothing
    again = apply_ok(api, target, exported)
    assert {o["action"] for o in again["objects"]} == {"unchanged"}
