"""The class's server-sent events against real servers: what each student's stream carries,
the dashboard's stream, resuming with Last-Event-ID, and events crossing server processes
that share one SQLite database (as ``--workers`` does)."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.classroom.follow import catch_up_spread

pytestmark = pytest.mark.slow

HX = {"HX-Request": "true"}


class Stream:
    """Reads a text/event-stream in a thread; ``next(kind)`` waits for the next such event."""

    def __init__(self, client: httpx.Client, url: str, headers: dict[str, str] | None = None):
        self.events: queue.Queue[dict[str, str]] = queue.Queue()
        self.opened = threading.Event()
        self.status: int | None = None
        self._stop = False
        self._thread = threading.Thread(
            target=self._read, args=(client, url, headers or {}), daemon=True
        )
        self._thread.start()
        assert self.opened.wait(10), "the stream did not open"

    def _read(self, client: httpx.Client, url: str, headers: dict[str, str]) -> None:
        try:
            self._read_events(client, url, headers)
        except (httpx.HTTPError, OSError):
            self.opened.set()  # the test closed the client under the stream: it is over

    def _read_events(self, client: httpx.Client, url: str, headers: dict[str, str]) -> None:
        with client.stream("GET", url, headers=headers, timeout=30) as response:
            self.status = response.status_code
            self.opened.set()
            event: dict[str, str] = {}
            for line in response.iter_lines():
                if self._stop:
                    return
                if not line:
                    if "event" in event:
                        self.events.put(event)
                    event = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    event[name] = event[name] + "\n" + value if name in event else value

    def next(self, kind: str, timeout: float = 10.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {kind!r} event within {timeout} s"
            event = self.events.get(timeout=left)
            if event["event"] == kind:
                return event

    def kinds(self, wait: float = 1.0) -> list[str]:
        time.sleep(wait)
        found = []
        while not self.events.empty():
            found.append(self.events.get()["event"])
        return found

    def close(self) -> None:
        self._stop = True


def start_class(client: httpx.Client, **start: str) -> tuple[str, str]:
    answer = client.post("/classes", data=start, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    link = urlsplit(answer.headers["location"])
    class_id = link.path.rsplit("/", 1)[1]
    page = client.get(answer.headers["location"], follow_redirects=True)  # keeps the cookie
    assert page.status_code == 200
    code = re.search(r'class-badge">Class ([A-Z0-9]{3}-[A-Z0-9]{3})', page.text)[1]
    assert parse_qs(link.query)["key"]
    return class_id, code


def join(client: httpx.Client, code: str, name: str) -> str:
    answer = client.post(f"/join/{code}", data={"name": name}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("/")[2]


@pytest.fixture
def server(server_factory, tmp_path):
    return server_factory(tmp_path / "data")


@pytest.fixture
def clients(server) -> Iterator[tuple[httpx.Client, httpx.Client, httpx.Client]]:
    made = [httpx.Client(base_url=server.url, timeout=30) for _ in range(3)]
    yield tuple(made)
    for client in made:
        client.close()


def test_a_students_stream_carries_the_teachers_moves_and_only_their_own_hints(clients):
    teacher, ana_browser, ben_browser = clients
    class_id, code = start_class(teacher, lesson="services")
    ana = join(ana_browser, code, "Ana")
    ben = join(ben_browser, code, "Ben")
    board = teacher.get(f"/classes/{class_id}").text
    seats = dict(re.findall(r'data-student="([^"]+)">.*?/students/([^"]+)"', board, re.S))
    stream = Stream(ana_browser, f"/w/{ana}/class/events")
    assert stream.status == 200
    teacher_ws = re.search(r'href="/w/([^/"]+)/lessons', board)[1]
    teacher.post(f"/w/{teacher_ws}/lessons/services/step", data={"step": "1"}, headers=HX)
    # The page asks for its own view, within a spread as wide as the class listening here.
    assert json.loads(stream.next("step")["data"]) == {"spread": catch_up_spread(1)}
    teacher.post(f"/classes/{class_id}/hint", data={"hint": "For Ben only", "seat": seats["Ben"]})
    teacher.post(f"/classes/{class_id}/hint", data={"hint": "For everyone <b>now</b>"})
    hint = stream.next("hint")
    assert "For everyone &lt;b&gt;now&lt;/b&gt;" in hint["data"]  # escaped, as HTML
    assert "A hint for the class" in hint["data"]
    teacher.post(f"/classes/{class_id}/hint", data={"hint": "Ana, look", "seat": seats["Ana"]})
    assert "A hint for you" in stream.next("hint")["data"]
    teacher.post(f"/classes/{class_id}/hop", data={"trace": "1", "hop": "4"})
    assert stream.next("hop")["data"] == '{"trace": 1, "hop": 4}'
    assert "progress" not in stream.kinds(0.5)  # the dashboard's events stay there
    stream.close()
    assert ben  # Ben's hint went to Ben's stream only (checked by its absence above)


def test_the_dashboard_hears_a_student_join_and_progress(clients):
    teacher, ana_browser, _ = clients
    class_id, code = start_class(teacher, lesson="services")
    dashboard = Stream(teacher, f"/classes/{class_id}/events")
    ana = join(ana_browser, code, "Ana")
    assert dashboard.next("joined")
    ana_browser.post(f"/w/{ana}/lessons/services/check", headers=HX)
    assert dashboard.next("progress")
    refused = httpx.get(
        str(teacher.base_url).rstrip("/") + f"/classes/{class_id}/events", timeout=5
    )
    assert refused.status_code == 403
    dashboard.close()


def test_a_reconnecting_stream_gets_what_it_missed(clients):
    teacher, ana_browser, _ = clients
    class_id, code = start_class(teacher, lesson="services")
    ana = join(ana_browser, code, "Ana")
    first = Stream(ana_browser, f"/w/{ana}/class/events")
    teacher.post(f"/classes/{class_id}/hint", data={"hint": "one"})
    seen = first.next("hint")
    first.close()
    teacher.post(f"/classes/{class_id}/hint", data={"hint": "two"})
    again = Stream(ana_browser, f"/w/{ana}/class/events", {"Last-Event-ID": seen["id"]})
    assert "two" in again.next("hint")["data"]
    again.close()


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_class_events_cross_server_processes_sharing_one_database(store, tmp_path, request):
    """Two processes on one store: on one SQLite data folder they stand for ``--workers 2``;
    on one PostgreSQL database, for two machines behind a load balancer (events then cross
    by LISTEN/NOTIFY). The teacher's move through one reaches a student streaming from the
    other, and each sees what the other saved."""
    env = {}
    if store == "postgres":
        env["PODPATH_DATABASE_URL"] = request.getfixturevalue("postgres_database")
    server_factory = request.getfixturevalue("server_factory")  # stopped before the drop
    first = server_factory(tmp_path / "one", env=env)
    second = server_factory(tmp_path / ("one" if store == "sqlite" else "two"), env=env)
    with (
        httpx.Client(base_url=first.url, timeout=30) as teacher,
        httpx.Client(base_url=second.url, timeout=30) as student,
    ):
        class_id, code = start_class(teacher, lesson="services")
        ana = join(student, code, "Ana")
        stream = Stream(student, f"/w/{ana}/class/events")
        started = time.monotonic()
        teacher.post(f"/classes/{class_id}/hint", data={"hint": "across"})
        assert "across" in stream.next("hint", timeout=5)["data"]
        assert time.monotonic() - started < 5
        # And the student's progress, saved through the second, is on the first's dashboard.
        student.post(f"/w/{ana}/lessons/services/check", headers=HX)
        board = teacher.get(f"/classes/{class_id}", headers=HX).text
        row = re.search(r'data-student="Ana">.*?</tr>', board, re.S)[0]
        assert re.search(r"<td>0</td>\s*<td>1</td>", row)  # 0 checks passed, 1 failed
        stream.close()
