"""The Build tab's forms over plain HTTP: each makes its object through apply, a rejected one
comes back in the panel with apply's errors and what the learner typed, and the map is
redrawn out of band."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.web import build
from tests.api.conftest import Api, list_items, make_api, new_workspace

HTMX = {"HX-Request": "true"}

WEB = {
    "name": "web",
    "namespace": "default",
    "replicas": "2",
    "labels": "app=web",
    "image": "nginx:1.27",
    "port": "80",
    "port_name": "http",
}
SERVICE = {
    "name": "web",
    "namespace": "default",
    "type": "NodePort",
    "selector": "app=web",
    "port": "80",
    "target_port": "http",
    "protocol": "TCP",
    "node_port": "30080",
    "external_name": "",
    "external_traffic_policy": "Local",
    "session_affinity": "None",
}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    api = make_api(tmp_path)
    paths = {getattr(route, "path", "") for route in api.app.routes}
    if "/w/{workspace_id}/build/{form}" not in paths:  # until app.py includes the router
        api.app.include_router(build.router)
    return api


def names(api: Api, workspace: str, kind: str) -> list[str]:
    """The names of the ``kind`` objects in the default namespace (or of the nodes)."""
    query = f"kind={kind}" + ("" if kind == "Node" else "&namespace=default")
    return [o["metadata"]["name"] for o in list_items(api, workspace, query)]


def input_values(html: str, name: str) -> list[str]:
    """The values of the inputs called ``name`` in ``html`` (one per form that has one)."""
    return re.findall(rf'<input name="{name}"[^>]*?\svalue="([^"]*)"', html)


def test_the_build_tab_has_every_form(api: Api) -> None:
    workspace = new_workspace(api)
    page = api.get(f"/w/{workspace}")
    assert page.status_code == 200
    for summary in ("Deployment", "Service", "Pod", "Ingress", "Nodes", "Scale"):
        assert f"<summary>{summary} " in page.text
    # The forms' own route shows the same, with what the forms pick from.
    forms = api.get(f"/w/{workspace}/build")
    assert forms.status_code == 200
    assert 'action="/w/' + workspace + '/build/nodes/worker-1/ready"' in forms.text
    assert "/build/nodes/control-plane/remove" not in forms.text


def test_a_deployment_by_form(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.post(f"/w/{workspace}/build/deployment", data=WEB, headers=HTMX)
    assert response.status_code == 200, response.text
    assert "<html" not in response.text
    assert "deployment/web created" in response.text
    assert 'id="map-area" hx-swap-oob="innerHTML"' in response.text
    assert 'data-kind="Pod" data-name="web-' in response.text.split('id="map-area"')[1]
    assert names(api, workspace, "Deployment") == ["web"]
    assert len([n for n in names(api, workspace, "Pod") if n.startswith("web-")]) == 2


def test_without_htmx_a_form_answers_with_the_whole_page(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.post(f"/w/{workspace}/build/deployment", data=WEB)
    assert response.status_code == 200
    assert "<html" in response.text and "deployment/web created" in response.text


def test_a_bad_deployment_keeps_what_was_typed(api: Api) -> None:
    workspace = new_workspace(api)
    typed = {**WEB, "name": "Web", "port": "0", "labels": "app=web,tier=front"}
    response = api.post(f"/w/{workspace}/build/deployment", data=typed, headers=HTMX)
    assert response.status_code == 422
    assert "Nothing was applied: 2 problems to fix." in response.text
    assert "metadata.name" in response.text
    assert "spec.template.spec.containers[0].ports[0].containerPort" in response.text
    assert "Web" in input_values(response.text, "name")
    assert "0" in input_values(response.text, "port")
    assert "app=web,tier=front" in input_values(response.text, "labels")
    assert "The YAML this form made" in response.text
    assert names(api, workspace, "Deployment") == []


def test_malformed_labels_are_a_422_naming_the_field(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.post(
        f"/w/{workspace}/build/pod", data={"name": "client", "labels": "app"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "metadata.labels" in response.text and "key=value" in response.text
    assert "app" in input_values(response.text, "labels")


def test_a_service_by_form_and_its_errors(api: Api) -> None:
    workspace = new_workspace(api)
    api.post(f"/w/{workspace}/build/deployment", data=WEB, headers=HTMX)
    response = api.post(f"/w/{workspace}/build/service", data=SERVICE, headers=HTMX)
    assert response.status_code == 200, response.text
    assert "service/web created" in response.text
    services = list_items(api, workspace, "kind=Service&namespace=default")
    web = next(s for s in services if s["metadata"]["name"] == "web")
    assert web["spec"]["type"] == "NodePort"
    assert web["spec"]["ports"][0]["nodePort"] == 30080
    assert web["spec"]["externalTrafficPolicy"] == "Local"

    bad = {**SERVICE, "name": "db", "port": "0", "node_port": "80", "selector": "app=nope"}
    response = api.post(f"/w/{workspace}/build/service", data=bad, headers=HTMX)
    assert response.status_code == 422
    assert "spec.ports[0].port" in response.text and "spec.ports[0].nodePort" in response.text
    assert "80" in input_values(response.text, "node_port")
    assert "app=nope" in input_values(response.text, "selector")
    assert '<option value="NodePort" selected>' in response.text
    # The preview is there too: the typed selector misses, and says what pods carry.
    assert "matches no pod; pods in default are labelled app=web" in response.text


def test_the_selector_preview(api: Api) -> None:
    workspace = new_workspace(api)
    api.post(f"/w/{workspace}/build/deployment", data={**WEB, "replicas": "3"}, headers=HTMX)
    client = {"name": "client", "labels": "app=client", "image": "busybox"}
    assert api.post(f"/w/{workspace}/build/pod", data=client).status_code == 200
    url = f"/w/{workspace}/build/preview"
    hit = api.get(url, params={"namespace": "default", "selector": "app=web"}, headers=HTMX)
    assert hit.status_code == 200
    assert "<html" not in hit.text and "<form" not in hit.text
    assert "matches 3 pods: web-" in hit.text
    one = api.get(url, params={"namespace": "default", "selector": "app=client"})
    assert "matches 1 pod: client." in one.text
    miss = api.get(url, params={"namespace": "default", "selector": "app=api"})
    assert "matches no pod; pods in default are labelled app=client, app=web" in miss.text
    assert "key=value" in api.get(url, params={"selector": "app"}).text
    assert "no pods in shop" in api.get(url, params={"namespace": "shop", "selector": "a=b"}).text
    assert api.get(f"/w/{'x' * 32}/build/preview").status_code == 404


def test_a_pod_on_a_chosen_node_and_an_ingress(api: Api) -> None:
    workspace = new_workspace(api)
    pod = {"name": "client", "labels": "app=client", "image": "busybox", "node": "worker-2"}
    response = api.post(f"/w/{workspace}/build/pod", data=pod, headers=HTMX)
    assert response.status_code == 200 and "pod/client created" in response.text
    assert "pod/client started on worker-2" in response.text
    api.post(f"/w/{workspace}/build/deployment", data=WEB, headers=HTMX)
    api.post(f"/w/{workspace}/build/service", data={**SERVICE, "type": "ClusterIP",
             "node_port": "", "external_traffic_policy": ""}, headers=HTMX)  # fmt: skip
    ingress = {
        "name": "shop",
        "namespace": "default",
        "host": "shop.example.com",
        "path": "/",
        "path_type": "Prefix",
        "service": "web",
        "service_port": "80",
        "tls": "on",
    }
    response = api.post(f"/w/{workspace}/build/ingress", data=ingress, headers=HTMX)
    assert response.status_code == 200, response.text
    assert "ingress/shop created" in response.text
    assert names(api, workspace, "Ingress") == ["shop"]
    bad = {**ingress, "name": "shop2", "path": "cart", "path_type": "Exact"}
    response = api.post(f"/w/{workspace}/build/ingress", data=bad, headers=HTMX)
    assert response.status_code == 422 and "spec.rules[0].http.paths[0].path" in response.text
    assert "cart" in input_values(response.text, "path_0")  # the form numbers its path rows


def test_an_unknown_form_or_workspace_is_a_404(api: Api) -> None:
    workspace = new_workspace(api)
    assert api.post(f"/w/{workspace}/build/secret", data={}).status_code == 404
    assert api.post(f"/w/{'x' * 32}/build/deployment", data=WEB).status_code == 404


def test_node_buttons(api: Api) -> None:
    workspace = new_workspace(api)
    added = api.post(f"/w/{workspace}/build/nodes", headers=HTMX)
    assert added.status_code == 200 and "node/worker-3 joined" in added.text
    assert "Remove: worker-3" in added.text

    down = api.post(
        f"/w/{workspace}/build/nodes/worker-1/ready", data={"ready": "false"}, headers=HTMX
    )
    assert down.status_code == 200 and "node/worker-1 is NotReady" in down.text
    assert 'aria-label="Mark Ready: worker-1"' in down.text
    nodes = {n["name"]: n for n in api.get(f"/api/v1/workspaces/{workspace}").json()["nodes"]}
    assert nodes["worker-1"]["ready"] is False
    up = api.post(
        f"/w/{workspace}/build/nodes/worker-1/ready", data={"ready": "true"}, headers=HTMX
    )
    assert up.status_code == 200 and "node/worker-1 is Ready" in up.text

    removed = api.post(f"/w/{workspace}/build/nodes/worker-3/remove", headers=HTMX)
    assert removed.status_code == 200 and "node/worker-3 deleted" in removed.text
    assert names(api, workspace, "Node") == ["control-plane", "worker-1", "worker-2"]
    refused = api.post(f"/w/{workspace}/build/nodes/control-plane/remove", headers=HTMX)
    assert refused.status_code == 403 and "control plane" in refused.text
    missing = api.post(f"/w/{workspace}/build/nodes/worker-9/ready", data={"ready": "false"})
    assert missing.status_code == 404 and "<html" in missing.text  # the page, with the error
    assert "nodes &#34;worker-9&#34; not found" in missing.text


def test_scale_a_deployment(api: Api) -> None:
    workspace = new_workspace(api)
    api.post(f"/w/{workspace}/build/deployment", data=WEB, headers=HTMX)
    page = api.get(f"/w/{workspace}/build")
    assert 'aria-label="Scale: web"' in page.text
    scaled = api.post(
        f"/w/{workspace}/build/scale",
        data={"namespace": "default", "name": "web", "replicas": "4"},
        headers=HTMX,
    )
    assert scaled.status_code == 200 and "deployment.apps/web scaled to 4" in scaled.text
    assert len([n for n in names(api, workspace, "Pod") if n.startswith("web-")]) == 4
    bad = api.post(
        f"/w/{workspace}/build/scale",
        data={"namespace": "default", "name": "web", "replicas": "-1"},
        headers=HTMX,
    )
    assert bad.status_code == 422 and "spec.replicas" in bad.text
    assert 'value="-1"' in bad.text
    words = api.post(
        f"/w/{workspace}/build/scale",
        data={"namespace": "default", "name": "web", "replicas": "many"},
        headers=HTMX,
    )
    assert words.status_code == 422 and "must be a whole number" in words.text


def test_a_service_form_sent_whole_keeps_only_its_type_fields(api: Api) -> None:
    # Without JavaScript the form shows (and sends) every field: the type decides what counts.
    workspace = new_workspace(api)
    api.post(f"/w/{workspace}/build/deployment", data=WEB, headers=HTMX)
    every_field = {**SERVICE, "type": "ClusterIP", "external_name": "db.example.com",
                   "health_check_node_port": "30099", "headless": ""}  # fmt: skip
    response = api.post(f"/w/{workspace}/build/service", data=every_field, headers=HTMX)
    assert response.status_code == 200, response.text
    assert "service/web created" in response.text
    # No warning once it is made: the emptied form's preview only invites a selector.
    preview = response.text[response.text.index('id="svc-preview"') :][:400]
    assert "preview-miss" not in preview and "No selector" not in preview
    assert "Type a selector" in preview
    (web,) = [s for s in list_items(api, workspace, "kind=Service&namespace=default")
              if s["metadata"]["name"] == "web"]  # fmt: skip
    spec = web["spec"]
    assert spec["type"] == "ClusterIP" and "nodePort" not in spec["ports"][0]
    assert not {"externalName", "externalTrafficPolicy", "healthCheckNodePort"} & set(spec)
    external = {**every_field, "name": "db", "type": "ExternalName"}
    response = api.post(f"/w/{workspace}/build/service", data=external, headers=HTMX)
    assert response.status_code == 200, response.text
    (db,) = [s for s in list_items(api, workspace, "kind=Service&namespace=default")
             if s["metadata"]["name"] == "db"]  # fmt: skip
    assert db["spec"]["externalName"] == "db.example.com"
    assert "selector" not in db["spec"] and "ports" not in db["spec"]


def test_an_ingress_by_form_with_several_paths(api: Api) -> None:
    workspace = new_workspace(api)
    api.post(f"/w/{workspace}/build/deployment", data=WEB, headers=HTMX)
    api.post(f"/w/{workspace}/build/service", data=SERVICE, headers=HTMX)
    form = {
        "name": "shop",
        "namespace": "default",
        "host": "shop.example.com",
        **{"path_0": "/", "path_type_0": "Prefix", "service_0": "web", "service_port_0": "80"},
        **{"path_1": "/api", "path_type_1": "Exact", "service_1": "web", "service_port_1": "http"},
        **{"path_2": "", "path_type_2": "Prefix", "service_2": "", "service_port_2": ""},
    }
    page = api.get(f"/w/{workspace}/build").text
    assert 'name="path_1"' in page and 'name="service_port_2"' in page  # spare rows, no JS
    response = api.post(f"/w/{workspace}/build/ingress", data=form, headers=HTMX)
    assert response.status_code == 200, response.text
    assert "ingress/shop created" in response.text
    (shop,) = list_items(api, workspace, "kind=Ingress&namespace=default")
    paths = shop["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"], p["backend"]["service"]["port"]) for p in paths] == [
        ("/", "Prefix", {"number": 80}),
        ("/api", "Exact", {"name": "http"}),
    ]
    # A bad row is the API server's error, on that path's own field; the rows come back.
    bad = {**form, "name": "shop2", "path_1": "api"}
    response = api.post(f"/w/{workspace}/build/ingress", data=bad, headers=HTMX)
    assert response.status_code == 422
    assert "spec.rules[0].http.paths[1].path" in response.text
    assert input_values(response.text, "path_1") == ["api"]
    assert input_values(response.text, "service_1") == ["web"]
