"""The sandbox's Trace tab offers the IP family on a dual-stack cluster only, and its form
posts the trace API's ``ipFamily``.

Sources: curl's docs (``-4`` / ``--ipv4``, ``-6`` / ``--ipv6``: resolve names to that family
only; by default curl tries the IPv6 answer first, RFC 8305 Happy Eyeballs).
"""

from __future__ import annotations

from tests.api.conftest import Api, apply_ok, new_workspace
from tests.api.test_dual_stack_traces_api import OBJECTS


def test_the_trace_tab_offers_the_family_on_dual_stack_only(api: Api) -> None:
    dual = new_workspace(api, ipFamily="dual")
    page = api.get(f"/w/{dual}?tab=trace").text
    assert '<select name="ipFamily">' in page
    assert "IPv4 (as curl -4)" in page and "IPv6 (as curl -6)" in page
    for mode in ("ipv4", "ipv6"):
        single = new_workspace(api, ipFamily=mode)
        assert 'name="ipFamily"' not in api.get(f"/w/{single}?tab=trace").text


def test_the_form_posts_ip_family_and_the_trace_uses_it(api: Api) -> None:
    workspace = new_workspace(api, ipFamily="dual")
    apply_ok(api, workspace, OBJECTS)
    spec = api.get(f"/api/v1/workspaces/{workspace}/objects/Service/default/web").json()["spec"]
    v4, v6 = spec["clusterIPs"]
    form = {"from": "pod/default/client", "to": "http://web/", "seed": "0"}
    four = api.post(f"/w/{workspace}/trace", data={**form, "ipFamily": "IPv4"})
    assert four.status_code == 200 and f"{v4}:80" in four.text
    assert f"[{v6}]:80" not in four.text
    six = api.post(f"/w/{workspace}/trace", data={**form, "ipFamily": "IPv6"})
    assert six.status_code == 200 and f"[{v6}]:80" in six.text
    # the answer keeps the choice, so the next trace from the tab asks the same
    tab = api.get(f"/w/{workspace}?tab=trace&from=pod/default/client&to=http://web/")
    assert tab.status_code == 200


def test_a_bad_family_is_a_422_naming_ip_family_and_changes_nothing(api: Api) -> None:
    workspace = new_workspace(api, ipFamily="dual")
    apply_ok(api, workspace, OBJECTS)
    before = api.get(f"/api/v1/workspaces/{workspace}/manifests").text
    form = {"from": "pod/default/client", "to": "http://web/", "ipFamily": "IPv5"}
    bad = api.post(f"/w/{workspace}/trace", data=form)
    assert bad.status_code == 422 and "ipFamily" in bad.text
    assert api.get(f"/api/v1/workspaces/{workspace}/manifests").text == before
