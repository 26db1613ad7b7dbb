"""POST .../apply: kubectl apply semantics, Service allocation rules, all-or-nothing errors."""

from __future__ import annotations

import ipaddress
import json

from .conftest import Api, apply_ok, deployment, list_items, new_workspace

WS = "/api/v1/workspaces"


def service(
    name: str,
    *,
    type_: str = "ClusterIP",
    node_port: int | None = None,
    cluster_ip: str | None = None,
    namespace: str = "default",
    selector: str = "web",
    target_port: str | int = 80,
) -> str:
    lines = [
        "apiVersion: v1",
        "kind: Service",
        "metadata:",
        f"  name: {name}",
        f"  namespace: {namespace}",
        "spec:",
        f"  type: {type_}",
    ]
    if cluster_ip:
        lines.append(f"  clusterIP: {cluster_ip}")
    lines += [
        f"  selector: {{app: {selector}}}",
        "  ports:",
        "  - port: 80",
        f"    targetPort: {target_port}",
    ]
    if node_port is not None:
        lines.append(f"    nodePort: {node_port}")
    return "\n".join(lines) + "\n"


def user_state(api: Api, workspace: str) -> list[tuple]:
    """Every object's identity and resourceVersion: equal before and after means untouched."""
    return sorted(
        (
            o["kind"],
            o["metadata"].get("namespace", ""),
            o["metadata"]["name"],
            o["metadata"].get("resourceVersion"),
        )
        for o in list_items(api, workspace)
    )


def get(api: Api, workspace: str, kind: str, namespace: str, name: str) -> dict:
    response = api.get(f"{WS}/{workspace}/objects/{kind}/{namespace}/{name}")
    assert response.status_code == 200, response.text
    return response.json()


def test_apply_reports_created_then_unchanged_then_configured(api: Api) -> None:
    workspace = new_workspace(api)
    text = deployment("web") + "---\n" + service("web")
    first = apply_ok(api, workspace, text)
    assert [(o["kind"], o["name"], o["action"]) for o in first["objects"]] == [
        ("Deployment", "web", "created"),
        ("Service", "web", "created"),
    ]
    assert first["output"] == ["deployment.apps/web created", "service/web created"]
    assert [o["document"] for o in first["objects"]] == [1, 2]

    again = apply_ok(api, workspace, text)
    assert [o["action"] for o in again["objects"]] == ["unchanged", "unchanged"]
    assert again["output"] == ["deployment.apps/web unchanged", "service/web unchanged"]
    assert again["created"] == [] and again["removed"] == []

    changed = apply_ok(api, workspace, deployment("web", replicas=3) + "---\n" + service("web"))
    assert [o["action"] for o in changed["objects"]] == ["configured", "unchanged"]
    assert changed["output"][0] == "deployment.apps/web configured"
    new_pods = [c for c in changed["created"] if c["kind"] == "Pod"]
    assert len(new_pods) == 1
    assert len(list_items(api, workspace, "kind=po&namespace=default")) == 3


def test_apply_answer_lists_created_pods_with_ip_and_node(api: Api) -> None:
    workspace = new_workspace(api)
    answer = apply_ok(api, workspace, deployment("web", replicas=2))
    pods = [c for c in answer["created"] if c["kind"] == "Pod"]
    assert len(pods) == 2
    for pod in pods:
        assert ipaddress.ip_address(pod["podIP"]) in ipaddress.ip_network("10.244.0.0/16")
        assert pod["nodeName"] in {"worker-1", "worker-2"}
    assert {c["kind"] for c in answer["created"]} >= {"Deployment", "ReplicaSet", "Pod"}
    assert any(e["reason"] == "ScalingReplicaSet" for e in answer["events"])


def test_apply_accepts_a_kind_list(api: Api) -> None:
    workspace = new_workspace(api)
    text = """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: shop}
- apiVersion: v1
  kind: Service
  metadata: {name: cart, namespace: shop}
  spec: {ports: [{port: 80}]}
"""
    answer = apply_ok(api, workspace, text)
    assert answer["output"] == ["namespace/shop created", "service/cart created"]
    assert get(api, workspace, "svc", "shop", "cart")["spec"]["clusterIP"]


