"""The DNS tab and ``GET /api/v1/workspaces/{id}/dns`` take CoreDNS's TXT, SOA and NS types and
show the SOA it sends with an empty answer (coredns/coredns plugin/kubernetes handler_test.go,
kubernetes_apex_test.go; kubernetes/dns docs/specification.md 2.2)."""

from __future__ import annotations

from tests.api.conftest import Api, new_workspace


def test_the_json_api_answers_dns_version_txt_and_the_apex_soa(api: Api) -> None:
    workspace = new_workspace(api, scenario="web-service")
    url = f"/api/v1/workspaces/{workspace}/dns?from=pod/default/client"
    txt = api.get(f"{url}&name=dns-version.cluster.local.&type=txt").json()
    assert [(r["type"], r["data"], r["ttl"]) for r in txt["answers"]] == [("TXT", '"1.1.0"', 28800)]
    soa = api.get(f"{url}&name=cluster.local.&type=SOA").json()["answers"][0]["data"].split()
    assert soa[:2] == ["ns.dns.cluster.local.", "hostmaster.cluster.local."]
    assert soa[3:] == ["7200", "1800", "86400", "30"]
    ns = api.get(f"{url}&name=cluster.local.&type=NS").json()["answers"]
    assert [r["data"] for r in ns] == ["kube-dns.kube-system.svc.cluster.local."]


def test_an_nxdomain_from_coredns_carries_the_soa_and_the_tab_shows_it(api: Api) -> None:
    workspace = new_workspace(api, scenario="web-service")
    query = "from=pod/default/client&name=Nope.Default.svc.cluster.local.&type=A"
    answer = api.get(f"/api/v1/workspaces/{workspace}/dns?{query}").json()
    tried = answer["tried"][0]
    assert (tried["name"], tried["rcode"]) == ("Nope.Default.svc.cluster.local.", "NXDOMAIN")
    assert [(r["name"], r["type"]) for r in tried["authority"]] == [("cluster.local.", "SOA")]
    page = api.get(f"/w/{workspace}?tab=dns&{query}").text
    assert "authority section" in page and "ns.dns.cluster.local. hostmaster.cluster.local." in page
    assert ">SOA</option>" in page and ">TXT</option>" in page
