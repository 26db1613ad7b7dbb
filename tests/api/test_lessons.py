"""Lessons over plain HTTP: showing one (a GET never changes anything), starting one (a
POST), checking, hints, Show me, moving between steps, the quiz, progress on the home page,
and odd input (never a 500)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import Api, apply_ok, new_workspace

HTMX = {"HX-Request": "true"}
MY_POD = """apiVersion: v1
kind: Pod
metadata: {name: mine}
spec: {containers: [{name: c, image: nginx}]}
"""


def open_lesson(api: Api, slug: str = "flat-network", cookie: str | None = None) -> tuple[str, str]:
    """Start a lesson as the home page's list does (POST /lessons/<slug>): returns the
    workspace and the lesson's page beside the map."""
    headers = {"Cookie": f"podpath_lessons={cookie}"} if cookie else {}
    response = api.post(f"/lessons/{slug}", headers=headers)
    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    workspace = re.match(r"/w/([^/]+)/lessons/" + slug + "(\\?resumed=1)?$", location).group(1)
    cookie_header = lesson_cookie(response)
    assert cookie_header is not None and f"podpath_lessons={workspace};" in cookie_header
    assert "httponly" in cookie_header.lower() and "samesite=lax" in cookie_header.lower()
    return workspace, f"/w/{workspace}/lessons/{slug}"


def lesson_cookie(response: Any) -> str | None:
    """The Set-Cookie header that names the learner's lesson workspace, if any."""
    cookies = response.headers.get_list("set-cookie")
    return next((c for c in cookies if c.startswith("podpath_lessons=")), None)


def saved_version(api: Api, workspace: str) -> int | None:
    return api.app.state.workspaces.backend.version(workspace)


def pod_names(api: Api, workspace: str) -> list[str]:
    pods = api.get(f"/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=default").json()
    return sorted(p["metadata"]["name"] for p in pods["items"])


def open_now(api: Api, workspace: str) -> str | None:
    return api.get(f"/api/v1/workspaces/{workspace}/lessons").json()["active"]


