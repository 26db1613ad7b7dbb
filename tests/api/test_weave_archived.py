"""Weave Net is offered as archived (Weaveworks closed in 2024; its repositories are read-only)
wherever a CNI plugin is picked, and it keeps working so the CNI lesson can compare it."""

from __future__ import annotations

import re

from tests.api.conftest import Api, new_workspace


def cni_options(html: str) -> dict[str, str]:
    """The CNI select's options: value → the text a learner reads."""
    select = re.search(r'<select name="cni">(.*?)</select>', html, re.S)
    assert select, "no CNI select on the page"
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select.group(1)))


def test_the_home_page_offers_weave_as_archived(api: Api) -> None:
    options = cni_options(api.get("/").text)
    assert options == {
        "flannel": "flannel",
        "calico": "calico",
        "weave": "weave (archived)",
        "cilium": "cilium (eBPF)",
    }


def test_the_sandbox_switch_offers_weave_as_archived_and_switching_to_it_still_works(
    api: Api,
) -> None:
    workspace = new_workspace(api)
    options = cni_options(api.get(f"/w/{workspace}").text)
    assert options["weave"] == "weave (archived)" and options["flannel"] == "flannel"
    assert api.post(f"/w/{workspace}/settings", data={"cni": "weave"}).status_code == 200
    summary = api.get(f"/api/v1/workspaces/{workspace}").json()
    assert summary["settings"]["cni"] == "weave"
    pods = api.get(f"/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=kube-system")
    assert any(p["metadata"]["name"].startswith("weave-net-") for p in pods.json()["items"])
