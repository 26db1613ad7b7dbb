"""One request, one look at its workspace: a trace, a Check or a catch-up reads the
workspace, saves lesson notes and draws the page, and asks the store for the version once.
A save of lesson notes alone writes the meta record only, keeps the history, and still loses
to a save another server made first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.cluster.apply import apply_text
from app.cluster.state import ClusterConfig
from app.store.backends import StaleWrite
from app.store.workspaces import Workspaces
from tests.unit.scenarios import deployment


class Counting:
    """A backend that counts the questions asked of it (everything passes through)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.backend, name)
        if not callable(found):
            return found

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return found(*args, **kwargs)

        return counted


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def note(text: str) -> Callable[[Any], None]:
    def change(cluster: Any) -> None:
        cluster.state.notes = {**cluster.state.notes, "lesson": {"traced": text}}

    return change


def test_inside_one_look_a_workspace_is_asked_for_its_version_once(
    store_kind: str, open_backend: Callable[..., Any]
) -> None:
    counted = Counting(open_backend(store_kind))
    workspaces = Workspaces(counted)  # type: ignore[arg-type]
    workspace_id, _ = workspaces.create(ClusterConfig(), seed=2)
    workspaces.read(workspace_id, lambda c: c)

    counted.calls.clear()
    with workspaces.one_look():
        workspaces.read(workspace_id, lambda c: c)  # the page is drawn
        workspaces.change(workspace_id, note("client -> web"))  # the trace is noted
        notes = workspaces.read(workspace_id, lambda c: c.state.notes)  # the panel is drawn
    assert notes == {"lesson": {"traced": "client -> web"}}
    assert counted.calls.get("version") == 1
    assert counted.calls.get("save") == 1

    counted.calls.clear()  # outside the block, each read asks again
    workspaces.read(workspace_id, lambda c: c)
    workspaces.read(workspace_id, lambda c: c)
    assert counted.calls.get("version") == 2


def test_a_save_of_notes_alone_keeps_the_history_and_asks_for_it_no_more(
    store_kind: str, open_backend: Callable[..., Any]
) -> None:
    counted = Counting(open_backend(store_kind))
    workspaces = Workspaces(counted)  # type: ignore[arg-type]
    workspace_id, _ = workspaces.create(ClusterConfig(), seed=2)
    workspaces.change(workspace_id, lambda c: apply_text(c, deployment("web", 2)))
    before = workspaces.shown_history(workspace_id)

    counted.calls.clear()
    workspaces.change(workspace_id, note("client -> web"))
    after = workspaces.shown_history(workspace_id)
    assert [e.label for e in after.entries] == [e.label for e in before.entries]
    assert "history" not in counted.calls, "the unchanged history was read again"
    # What the store holds agrees: no entry came of the notes.
    assert [e.label for e in workspaces.history(workspace_id).entries] == [
        e.label for e in before.entries
    ]


@pytest.mark.parametrize("shared", ["sqlite", "postgres"])
def test_a_save_of_notes_alone_over_another_servers_save_is_stale(
    shared: str, open_backend: Callable[..., Any]
) -> None:
    first, second = Workspaces(open_backend(shared)), Workspaces(open_backend(shared))
    workspace_id, _ = first.create(ClusterConfig(), seed=2)
    version = second.read(workspace_id, lambda c: c) and second.cache.get(workspace_id).version
    first.change(workspace_id, lambda c: apply_text(c, deployment("web", 1)))

    from app.cluster import persistence

    cluster = second.cache.get(workspace_id).cluster
    note("late")(cluster)
    changes = persistence.take_changes(cluster.state)
    with pytest.raises(StaleWrite):
        second.backend.save(workspace_id, changes, version, notes_only=True)
    # Through the usual path the notes are saved on top of the other server's Deployment.
    second.change(workspace_id, note("late"))
    pods = first.read(workspace_id, lambda c: (c.state.notes, len(c.state.of_kind("Pod"))))
    assert pods[0] == {"lesson": {"traced": "late"}}
    assert pods[1] >= 1
