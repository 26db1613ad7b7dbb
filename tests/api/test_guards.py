"""What keeps a shared server safe, as a browser or a script meets it: security headers on
every answer, changes from other sites refused, Host names checked, and rate limits that
stop one client without stopping a class behind one address."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.web.guard import buckets
from tests.api.conftest import Api, apply_ok, make_api, new_workspace

POD = """apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers: [{name: c, image: busybox}]
"""

CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
SAME_ORIGIN = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}


def pod_names(api: Api, workspace: str) -> list[str]:
    url = f"/api/v1/workspaces/{workspace}/objects"
    listed = api.get(url, params={"kind": "Pod", "namespace": "default"}).json()
    return sorted(o["metadata"]["name"] for o in listed["items"])


# --- headers -------------------------------------------------------------------------------


def test_every_kind_of_answer_carries_the_security_headers(api: Api) -> None:
    workspace = new_workspace(api)
    answers = {
        "home page": api.get("/"),
        "sandbox page": api.get(f"/w/{workspace}"),
        "htmx fragment": api.get(f"/w/{workspace}?tab=events", headers={"HX-Request": "true"}),
        "JSON": api.get(f"/api/v1/workspaces/{workspace}"),
        "404 page": api.get("/w/no-such-workspace-at-all"),
        "404 JSON": api.get("/api/v1/workspaces/no-such-workspace-at-all"),
        "405": api.request("PUT", "/api/v1/workspaces"),
        "422": api.post_yaml(f"/api/v1/workspaces/{workspace}/apply", "kind: Pod"),
        "refused Host": api.get("/", headers={"Host": "evil.example"}),
        "static file": api.get("/static/js/stage.js"),
        "API docs": api.get("/docs"),
        "OpenAPI": api.get("/openapi.json"),
        "health": api.get("/healthz"),
    }
    for what, response in answers.items():
        csp = response.headers.get("content-security-policy", "")
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ):
            assert directive in csp, f"{what}: no {directive!r} in {csp!r}"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
        assert response.headers.get("x-content-type-options") == "nosniff", what
        assert response.headers.get("x-frame-options") == "DENY", what
        assert response.headers.get("referrer-policy") == "no-referrer", what


def test_workspace_pages_and_json_are_never_cached_but_static_files_may_be(api: Api) -> None:
    workspace = new_workspace(api)
    for url in (f"/w/{workspace}", f"/api/v1/workspaces/{workspace}", "/"):
        assert api.get(url).headers["cache-control"] == "no-store", url
    assert "no-store" not in api.get("/static/js/stage.js").headers.get("cache-control", "")


def test_exported_manifests_are_an_attachment_and_cannot_be_sniffed_as_html(api: Api) -> None:
    workspace = new_workspace(api)
    hostile = POD.replace(
        "metadata: {name: client}",
        "metadata:\n  name: client\n  annotations: {note: '<script>alert(1)</script>'}",
    )
    apply_ok(api, workspace, hostile)
    exported = api.get(f"/api/v1/workspaces/{workspace}/manifests")
    assert "<script>" in exported.text  # the learner's text, as they wrote it
    assert exported.headers["x-content-type-options"] == "nosniff"
    assert exported.headers["content-disposition"].startswith("attachment")


def test_the_page_has_no_inline_script_or_style(api: Api) -> None:
    """The CSP allows neither; JSON data blocks are not scripts."""
    import re

    workspace = new_workspace(api)
    apply_ok(api, workspace, POD)
    traffic = api.post(
        f"/w/{workspace}/traffic", data={"from": "pod/default/client", "to": "10.96.0.1:443"}
    )
    assert 'class="bar-fill"' in traffic.text  # the bars are drawn without a style attribute
    page = api.get(f"/w/{workspace}?from=pod/default/client&to=kubernetes.default:443").text
    page += traffic.text
    for attrs, _body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page), "an inline style attribute"
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler"


# --- cross-site requests -------------------------------------------------------------------


def test_a_form_posted_from_another_site_changes_nothing(api: Api) -> None:
    workspace = new_workspace(api)
    refused = api.post(f"/w/{workspace}/apply", data={"manifest": POD}, headers=CROSS_SITE)
    assert refused.status_code == 403
    assert "evil.example" in refused.text and "PODPATH_ALLOWED_ORIGINS" in refused.text
    reset = api.post(f"/w/{workspace}/reset", headers=CROSS_SITE)
    assert reset.status_code == 403
    assert pod_names(api, workspace) == []
    ok = api.post(f"/w/{workspace}/apply", data={"manifest": POD}, headers=SAME_ORIGIN)
    assert ok.status_code == 200
    assert pod_names(api, workspace) == ["client"]


def test_an_older_browser_without_sec_fetch_site_is_judged_by_its_origin(api: Api) -> None:
    workspace = new_workspace(api)
    foreign = api.post(
        f"/w/{workspace}/apply", data={"manifest": POD}, headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    opaque = api.post(f"/w/{workspace}/apply", data={"manifest": POD}, headers={"Origin": "null"})
    assert opaque.status_code == 403
    own = api.post(
        f"/w/{workspace}/apply", data={"manifest": POD}, headers={"Origin": "http://localhost"}
    )
    assert own.status_code == 200


def test_a_no_cors_text_plain_post_to_the_json_api_is_refused(api: Api) -> None:
    workspace = new_workspace(api)
    url = f"/api/v1/workspaces/{workspace}/apply"
    plain = {"content-type": "text/plain"}
    assert api.post(url, content=POD, headers={**plain, **CROSS_SITE}).status_code == 403
    # Even with no Origin (a page cannot strip it, but be safe): the type itself is refused.
    response = api.post(url, content=POD, headers=plain)
    assert response.status_code == 415
    assert "application/yaml" in response.json()["message"]
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert api.post(url, content="manifest=x", headers=form).status_code == 415
    assert pod_names(api, workspace) == []


def test_programs_without_browser_headers_may_still_change_a_workspace(api: Api) -> None:
    """curl, kubectl and scripts send no Origin: they are not pages another site steers."""
    workspace = new_workspace(api)
    apply_ok(api, workspace, POD)
    assert pod_names(api, workspace) == ["client"]


def test_an_allowed_origin_may_send_changes(tmp_path: Path) -> None:
    api = make_api(tmp_path, allowed_origins="https://podpath.school.example")
    workspace = new_workspace(api)
    headers = {"Origin": "https://podpath.school.example", "Sec-Fetch-Site": "cross-site"}
    assert (
        api.post(f"/w/{workspace}/apply", data={"manifest": POD}, headers=headers).status_code
        == 200
    )


# --- Host ----------------------------------------------------------------------------------


def test_a_server_on_loopback_refuses_other_host_names(api: Api) -> None:
    """DNS rebinding: a page whose name now points at 127.0.0.1 sends its own Host."""
    refused = api.get("/", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert "evil.example" in refused.text and "PODPATH_ALLOWED_HOSTS" in refused.text
    assert api.get("/", headers={"Host": "evil.example:8000"}).status_code == 400
    for host in ("localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
        assert api.get("/", headers={"Host": host}).status_code == 200, host
    assert api.get("/healthz", headers={"Host": "10.0.0.5"}).status_code == 200


def test_allowed_hosts_is_a_list_with_subdomains_and_a_server_on_all_interfaces(
    tmp_path: Path,
) -> None:
    listed = make_api(tmp_path, allowed_hosts="podpath.school.example,.lab.example")
    assert listed.get("/", headers={"Host": "podpath.school.example"}).status_code == 200
    assert listed.get("/", headers={"Host": "room1.lab.example"}).status_code == 200
    assert listed.get("/", headers={"Host": "localhost"}).status_code == 400
    public = make_api(tmp_path, host="0.0.0.0")
    assert public.get("/", headers={"Host": "10.1.2.3:8000"}).status_code == 200


# --- rate limits ---------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(buckets, "now", lambda: now[0])
    return now


def test_one_browser_is_limited_in_new_sandboxes_then_recovers(
    tmp_path: Path, clock: list[float]
) -> None:
    api = make_api(tmp_path, new_per_client=3)
    browser = {"Cookie": "podpath_client=" + "b" * 24}
    made = [api.post("/api/v1/workspaces", json={}, headers=browser) for _ in range(3)]
    assert [r.status_code for r in made] == [201, 201, 201]
    refused = api.post("/api/v1/workspaces", json={}, headers=browser)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1200"  # one of 3 per hour comes back in 20 min
    body = refused.json()
    assert body["reason"] == "TooManyRequests"
    assert body["message"].startswith("This browser has made 3 new sandboxes in the last hour")
    assert "PODPATH_NEW_PER_CLIENT" in body["message"] and "20 minutes" in body["message"]
    another = {"Cookie": "podpath_client=" + "c" * 24}
    assert api.post("/api/v1/workspaces", json={}, headers=another).status_code == 201
    clock[0] += 1200
    assert api.post("/api/v1/workspaces", json={}, headers=browser).status_code == 201


def test_the_page_form_and_share_copies_count_as_new_sandboxes(
    tmp_path: Path, clock: list[float]
) -> None:
    api = make_api(tmp_path, new_per_client=1)
    browser = {"Cookie": "podpath_client=" + "d" * 24}
    assert api.post("/w", data={}, headers=browser).status_code == 303
    page = api.post("/w", data={}, headers=browser)
    assert page.status_code == 429
    assert "text/html" in page.headers["content-type"] and "Retry-After" in page.headers
    assert "new sandboxes" in page.text


def test_a_class_of_200_behind_one_address_all_get_a_sandbox(api: Api) -> None:
    """The default limits: each student's browser has its own cookie, one NAT address."""
    for student in range(200):
        browser = {"Cookie": f"podpath_client=student-{student:04d}-xxxxxxxxxx"}
        response = api.post("/w", data={}, headers=browser)
        assert response.status_code == 303, (student, response.text[:200])


