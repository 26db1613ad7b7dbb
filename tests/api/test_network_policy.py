"""NetworkPolicy over HTTP: the Build form makes a real NetworkPolicy through apply (its
errors beside the boxes they are about, nothing applied), the Reachability tab and
``GET /api/v1/workspaces/{id}/reachability`` show what it changes, under the CNI plugin."""

from __future__ import annotations

import html
import re

from tests.api.conftest import Api, apply_ok, list_items, new_workspace

PODS = """apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec: {containers: [{name: db, image: postgres, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, labels: {app: api}}
spec: {containers: [{name: api, image: nginx}]}
"""

DB_FROM_API = {
    "name": "db-from-api",
    "namespace": "default",
    "pod_selector": "app=db",
    "type_ingress": "on",
    "in0_p0_kind": "pods",
    "in0_p0_pods": "app=api",
    "in0_ports": "pg",
    # spare rows, left empty as the browser sends them
    "in0_p1_kind": "",
    "in0_p1_pods": "",
    "in1_ports": "",
    "eg0_p0_kind": "",
}


def workspace(api: Api, cni: str = "calico") -> str:
    ws = new_workspace(api, cni=cni)
    apply_ok(api, ws, PODS)
    return ws


def cell(api: Api, ws: str, source: str, target: str) -> dict:
    response = api.get(f"/api/v1/workspaces/{ws}/reachability")
    assert response.status_code == 200, response.text
    return next(c for c in response.json()["cells"] if c["from"] == source and c["to"] == target)


def test_the_form_makes_a_network_policy_that_the_matrix_then_shows(api: Api):
    ws = workspace(api)
    assert cell(api, ws, "pod/default/db", "pod/default/api")["state"] == "allowed"
    response = api.post(f"/w/{ws}/build/networkpolicy", data=DB_FROM_API)
    assert response.status_code == 200, response.text
    assert "networkpolicy/db-from-api created" in response.text
    [made] = list_items(api, ws, "kind=NetworkPolicy")
    assert made["spec"]["podSelector"] == {"matchLabels": {"app": "db"}}
    assert made["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"app": "api"}}}],
            "ports": [{"port": "pg", "protocol": "TCP"}],
        }
    ]
    # api is allowed on pg; another pod of the namespace (db itself cannot block itself) is not
    assert cell(api, ws, "pod/default/api", "pod/default/db")["state"] == "allowed"
    apply_ok(api, ws, PODS.replace("name: api", "name: other").replace("app: api", "app: other"))
    denied = cell(api, ws, "pod/default/other", "pod/default/db")
    assert denied["state"] == "denied"
    assert denied["ports"][0]["decidedBy"] == "default/db-from-api"


def test_one_peer_with_both_selectors_is_and_two_peers_is_or(api: Api):
    """The concept page's "Behavior of to and from selectors", as the form writes it."""
    ws = workspace(api)
    both = {**DB_FROM_API, "in0_p0_kind": "both", "in0_p0_namespaces": "team=shop"}
    assert api.post(f"/w/{ws}/build/networkpolicy", data=both).status_code == 200
    [made] = list_items(api, ws, "kind=NetworkPolicy")
    assert made["spec"]["ingress"][0]["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"team": "shop"}},
            "podSelector": {"matchLabels": {"app": "api"}},
        }
    ]
    two = {**DB_FROM_API, "in0_p1_kind": "namespaces", "in0_p1_namespaces": "team=shop"}
    assert api.post(f"/w/{ws}/build/networkpolicy", data=two).status_code == 200
    [made] = list_items(api, ws, "kind=NetworkPolicy")
    assert made["spec"]["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app": "api"}}},
        {"namespaceSelector": {"matchLabels": {"team": "shop"}}},
    ]


def _field_error(page: str, key: str) -> str:
    m = re.search(rf'id="np-err-{key}">([^<]+)<', page)
    assert m, f"no error beside {key}"
    return html.unescape(m.group(1))


