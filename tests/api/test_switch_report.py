"""``POST /w/{id}/settings`` says what a switch changed, with and without htmx, and keeps
every pod's name; ``POST /w/{id}/compare`` works from a Deployment's pods."""

from __future__ import annotations

import html
import re

from tests.api.conftest import Api, apply_ok, list_items, new_workspace

APPS = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
"""
HTMX = {"HX-Request": "true"}


def pods(api: Api, workspace: str) -> dict[str, str]:
    return {
        p["metadata"]["name"]: p["status"]["podIP"]
        for p in list_items(api, workspace, "kind=Pod&namespace=default")
    }


def map_pods(page: str) -> set[str]:
    """The names of the pods the map draws (``data-kind="Pod"`` elements)."""
    tags = re.findall(r'<g [^>]*data-kind="Pod"[^>]*>', page)
    return {re.search(r'data-name="([^"]*)"', tag).group(1) for tag in tags}


def text_of(response) -> str:
    return html.unescape(response.text)


def test_a_plain_form_switch_shows_the_whole_page_with_each_pods_old_and_new_address(
    api: Api,
) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, APPS)
    before = pods(api, workspace)
    response = api.post(f"/w/{workspace}/settings", data={"cni": "calico", "proxy_mode": "ipvs"})
    assert response.status_code == 200 and "<html" in response.text
    after = pods(api, workspace)
    assert after.keys() == before.keys() and len(after) == 4
    page = text_of(response)
    for line in (
        "CNI plugin: flannel → calico",
        "kube-proxy mode: iptables → ipvs",
        "Pod network: 10.244.0.0/16 → 192.168.0.0/16",
        "Every object kept its name.",
    ):
        assert line in page
    for name, ip in before.items():
        assert f"pod/{name}: {ip} → {after[name]}" in page
        assert after[name].startswith("192.168.")
    # the head shows the new settings, and the map the same pods
    assert re.search(r"<option value=\"calico\" selected>calico</option>", page)
    assert "<dd>192.168.0.0/16</dd>" in page
    assert map_pods(page) >= before.keys()


def test_an_htmx_switch_sends_the_panel_with_the_report_and_swaps_the_map_and_head(
    api: Api,
) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, APPS)
    before = pods(api, workspace)
    response = api.post(f"/w/{workspace}/settings", data={"cni": "weave"}, headers=HTMX)
    assert response.status_code == 200 and "<html" not in response.text
    page = text_of(response)
    after = pods(api, workspace)
    assert after.keys() == before.keys()
    assert "Pod network: 10.244.0.0/16 → 10.32.0.0/12" in page
    for name, ip in before.items():
        assert f"pod/{name}: {ip} → {after[name]}" in page
    assert '<div id="map-area" hx-swap-oob="innerHTML">' in page
    assert '<div id="sandbox-head" hx-swap-oob="innerHTML">' in page
    assert "<dd>10.32.0.0/12</dd>" in page
    assert map_pods(page) >= before.keys()
    # a kube-proxy mode switch after it: no address changes, and the report says so
    again = text_of(
        api.post(
            f"/w/{workspace}/settings",
            data={"cni": "weave", "proxy_mode": "nftables"},
            headers=HTMX,
        )
    )
    assert "kube-proxy mode: iptables → nftables" in again and "No address changed" in again
    assert pods(api, workspace) == after


def test_an_htmx_switch_keeps_the_panel_on_its_tab_or_comes_back_to_build(api: Api) -> None:
    workspace = new_workspace(api)
    for number, tab in enumerate(("build", "yaml", "trace", "objects", "rules", "dns", "events")):
        response = api.post(
            f"/w/{workspace}/settings",
            data={"proxy_mode": ("ipvs", "iptables")[number % 2]},
            headers={**HTMX, "HX-Current-URL": f"http://test/w/{workspace}?tab={tab}&from=x"},
        )
        assert response.status_code == 200, (tab, response.text[:300])
        shown = tab if tab in ("build", "trace", "objects", "events") else "build"
        assert response.headers["HX-Push-Url"] == f"/w/{workspace}?tab={shown}"
        current = re.search(r'<a [^>]*aria-current="page"[^>]*>([^<]*)</a>', response.text)
        assert current.group(1).lower() == shown


def test_the_switch_form_posts_with_htmx_into_the_panel(api: Api) -> None:
    workspace = new_workspace(api)
    page = api.get(f"/w/{workspace}").text
    form = re.search(r'<form class="switch-form"[^>]*>', page).group(0)
    assert f'action="/w/{workspace}/settings"' in form and 'method="post"' in form
    assert f'hx-post="/w/{workspace}/settings"' in form and 'hx-target="#panel"' in form


def test_comparing_cni_plugins_from_one_deployment_pod_to_another(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, APPS)
    names = sorted(pods(api, workspace))
    web = next(n for n in names if n.startswith("web-"))
    other = next(n for n in names if n.startswith("api-"))
    response = api.post(
        f"/w/{workspace}/compare",
        data={"source_pod": f"pod/default/{web}", "target_pod": f"default/{other}", "port": "80"},
        headers=HTMX,
    )
    assert response.status_code == 200, response.text
    assert "not found" not in response.text
    assert response.text.count('class="compare-col') == 4  # flannel, Calico, Weave Net, Cilium
    assert pods(api, workspace)[web].startswith("10.244.")  # the workspace did not change


def test_the_json_api_switches_and_answers_with_the_same_report(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, APPS)
    before = pods(api, workspace)
    response = api.post(f"/api/v1/workspaces/{workspace}/settings", json={"cni": "weave"})
    assert response.status_code == 200, response.text
    report = response.json()
    after = pods(api, workspace)
    assert after.keys() == before.keys()
    assert report["cni"] == {"old": "flannel", "new": "weave"}
    assert report["podNetwork"] == {"old": "10.244.0.0/16", "new": "10.32.0.0/12"}
    moved = {e["name"]: (e["old"], e["new"]) for e in report["pods"] if e["namespace"] == "default"}
    assert moved == {name: (ip, after[name]) for name, ip in before.items()}
    assert "Every object kept its name." in report["lines"]
    summary = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert summary["cni"] == "weave" and summary["podCIDR"] == "10.32.0.0/12"
    mode = api.post(f"/api/v1/workspaces/{workspace}/settings", json={"proxyMode": "ipvs"}).json()
    assert mode["pods"] == [] and pods(api, workspace) == after
    bad = api.post(f"/api/v1/workspaces/{workspace}/settings", json={"cni": "canal"})
    assert bad.status_code == 422 and pods(api, workspace) == after
