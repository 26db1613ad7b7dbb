"""Traces over IPv6 and kube-proxy's IPv6 rules through the JSON API and the Rules tab.

Sources: curl (IPv6 first for a name with both records; -4/-6); RFC 3986 (IPv6 literals in
brackets); kube-proxy's per-family proxiers (ip6tables-save; ``table ip6 kube-proxy``).
"""

from __future__ import annotations

from tests.api.conftest import Api, apply_ok, deployment, new_workspace

OBJECTS = (
    deployment("web")
    + """---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: worker-2, containers: [{name: c, image: curlimages/curl:8.10.1}]}
"""
)


def dual(api: Api) -> tuple[str, list[str]]:
    workspace = new_workspace(api, ipFamily="dual")
    apply_ok(api, workspace, OBJECTS)
    spec = api.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()["spec"]
    return workspace, spec["clusterIPs"]


def test_trace_to_an_ipv6_cluster_ip_prints_bracketed_addresses(api: Api) -> None:
    workspace, (_v4, v6) = dual(api)
    response = api.post(
        f"/api/v1/workspaces/{workspace}/trace",
        json={"from": "pod/default/client", "to": f"http://[{v6}]:80/"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "delivered"
    assert body["hops"][0]["packet"]["dst"] == f"[{v6}]:80"
    assert body["reply"][-1]["packet"]["src"] == f"[{v6}]:80"
    assert ":" in body["source"]["ip"]  # the pod sent from its IPv6 address


def test_trace_by_name_follows_curl_and_ip_family_chooses(api: Api) -> None:
    workspace, (v4, v6) = dual(api)
    url = f"/api/v1/workspaces/{workspace}/trace"
    by_default = api.post(url, json={"from": "pod/default/client", "to": "http://web/"}).json()
    first = next(h for h in by_default["hops"] if h["phase"] == "request")
    assert first["packet"]["dst"] == f"[{v6}]:80"
    forced = api.post(
        url, json={"from": "pod/default/client", "to": "http://web/", "ipFamily": "IPv4"}
    ).json()
    first = next(h for h in forced["hops"] if h["phase"] == "request")
    assert first["packet"]["dst"] == f"{v4}:80"
    bad = api.post(url, json={"from": "pod/default/client", "to": "http://web/", "ipFamily": "v6"})
    assert bad.status_code == 422 and "ipFamily" in bad.text


def test_rules_api_and_tab_show_the_ipv6_proxier(api: Api) -> None:
    workspace, (_v4, v6) = dual(api)
    rules = api.get(f"/api/v1/workspaces/{workspace}/rules?node=worker-1&family=IPv6").json()
    assert f"-d {v6}/128" in rules["text"]
    nft = api.get(
        f"/api/v1/workspaces/{workspace}/rules?node=worker-1&mode=nftables&family=IPv6"
    ).json()
    assert nft["text"].startswith("table ip6 kube-proxy {")
    page = api.get(f"/w/{workspace}?tab=rules&node=worker-2&from=pod/default/client&to=http://web/")
    assert "ip6tables-save" in page.text and f"{v6}/128" in page.text
    assert '<select name="family">' in page.text
    single = new_workspace(api)
    refused = api.get(f"/api/v1/workspaces/{single}/rules?family=IPv6")
    assert refused.status_code == 422 and "family" in refused.text


def test_outside_client_to_a_unique_local_address_is_unreachable(api: Api) -> None:
    # RFC 4193: fd00::/8 is not routed on the internet; the reason brackets the address.
    workspace, _ips = dual(api)
    body = api.post(
        f"/api/v1/workspaces/{workspace}/trace",
        json={"from": "external", "to": "http://[fd00:10:96::1]/"},
    ).json()
    assert body["verdict"] == "unreachable"
    assert body["reason"].startswith("[fd00:10:96::1]:80 is a private address")