def test_apply_accepts_a_json_body(api: Api) -> None:
    workspace = new_workspace(api)
    body = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "cart", "namespace": "shop"},
                "spec": {"ports": [{"port": 80}]},
            },
        ],
    }
    response = api.post(f"{WS}/{workspace}/apply", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["output"] == ["namespace/shop created", "service/cart created"]
    single = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blog"}}
    response = api.post(
        f"{WS}/{workspace}/apply",
        content=json.dumps(single),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["output"] == ["namespace/blog created"]


def test_apply_of_many_documents_skips_empty_ones(api: Api) -> None:
    workspace = new_workspace(api)
    text = "---\n" + service("a") + "---\n---\n" + service("b") + "...\n---\n" + service("c")
    answer = apply_ok(api, workspace, text)
    assert answer["output"] == ["service/a created", "service/b created", "service/c created"]


def test_services_get_cluster_ips_in_the_service_cidr_and_node_ports_in_range(api: Api) -> None:
    workspace = new_workspace(api)
    text = "---\n".join(service(f"s{i}", type_="NodePort") for i in range(12))
    text += "---\n" + service("lb", type_="LoadBalancer")
    apply_ok(api, workspace, text)
    ips, ports = set(), set()
    for name in [f"s{i}" for i in range(12)] + ["lb"]:
        spec = get(api, workspace, "svc", "default", name)["spec"]
        ip = ipaddress.ip_address(spec["clusterIP"])
        assert ip in ipaddress.ip_network("10.96.0.0/12")
        assert str(ip) not in {"10.96.0.1", "10.96.0.10"}
        ips.add(ip)
        node_port = spec["ports"][0]["nodePort"]
        assert 30000 <= node_port <= 32767
        ports.add(node_port)
    assert len(ips) == 13 and len(ports) == 13
    lb = get(api, workspace, "svc", "default", "lb")
    lb_ip = lb["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert ipaddress.ip_address(lb_ip) in ipaddress.ip_network("203.0.113.0/24")


def test_explicit_cluster_ip_and_node_port_are_honoured(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(
        api,
        workspace,
        service("pinned", type_="NodePort", cluster_ip="10.96.100.100", node_port=30080),
    )
    spec = get(api, workspace, "svc", "default", "pinned")["spec"]
    assert spec["clusterIP"] == "10.96.100.100"
    assert spec["ports"][0]["nodePort"] == 30080


def test_a_taken_node_port_is_422_already_allocated(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, service("first", type_="NodePort", node_port=30080))
    before = user_state(api, workspace)
    response = api.post_yaml(
        f"{WS}/{workspace}/apply", service("second", type_="NodePort", node_port=30080)
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "spec.ports[0].nodePort"
    assert "already allocated" in error["message"]
    assert (error["kind"], error["name"], error["namespace"]) == ("Service", "second", "default")
    assert error["line"] == 12  # "    nodePort: 30080"
    assert user_state(api, workspace) == before


def test_two_services_asking_for_one_node_port_in_one_apply_is_422(api: Api) -> None:
    workspace = new_workspace(api)
    before = user_state(api, workspace)
    text = service("a", type_="NodePort", node_port=30090)
    text += "---\n" + service("b", type_="NodePort", node_port=30090)
    response = api.post_yaml(f"{WS}/{workspace}/apply", text)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["spec.ports[0].nodePort"]
    assert errors[0]["name"] == "b"
    assert user_state(api, workspace) == before


def test_a_taken_cluster_ip_is_422(api: Api) -> None:
    workspace = new_workspace(api)
    for ip in ("10.96.0.10", "10.96.0.1"):
        response = api.post_yaml(f"{WS}/{workspace}/apply", service("dns", cluster_ip=ip))
        assert response.status_code == 422, response.text
        assert "already allocated" in response.json()["errors"][0]["message"]


def test_node_port_out_of_range_is_422(api: Api) -> None:
    workspace = new_workspace(api)
    for port in (80, 29999, 32768, 65535):
        response = api.post_yaml(
            f"{WS}/{workspace}/apply", service("out", type_="NodePort", node_port=port)
        )
        assert response.status_code == 422, (port, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == "spec.ports[0].nodePort"
        assert "30000-32767" in error["message"]


def test_cluster_ip_outside_the_service_cidr_is_422(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.post_yaml(f"{WS}/{workspace}/apply", service("x", cluster_ip="10.200.0.5"))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"].startswith("spec.clusterIP")
    assert "10.96.0.0/12" in error["message"]


def test_error_line_points_at_the_cluster_ip_the_learner_wrote(api: Api) -> None:
    workspace = new_workspace(api)
    text = service("x", cluster_ip="10.200.0.5")
    response = api.post_yaml(f"{WS}/{workspace}/apply", text)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    line = text.splitlines().index("  clusterIP: 10.200.0.5") + 1
    assert error["line"] == line, (
        f"line {error['line']} is {text.splitlines()[error['line'] - 1]!r}"
    )


def test_changing_the_cluster_ip_of_a_service_is_422_immutable(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, service("web"))
    ip = get(api, workspace, "svc", "default", "web")["spec"]["clusterIP"]
    other = "10.96.222.222" if ip != "10.96.222.222" else "10.96.222.223"
    response = api.post_yaml(f"{WS}/{workspace}/apply", service("web", cluster_ip=other))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"].startswith("spec.clusterIP")
    assert "may not change once set" in error["message"] or "immutable" in error["message"]
    assert get(api, workspace, "svc", "default", "web")["spec"]["clusterIP"] == ip
    # Writing the allocated address back is not a change.
    again = apply_ok(api, workspace, service("web", cluster_ip=ip))
    assert again["objects"][0]["action"] in {"unchanged", "configured"}


def test_apply_to_a_missing_namespace_is_422_on_metadata_namespace(api: Api) -> None:
    workspace = new_workspace(api)
    before = user_state(api, workspace)
    text = service("cart", namespace="shop")
    response = api.post_yaml(f"{WS}/{workspace}/apply", text)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "metadata.namespace"
    assert error["namespace"] == "shop"
    assert error["line"] == 5  # "  namespace: shop"
    assert 'namespaces "shop" not found' in error["message"]
    assert user_state(api, workspace) == before


def test_namespace_and_its_objects_in_one_apply_work_in_any_order(api: Api) -> None:
    workspace = new_workspace(api)
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
    text = service("cart", namespace="shop") + "---\n" + deployment("cart", namespace="shop")
    answer = apply_ok(api, workspace, text + "---\n" + namespace)
    assert [(o["kind"], o["action"]) for o in answer["objects"]] == [
        ("Service", "created"),
        ("Deployment", "created"),
        ("Namespace", "created"),
    ]
    assert len(list_items(api, workspace, "kind=pods&namespace=shop")) == 2


def test_apply_is_all_or_nothing_when_one_document_is_invalid(api: Api) -> None:
    workspace = new_workspace(api)
    before = user_state(api, workspace)
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"  # fine, lines 1-3
        + deployment("fine")  # lines 5-21
        + "---\n"
        + service("Bad_Name")  # line 23 onwards, name on line 26
        + "---\n"
        + deployment("neg", replicas=-1)  # replicas on line 41
    )
    response = api.post_yaml(f"{WS}/{workspace}/apply", text)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == 422 and body["reason"] == "Invalid"
    found = {(e["document"], e["kind"], e["name"], e["field"]) for e in body["errors"]}
    assert (3, "Service", "Bad_Name", "metadata.name") in found
    assert (4, "Deployment", "neg", "spec.replicas") in found
    lines = {e["field"]: e["line"] for e in body["errors"]}
    assert text.splitlines()[lines["metadata.name"] - 1] == "  name: Bad_Name"
    assert text.splitlines()[lines["spec.replicas"] - 1] == "  replicas: -1"
    for error in body["errors"]:
        assert set(error) >= {
            "document",
            "kind",
            "name",
            "namespace",
            "field",
            "message",
            "reason",
            "line",
        }
    assert user_state(api, workspace) == before
    assert api.get(f"{WS}/{workspace}/objects/ns/-/shop").status_code == 404


def test_apply_lists_every_error_of_every_document(api: Api) -> None:
    workspace = new_workspace(api)
    text = "---\n".join(
        [
            service("one", type_="NodePort", node_port=1),
            service("two", type_="Nonsense"),
            "apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n",
            "apiVersion: v1\nkind: Service\nmetadata: {}\nspec: {ports: [{port: 80}]}\n",
        ]
    )
    response = api.post_yaml(f"{WS}/{workspace}/apply", text)
    assert response.status_code == 422, response.text
    documents = {e["document"] for e in response.json()["errors"]}
    assert documents == {1, 2, 3, 4}


def test_invalid_yaml_is_400_with_the_line(api: Api) -> None:
    workspace = new_workspace(api)
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: [web\nspec: {}\n"
    response = api.post_yaml(f"{WS}/{workspace}/apply", text)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == 400
    [error] = body["errors"]
    assert error["line"] in (4, 5)


def test_error_line_counts_lines_across_documents(api: Api) -> None:
    workspace = new_workspace(api)
    text = service("ok") + "---\n" + service("late", type_="NodePort", node_port=99)
    response = api.post_yaml(f"{WS}/{workspace}/apply", text)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["document"] == 2
    assert text.splitlines()[error["line"] - 1] == "    nodePort: 99"


def test_endpoint_slice_lists_exactly_the_ready_pods_the_selector_matches(api: Api) -> None:
    workspace = new_workspace(api)
    bare_pod = """apiVersion: v1
kind: Pod
metadata:
  name: stray
  labels: {app: web, extra: "yes"}
spec:
  containers:
  - name: app
    image: nginx
    ports: [{name: http, containerPort: 8080}]
"""
    text = (
        deployment("web", replicas=3)
        + "---\n"
        + deployment("other", replicas=2)
        + "---\n"
        + bare_pod
        + "---\n"
        + service("web", target_port="http")
    )
    apply_ok(api, workspace, text)
    pods = list_items(api, workspace, "kind=pods&namespace=default")
    matching = {p["status"]["podIP"] for p in pods if p["metadata"]["labels"].get("app") == "web"}
    assert len(matching) == 4
    slices = [
        s
        for s in list_items(api, workspace, "kind=endpointslices&namespace=default")
        if s["metadata"]["labels"].get("kubernetes.io/service-name") == "web"
    ]
    assert len(slices) == 1
    [endpoint_slice] = slices
    addresses = [a for e in endpoint_slice["endpoints"] for a in e["addresses"]]
    assert sorted(addresses) == sorted(matching)
    assert all(e["conditions"]["ready"] for e in endpoint_slice["endpoints"])
    assert [p["port"] for p in endpoint_slice["ports"]] == [8080]  # "http" resolved


def test_endpoint_slice_follows_a_scale_down(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=3) + "---\n" + service("web"))
    response = api.post(
        f"{WS}/{workspace}/objects/Deployment/default/web/scale", json={"replicas": 1}
    )
    assert response.status_code == 200, response.text
    assert len([r for r in response.json()["removed"] if r["kind"] == "Pod"]) == 2
    pods = list_items(api, workspace, "kind=po&namespace=default")
    assert len(pods) == 1
    [endpoint_slice] = [
        s
        for s in list_items(api, workspace, "kind=endpointslice&namespace=default")
        if s["metadata"]["name"].startswith("web-")
    ]
    assert [e["addresses"] for e in endpoint_slice["endpoints"]] == [[pods[0]["status"]["podIP"]]]


def test_scaling_something_that_is_not_a_deployment_or_missing_is_refused(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, service("web"))
    url = f"{WS}/{workspace}/objects"
    assert api.post(f"{url}/Service/default/web/scale", json={"replicas": 2}).status_code == 404
    assert api.post(f"{url}/deploy/default/ghost/scale", json={"replicas": 2}).status_code == 404
    apply_ok(api, workspace, deployment("web", replicas=1))
    response = api.post(f"{url}/deploy/default/web/scale", json={"replicas": -1})
    assert response.status_code == 422, response.text
    response = api.post(f"{url}/deploy/default/web/scale", json={"replicas": "two"})
    assert response.status_code == 422, response.text
