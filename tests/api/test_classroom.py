"""The live classroom over HTTP: starting a class, joining it, the dashboard seeing progress,
following the teacher, hints, the export, and what a student may not reach."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.conftest import Api, make_api

HX = {"HX-Request": "true"}


class Class:
    """A class started through the pages, with the instructor's key at hand."""

    def __init__(self, api: Api, **start: str) -> None:
        self.api = api
        answer = api.post("/classes", data=start)
        assert answer.status_code == 303, answer.text
        link = urlsplit(answer.headers["location"])
        self.id = link.path.rsplit("/", 1)[1]
        self.key = parse_qs(link.query)["key"][0]
        page = self.teach("GET", "")
        assert page.status_code == 200, page.text
        self.code = re.search(r'class-badge">Class ([A-Z0-9]{3}-[A-Z0-9]{3})', page.text)[1]
        self.teacher = re.search(r'href="/w/([^/"]+)', page.text)[1]

    def teach(self, method: str, path: str, **kwargs):
        """An instructor's request: the key in its cookie, as the browser sends it."""
        headers = {**kwargs.pop("headers", {}), "Cookie": f"podpath_class_key={self.key}"}
        return self.api.request(method, f"/classes/{self.id}{path}", headers=headers, **kwargs)

    def join(self, name: str) -> str:
        answer = self.api.post(f"/join/{self.code}", data={"name": name})
        assert answer.status_code == 303, answer.text
        return answer.headers["location"].split("/")[2]

    def board(self) -> str:
        return self.teach("GET", "", headers=HX).text


@pytest.fixture
def api(tmp_path) -> Api:
    return make_api(tmp_path)


def test_the_instructor_link_moves_its_key_into_a_cookie_for_the_class(api: Api) -> None:
    started = api.post("/classes", data={"lesson": "services"})
    link = started.headers["location"]
    answer = api.get(link)
    assert answer.status_code == 303
    assert answer.headers["location"] == link.split("?")[0]  # the key leaves the address bar
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and f"Path={link.split('?')[0]}" in cookie


def test_a_student_joins_by_code_however_it_is_typed_and_gets_a_sandbox_of_the_lesson(
    api: Api,
) -> None:
    room = Class(api, lesson="services")
    typed = room.code.lower().replace("-", " ")
    assert api.get("/join", params={"code": typed}).headers["location"] == (
        f"/join/{room.code.replace('-', '')}"
    )
    workspace = room.join("Ana")
    page = api.get(f"/w/{workspace}/lessons/services")
    assert page.status_code == 200
    assert "You are <strong>Ana</strong>" in page.text
    assert f'sse-connect="/w/{workspace}/class/events' in page.text
    assert workspace != room.teacher
    assert "Ana" in room.board()


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("", 422, "name: Required value"),
        ("x" * 41, 422, "name: Too long: may not be more than 40 characters"),
        ("Ana\x07", 422, "name: Invalid value"),
    ],
)
def test_a_bad_display_name_is_refused_naming_the_field(
    api: Api, name: str, status: int, words: str
) -> None:
    room = Class(api, lesson="services")
    answer = api.post(f"/join/{room.code}", data={"name": name})
    assert answer.status_code == status
    assert words in answer.text
    assert "students-table" not in room.board()  # nobody joined


def test_two_students_cannot_share_a_name_whatever_its_case(api: Api) -> None:
    room = Class(api, lesson="services")
    room.join("Ana")
    answer = api.post(f"/join/{room.code}", data={"name": "  ANA "})
    assert answer.status_code == 409
    assert "“ANA” is already taken in this class" in answer.text


def test_an_unknown_join_code_is_a_404_that_says_to_check_the_projector(api: Api) -> None:
    Class(api, lesson="services")
    answer = api.get("/join/ZZZZZZ")
    assert answer.status_code == 404
    assert "no class has the join code ZZZZZZ" in answer.text
    assert api.get("/join", params={"code": "A0"}).status_code == 422


def test_the_instructor_pages_refuse_a_request_without_the_key(api: Api) -> None:
    room = Class(api, lesson="services")
    seat_page = room.board()
    workspace = room.join("Ana")
    seat = re.search(r"/students/([^\"]+)\"", room.board())[1]
    for method, path, data in [
        ("GET", "", None),
        ("GET", "/events", None),
        ("GET", "/join-screen", None),
        ("GET", f"/students/{seat}", None),
        ("GET", "/export.csv", None),
        ("GET", "/export.json", None),
        ("POST", "/hint", {"hint": "look", "seat": ""}),
        ("POST", "/hop", {"trace": "1", "hop": "2"}),
        ("POST", "/push", None),
    ]:
        for key in (None, "not-the-key", room.key[:-1]):
            params = {"key": key} if key else {}
            answer = api.request(method, f"/classes/{room.id}{path}", data=data, params=params)
            assert answer.status_code == 403, (method, path, key, answer.text)
            assert "this page is for the class" in answer.text
    assert room.api.get(f"/classes/{room.id}xx", params={"key": room.key}).status_code == 404
    assert seat_page  # the dashboard itself was fine with the key
    assert workspace not in room.board()  # the dashboard links seats, not sandboxes


