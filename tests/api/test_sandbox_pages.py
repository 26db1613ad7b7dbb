"""The sandbox's HTML over plain HTTP: full pages without JavaScript, fragments for htmx."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.api.conftest import Api, apply_ok, new_workspace

WEB = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
"""
HTMX = {"HX-Request": "true"}


def test_opening_a_sandbox_by_form_redirects_to_its_page(api: Api) -> None:
    response = api.post("/w", data={"cni": "calico", "proxy_mode": "ipvs"})
    assert response.status_code == 303
    page = api.get(response.headers["location"])
    assert page.status_code == 200
    assert "calico" in page.text and "ipvs" in page.text


def test_the_page_has_the_map_every_tab_and_no_htmx_needed(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    page = api.get(f"/w/{workspace}")
    assert page.status_code == 200 and page.headers["vary"] == "HX-Request"
    for tab in ("build", "trace", "objects", "rules", "dns", "events"):
        assert f"?tab={tab}" in page.text
        assert api.get(f"/w/{workspace}?tab={tab}").status_code == 200
    start = page.text.index("<svg")
    svg = page.text[start : page.text.index("</svg>", start) + len("</svg>")]
    ET.fromstring(svg)  # the map is well-formed SVG
    assert 'data-at="node/worker-1"' in svg


def test_htmx_gets_only_the_panel(api: Api) -> None:
    workspace = new_workspace(api)
    fragment = api.get(f"/w/{workspace}?tab=events", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "Events" in fragment.text


def test_a_bad_manifest_comes_back_in_the_panel_with_the_text_kept(api: Api) -> None:
    workspace = new_workspace(api)
    broken = WEB.replace("name: web}\nspec:\n  replicas", "name: Web}\nspec:\n  replicas")
    response = api.post(f"/w/{workspace}/apply", data={"manifest": broken}, headers=HTMX)
    assert response.status_code == 422
    assert "Nothing was applied" in response.text and "metadata.name" in response.text
    assert "name: Web}" in response.text
    ok = api.post(f"/w/{workspace}/apply", data={"manifest": WEB}, headers=HTMX)
    assert ok.status_code == 200 and "deployment/web created" in ok.text
    assert 'id="map-area" hx-swap-oob="innerHTML"' in ok.text  # the map is redrawn too


def test_a_trace_by_form_renders_the_player_with_its_data(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    response = api.post(
        f"/w/{workspace}/trace",
        data={"from": "node/worker-1", "to": "http://web/", "seed": "1"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "data-trace-player" in response.text and 'id="trace-data"' in response.text
    full = api.post(f"/w/{workspace}/trace", data={"from": "node/worker-1", "to": "http://web/"})
    assert "<html" in full.text and "data-trace-player" in full.text  # works without htmx too


def test_a_bad_trace_request_shows_an_error_where_the_trace_goes(api: Api) -> None:
    workspace = new_workspace(api)
    response = api.post(
        f"/w/{workspace}/trace",
        data={"from": "pod/default/ghost", "to": "http://web/"},
        headers=HTMX,
    )
    assert response.status_code == 404 and "ghost" in response.text


def test_traffic_shows_bars_per_endpoint(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    service = api.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()
    target = f"http://{service['spec']['clusterIP']}/"  # a node's resolver knows no Service names
    response = api.post(
        f"/w/{workspace}/traffic",
        data={"from": "node/worker-1", "to": target, "count": "100"},
        headers=HTMX,
    )
    assert response.status_code == 200 and response.text.count('class="bar-fill"') == 2


def test_an_unknown_sandbox_is_a_404_page(api: Api) -> None:
    response = api.get("/w/this-workspace-does-not-exist")
    assert response.status_code == 404 and "<html" in response.text


def test_switching_the_cni_plugin_from_the_page_re_addresses_the_cluster(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    response = api.post(
        f"/w/{workspace}/settings", data={"cni": "calico", "proxy_mode": "nftables"}
    )
    assert response.status_code == 200 and "CNI plugin: flannel → calico" in response.text
    summary = api.get(f"/api/v1/workspaces/{workspace}").json()
    assert summary["settings"]["cni"] == "calico" and summary["settings"]["proxyMode"] == "nftables"
    pods = api.get(f"/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=default").json()[
        "items"
    ]
    assert len(pods) == 2 and all(p["status"]["podIP"].startswith("192.168.") for p in pods)
    bad = api.post(f"/w/{workspace}/settings", data={"cni": "canal"})
    assert bad.status_code == 422


def test_the_details_drawer_shows_an_object_and_deleting_a_pod_shows_its_replacement(
    api: Api,
) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    pods = api.get(f"/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=default").json()[
        "items"
    ]
    pod = pods[0]["metadata"]["name"]
    details = api.get(f"/w/{workspace}/objects/Pod/default/{pod}", headers=HTMX)
    assert details.status_code == 200
    assert pods[0]["status"]["podIP"] in details.text and "ReplicaSet" in details.text
    assert "kind: Pod" in details.text
    deleted = api.post(
        f"/w/{workspace}/delete",
        data={"kind": "Pod", "namespace": "default", "name": pod},
        headers=HTMX,
    )
    assert deleted.status_code == 200
    assert f"pod/{pod} deleted" in deleted.text and "then: pod/web-" in deleted.text
    node = api.get(f"/w/{workspace}/objects/Node/-/worker-1", headers=HTMX)
    assert "10.0.0.11" in node.text
    assert api.get(f"/w/{workspace}/objects/Pod/default/ghost").status_code == 404


def test_a_trace_links_to_the_rules_it_matched_and_they_are_highlighted(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    service = api.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()
    target = f"http://{service['spec']['clusterIP']}/"
    response = api.post(
        f"/w/{workspace}/trace", data={"from": "node/worker-1", "to": target}, headers=HTMX
    )
    assert "tab=rules&amp;node=worker-1" in response.text
    rules = api.get(
        f"/w/{workspace}?tab=rules&node=worker-1&from=node/worker-1&to={target}", headers=HTMX
    )
    assert 'class="hit"' in rules.text and "KUBE-SEP-" in rules.text


def test_the_yaml_tab_exports_and_edits_an_object(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    tab = api.get(f"/w/{workspace}?tab=yaml", headers=HTMX)
    assert "kind: Deployment" in tab.text and "Download" in tab.text
    edit = api.get(f"/w/{workspace}?tab=yaml&edit=Service/default/web", headers=HTMX)
    start = edit.text.index('<textarea id="manifest"')
    textarea = edit.text[start : edit.text.index("</textarea>", start)]
    assert "kind: Service" in textarea and "name: web" in textarea


def test_the_namespace_filter_and_the_ingress_table(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    page = api.get(f"/w/{workspace}?ns=kube-system")
    assert 'data-namespace="kube-system"' in page.text and 'data-name="web"' not in page.text
    objects = api.get(f"/w/{workspace}?tab=objects", headers=HTMX)
    assert "kubectl get ingress" in objects.text


def test_the_objects_tab_lists_deployments_and_their_replica_sets(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    objects = api.get(f"/w/{workspace}?tab=objects", headers=HTMX).text
    assert "<td>web</td><td>2/2</td><td>2</td><td>2</td><td>app=web</td>" in objects
    assert re.search(
        r"<td>web-[a-z0-9]{8,10}</td><td>2</td><td>2</td><td>2</td><td>Deployment/web</td>", objects
    )
    # The system's own Deployments only with the system pods shown.
    assert (
        "ingress-nginx-controller" not in objects.split('id="deploy-title"')[1].split("</table>")[0]
    )


def test_the_home_page_opens_a_class_sandbox_in_presentation_mode(api: Api) -> None:
    assert "Open for a class" in api.get("/").text
    response = api.post("/w", data={"present": "1"})
    assert response.status_code == 303 and response.headers["location"].endswith("?present=1")


def test_the_drawer_of_a_deployment_pod_can_scale_its_deployment(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    pod = api.get(f"/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=default").json()[
        "items"
    ][0]
    details = api.get(f"/w/{workspace}/objects/Pod/default/{pod['metadata']['name']}", headers=HTMX)
    assert "Replicas of Deployment web" in details.text
    scaled = api.post(
        f"/w/{workspace}/build/scale",
        data={"namespace": "default", "name": "web", "replicas": "4"},
        headers=HTMX,
    )
    assert scaled.status_code == 200
    pods = api.get(f"/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=default").json()[
        "items"
    ]
    assert len(pods) == 4