@pytest.fixture
def no_changes(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every workspace made or changed while the fixture is on, by the store's own calls."""
    store = api.app.state.workspaces
    calls: list[str] = []
    create, change = store.create, store.change
    monkeypatch.setattr(store, "create", lambda *a, **k: calls.append("create") or create(*a, **k))
    monkeypatch.setattr(store, "change", lambda *a, **k: calls.append("change") or change(*a, **k))
    return calls


def test_opening_a_lesson_starts_it_in_a_sandbox_with_its_cluster(api: Api) -> None:
    workspace, page_url = open_lesson(api)
    page = api.get(page_url)
    assert page.status_code == 200
    assert "The flat network" in page.text
    assert "Step 1 of 3" in page.text and "Your task:" in page.text
    assert 'id="map-area"' in page.text  # beside the map
    assert pod_names(api, workspace) == ["client", "web-a", "web-b"]


def test_the_same_cookie_reuses_the_workspace_and_an_unknown_one_makes_a_new(api: Api) -> None:
    workspace, _ = open_lesson(api)
    again, _ = open_lesson(api, "services", cookie=workspace)
    assert again == workspace
    assert open_now(api, workspace) == "services"
    fresh, _ = open_lesson(api, cookie="not-a-workspace-id-at-all-xx")
    assert fresh != workspace


def test_a_link_to_a_lesson_shows_it_and_makes_nothing(api: Api, no_changes: list[str]) -> None:
    page = api.get("/lessons/dns")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert lesson_cookie(page) is None
    assert no_changes == []  # no workspace made
    text = page.text
    assert "<h1" in text and ">DNS</h1>" in text and "Lesson 5" in text
    assert "Pods rarely use IP addresses" in text  # what it teaches
    for title in ["A Service&#39;s full name", "Short names and the search list", "Headless"]:
        assert title in text
    # Starting is a POST to the same address, one button.
    form = re.search(r'<form method="post" action="/lessons/dns">(.*?)</form>', text, re.S)
    assert form is not None and "Start this lesson" in form.group(1)
    assert 'name="present"' not in form.group(1)
    teach = api.get("/lessons/dns?present=1").text
    assert '<input type="hidden" name="present" value="1">' in teach
    assert no_changes == []


def test_starting_from_the_lesson_page_makes_the_sandbox_and_remembers_it(api: Api) -> None:
    started = api.post("/lessons/dns", data={"present": "1"})
    assert started.status_code == 303
    location = started.headers["location"]
    workspace = location.split("/")[2]
    assert location == f"/w/{workspace}/lessons/dns?present=1"
    cookie = lesson_cookie(started)
    assert cookie is not None and "Secure" not in cookie  # served over plain HTTP
    assert open_now(api, workspace) == "dns"
    assert "Step 1 of 4" in api.get(location).text


def test_the_lesson_cookie_is_secure_when_served_over_https(api: Api) -> None:
    started = api.post("https://localhost/lessons/dns")
    assert started.status_code == 303
    cookie = lesson_cookie(started)
    assert cookie is not None
    assert "; secure" in cookie.lower() and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


def test_a_link_to_a_lesson_with_a_sandbox_shows_it_there_and_changes_nothing(
    api: Api, no_changes: list[str]
) -> None:
    workspace, _ = open_lesson(api)
    apply_ok(api, workspace, MY_POD)
    before = saved_version(api, workspace)
    no_changes.clear()
    cookie = {"Cookie": f"podpath_lessons={workspace}"}
    shown = api.get("/lessons/dns?present=1", headers=cookie)
    assert shown.status_code == 303
    assert shown.headers["location"] == f"/w/{workspace}/lessons/dns?present=1"
    assert lesson_cookie(shown) is None
    assert api.get("/lessons/dns", headers=cookie).headers["location"] == (
        f"/w/{workspace}/lessons/dns"
    )
    assert no_changes == []
    assert saved_version(api, workspace) == before
    assert open_now(api, workspace) == "flat-network"


def test_another_lessons_page_shows_it_with_a_start_button_and_changes_nothing(
    api: Api, no_changes: list[str]
) -> None:
    """A cross-site link to /w/<id>/lessons/dns once switched the lesson and rebuilt the
    cluster, deleting the learner's pod: now it only shows the lesson."""
    workspace, _ = open_lesson(api)
    apply_ok(api, workspace, MY_POD)
    before = saved_version(api, workspace)
    no_changes.clear()
    page = api.get(f"/w/{workspace}/lessons/dns")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert no_changes == [] and saved_version(api, workspace) == before
    assert open_now(api, workspace) == "flat-network"
    assert "mine" in pod_names(api, workspace)
    text = page.text
    assert "<title>DNS · Lesson 5 · Podpath</title>" in text
    panel = text[text.index('id="lesson"') : text.index("</aside>")]
    assert "data-preview" in panel and "Pods rarely use IP addresses" in panel
    assert "Headless Services" in panel  # the steps' titles
    assert "Your task:" not in panel and "Check" not in panel
    # What starting does, said before it is done: the objects that go, by name, and Undo.
    assert (
        "rebuilds this sandbox&#39;s cluster" in panel or "rebuilds this sandbox's cluster" in panel
    )
    assert "The 4 objects in it now" in panel and "<code>pod/mine</code>" in panel
    assert "Undo, at the top of the page, brings them back." in panel
    assert "Your progress in The flat network is kept." in panel
    start = f"/w/{workspace}/lessons/dns/start"
    assert f'action="{start}" hx-post="{start}" hx-target="#lesson"' in panel
    assert re.search(r'<button type="submit"[^>]*>Start this lesson</button>', panel)
    assert f'href="/w/{workspace}/lessons/flat-network"' in panel  # back, as it was
    # Neither does the panel alone (htmx), nor the open lesson's own page.
    assert "data-preview" in api.get(f"/w/{workspace}/lessons/dns", headers=HTMX).text
    assert "Step 1 of 3" in api.get(f"/w/{workspace}/lessons/flat-network").text
    assert no_changes == [] and saved_version(api, workspace) == before


def test_a_sandbox_without_a_lesson_shows_one_without_starting_it(
    api: Api, no_changes: list[str]
) -> None:
    workspace = new_workspace(api, cni="calico")
    before = saved_version(api, workspace)
    no_changes.clear()
    panel = api.get(f"/w/{workspace}/lessons/services").text
    assert "data-preview" in panel and "Start this lesson" in panel
    assert "(on CNI plugin flannel)" in panel  # the rebuilt cluster's settings, where they differ
    assert "Nothing has been applied to it, so nothing of yours goes." in panel
    assert f'href="/w/{workspace}"' in panel
    assert no_changes == [] and saved_version(api, workspace) == before
    assert open_now(api, workspace) is None


def test_the_start_button_starts_the_lesson_and_undo_brings_the_objects_back(api: Api) -> None:
    workspace, _ = open_lesson(api)
    apply_ok(api, workspace, MY_POD)
    started = api.post(f"/w/{workspace}/lessons/dns/start", headers=HTMX)
    assert started.status_code == 200
    assert started.headers["hx-push-url"] == f"/w/{workspace}/lessons/dns"
    assert started.headers["cache-control"] == "no-store"
    text = started.text
    assert text.lstrip().startswith("<title>DNS · Lesson 5 · Podpath</title>")
    assert "Step 1 of 4" in text and "data-preview" not in text
    for part in ["map-area", "trace-bar", "sandbox-head", "trace-result", "panel"]:
        assert f'<div id="{part}" hx-swap-oob="innerHTML">' in text
    assert open_now(api, workspace) == "dns"
    assert "mine" not in pod_names(api, workspace)
    # As the panel said: Undo brings the objects back.
    assert api.post(f"/api/v1/workspaces/{workspace}/undo").status_code == 200
    assert "mine" in pod_names(api, workspace)
    # Without htmx: to the lesson's page, which now shows it where it is.
    plain = api.post(f"/w/{workspace}/lessons/services/start")
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/w/{workspace}/lessons/services"
    assert "Step 1 of 6" in api.get(plain.headers["location"]).text


def test_an_open_lesson_resumes_on_get_and_the_get_changes_nothing(
    api: Api, no_changes: list[str]
) -> None:
    workspace, page_url = open_lesson(api)
    api.post(page_url + "/show")
    api.post(page_url + "/step", data={"step": "1"})
    before = saved_version(api, workspace)
    no_changes.clear()
    for url in [page_url, page_url + "?present=1"]:
        page = api.get(url).text
        assert "Step 2 of 3" in page and "data-preview" not in page
        assert "Welcome back" not in page  # the lesson was open: nothing was rebuilt
    assert no_changes == [] and saved_version(api, workspace) == before


def test_the_home_page_starts_lessons_by_post_only(api: Api) -> None:
    home = api.get("/").text
    assert 'href="/lessons/' not in home
    form = re.search(r'<form method="post" action="/lessons/dns"[^>]*>(.*?)</form>', home, re.S)
    assert form is not None
    body = form.group(1)
    assert re.search(r'<button type="submit" class="link-button">DNS</button>', body)
    assert re.search(r'<button type="submit" name="present" value="1"[^>]*>Teach it', body)


def test_check_fails_with_a_specific_message_then_show_me_passes_it(api: Api) -> None:
    _, page_url = open_lesson(api)
    api.get(page_url)
    failed = api.post(page_url + "/check", headers=HTMX)
    assert failed.status_code == 200
    assert failed.headers["vary"] == "HX-Request"
    assert 'class="fail"' in failed.text
    assert "You have not run a trace in this step yet" in failed.text
    shown = api.post(page_url + "/show", headers=HTMX)
    assert 'class="pass"' in shown.text
    assert "Done (shown)" in shown.text
    # The map and the animated trace come along as out-of-band swaps.
    assert 'id="map-area" hx-swap-oob' in shown.text
    assert 'id="trace-result" hx-swap-oob' in shown.text and "data-trace-player" in shown.text


def test_a_learners_own_trace_in_the_sandbox_is_what_the_check_reads(api: Api) -> None:
    workspace, page_url = open_lesson(api)
    api.get(page_url)
    pods = api.get(f"/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=default").json()
    ip = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods["items"]}
    # The wrong pod first: the check says what the last trace did instead.
    api.post(
        f"/w/{workspace}/trace", data={"from": "pod/default/client", "to": f"http://{ip['web-b']}/"}
    )
    wrong = api.post(page_url + "/check", headers=HTMX)
    assert "not the one asked for" in wrong.text and "web-b" in wrong.text
    api.post(
        f"/w/{workspace}/trace", data={"from": "pod/default/client", "to": f"http://{ip['web-a']}/"}
    )
    right = api.post(page_url + "/check", headers=HTMX)
    assert 'class="pass"' in right.text and 'class="fail"' not in right.text


