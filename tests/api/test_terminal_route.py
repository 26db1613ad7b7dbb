"""The Terminal tab over HTTP: the tab, a command line posted as a form, the session carried
in the form, a change saved (and undoable), a curl's trace sent for the map."""

from __future__ import annotations

import re

from tests.api.conftest import Api, apply_ok, list_items, new_workspace

HTMX = {"HX-Request": "true"}
WEB = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: client, image: curlimages/curl}]}
"""


def _fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(where|sent|last)" value="([^"]*)">', html))


def test_the_tab_has_a_prompt_a_screen_and_the_kubeconfig_link(api: Api) -> None:
    workspace = new_workspace(api)
    page = api.get(f"/w/{workspace}/terminal")
    assert page.status_code == 200
    assert (
        'id="terminal-screen"' in page.text
        and 'aria-current="page" class="current">Terminal' in page.text
    )
    assert f'href="/k/{workspace}/kubeconfig"' in page.text
    assert (
        '<label class="terminal-prompt" id="terminal-prompt" for="terminal-input">$ </label>'
        in page.text
    )
    fragment = api.get(f"/w/{workspace}/terminal", headers=HTMX)
    assert fragment.text.lstrip().startswith("<nav") and "<html" not in fragment.text
    assert "terminal-complete" in fragment.text


def test_kubectl_get_pods_prints_the_table(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    answer = api.post(f"/w/{workspace}/terminal", data={"line": "kubectl get pods"}, headers=HTMX)
    assert answer.status_code == 200
    assert re.search(r"NAME +READY +STATUS +RESTARTS +AGE\n", answer.text)
    assert re.search(r"\nclient +1/1 +Running +0 +\S+\n", answer.text)
    assert 'hx-swap-oob="innerHTML"' in answer.text and "map-area" not in answer.text


def test_exec_then_curl_carries_the_session_and_the_trace(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    first = api.post(
        f"/w/{workspace}/terminal", data={"line": "kubectl exec -it client -- sh"}, headers=HTMX
    )
    fields = _fields(first.text)
    assert fields["where"] == "pod/default/client"
    assert "root@client:/# </label>" in first.text
    second = api.post(
        f"/w/{workspace}/terminal", data={"line": "curl -v http://web", **fields}, headers=HTMX
    )
    assert "&gt; GET / HTTP/1.1" in second.text and "&lt; HTTP/1.1 200 OK" in second.text
    # The trace comes along for the map, in the trace bar's own block.
    assert '<div id="trace-result" hx-swap-oob="innerHTML">' in second.text
    assert (
        "data-trace" in second.text
        or "trace-player" in second.text
        or "application/json" in second.text
    )
    after = _fields(second.text)
    assert after["sent"] == "1" and after["last"].startswith("pod/default/client\thttp://web")


def test_a_kubectl_change_is_saved_redraws_the_map_and_can_be_undone(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    answer = api.post(
        f"/w/{workspace}/terminal",
        data={"line": "kubectl scale deployment web --replicas=3"},
        headers=HTMX,
    )
    assert "deployment.apps/web scaled\n" in answer.text
    assert '<div id="map-area" hx-swap-oob="innerHTML">' in answer.text
    pods = [
        p
        for p in list_items(api, workspace, "kind=Pod")
        if p["metadata"]["name"].startswith("web-")
    ]
    assert len(pods) == 3
    history = api.get(f"/api/v1/workspaces/{workspace}/history")
    if history.status_code == 200:
        assert "web" in history.text


def test_without_javascript_the_page_comes_back_with_the_answer(api: Api) -> None:
    workspace = new_workspace(api)
    answer = api.post(f"/w/{workspace}/terminal", data={"line": "foo"})
    assert answer.status_code == 200 and "<html" in answer.text
    assert "sh: foo: not found" in answer.text


def test_a_forged_session_starts_afresh(api: Api) -> None:
    workspace = new_workspace(api)
    answer = api.post(
        f"/w/{workspace}/terminal",
        data={"line": "hostname", "where": "pod/../../etc"},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert _fields(answer.text)["where"] == ""
    assert "sh: hostname: not found" in answer.text


def test_a_lessons_checks_see_what_the_terminal_did(api: Api) -> None:
    """A lookup with nslookup counts as one in the DNS tab (looked_up), a curl as a trace."""
    workspace = new_workspace(api)
    started = api.post(f"/api/v1/workspaces/{workspace}/lessons/dns/start")
    assert started.status_code == 200, started.text
    check = f"/api/v1/workspaces/{workspace}/lessons/dns/check"
    before = api.post(check).json()["checks"][0]
    assert not before["passed"]
    line = "kubectl exec client -- nslookup web.default.svc.cluster.local"
    answer = api.post(f"/w/{workspace}/terminal", data={"line": line}, headers=HTMX)
    assert "Address: 10." in answer.text
    after = api.post(check).json()["checks"][0]
    assert after["passed"], after


def test_the_teachers_curl_goes_to_the_students_following(api: Api) -> None:
    from tests.api.test_classroom import Class

    room = Class(api, scenario="web-service")
    ana = room.join("Ana")
    line = "kubectl exec client -- curl -s http://web"
    sent = api.post(f"/w/{room.teacher}/terminal", data={"line": line}, headers=HTMX)
    trace_seq = re.search(r'data-class-trace="(\d+)"', sent.text)[1]
    caught = api.post(f"/w/{ana}/class/follow", headers=HTMX)
    assert f'data-follow-trace="{trace_seq}"' in caught.text
    # A student's own curl goes to no one.
    mine = api.post(f"/w/{ana}/terminal", data={"line": line}, headers=HTMX)
    assert "data-class-trace" not in mine.text