def test_one_address_is_limited_whatever_cookies_it_invents(
    tmp_path: Path, clock: list[float]
) -> None:
    api = make_api(tmp_path, new_per_client=100, new_per_address=5)
    codes = [
        api.post(
            "/api/v1/workspaces", json={}, headers={"Cookie": f"podpath_client=x{i:020d}"}
        ).status_code
        for i in range(6)
    ]
    assert codes == [201] * 5 + [429]
    refused = api.post("/api/v1/workspaces", json={})
    assert "PODPATH_NEW_PER_ADDRESS" in refused.json()["message"]


def test_a_browser_gets_its_client_cookie_http_only_and_same_site(api: Api) -> None:
    cookie = api.get("/").headers["set-cookie"]
    assert cookie.startswith("podpath_client=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    again = api.get("/", headers={"Cookie": "podpath_client=" + "e" * 24})
    assert "set-cookie" not in again.headers


def test_server_time_is_charged_per_change_and_recovers(
    tmp_path: Path, clock: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each change is timed; 1 second of work per minute lets one 2-second change through,
    then asks to wait until the debt is paid."""
    api = make_api(tmp_path, work_per_client=1)
    browser = {"Cookie": "podpath_client=" + "f" * 24}
    workspace = new_workspace(api)
    ticking = iter(range(10**6))
    monkeypatch.setattr(buckets, "now", lambda: clock[0] + 2 * next(ticking))
    slow = api.post_yaml(f"/api/v1/workspaces/{workspace}/apply", POD)
    assert slow.status_code == 200
    refused = api.request(
        "POST",
        f"/api/v1/workspaces/{workspace}/apply",
        content=POD,
        headers={**browser, "content-type": "application/yaml"},
    )
    assert refused.status_code == 200  # another browser: its own bucket
    # The program without a cookie used its address's client bucket: it waits now.
    again = api.post_yaml(f"/api/v1/workspaces/{workspace}/apply", POD)
    assert again.status_code == 429
    assert "seconds of the server's time" in again.json()["message"]
    assert int(again.headers["retry-after"]) >= 1
    monkeypatch.setattr(buckets, "now", lambda: clock[0] + 10_000)
    assert api.post_yaml(f"/api/v1/workspaces/{workspace}/apply", POD).status_code == 200
    assert api.get(f"/api/v1/workspaces/{workspace}").status_code == 200  # reads never wait


# --- no GET changes anything ---------------------------------------------------------------


def test_no_get_changes_a_workspace(api: Api) -> None:
    """Link previewers, prefetchers and cross-site links all GET: none may change a thing."""
    workspace = new_workspace(api)
    apply_ok(api, workspace, POD)
    api.post(f"/w/{workspace}/share")
    share = api.app.state.workspaces.current_share(workspace)
    store = api.app.state.workspaces

    def saved() -> tuple[object, ...]:
        return (
            store.backend.version(workspace),
            store.current_share(workspace),
            len(store.history(workspace).entries),
        )

    before = saved()
    urls = [
        "/",
        "/lessons",
        "/lessons/dns",
        f"/w/{workspace}/lessons/dns",
        f"/s/{share.token}",
        f"/w/{workspace}?from=pod/default/client&to=kubernetes.default:443",
        *(
            f"/w/{workspace}?tab={tab}"
            for tab in ("build", "trace", "objects", "rules", "dns", "events", "yaml")
        ),
        f"/w/{workspace}/build",
        f"/w/{workspace}/objects/Pod/default/client",
        f"/api/v1/workspaces/{workspace}",
        f"/api/v1/workspaces/{workspace}/objects",
        f"/api/v1/workspaces/{workspace}/events",
        f"/api/v1/workspaces/{workspace}/history",
        f"/api/v1/workspaces/{workspace}/manifests",
        f"/api/v1/workspaces/{workspace}/lessons",
        f"/api/v1/workspaces/{workspace}/dns?name=kubernetes.default",
    ]
    for url in urls:
        response = api.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert saved() == before, f"GET {url} changed the workspace"
        assert (
            "set-cookie" not in response.headers
            or "podpath_lessons" not in response.headers["set-cookie"]
        ), f"GET {url} started a lesson workspace"


# --- unexpected errors -----------------------------------------------------------------------


def test_an_unexpected_error_is_a_500_that_keeps_the_connection(api: Api) -> None:
    """Starlette's last-resort handler answers and then re-raises, which makes the server drop
    the keep-alive connection; Podpath's answers and stops (the ASGI client here raises if the
    app lets the exception out)."""

    def broken() -> None:
        raise RuntimeError("a bug")

    api.app.add_api_route("/api/v1/broken", broken)
    api.app.add_api_route("/broken", broken)
    response = api.get("/api/v1/broken")
    assert response.status_code == 500
    assert response.json()["reason"] == "InternalError"
    assert "a bug" not in response.text  # nothing internal leaks
    assert response.headers["x-content-type-options"] == "nosniff"
    page = api.get("/broken")
    assert page.status_code == 500 and "internal error" in page.text
    assert "connection" not in response.headers