def test_hints_come_one_at_a_time(api: Api) -> None:
    _, page_url = open_lesson(api)
    api.get(page_url)
    first = api.post(page_url + "/hint", headers=HTMX)
    assert first.text.count("<li>", first.text.index('class="hints"')) >= 1
    assert "Hint (2 of 2)" in first.text
    second = api.post(page_url + "/hint", headers=HTMX)
    assert "Hint (" not in second.text  # none left to reveal


def test_an_answer_is_checked_against_the_cluster(api: Api) -> None:
    workspace, page_url = open_lesson(api)
    api.get(page_url)
    api.post(page_url + "/step", data={"step": "2"})
    wrong = api.post(page_url + "/check", data={"answer": "10.0.0.11"}, headers=HTMX)
    # A node's address where a pod's was asked: the Check says whose it is and where it shows.
    assert (
        "10.0.0.11 is worker-1&#39;s address" in wrong.text
        or "10.0.0.11 is worker-1's address" in wrong.text
    )
    assert "VXLAN" in wrong.text
    client = api.get(f"/api/v1/workspaces/{workspace}/objects/pods/default/client").json()
    # For an instructor: the answer is on the page, folded away until revealed.
    assert re.search(
        r'<details class="reveal-answer"><summary>Reveal the answer</summary><p><code>'
        + re.escape(client["status"]["podIP"]),
        wrong.text,
    )
    right = api.post(page_url + "/check", data={"answer": client["status"]["podIP"]}, headers=HTMX)
    assert "is right" in right.text