def test_a_student_sandbox_is_not_a_teacher_and_a_plain_sandbox_is_not_in_a_class(
    api: Api,
) -> None:
    room = Class(api, lesson="services")
    plain = api.post("/api/v1/workspaces", json={}).json()["id"]
    assert api.post(f"/w/{plain}/class/follow").status_code == 403
    assert api.get(f"/w/{plain}/class/events").status_code == 403
    assert api.post(f"/w/{room.teacher}/class/follow").status_code == 403


def _fail_check(api: Api, workspace: str) -> None:
    answer = api.post(f"/w/{workspace}/lessons/services/check", headers=HX)
    assert answer.status_code == 200, answer.text


def test_the_dashboard_shows_a_failing_check_and_flags_a_student_stuck_on_it(api: Api) -> None:
    room = Class(api, lesson="services")
    ana = room.join("Ana")
    room.join("Ben")
    _fail_check(api, ana)
    board = room.board()
    row = re.search(r'<tr class="[^"]*" data-student="Ana">.*?</tr>', board, re.S)[0]
    assert "1. Make the Service" in row
    failure = re.search(r'class="last-failure">([^<]+)<', row)[1].strip()
    assert failure and "Stuck" not in row
    _fail_check(api, ana)
    _fail_check(api, ana)
    row = re.search(r'<tr class="is-stuck" data-student="Ana">.*?</tr>', room.board(), re.S)[0]
    assert "failed 3 times in a row" in row
    ben = re.search(r'<tr class="[^"]*" data-student="Ben">.*?</tr>', room.board(), re.S)[0]
    assert "is-stuck" not in ben and "on track" in ben


def test_a_student_with_no_progress_for_five_minutes_is_stuck(api: Api) -> None:
    room = Class(api, lesson="services")
    room.join("Ana")
    classes = api.app.state.classes
    real = classes.clock
    classes.clock = lambda: real() + 301
    assert "Stuck: no progress for 5 min" in room.board()


def test_following_the_teacher_moves_the_student_to_the_teachers_step(api: Api) -> None:
    room = Class(api, lesson="services")
    ana = room.join("Ana")
    api.post(f"/w/{room.teacher}/lessons/services/step", data={"step": "2"}, headers=HX)
    caught = api.post(f"/w/{ana}/class/follow", headers=HX)
    assert caught.status_code == 200
    assert "Follow a request" in caught.text or "The rules behind it" in caught.text
    row = re.search(r'data-student="Ana">.*?</tr>', room.board(), re.S)[0]
    assert "3. The rules behind it" in row
    # The skipped steps were done for the student by their solutions: the Service exists.
    objects = api.get(f"/api/v1/workspaces/{ana}/objects", params={"kind": "Service"}).json()
    assert "web" in {o["metadata"]["name"] for o in objects["items"]}


def test_the_teachers_trace_runs_on_the_students_own_cluster_at_the_teachers_hop(
    api: Api,
) -> None:
    room = Class(api, scenario="web-service")
    ana = room.join("Ana")
    pods = api.get(f"/api/v1/workspaces/{room.teacher}/objects", params={"kind": "Pod"}).json()
    web = sorted(p["metadata"]["name"] for p in pods["items"] if "web" in p["metadata"]["name"])
    source, target = "pod/default/client", "http://web.default.svc.cluster.local/"
    sent = api.post(f"/w/{room.teacher}/trace", data={"from": source, "to": target}, headers=HX)
    trace_seq = re.search(r'data-class-trace="(\d+)"', sent.text)[1]
    assert room.teach("POST", "/hop", data={"trace": trace_seq, "hop": "3"}).status_code == 204
    # The student deleted a web pod meanwhile: their cluster differs, the trace is their own.
    api.delete(f"/api/v1/workspaces/{ana}/objects/Pod/default/{web[0]}")
    caught = api.post(f"/w/{ana}/class/follow", headers=HX)
    assert caught.status_code == 200
    assert 'data-follow-hop="3"' in caught.text
    assert f'data-follow-trace="{trace_seq}"' in caught.text
    played = re.search(r'<section class="trace-player.*?</section>', caught.text, re.S)[0]
    assert "data-trace-player" in played and web[0] not in played


def redrawn(answer) -> set[str]:
    """The parts of the page a catch-up answer replaces (its out-of-band swaps)."""
    return set(re.findall(r'<div id="([a-z-]+)" hx-swap-oob="innerHTML">', answer.text))


