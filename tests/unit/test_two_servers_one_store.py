"""Two server processes on one store (SQLite file or PostgreSQL database): what one saves,
the other reads. A save of lesson notes alone (a trace, a Check, a catch-up recorded) does not
make the other read every object again: it takes the notes and keeps the objects it holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.cluster.apply import apply_text
from app.cluster.state import ClusterConfig
from app.store.workspaces import Workspaces
from tests.unit.scenarios import deployment


class CountingLoads:
    """A backend that counts its full loads (everything else passes through)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.loads = 0

    def load(self, workspace_id: str) -> Any:
        self.loads += 1
        return self.backend.load(workspace_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


@pytest.fixture(params=["sqlite", "postgres"])
def two_servers(
    request: pytest.FixtureRequest, open_backend: Callable[..., Any]
) -> tuple[Workspaces, Workspaces, CountingLoads]:
    counted = CountingLoads(open_backend(request.param))
    return Workspaces(open_backend(request.param)), Workspaces(counted), counted  # type: ignore[arg-type]


def note_a_trace(text: str) -> Callable[[Any], None]:
    def change(cluster: Any) -> None:
        cluster.state.notes = {**cluster.state.notes, "lesson": {"traced": text}}

    return change


def test_notes_saved_by_one_server_are_read_by_the_other_without_reading_the_objects(
    two_servers: tuple[Workspaces, Workspaces, CountingLoads],
) -> None:
    first, second, counted = two_servers
    workspace_id, _ = first.create(ClusterConfig(), seed=4)
    first.change(workspace_id, lambda c: apply_text(c, deployment("web", 2)))
    held = second.read(workspace_id, lambda c: c)
    loads = counted.loads

    first.change(workspace_id, note_a_trace("client -> web"))
    seen = second.read(workspace_id, lambda c: (c, c.state.notes, len(c.state.of_kind("Pod"))))
    assert seen[1] == {"lesson": {"traced": "client -> web"}}
    assert seen[0] is held, "the objects were read again though only notes changed"
    assert counted.loads == loads

    # The second server's own change after that is saved on top of the first's notes.
    second.change(workspace_id, lambda c: apply_text(c, deployment("api", 1)))
    assert first.read(workspace_id, lambda c: c.state.notes) == {
        "lesson": {"traced": "client -> web"}
    }


def test_objects_changed_by_one_server_are_read_again_by_the_other(
    two_servers: tuple[Workspaces, Workspaces, CountingLoads],
) -> None:
    first, second, counted = two_servers
    workspace_id, _ = first.create(ClusterConfig(), seed=4)
    second.read(workspace_id, lambda c: c)
    loads = counted.loads

    first.change(workspace_id, lambda c: apply_text(c, deployment("web", 2)))
    pods = second.read(
        workspace_id,
        lambda c: sorted(p["metadata"]["name"] for p in c.state.of_kind("Pod", "default")),
    )
    assert len(pods) == 2 and all(name.startswith("web-") for name in pods)
    assert counted.loads == loads + 1