def test_skipping_ahead_does_the_skipped_steps_and_says_so(api: Api) -> None:
    _, page_url = open_lesson(api)
    api.get(page_url)
    page = api.post(page_url + "/step", data={"step": "3"}, headers=HTMX)
    assert "The steps you skipped were done for you" in page.text
    assert "Recap" in page.text and "Quiz" in page.text


def test_the_quiz_scores_and_explains_every_answer_and_progress_shows_at_home(api: Api) -> None:
    workspace, page_url = open_lesson(api)
    api.get(page_url)
    api.post(page_url + "/step", data={"step": "3"})
    answered = api.post(page_url + "/quiz", data={"q0": "0", "q1": "1", "q2": "0"}, headers=HTMX)
    assert "2 of 3 right" in answered.text
    assert "Lesson complete." in answered.text
    assert answered.text.count('class="why"') == 9  # every choice explained
    # The next lesson starts with one click, by POST (a link would only show it).
    start_next = f"/w/{workspace}/lessons/pods-come-and-go/start"
    assert f'action="{start_next}"' in answered.text
    assert "Next lesson: Pods come and go →</button>" in answered.text
    assert 'href="/lessons/' not in answered.text
    home = api.get("/", headers={"Cookie": f"podpath_lessons={workspace}"})
    assert "✓ Complete" in home.text
    assert api.get("/").text.count("✓ Complete") == 0  # another browser: no progress


def test_the_sandbox_page_keeps_the_lesson_open_until_it_is_left(api: Api) -> None:
    workspace, page_url = open_lesson(api)
    api.get(page_url)
    assert 'id="lesson"' in api.get(f"/w/{workspace}?tab=yaml").text
    left = api.post(f"/w/{workspace}/lessons/leave")
    assert left.status_code == 303
    assert 'id="lesson"' not in api.get(f"/w/{workspace}").text