def test_a_catch_up_redraws_only_what_the_teachers_move_changed(api: Api) -> None:
    """A whole class catches up at each move: each answer carries only the changed parts."""
    room = Class(api, lesson="services")
    ana = room.join("Ana")
    first = api.post(f"/w/{ana}/class/follow", headers=HX)
    assert redrawn(first) == {"class-status"}  # the teacher has not moved yet
    # The teacher moves ahead: the skipped step's solution makes objects, so the map too.
    api.post(f"/w/{room.teacher}/lessons/services/step", data={"step": "2"}, headers=HX)
    stepped = redrawn(api.post(f"/w/{ana}/class/follow", headers=HX))
    assert {"class-status", "lesson", "map-area", "sandbox-head", "trace-result"} <= stepped
    # The teacher traces: the student's page gets the trace, not the lesson or the map again.
    form = {"from": "pod/default/client", "to": "http://web/"}
    sent = api.post(f"/w/{room.teacher}/trace", data=form, headers=HX)
    seq = re.search(r'data-class-trace="(\d+)"', sent.text)[1]
    traced = api.post(f"/w/{ana}/class/follow", headers=HX, data={"shown_trace": ""})
    assert redrawn(traced) == {"class-status", "trace-result", "trace-bar"}
    assert 'value="http://web/"' in traced.text  # the bar names the request, as the teacher's
    assert f'data-followed-trace="{seq}"' in traced.text
    # Asked again with that trace on screen and nothing new: only the class bar.
    again = api.post(f"/w/{ana}/class/follow", headers=HX, data={"shown_trace": seq})
    assert redrawn(again) == {"class-status"}
    assert f'data-follow-trace="{seq}"' in again.text  # the hop still goes to that trace
    # The student's own trace replaced it on screen (no mark): the teacher's is drawn again.
    assert "trace-result" in redrawn(api.post(f"/w/{ana}/class/follow", headers=HX))
    # Back a step: the lesson moves; no object changes, so the map and trace stay.
    api.post(f"/w/{room.teacher}/lessons/services/step", data={"step": "1"}, headers=HX)
    back = api.post(f"/w/{ana}/class/follow", headers=HX, data={"shown_trace": seq})
    assert redrawn(back) == {"class-status", "lesson"}
    # Ahead again, past "delete a web pod": the cluster changed under the trace on screen,
    # so it is cleared (as on the teacher's page), and not run again on the next move.
    api.post(f"/w/{room.teacher}/lessons/services/step", data={"step": "5"}, headers=HX)
    ahead = api.post(f"/w/{ana}/class/follow", headers=HX, data={"shown_trace": seq})
    assert {"lesson", "map-area", "trace-result"} <= redrawn(ahead)
    assert "data-trace-player" not in ahead.text and "trace-empty" in ahead.text
    assert f'data-followed-trace="{seq}"' in ahead.text


def test_a_catch_up_without_javascript_answers_the_whole_page(api: Api) -> None:
    room = Class(api, lesson="services")
    ana = room.join("Ana")
    page = api.post(f"/w/{ana}/class/follow")
    assert page.status_code == 200
    assert "<html" in page.text and 'id="map-area"' in page.text


def test_everyone_start_from_here_gives_followers_and_late_joiners_the_teachers_cluster(
    api: Api,
) -> None:
    room = Class(api, scenario="default")
    ana = room.join("Ana")
    made = api.post_yaml(
        f"/api/v1/workspaces/{room.teacher}/apply",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: teacher-made, labels: {app: t}}\n"
        "spec: {containers: [{name: c, image: nginx}]}\n",
    )
    assert made.status_code == 200, made.text
    assert room.teach("POST", "/push").status_code == 303
    api.post(f"/w/{ana}/class/follow", headers=HX)
    late = room.join("Ben")
    for workspace in (ana, late):
        pods = api.get(f"/api/v1/workspaces/{workspace}/objects", params={"kind": "Pod"}).json()
        assert "teacher-made" in {p["metadata"]["name"] for p in pods["items"]}


def test_a_student_who_stops_following_is_not_moved(api: Api) -> None:
    room = Class(api, lesson="services")
    ana = room.join("Ana")
    stopped = api.post(f"/w/{ana}/class/following", data={"on": "false"}, headers=HX)
    assert "Follow the teacher again" in stopped.text and "sse:step" not in stopped.text
    assert "on their own" in room.board()
    again = api.post(f"/w/{ana}/class/following", data={"on": "true"}, headers=HX)
    assert "Stop following" in again.text and 'hx-trigger="load"' in again.text


