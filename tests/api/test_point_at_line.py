"""A trace whose reason blames a field links to that field's lines in the object's YAML: the
trace JSON carries ``cause``, the verdict links to the details drawer with ``?field=``, and
the drawer opens the YAML with those lines highlighted."""

from __future__ import annotations

import html
import re

from tests.api.conftest import Api, apply_ok, new_workspace

WRONG_TARGET = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 9090}]}
"""
HTMX = {"HX-Request": "true"}
FIELD = "spec.ports[0].targetPort"


def test_the_trace_json_names_the_cause(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WRONG_TARGET)
    response = api.post(
        f"/api/v1/workspaces/{workspace}/trace",
        json={"from": "node/worker-1", "to": "web.default.svc.cluster.local:80"},
    )
    body = response.json()
    if body["verdict"] != "refused":  # a node's resolver may not know Service names
        ip = api.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()
        body = api.post(
            f"/api/v1/workspaces/{workspace}/trace",
            json={"from": "node/worker-1", "to": f"{ip['spec']['clusterIP']}:80"},
        ).json()
    assert body["verdict"] == "refused", body["reason"]
    assert body["cause"] == {
        "kind": "Service",
        "namespace": "default",
        "name": "web",
        "field": FIELD,
    }


def test_the_verdict_links_to_the_field_and_the_drawer_highlights_its_line(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WRONG_TARGET)
    ip = api.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()
    page = api.post(
        f"/w/{workspace}/trace",
        data={"from": "node/worker-1", "to": f"http://{ip['spec']['clusterIP']}/"},
        headers=HTMX,
    ).text
    verdict = page[page.index('class="trace-verdict') : page.index('class="trace-controls')]
    link = re.search(r'<a href="([^"]+)" hx-get="([^"]+)" hx-target="#panel">(.*?)</a>', verdict)
    assert link, verdict
    url = html.unescape(link.group(1))
    assert url == f"/w/{workspace}/objects/Service/default/web?field=spec.ports%5B0%5D.targetPort"
    assert html.unescape(link.group(2)) == url
    assert re.sub(r"<[^>]+>", "", link.group(3)) == f"Show {FIELD} in Service default/web"

    drawer = api.get(url, headers=HTMX).text
    assert '<details class="yaml" open>' in drawer
    hits = re.findall(r'<span class="hit"[^>]*>([^<]*)</span>', drawer)
    assert [h.strip() for h in hits] == ["targetPort: 9090"]
    assert drawer.count('id="yaml-hit"') == 1 and '<span class="hit" id="yaml-hit">' in drawer
    assert "Edit as YAML" in drawer and "is highlighted below" in drawer
    # The YAML reads the same as before: one span a line, nothing lost.
    pre = re.search(r'<pre class="yaml-lines"[^>]*>(.*?)</pre>', drawer, re.S).group(1)
    lines = [html.unescape(s) for s in re.findall(r"<span[^>]*>([^<]*)</span>", pre)]
    assert "  - port: 80" in lines and lines[lines.index("  - port: 80") + 1].endswith(
        "targetPort: 9090"
    )


def test_a_whole_mapping_and_a_missing_field_and_no_field(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WRONG_TARGET)
    base = f"/w/{workspace}/objects/Service/default/web"
    selector = api.get(f"{base}?field=spec.selector", headers=HTMX).text
    hits = re.findall(r'<span class="hit"[^>]*>([^<]*)</span>', selector)
    assert [h.strip() for h in hits] == ["selector:", "app: web"]
    missing = api.get(f"{base}?field=spec.nothing.here", headers=HTMX).text
    assert [h.strip() for h in re.findall(r'<span class="hit"[^>]*>([^<]*)</span>', missing)] == [
        "spec:"
    ]
    absent = api.get(f"{base}?field=nosuch.field", headers=HTMX).text
    assert 'class="hit"' not in absent and "is not in this YAML" in absent
    plain = api.get(base, headers=HTMX).text
    assert '<details class="yaml">' in plain and 'class="hit"' not in plain
    assert "yaml-legend" not in plain