def test_a_lesson_resumes_where_it_was_left_after_another_lesson(api: Api) -> None:
    workspace, page_url = open_lesson(api)
    api.get(page_url)
    api.post(page_url + "/show")
    api.post(page_url + "/step", data={"step": "1"})
    open_lesson(api, "services", cookie=workspace)
    # Shown, not started: the panel says where it would resume.
    shown = api.get(page_url).text
    assert "data-preview" in shown and "Resume this lesson" in shown
    assert "it resumes at step 2" in shown and "as its earlier steps leave it" in shown
    # From the home page's list: started, and the page says the cluster was rebuilt.
    again = api.post("/lessons/flat-network", headers={"Cookie": f"podpath_lessons={workspace}"})
    assert again.headers["location"] == page_url + "?resumed=1"
    back = api.get(again.headers["location"])
    assert "Step 2 of 3" in back.text
    assert "the cluster was rebuilt" in back.text
    # From the panel's Start button (htmx): the same note.
    api.post(f"/w/{workspace}/lessons/services/start", headers=HTMX)
    resumed = api.post(page_url + "/start", headers=HTMX)
    assert "Step 2 of 3" in resumed.text and "the cluster was rebuilt" in resumed.text


def test_restart_goes_back_to_the_first_step(api: Api) -> None:
    _, page_url = open_lesson(api)
    api.get(page_url)
    api.post(page_url + "/step", data={"step": "2"})
    restarted = api.post(page_url + "/restart", headers=HTMX)
    assert restarted.status_code == 204 and restarted.headers["hx-redirect"] == page_url
    assert "Step 1 of 3" in api.get(page_url).text


@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("get", "/lessons/no-such-lesson", None, 404),
        ("post", "/lessons/no-such-lesson", None, 404),
        ("get", "/w/{w}/lessons/no-such-lesson", None, 404),
        ("post", "/w/{w}/lessons/no-such-lesson/start", None, 404),
        ("get", "/w/{w}/lessons/flat-network/start", None, 405),
        ("post", "/w/{w}/lessons/flat-network/step", {"step": "many"}, 422),
        ("post", "/w/{w}/lessons/flat-network/step", {"step": "-5"}, 200),
        ("post", "/w/{w}/lessons/flat-network/step", {"step": "999"}, 200),
        ("post", "/w/{w}/lessons/flat-network/quiz", {"q0": "77", "q99": "1", "x": "y"}, 200),
        ("post", "/w/{w}/lessons/flat-network/check", {"answer": "x" * 5000}, 200),
        ("get", "/w/nonexistent-workspace-id-123/lessons/flat-network", None, 404),
        ("post", "/w/nonexistent-workspace-id-123/lessons/flat-network/start", None, 404),
    ],
)
def test_odd_input_gets_a_clear_answer_never_a_500(api: Api, method, path, data, status) -> None:
    workspace, page_url = open_lesson(api)
    api.get(page_url)
    response = (
        getattr(api, method)(path.format(w=workspace), data=data)
        if data
        else getattr(api, method)(path.format(w=workspace))
    )
    assert response.status_code == status


TWO_PODS = """apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: a}}
spec: {nodeName: worker-1, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, labels: {app: b}}
spec: {nodeName: worker-2, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
"""