def test_hints_are_refused_when_empty_or_too_long_and_name_whom_they_went_to(api: Api) -> None:
    room = Class(api, lesson="services")
    room.join("Ana")
    seat = re.search(r"/students/([^\"]+)\"", room.board())[1]
    assert room.teach("POST", "/hint", data={"hint": "  "}).status_code == 422
    assert room.teach("POST", "/hint", data={"hint": "x" * 501}).status_code == 422
    assert room.teach("POST", "/hint", data={"hint": "hi", "seat": "nobody"}).status_code == 404
    sent = room.teach(
        "POST", "/hint", data={"hint": "Look at the selector", "seat": seat}, headers=HX
    )
    assert "Sent to Ana: “Look at the selector”" in sent.text
    by_name = room.teach("POST", "/hint", data={"hint": "Again", "to": " ana "}, headers=HX)
    assert "Sent to Ana: “Again”" in by_name.text
    unknown = room.teach("POST", "/hint", data={"hint": "Again", "to": "Zed"})
    assert unknown.status_code == 422 and "to: Not found: no student named “Zed”" in unknown.text


def test_the_export_has_a_row_per_student_and_step_and_is_safe_in_a_spreadsheet(
    api: Api,
) -> None:
    room = Class(api, lesson="services")
    ana = room.join("=cmd()")
    _fail_check(api, ana)
    api.post(f"/w/{ana}/lessons/services/show", headers=HX)
    answer = room.teach("GET", "/export.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    lesson = api.app.state.lessons.get("services")
    assert len(rows) == len(lesson.steps) + 1
    first = rows[0]
    assert first["student"] == "'=cmd()"
    assert first["status"] == "done" and first["solution_shown"] == "yes"
    assert first["tries"] == "2" and first["failed_tries"] == "1"
    assert first["entered"].endswith("Z") and first["seconds"] != ""
    assert rows[1]["status"] == "not started" and rows[-1]["step"] == "quiz"
    data = room.teach("GET", "/export.json").json()
    assert data["students"][0]["steps"][0]["tries"] == 2
    assert room.teach("GET", "/export.xml").status_code == 404


def test_the_quiz_histogram_counts_each_answer(api: Api) -> None:
    room = Class(api, lesson="flat-network")
    for name, choice in (("Ana", "0"), ("Ben", "1"), ("Cy", "1")):
        workspace = room.join(name)
        lesson = api.app.state.lessons.get("flat-network")
        api.post(
            f"/w/{workspace}/lessons/flat-network/step",
            data={"step": str(len(lesson.steps))},
            headers=HX,
        )
        api.post(f"/w/{workspace}/lessons/flat-network/quiz", data={"q0": choice}, headers=HX)
    board = room.board()
    first = re.search(r'<figure class="quiz-question">.*?</figure>', board, re.S)[0]
    assert "3 answered" in first
    counts = re.findall(r'class="bar-count">(\d+)<', first)
    assert counts[:2] == ["1", "2"]


def test_a_catch_up_does_not_ask_for_another(api: Api) -> None:
    """The page catches up on load when the teacher is ahead; the catch-up's own answer must
    not ask again, or the page would loop."""
    room = Class(api, scenario="web-service")
    ana = room.join("Ana")
    api.post(f"/w/{room.teacher}/trace", data={"from": "pod/default/client", "to": "http://web/"})
    assert 'hx-trigger="load"' in api.get(f"/w/{ana}").text
    assert 'hx-trigger="load"' not in api.post(f"/w/{ana}/class/follow", headers=HX).text


CANARY_BY_HEADER = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shop}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: shop}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{method: POST, headers: [{name: X-Canary, value: "yes"}]}]
    backendRefs: [{name: web, port: 80}]
"""


def test_the_teachers_method_and_headers_go_with_the_trace_the_students_follow(api: Api) -> None:
    """An HTTPRoute that matches on a method and a header: the students' copy of the trace
    must send them too, or Envoy answers 404 on their screens while it delivered on the
    teacher's."""
    room = Class(api, scenario="web-service")
    yaml = {"content-type": "application/yaml"}
    applied = api.post(
        f"/api/v1/workspaces/{room.teacher}/apply", content=CANARY_BY_HEADER, headers=yaml
    )
    assert applied.status_code == 200, applied.text
    assert room.teach("POST", "/push").status_code == 303  # everyone starts from here
    ana = room.join("Ana")
    form = {
        "from": "external",
        "to": "http://shop.example.com/",
        "method": "POST",
        "headers": "X-Canary: yes",
    }
    sent = api.post(f"/w/{room.teacher}/trace", data=form, headers=HX)
    assert "trace-player verdict-delivered" in sent.text and "verdict-http" not in sent.text
    caught = api.post(f"/w/{ana}/class/follow", headers=HX, data={"shown_trace": ""})
    played = re.search(r'<section class="trace-player.*?</section>', caught.text, re.S)[0]
    assert "trace-player verdict-delivered" in played and "verdict-http" not in played
    assert "method POST, header X-Canary=yes" in played  # the rule Envoy matched, as explained
