"""Dual-stack and IPv6 workspaces over the JSON API and the home page form.

Sources: kind's Cluster config (``networking.ipFamily``: ipv4, ipv6, dual); kubernetes
``pkg/registry/core/service/storage/alloc.go`` ``initIPFamilyFields`` (defaulting and the
refusals); the EndpointSlice controller (one slice per address family).
"""

from __future__ import annotations

import ipaddress
import re

from tests.api.conftest import Api, apply_ok, deployment, list_items, new_workspace

SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
"""


def test_create_a_dual_stack_workspace_and_read_its_ranges(api: Api) -> None:
    workspace = new_workspace(api, ipFamily="dual")
    summary = api.get(f"/api/v1/workspaces/{workspace}").json()
    assert summary["settings"]["ipFamily"] == "dual"
    assert summary["settings"]["podCIDR"] == "10.244.0.0/16,fd00:10:244::/56"
    assert summary["settings"]["serviceCIDR"] == "10.96.0.0/12,fd00:10:96::/112"
    worker = next(n for n in summary["nodes"] if n["name"] == "worker-1")
    assert worker["internalIPs"] == ["10.0.0.11", "fc00:f853:ccd:e793::b"]
    assert worker["podCIDRs"] == ["10.244.1.0/24", "fd00:10:244:1::/64"]


def test_a_prefer_dual_stack_service_shows_both_cluster_ips_and_two_slices(api: Api) -> None:
    workspace = new_workspace(api, ipFamily="dual")
    apply_ok(api, workspace, deployment("web") + "---\n" + SERVICE)
    spec = api.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()["spec"]
    assert spec["ipFamilies"] == ["IPv4", "IPv6"]
    assert [ipaddress.ip_address(ip).version for ip in spec["clusterIPs"]] == [4, 6]
    slices = list_items(api, workspace, "kind=EndpointSlice&namespace=default")
    types = sorted(s["addressType"] for s in slices if s["metadata"]["name"].startswith("web-"))
    assert types == ["IPv4", "IPv6"]
    pods = list_items(api, workspace, "kind=Pod&namespace=default")
    assert all(len(p["status"]["podIPs"]) == 2 for p in pods)


def test_weave_with_ipv6_is_a_422_naming_the_field(api: Api) -> None:
    response = api.post("/api/v1/workspaces", json={"cni": "weave", "ipFamily": "dual"})
    assert response.status_code == 422
    assert "ipFamily" in response.text and "Weave Net does not support IPv6" in response.text


def test_an_unknown_ip_family_is_a_422(api: Api) -> None:
    response = api.post("/api/v1/workspaces", json={"ipFamily": "ipv5"})
    assert response.status_code == 422 and "ipFamily" in response.text


def test_require_dual_stack_on_an_ipv4_workspace_is_still_refused(api: Api) -> None:
    workspace = new_workspace(api)
    text = SERVICE.replace("PreferDualStack", "RequireDualStack")
    response = api.post_yaml(f"/api/v1/workspaces/{workspace}/apply", text)
    assert response.status_code == 422
    assert "this cluster is not configured for dual-stack services" in response.text
    assert api.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").status_code == 404


def test_switching_a_dual_stack_workspace_to_weave_is_a_422_and_changes_nothing(api: Api) -> None:
    workspace = new_workspace(api, ipFamily="dual")
    response = api.post(f"/api/v1/workspaces/{workspace}/settings", json={"cni": "weave"})
    assert response.status_code == 422 and "ipFamily" in response.text
    assert api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]["cni"] == "flannel"


def test_the_home_page_form_makes_a_dual_stack_sandbox(api: Api) -> None:
    home = api.get("/").text
    select = re.search(r'<select name="ip_family"[^>]*>(.*?)</select>', home, re.S)
    assert select and 'value="dual"' in select.group(1)
    assert "Weave Net has no IPv6" in home
    response = api.post("/w", data={"cni": "calico", "ip_family": "dual"})
    assert response.status_code == 303
    workspace = response.headers["location"].split("/w/")[1]
    page = api.get(f"/w/{workspace}").text
    assert "dual-stack" in page and "fd00:10:244::/56" in page
    settings = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert (settings["cni"], settings["ipFamily"]) == ("calico", "dual")