def test_the_cni_plugins_side_by_side_leave_the_workspace_as_it_was(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, TWO_PODS)
    before = api.get(f"/api/v1/workspaces/{workspace}/objects/pods/default/b").json()
    page = api.post(
        f"/w/{workspace}/compare",
        data={"source_pod": "pod/default/a", "target_pod": "pod/default/b", "port": "80"},
        headers=HTMX,
    )
    assert page.status_code == 200
    text = page.text
    assert text.index("flannel") < text.index("Calico") < text.index("Weave Net")
    assert "flannel.1 wraps the packet (VXLAN)" in text and "<code>8472</code>" in text
    assert "vxlan-6784 wraps the packet" in text and "<code>6784</code>" in text
    assert "No tunnel:" in text  # Calico, routed
    assert ">1450<" in text and ">1376<" in text and ">1500<" in text
    after = api.get(f"/api/v1/workspaces/{workspace}/objects/pods/default/b").json()
    assert after["status"]["podIP"] == before["status"]["podIP"]
    info = api.get(f"/api/v1/workspaces/{workspace}").json()
    assert info["settings"]["cni"] == "flannel"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"source_pod": "pod/default/a", "target_pod": "pod/default/nope"}, 404),
        ({"source_pod": "pod/default/a", "target_pod": "pod/default/b", "port": "70000"}, 422),
        ({"source_pod": "pod/default/a", "target_pod": "pod/default/b", "port": "http"}, 422),
        ({}, 404),
    ],
)
def test_comparing_with_odd_input_is_a_clear_error(api: Api, data, status) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, TWO_PODS)
    assert api.post(f"/w/{workspace}/compare", data=data).status_code == status


def test_the_json_api_lists_lessons_and_takes_one_step_by_step(api: Api) -> None:
    catalog = api.get("/api/v1/lessons").json()["lessons"]
    assert [lesson["slug"] for lesson in catalog][:2] == ["flat-network", "pods-come-and-go"]
    assert catalog[0]["steps"][2] == {
        "id": "real-ip",
        "title": "What the receiver sees",
        "ask": "Source IP address seen by web-b",
    }
    workspace = new_workspace(api)
    base = f"/api/v1/workspaces/{workspace}/lessons/flat-network"
    started = api.post(base + "/start").json()
    assert started["step"] == 0 and started["stepId"] == "same-node"
    first = api.post(base + "/check").json()
    assert first["passed"] is False
    assert first["checks"] == [
        {
            "passed": False,
            "message": "You have not run a trace in this step yet: use the trace bar above the map.",
        }
    ]
    shown = api.post(base + "/show").json()
    assert shown["passed"] is True and shown["done"][0].startswith("Traced client")
    moved = api.post(base + "/step", json={"step": 2}).json()
    assert moved["stepId"] == "real-ip" and moved["progress"]["done"] == 2
    client = api.get(f"/api/v1/workspaces/{workspace}/objects/pods/default/client").json()
    right = api.post(base + "/check", json={"answer": client["status"]["podIP"]}).json()
    assert right["passed"] is True
    progress = api.get(f"/api/v1/workspaces/{workspace}/lessons").json()
    assert progress["active"] == "flat-network"
    assert progress["lessons"]["flat-network"]["done"] == 3
    assert progress["lessons"]["dns"]["state"] == "not started"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/lessons/nope/start", None, 404),
        ("post", "/lessons/flat-network/step", {"step": "x"}, 422),
        ("post", "/lessons/flat-network/step", {"step": 1, "extra": 1}, 422),
        ("post", "/lessons/flat-network/check", {"answer": "x" * 201}, 422),
    ],
)
def test_the_lesson_api_refuses_odd_input_clearly(api: Api, method, path, body, status) -> None:
    workspace = new_workspace(api)
    url = f"/api/v1/workspaces/{workspace}{path}"
    response = (
        getattr(api, method)(url, json=body) if body is not None else getattr(api, method)(url)
    )
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")


def test_a_shared_lesson_sandbox_gives_each_student_a_copy_at_the_same_step(api: Api) -> None:
    workspace, page_url = open_lesson(api)
    api.get(page_url)
    api.post(page_url + "/step", data={"step": "1"})
    box = api.post(f"/w/{workspace}/share", headers=HTMX).text
    token = re.search(r'href="/s/([^"?]+)"', box).group(1)
    copy = api.post(f"/s/{token}")
    assert copy.status_code == 303
    student = api.get(copy.headers["location"]).text
    assert 'id="lesson"' in student and "Step 2 of 3" in student
    # The student's progress is their own: the instructor's copy does not move.
    student_id = copy.headers["location"].split("/")[2]
    api.post(f"/w/{student_id}/lessons/flat-network/step", data={"step": "2"})
    assert "Step 2 of 3" in api.get(page_url).text
