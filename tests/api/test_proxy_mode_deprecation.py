"""IPVS mode is deprecated since Kubernetes v1.35 (KEP-5495, kubernetes/kubernetes PR 134539):
wherever Podpath offers the kube-proxy modes it says so, and the mode keeps working."""

from __future__ import annotations

import re

from tests.api.conftest import Api, new_workspace

IPVS_OPTION = '<option value="ipvs"'
LABEL = "ipvs (deprecated in v1.35, KEP-5495)"
# The fourth reading: no kube-proxy, Cilium's eBPF replaces it (app/web/cni_form.py).
EBPF = "eBPF (Cilium)"


def _options(html: str, select: str) -> list[str]:
    block = re.search(rf'<select name="{select}">(.*?)</select>', html, re.S)
    assert block, f"no {select} select"
    return re.findall(r"<option[^>]*>([^<]*)</option>", block.group(1))


def test_the_home_page_offers_ipvs_marked_deprecated_and_the_others_plain(api: Api) -> None:
    page = api.get("/").text
    assert _options(page, "proxy_mode") == ["iptables", LABEL, "nftables", EBPF]
    assert IPVS_OPTION in page


def test_a_sandbox_in_ipvs_mode_still_opens_and_its_head_keeps_the_mode_selected(api: Api) -> None:
    response = api.post("/w", data={"cni": "flannel", "proxy_mode": "ipvs"})
    assert response.status_code == 303
    page = api.get(response.headers["location"]).text
    assert _options(page, "proxy_mode") == ["iptables", LABEL, "nftables", EBPF]
    assert '<option value="ipvs" selected>' in page


def test_the_rules_tab_warns_only_for_ipvs_and_still_prints_ipvsadm(api: Api) -> None:
    workspace = new_workspace(api)
    ipvs = api.get(f"/w/{workspace}?tab=rules&node=worker-1&mode=ipvs").text
    assert "IPVS mode is deprecated" in ipvs and "KEP-5495" in ipvs
    assert "IP Virtual Server version" in ipvs
    nft = api.get(f"/w/{workspace}?tab=rules&node=worker-1&mode=nftables").text
    assert "IPVS mode is deprecated" not in nft and "table ip kube-proxy" in nft


def test_the_api_schema_says_ipvs_is_deprecated_and_still_accepts_it(api: Api) -> None:
    schema = api.get("/openapi.json").json()
    modes = [
        prop
        for body in schema["components"]["schemas"].values()
        for name, prop in (body.get("properties") or {}).items()
        if name == "proxyMode" and "KEP-5495" in (prop.get("description") or "")
    ]
    assert modes and "ipvs" in modes[0]["enum"]
    assert new_workspace(api, proxyMode="ipvs")
