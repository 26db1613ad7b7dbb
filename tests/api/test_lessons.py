"""Lessons over plain HTTP: opening one, checking, hints, Show me, moving between steps, the
quiz, progress on the home page, and odd input (never a 500)."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Api, apply_ok, new_workspace

HTMX = {"HX-Request": "true"}


def open_lesson(api: Api, slug: str = "flat-network", cookie: str | None = None) -> tuple[str, str]:
    headers = {"Cookie": f"podpath_lessons={cookie}"} if cookie else {}
    response = api.get(f"/lessons/{slug}", headers=headers)
    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    workspace = re.match(r"/w/([^/]+)/lessons/" + slug + "$", location).group(1)
    assert f"podpath_lessons={workspace}" in response.headers["set-cookie"]
    assert "httponly" in response.headers["set-cookie"].lower()
    return workspace, location


def test_opening_a_lesson_starts_it_in_a_sandbox_with_its_cluster(api: Api) -> None:
    workspace, page_url = open_lesson(api)
    page = api.get(page_url)
    assert page.status_code == 200
    assert "The flat network" in page.text
    assert "Step 1 of 3" in page.text and "Your task:" in page.text
    assert 'id="map-area"' in page.text  # beside the map
    pods = api.get(f"/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=default").json()
    names = sorted(p["metadata"]["name"] for p in pods["items"])
    assert names == ["client", "web-a", "web-b"]


def test_the_same_cookie_reuses_the_workspace_and_an_unknown_one_makes_a_new(api: Api) -> None:
    workspace, _ = open_lesson(api)
    again, _ = open_lesson(api, "services", cookie=workspace)
    assert again == workspace
    fresh, _ = open_lesson(api, cookie="not-a-workspace-id-at-all-xx")
    assert fresh != workspace


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
    _, other = open_lesson(api, "services", cookie=workspace)
    api.get(other)
    back = api.get(page_url)
    assert "Step 2 of 3" in back.text
    assert "the cluster was rebuilt" in back.text


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
        ("get", "/w/{w}/lessons/no-such-lesson", None, 404),
        ("post", "/w/{w}/lessons/flat-network/step", {"step": "many"}, 422),
        ("post", "/w/{w}/lessons/flat-network/step", {"step": "-5"}, 200),
        ("post", "/w/{w}/lessons/flat-network/step", {"step": "999"}, 200),
        ("post", "/w/{w}/lessons/flat-network/quiz", {"q0": "77", "q99": "1", "x": "y"}, 200),
        ("post", "/w/{w}/lessons/flat-network/check", {"answer": "x" * 5000}, 200),
        ("get", "/w/nonexistent-workspace-id-123/lessons/flat-network", None, 404),
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
    token = re.search(r'href="/s/([^"]+)"', api.get(f"/w/{workspace}").text).group(1)
    copy = api.get(f"/s/{token}")
    assert copy.status_code == 303
    student = api.get(copy.headers["location"]).text
    assert 'id="lesson"' in student and "Step 2 of 3" in student
    # The student's progress is their own: the instructor's copy does not move.
    student_id = copy.headers["location"].split("/")[2]
    api.post(f"/w/{student_id}/lessons/flat-network/step", data={"step": "2"})
    assert "Step 2 of 3" in api.get(page_url).text
