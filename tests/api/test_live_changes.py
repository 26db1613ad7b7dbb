"""An open sandbox page keeps up with changes made elsewhere (issue 13: "what a learner does
with kubectl shows up on the map at once, like a change from a form"): the page's stream of
its workspace's changes, and the redraw it asks for, against real servers, across two
server processes sharing one SQLite file (as ``--workers`` runs), and in one process with
the feed's own rules (a save of lesson notes only tells nobody)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest

from app.cluster.scenarios import build
from app.lessons import notes
from app.store.backends import MemoryBackend
from app.store.workspaces import Workspaces
from app.web.live.feed import ClusterFeeds, objects_tag
from tests.api.test_classroom_streams import Stream

HX = {"HX-Request": "true"}
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "newcomer", "labels": {"app": "newcomer"}},
    "spec": {"containers": [{"name": "main", "image": "nginx"}]},
}


@pytest.fixture
def client(live_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as made:
        yield made


def new_page(client: httpx.Client) -> tuple[str, str]:
    """A workspace and the tag its freshly loaded page shows."""
    answer = client.post("/api/v1/workspaces", json={"scenario": "web-service"})
    workspace = answer.json()["id"]
    page = client.get(f"/w/{workspace}").text
    return workspace, shown_tag(page)


def shown_tag(html: str) -> str:
    return re.search(r'id="objects-tag" data-tag="([^"]+)"', html)[1]


def redraw(client: httpx.Client, workspace: str, shown: str, tab: str = "build") -> httpx.Response:
    page_url = f"{client.base_url}w/{workspace}?tab={tab}"
    headers = {**HX, "HX-Current-URL": page_url}
    return client.post(f"/w/{workspace}/redraw", data={"shown": shown}, headers=headers)


def swapped(answer: httpx.Response) -> list[str]:
    return re.findall(r'<div id="([a-z-]+)" hx-swap-oob="innerHTML">', answer.text)


def test_a_pod_made_with_the_kubectl_api_reaches_the_open_page_and_its_map(client):
    workspace, shown = new_page(client)
    stream = Stream(client, f"/w/{workspace}/changes?shown={shown}")
    try:
        assert stream.kinds(0.5) == []  # the page shows the current state: nothing to say
        made = client.post(f"/k/{workspace}/api/v1/namespaces/default/pods", json=POD)
        assert made.status_code == 201, made.text
        told = stream.next("changed")["data"]
    finally:
        stream.close()
    assert told != shown
    answer = redraw(client, workspace, shown)
    assert answer.status_code == 200
    # As after a change from the page's own forms: the map, the trace bar, the head.
    assert swapped(answer) == ["map-area", "trace-bar", "sandbox-head"]
    assert "newcomer" in answer.text and shown_tag(answer.text) == told
    assert "Changed outside this page: <strong>pod/newcomer created</strong>" in answer.text
    # The page now shows that state: asking again draws nothing.
    assert redraw(client, workspace, told).status_code == 204


def test_a_page_that_opens_its_stream_late_is_told_at_once(client):
    workspace, shown = new_page(client)
    client.delete(f"/k/{workspace}/api/v1/namespaces/default/pods/client")
    stream = Stream(client, f"/w/{workspace}/changes?shown={shown}")
    try:
        assert stream.next("changed", timeout=3)["data"] != shown
    finally:
        stream.close()


def test_the_pages_own_change_comes_back_with_the_tag_the_stream_then_tells(client):
    workspace, shown = new_page(client)
    stream = Stream(client, f"/w/{workspace}/changes?shown={shown}")
    try:
        applied = client.post(
            f"/w/{workspace}/apply",
            data={"manifest": "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"},
            headers=HX,
        )
        told = stream.next("changed")["data"]
    finally:
        stream.close()
    assert shown_tag(applied.text) == told  # the answer's head carries the new tag
    assert redraw(client, workspace, told).status_code == 204  # so the page redraws nothing


def test_the_objects_tab_is_redrawn_and_a_settings_switch_clears_the_trace(client):
    workspace, shown = new_page(client)
    client.post(f"/k/{workspace}/api/v1/namespaces/default/pods", json=POD)
    answer = redraw(client, workspace, shown, tab="objects")
    assert swapped(answer) == ["map-area", "trace-bar", "sandbox-head", "panel"]
    assert "trace-result" not in swapped(answer)  # same addresses: the trace on screen stays
    shown = shown_tag(answer.text)
    switched = client.post(f"/w/{workspace}/settings", data={"proxy_mode": "ipvs"})
    assert switched.status_code == 200
    answer = redraw(client, workspace, shown, tab="build")
    assert "panel" not in swapped(answer)  # the Build tab's forms keep what is typed in them
    assert "trace-result" in swapped(answer)  # new addresses: an old trace would mislead


def test_no_stream_and_no_redraw_for_a_workspace_that_does_not_exist(client):
    assert client.get("/w/nope-nope-nope/changes").status_code == 404
    assert redraw(client, "nope-nope-nope", "").status_code == 404


def test_without_javascript_a_redraw_is_the_page_itself(client):
    workspace, shown = new_page(client)
    answer = client.post(f"/w/{workspace}/redraw", data={"shown": shown}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/w/{workspace}?tab=build"


@pytest.mark.slow
def test_a_change_through_another_server_process_reaches_the_page(server_factory, tmp_path):
    data = tmp_path / "data"
    first, second = server_factory(data), server_factory(data)
    with (
        httpx.Client(base_url=first.url, timeout=30) as on_first,
        httpx.Client(base_url=second.url, timeout=30) as on_second,
    ):
        workspace, shown = new_page(on_first)
        stream = Stream(on_first, f"/w/{workspace}/changes?shown={shown}")
        try:
            made = on_second.post(f"/k/{workspace}/api/v1/namespaces/default/pods", json=POD)
            assert made.status_code == 201, made.text
            told = stream.next("changed", timeout=10)["data"]
        finally:
            stream.close()
        answer = redraw(on_first, workspace, shown)
        assert "newcomer" in answer.text and shown_tag(answer.text) == told


def test_a_save_of_lesson_notes_only_tells_no_page():
    workspaces = Workspaces(MemoryBackend())
    workspace, cluster = workspaces.create_from(build("web-service"))
    feeds = ClusterFeeds(workspaces, poll=0.05)
    shown = objects_tag(cluster)

    async def listen() -> list[str | None]:
        heard: list[str | None] = []

        async def collect() -> None:
            async for tag in feeds.listen(workspace, shown, shown, seconds=1.0):
                heard.append(tag)

        task = asyncio.create_task(collect())
        await asyncio.sleep(0.2)
        await asyncio.to_thread(
            workspaces.change, workspace, lambda c: notes.set_active(c, "services")
        )
        await asyncio.sleep(0.3)
        assert heard == []  # the objects are the same: nothing to redraw
        await asyncio.to_thread(
            workspaces.change,
            workspace,
            lambda c: c.delete("Pod", "default", "client"),
        )
        await task
        return heard

    heard = asyncio.run(listen())
    assert len(heard) == 1 and heard[0] != shown
    assert feeds.watching() == 0  # the stream ended: nothing kept for it
