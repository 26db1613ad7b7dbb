"""The Kubernetes-compatible API at /k/<workspace>, over HTTP as kubectl and client-go use it:
discovery, Tables, Status errors, the patch types, scale, watch, dry runs and the kubeconfig.
(tests/api/test_kubeapi_kubectl.py runs the real kubectl against it.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from app.web.guard import buckets
from tests.api.conftest import Api, apply_ok, deployment, list_items, make_api, new_workspace

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


@pytest.fixture
def ws(api: Api) -> str:
    return new_workspace(api, scenario="web-service")


def test_discovery_lists_the_served_groups_and_resources(api: Api, ws: str):
    assert api.get(f"/k/{ws}/version").json()["gitVersion"] == "v1.31.0"
    assert api.get(f"/k/{ws}/api").json()["versions"] == ["v1"]
    listed = api.get(f"/k/{ws}/apis").json()["groups"]
    groups = [g["name"] for g in listed]
    assert groups == ["apps", "discovery.k8s.io", "networking.k8s.io", "gateway.networking.k8s.io"]
    # The Gateway API CRDs serve v1 (preferred) and v1beta1, as one group with two versions.
    gateway_api = listed[-1]
    assert [v["version"] for v in gateway_api["versions"]] == ["v1", "v1beta1"]
    assert gateway_api["preferredVersion"]["version"] == "v1"
    beta = api.get(f"/k/{ws}/apis/gateway.networking.k8s.io/v1beta1").json()["resources"]
    assert "grpcroutes" not in {r["name"] for r in beta}  # GRPCRoute is served at v1 only
    core = api.get(f"/k/{ws}/api/v1").json()
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and pods["namespaced"] and "watch" in pods["verbs"]
    events = next(r for r in core["resources"] if r["name"] == "events")
    assert "create" not in events["verbs"]  # the model derives events, nobody writes them
    apps = [r["name"] for r in api.get(f"/k/{ws}/apis/apps/v1").json()["resources"]]
    assert "deployments/scale" in apps
    assert api.get(f"/k/{ws}/apis/batch/v1").status_code == 404


def test_aggregated_discovery_when_asked_for(api: Api, ws: str):
    answer = api.get(f"/k/{ws}/apis", headers={"accept": AGGREGATED + ",application/json"})
    assert answer.headers["content-type"] == AGGREGATED
    document = answer.json()
    assert document["kind"] == "APIGroupDiscoveryList"
    networking = next(g for g in document["items"] if g["metadata"]["name"] == "networking.k8s.io")
    names = {r["resource"] for r in networking["versions"][0]["resources"]}
    assert names == {"ingresses", "ingressclasses", "networkpolicies"}
    gateway_api = next(
        g for g in document["items"] if g["metadata"]["name"] == "gateway.networking.k8s.io"
    )
    assert [v["version"] for v in gateway_api["versions"]] == ["v1", "v1beta1"]
    gateways = next(
        r for r in gateway_api["versions"][0]["resources"] if r["resource"] == "gateways"
    )
    assert gateways["shortNames"] == ["gtw"] and gateways["categories"] == ["gateway-api"]


def test_an_unknown_workspace_is_a_not_found_status(api: Api):
    answer = api.get("/k/" + "x" * 32 + "/api/v1/pods")
    assert answer.status_code == 404
    assert answer.json()["kind"] == "Status" and answer.json()["reason"] == "NotFound"


def test_table_output_carries_the_printers_columns_and_metadata(api: Api, ws: str):
    answer = api.get(f"/k/{ws}/api/v1/namespaces/default/services", headers={"accept": TABLE})
    table = answer.json()
    assert table["kind"] == "Table"
    columns = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert columns == [
        ("Name", 0),
        ("Type", 0),
        ("Cluster-IP", 0),
        ("External-IP", 0),
        ("Port(s)", 0),
        ("Age", 0),
        ("Selector", 1),
    ]
    web = next(r for r in table["rows"] if r["cells"][0] == "web")
    assert web["cells"][1] == "ClusterIP" and web["cells"][4] == "80/TCP"
    assert web["object"]["kind"] == "PartialObjectMetadata"
    assert web["object"]["metadata"]["namespace"] == "default"


def test_list_with_label_and_field_selectors(api: Api, ws: str):
    base = f"/k/{ws}/api/v1/pods"
    web = api.get(base, params={"labelSelector": "app in (web),!missing"}).json()
    assert web["kind"] == "PodList" and len(web["items"]) == 3
    on_one = api.get(base, params={"fieldSelector": "spec.nodeName=worker-1"}).json()["items"]
    assert on_one and all(p["spec"]["nodeName"] == "worker-1" for p in on_one)
    bad = api.get(base, params={"labelSelector": "app in web"})
    assert bad.status_code == 400 and bad.json()["reason"] == "BadRequest"


def test_endpoints_and_events_are_derived_from_the_model(api: Api, ws: str):
    endpoints = api.get(f"/k/{ws}/api/v1/namespaces/default/endpoints/web").json()
    ips = {a["ip"] for a in endpoints["subsets"][0]["addresses"]}
    pods = [
        p for p in list_items(api, ws, "kind=Pod") if p["metadata"]["labels"].get("app") == "web"
    ]
    assert ips == {p["status"]["podIP"] for p in pods}
    events = api.get(f"/k/{ws}/api/v1/namespaces/default/events").json()["items"]
    assert any(e["reason"] == "ScalingReplicaSet" for e in events)
    refused = api.post(f"/k/{ws}/api/v1/namespaces/default/events", json={"metadata": {}})
    assert refused.status_code == 405 and refused.json()["reason"] == "MethodNotAllowed"


def test_create_answers_201_and_the_object_reaches_the_json_api(api: Api, ws: str):
    body = yaml.safe_load(deployment("shop", replicas=2))
    answer = api.post(f"/k/{ws}/apis/apps/v1/namespaces/default/deployments", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["metadata"]["uid"]
    pods = [p for p in list_items(api, ws, "kind=Pod") if p["metadata"]["name"].startswith("shop-")]
    assert len(pods) == 2
    again = api.post(f"/k/{ws}/apis/apps/v1/namespaces/default/deployments", json=body)
    assert again.status_code == 409
    assert again.json()["message"] == 'deployments.apps "shop" already exists'
    assert again.json()["reason"] == "AlreadyExists"


def test_invalid_objects_give_causes_per_field(api: Api, ws: str):
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "bad"},
        "spec": {"selector": {"app": "x"}, "ports": [{"port": 70000}]},
    }
    answer = api.post(f"/k/{ws}/api/v1/namespaces/default/services", json=service)
    assert answer.status_code == 422
    status = answer.json()
    assert status["message"] == (
        'Service "bad" is invalid: spec.ports[0].port: Invalid value: 70000: '
        "must be between 1 and 65535, inclusive"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 70000: must be between 1 and 65535, inclusive",
            "field": "spec.ports[0].port",
        }
    ]
    assert status["details"]["kind"] == "Service" and status["details"]["name"] == "bad"


def _patch(api: Api, url: str, kind: str, body: object):
    return api.patch(url, content=json.dumps(body), headers={"content-type": kind})


def test_the_three_patch_types(api: Api, ws: str):
    url = f"/k/{ws}/apis/apps/v1/namespaces/default/deployments/web"
    merged = _patch(api, url, "application/merge-patch+json", {"metadata": {"labels": {"a": "1"}}})
    assert merged.status_code == 200 and merged.json()["metadata"]["labels"]["a"] == "1"
    strategic = _patch(
        api,
        url,
        "application/strategic-merge-patch+json",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}},
    )
    containers = strategic.json()["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("web", "nginx:2")]
    assert containers[0]["ports"][0]["containerPort"] == 8080  # merged by name, not replaced
    jsonpatch = _patch(
        api,
        url,
        "application/json-patch+json",
        [{"op": "replace", "path": "/spec/replicas", "value": 1}],
    )
    assert jsonpatch.json()["spec"]["replicas"] == 1
    pods = [p for p in list_items(api, ws, "kind=Pod") if p["metadata"]["name"].startswith("web-")]
    assert len(pods) == 1
    stale = _patch(api, url, "application/merge-patch+json", {"metadata": {"resourceVersion": "1"}})
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"


def test_patching_a_controllers_pod_keeps_its_owner(api: Api, ws: str):
    pod = next(
        p for p in list_items(api, ws, "kind=Pod") if p["metadata"]["name"].startswith("web-")
    )
    url = f"/k/{ws}/api/v1/namespaces/default/pods/{pod['metadata']['name']}"
    answer = _patch(api, url, "application/merge-patch+json", {"metadata": {"labels": {"x": "y"}}})
    assert answer.json()["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    exported = api.get(f"/api/v1/workspaces/{ws}/manifests").text
    assert pod["metadata"]["name"] not in exported  # still the controller's, not the learner's


def test_scale_subresource(api: Api, ws: str):
    url = f"/k/{ws}/apis/apps/v1/namespaces/default/deployments/web/scale"
    scale = api.get(url).json()
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 3
    assert scale["status"]["selector"] == "app=web"
    answer = _patch(api, url, "application/merge-patch+json", {"spec": {"replicas": 5}})
    assert answer.json()["spec"]["replicas"] == 5
    pods = [p for p in list_items(api, ws, "kind=Pod") if p["metadata"]["name"].startswith("web-")]
    assert len(pods) == 5


def test_dry_run_answers_without_changing_anything(api: Api, ws: str):
    body = yaml.safe_load(deployment("shop"))
    answer = api.post(
        f"/k/{ws}/apis/apps/v1/namespaces/default/deployments", json=body, params={"dryRun": "All"}
    )
    assert answer.status_code == 201
    assert not [
        d for d in list_items(api, ws, "kind=Deployment") if d["metadata"]["name"] == "shop"
    ]


def test_delete_answers_with_the_object_and_the_controllers_react(api: Api, ws: str):
    pod = next(
        p for p in list_items(api, ws, "kind=Pod") if p["metadata"]["name"].startswith("web-")
    )
    name = pod["metadata"]["name"]
    answer = api.delete(f"/k/{ws}/api/v1/namespaces/default/pods/{name}")
    assert answer.status_code == 200 and answer.json()["metadata"]["name"] == name
    pods = [p for p in list_items(api, ws, "kind=Pod") if p["metadata"]["name"].startswith("web-")]
    assert len(pods) == 3 and name not in {p["metadata"]["name"] for p in pods}
    gone = api.delete(f"/k/{ws}/api/v1/namespaces/default/pods/{name}")
    assert gone.status_code == 404 and gone.json()["message"] == f'pods "{name}" not found'


def test_watch_streams_what_changed_after_a_resource_version(api: Api, ws: str):
    listed = api.get(f"/k/{ws}/api/v1/namespaces/default/pods").json()
    version = listed["metadata"]["resourceVersion"]
    apply_ok(api, ws, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    apply_ok(api, ws, deployment("shop", replicas=1, namespace="default"))
    answer = api.get(
        f"/k/{ws}/api/v1/namespaces/default/pods",
        params={"watch": "1", "resourceVersion": version, "timeoutSeconds": "1"},
    )
    events = [json.loads(line) for line in answer.text.splitlines()]
    assert [e["type"] for e in events] == ["ADDED"]
    assert events[0]["object"]["metadata"]["name"].startswith("shop-")


def test_watch_as_table_sends_the_columns_once(api: Api, ws: str):
    answer = api.get(
        f"/k/{ws}/api/v1/namespaces/default/pods",
        params={"watch": "1", "timeoutSeconds": "1"},
        headers={"accept": TABLE},
    )
    events = [json.loads(line) for line in answer.text.splitlines()]
    assert len(events) == 4 and all(e["object"]["kind"] == "Table" for e in events)
    assert events[0]["object"]["columnDefinitions"]
    assert not events[1]["object"]["columnDefinitions"]


def test_kubeconfig_points_at_the_workspace(api: Api, ws: str):
    answer = api.get(f"/k/{ws}/kubeconfig")
    assert answer.status_code == 200
    config = yaml.safe_load(answer.text)
    assert config["clusters"][0]["cluster"]["server"] == f"http://localhost/k/{ws}"
    assert config["current-context"] == config["contexts"][0]["name"]
    assert config["users"][0]["user"] == {}  # the workspace's URL is the only key


def test_openapi_v3_documents_for_explain(api: Api, ws: str):
    root = api.get(f"/k/{ws}/openapi/v3").json()
    where = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert where.startswith("/openapi/v3/apis/apps/v1?hash=")
    document = api.get(f"/k/{ws}{where}").json()
    schemas = document["components"]["schemas"]
    assert "io.k8s.api.apps.v1.Deployment" in schemas
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}} in (
        patch["parameters"]
    )


def test_openapi_v2_as_json_and_as_the_protobuf_old_kubectl_reads(api: Api, ws: str):
    as_json = api.get(f"/k/{ws}/openapi/v2").json()
    pod = as_json["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    protobuf = api.get(
        f"/k/{ws}/openapi/v2",
        headers={"accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"},
    )
    assert protobuf.headers["content-type"] == "application/octet-stream"
    assert protobuf.content.startswith(b"\x0a\x032.0")  # Document.swagger = "2.0"
    assert b"io.k8s.api.core.v1.PodSpec" in protobuf.content


def test_an_ingress_shows_the_address_its_controller_publishes(api: Api):
    ws = new_workspace(api, scenario="ingress-two-apps")
    ingress = api.get(f"/k/{ws}/apis/networking.k8s.io/v1/namespaces/default/ingresses/sites")
    controller = api.get(
        f"/k/{ws}/api/v1/namespaces/ingress-nginx/services/ingress-nginx-controller"
    )
    address = controller.json()["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert ingress.json()["status"]["loadBalancer"]["ingress"] == [{"ip": address}]


def test_a_body_another_site_could_send_unasked_is_refused(api: Api, ws: str):
    answer = api.post(
        f"/k/{ws}/api/v1/namespaces",
        content='{"metadata": {"name": "x"}}',
        headers={"content-type": "text/plain"},
    )
    assert answer.status_code == 415 and answer.json()["reason"] == "UnsupportedMediaType"


def test_aggregated_discovery_in_the_version_asked_for(api: Api, ws: str):
    beta = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    answer = api.get(f"/k/{ws}/api", headers={"accept": beta + ",application/json"})
    assert answer.headers["content-type"] == beta  # kubectl 1.26 to 1.29 know only v2beta1
    assert answer.json()["apiVersion"] == "apidiscovery.k8s.io/v2beta1"


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_an_object_sent_as_protobuf_is_created(api: Api, ws: str):
    """kubectl 1.32+ sends `kubectl create namespace|deployment|...` objects as protobuf:
    the k8s\\x00 magic, then a runtime.Unknown with the type and the object's message."""
    namespace = _field(1, _field(1, b"pb"))  # Namespace.metadata.name
    envelope = _field(1, _field(1, b"v1") + _field(2, b"Namespace")) + _field(2, namespace)
    answer = api.post(
        f"/k/{ws}/api/v1/namespaces",
        content=b"k8s\x00" + envelope,
        headers={"content-type": "application/vnd.kubernetes.protobuf"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["metadata"]["name"] == "pb"


def test_kubectls_changes_are_charged_like_any_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_api(tmp_path, work_per_client=1)
    ws = new_workspace(api)
    ticking = iter(range(10**6))
    monkeypatch.setattr(buckets, "now", lambda: 1000.0 + 2 * next(ticking))  # 2 s a change
    url = f"/k/{ws}/api/v1/namespaces"
    assert api.post(url, json={"metadata": {"name": "a"}}).status_code == 201
    assert api.post(url, json={"metadata": {"name": "b"}}).status_code == 429
    assert api.get(url).status_code == 200  # reads never wait


def test_hostile_bodies_are_bad_requests(api: Api, ws: str):
    deep = api.post(
        f"/k/{ws}/api/v1/namespaces",
        content="[" * 100_000 + "]" * 100_000,
        headers={"content-type": "application/json"},
    )
    assert deep.status_code == 400 and deep.json()["reason"] == "BadRequest"
    broken = api.patch(
        f"/k/{ws}/api/v1/namespaces/default",
        content="metadata: [unclosed",
        headers={"content-type": "application/apply-patch+yaml"},
    )
    assert broken.status_code == 400 and broken.json()["kind"] == "Status"


def test_a_custom_resource_is_served_at_the_version_asked_for(api: Api, ws: str):
    """The Gateway API CRDs convert with strategy None: a ReferenceGrant created at v1beta1
    is stored at v1 and read back at either version, only apiVersion differing."""
    grant = {
        "apiVersion": "gateway.networking.k8s.io/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": {"name": "allow"},
        "spec": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                      "namespace": "shop"}],
            "to": [{"group": "", "kind": "Service"}],
        },
    }  # fmt: skip
    beta = f"/k/{ws}/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/referencegrants"
    created = api.post(beta, json=grant)
    assert created.status_code == 201, created.text
    assert created.json()["apiVersion"] == "gateway.networking.k8s.io/v1beta1"
    v1 = api.get(beta.replace("/v1beta1/", "/v1/") + "/allow").json()
    assert v1["apiVersion"] == "gateway.networking.k8s.io/v1"
    listed = api.get(beta).json()
    assert listed["apiVersion"] == "gateway.networking.k8s.io/v1beta1"
    assert [i["apiVersion"] for i in listed["items"]] == ["gateway.networking.k8s.io/v1beta1"]
    assert v1["spec"] == created.json()["spec"]


def test_a_custom_resource_is_refused_as_protobuf(api: Api, ws: str):
    """CRDs are served as JSON only: a protobuf body for a custom resource is a 415."""

    def field(number: int, payload: bytes) -> bytes:  # a length-delimited protobuf field
        return bytes([number << 3 | 2, len(payload)]) + payload

    type_meta = field(1, b"gateway.networking.k8s.io/v1") + field(2, b"Gateway")
    answer = api.post(
        f"/k/{ws}/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways",
        content=b"k8s\x00" + field(1, type_meta) + field(2, b""),
        headers={"content-type": "application/vnd.kubernetes.protobuf"},
    )
    assert answer.status_code == 415