def test_a_bad_cidr_is_a_422_beside_its_box_and_nothing_is_applied(api: Api):
    ws = workspace(api)
    bad = {
        **DB_FROM_API,
        "in3_p2_kind": "ipblock",
        "in3_p2_cidr": "300.1.2.0/24",
        "eg0_ports": "UDP 53, 70000",
        "type_egress": "on",
    }
    response = api.post(f"/w/{ws}/build/networkpolicy", data=bad)
    assert response.status_code == 422
    assert "must be a valid CIDR" in _field_error(response.text, "in3_p2_cidr")
    assert "70000" in _field_error(response.text, "eg0_ports")
    assert 'name="in3_p2_cidr" value="300.1.2.0/24"' in response.text  # what was typed stays
    assert list_items(api, ws, "kind=NetworkPolicy") == []


def test_a_port_the_form_cannot_read_is_a_422_naming_the_field(api: Api):
    ws = workspace(api)
    response = api.post(f"/w/{ws}/build/networkpolicy", data={**DB_FROM_API, "in0_ports": "53 dns"})
    assert response.status_code == 422
    assert "spec.ingress[0].ports[0]" in response.text
    assert "write a port as" in _field_error(response.text, "in0_ports")
    assert list_items(api, ws, "kind=NetworkPolicy") == []


def test_flannel_says_policies_are_not_enforced_and_allows_everything(api: Api):
    ws = workspace(api, cni="flannel")
    api.post(f"/w/{ws}/build/networkpolicy", data=DB_FROM_API)
    apply_ok(api, ws, PODS.replace("name: api", "name: other").replace("app: api", "app: other"))
    body = api.get(f"/api/v1/workspaces/{ws}/reachability").json()
    assert body["enforced"] is False and body["cni"] == "flannel"
    assert cell(api, ws, "pod/default/other", "pod/default/db")["state"] == "allowed"
    page = api.get(f"/w/{ws}?tab=reachability").text
    assert "flannel: NetworkPolicy is not enforced" in page
    # the switch to Calico enforces the same stored policy
    assert api.post(f"/api/v1/workspaces/{ws}/settings", json={"cni": "calico"}).status_code == 200
    assert cell(api, ws, "pod/default/other", "pod/default/db")["state"] == "denied"


def test_the_tab_marks_isolated_pods_and_lists_the_policy(api: Api):
    ws = workspace(api)
    api.post(f"/w/{ws}/build/networkpolicy", data=DB_FROM_API)
    page = api.get(f"/w/{ws}?tab=reachability").text
    assert 'data-policy="default/db-from-api"' in page
    assert 'data-targets="pod/default/db"' in page
    assert 'data-isolated="in"' in page  # the map's badge on db
    assert f"/w/{ws}/objects/NetworkPolicy/default/db-from-api" in page  # its details
    assert "Calico enforces NetworkPolicy" in page
    objects = api.get(f"/w/{ws}?tab=objects").text  # kubectl get networkpolicy -A
    assert re.search(r">db-from-api</a></td><td>app=db</td>", objects)
    drawer = api.get(f"/w/{ws}/objects/Pod/default/db").text
    assert "isolated for ingress by default/db-from-api" in drawer


def test_reachability_rejects_bad_input_naming_the_field(api: Api):
    ws = workspace(api)
    response = api.get(f"/api/v1/workspaces/{ws}/reachability?system=perhaps")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.system"
    assert api.get("/api/v1/workspaces/nope/reachability").status_code == 404


def test_reachability_of_one_namespace_and_the_outside_row(api: Api):
    ws = workspace(api)
    body = api.get(f"/api/v1/workspaces/{ws}/reachability?namespace=default").json()
    keys = [d["key"] for d in body["destinations"]]
    assert keys == ["pod/default/api", "pod/default/db"]
    outside = cell(api, ws, "external", "pod/default/db")
    assert outside["state"] == "none" and "No way in from outside" in outside["note"]
