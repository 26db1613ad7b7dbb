"""Undo and redo in the store: an undo is a new version equal to the older one (objects,
addresses, EndpointSlices), redo goes forward again, the history keeps the last 50 changes
in bounded space, a new change clears the redo stack, and SQLite keeps it all across a
restart (an older database gains the table); the same over PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.cluster import nodes, rebuild
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.persistence import meta_of
from app.cluster.state import ClusterConfig
from app.errors import Conflict
from app.store import history as history_module
from app.store.backends import SqliteBackend
from app.store.history import MAX_ENTRIES
from app.store.workspaces import Workspaces

WEB = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
"""


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, open_backend: Callable[..., Any]) -> Workspaces:
    return Workspaces(open_backend(request.param))


def state_of(store: Workspaces, workspace: str) -> dict[str, Any]:
    """Every object (with status: pod IPs, nodes, EndpointSlices) and the cluster's settings
    and address plan: all an undo must put back. Events and counters move on."""

    def read(cluster: Cluster) -> str:
        objects = {
            f"{o['object']['kind']}/{o['object']['metadata'].get('namespace', '')}/"
            f"{o['object']['metadata']['name']}": o
            for o in cluster.to_state()["objects"]
        }
        meta = meta_of(cluster.state)
        return json.dumps(
            {"objects": objects, "config": meta["config"], "ipam": meta["ipam"]}, sort_keys=True
        )

    return json.loads(store.read(workspace, read))


def pods(store: Workspaces, workspace: str) -> dict[str, str]:
    return store.read(
        workspace,
        lambda c: {p["metadata"]["name"]: p["status"]["podIP"] for p in c.list("Pod", "default")},
    )


def slice_addresses(store: Workspaces, workspace: str) -> list[str]:
    def read(cluster: Cluster) -> list[str]:
        return sorted(
            a
            for s in cluster.list("EndpointSlice", "default")
            if s["metadata"]["labels"].get("kubernetes.io/service-name") == "web"
            for e in s.get("endpoints") or []
            for a in e["addresses"]
        )

    return store.read(workspace, read)


def labels(store: Workspaces, workspace: str) -> list[str]:
    return [e.label for e in store.history(workspace).entries]


def test_undo_brings_back_the_deleted_pod_with_its_ip_and_endpoints(store: Workspaces) -> None:
    workspace, _ = store.create(ClusterConfig(), seed=7)
    store.change(workspace, lambda c: apply_text(c, WEB))
    before = state_of(store, workspace)
    before_pods, before_slice = pods(store, workspace), slice_addresses(store, workspace)
    victim = sorted(before_pods)[0]
    store.change(workspace, lambda c: c.delete("Pod", "default", victim))
    after = state_of(store, workspace)
    assert victim not in pods(store, workspace)  # the ReplicaSet made a new pod instead
    assert labels(store, workspace)[0] == f"pod default/{victim} deleted"

    undone = store.undo(workspace)

    assert undone.label == f"pod default/{victim} deleted" and undone.undone
    assert state_of(store, workspace) == before
    assert pods(store, workspace) == before_pods
    assert slice_addresses(store, workspace) == before_slice == sorted(before_pods.values())
    events = store.read(workspace, lambda c: [(e.reason, e.name, e.message) for e in c.events()])
    assert events[-1][0] == "ChangeUndone" and events[-1][1] == victim
    assert victim in events[-1][2]

    store.redo(workspace)
    assert state_of(store, workspace) == after
    assert store.read(workspace, lambda c: c.events()[-1].reason) == "ChangeRedone"


def test_undo_of_a_create_removes_it_and_frees_its_addresses(store: Workspaces) -> None:
    workspace, _ = store.create(ClusterConfig(), seed=3)
    empty = state_of(store, workspace)
    store.change(workspace, lambda c: apply_text(c, WEB))
    assert labels(store, workspace) == ["deployment.apps/web created, service/web created"]
    store.undo(workspace)
    assert state_of(store, workspace) == empty
    # The freed ClusterIP and pod IPs are free again: applying anew works and lands the
    # same way (the addresses are read back off the restored objects).
    store.change(workspace, lambda c: apply_text(c, WEB))
    assert len(pods(store, workspace)) == 3
    assert len(set(pods(store, workspace).values())) == 3


def test_undo_walks_back_through_switches_and_nodes(store: Workspaces) -> None:
    workspace, _ = store.create(ClusterConfig(), seed=11)
    store.change(workspace, lambda c: apply_text(c, WEB))
    states = [state_of(store, workspace)]
    steps = [
        (lambda c: rebuild.switch(c, cni="calico"), "switched CNI flannel → calico"),
        (
            lambda c: rebuild.switch(c, proxy_mode="ipvs"),
            "switched kube-proxy mode iptables → ipvs",
        ),
        (lambda c: nodes.add_node(c), "node worker-3 joined"),
        (lambda c: nodes.set_node_ready(c, "worker-1", False), "node worker-1 NotReady"),
        (lambda c: nodes.scale(c, "default", "web", 5), "deployment.apps/web scaled to 5"),
        (rebuild.reset, "reset to the default cluster"),
    ]
    for change, label in steps:
        store.change(workspace, change)
        assert labels(store, workspace)[0] == label
        states.append(state_of(store, workspace))
    for expected in reversed(states[:-1]):
        store.undo(workspace)
        assert state_of(store, workspace) == expected
    assert store.read(workspace, lambda c: (c.config.cni, c.config.proxy_mode)) == (
        "flannel",
        "iptables",
    )
    for expected in states[1:]:
        store.redo(workspace)
        assert state_of(store, workspace) == expected


def test_a_new_change_clears_what_could_be_redone(store: Workspaces) -> None:
    workspace, _ = store.create(ClusterConfig(), seed=5)
    store.change(workspace, lambda c: apply_text(c, WEB))
    store.change(workspace, lambda c: nodes.scale(c, "default", "web", 1))
    store.undo(workspace)
    assert store.history(workspace).redo.label == "deployment.apps/web scaled to 1"
    store.change(workspace, lambda c: nodes.scale(c, "default", "web", 2))
    history = store.history(workspace)
    assert history.redo is None
    assert [e.label for e in history.entries] == [
        "deployment.apps/web scaled to 2",
        "deployment.apps/web created, service/web created",
    ]
    with pytest.raises(Conflict, match="nothing to redo"):
        store.redo(workspace)


def test_the_history_keeps_the_last_50_changes(store: Workspaces) -> None:
    workspace, _ = store.create(ClusterConfig(), seed=1)
    states = [state_of(store, workspace)]
    for i in range(MAX_ENTRIES + 5):
        text = f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns-{i}}}\n"
        store.change(workspace, lambda c, text=text: apply_text(c, text))
        states.append(state_of(store, workspace))
    entries = store.history(workspace).entries
    assert len(entries) == MAX_ENTRIES
    assert entries[0].label == f"namespace/ns-{MAX_ENTRIES + 4} created"
    assert entries[-1].label == "namespace/ns-5 created"
    for _ in range(MAX_ENTRIES):
        store.undo(workspace)
    assert state_of(store, workspace) == states[5]  # ns-0 .. ns-4 stay: they aged out
    with pytest.raises(Conflict, match="nothing to undo"):
        store.undo(workspace)


def test_the_history_is_bounded_in_bytes_too(
    store: Workspaces, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "MAX_BYTES", 6_000)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    store.change(workspace, lambda c: apply_text(c, WEB))  # a few kB compressed
    store.change(workspace, lambda c: nodes.scale(c, "default", "web", 4))
    store.change(workspace, lambda c: nodes.scale(c, "default", "web", 5))
    entries = store.history(workspace).entries
    assert 1 <= len(entries) < 3
    assert entries[0].label == "deployment.apps/web scaled to 5"  # the newest always stays


def test_what_changes_no_object_is_not_a_step(store: Workspaces) -> None:
    # The clock stands still: a reset a second later stamps the system objects it makes anew
    # with a new creationTimestamp, which is a change (a loaded machine once took that second).
    store.clock = lambda: 1_800_000_000.0
    workspace, _ = store.create(ClusterConfig(), seed=1)
    store.change(workspace, lambda c: c.state.notes.update(lesson="x"))  # a lesson's progress
    store.change(workspace, rebuild.reset)  # a fresh cluster reset: nothing differs
    assert store.history(workspace).entries == []
    with pytest.raises(Conflict, match="nothing to undo"):
        store.undo(workspace)


def test_an_explicit_label_wins_and_notes_survive_an_undo(store: Workspaces) -> None:
    workspace, _ = store.create(ClusterConfig(), seed=1)
    store.change(workspace, lambda c: apply_text(c, WEB), label="lesson 2: Show me")
    store.change(workspace, lambda c: c.state.notes.update(progress=3))
    assert labels(store, workspace) == ["lesson 2: Show me"]
    store.undo(workspace)
    assert store.read(workspace, lambda c: c.state.notes) == {"progress": 3}
    assert pods(store, workspace) == {}


def test_a_failed_change_leaves_the_history_alone(store: Workspaces) -> None:
    workspace, _ = store.create(ClusterConfig(), seed=1)
    store.change(workspace, lambda c: apply_text(c, WEB))

    def broken(cluster: Cluster) -> None:
        apply_text(cluster, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.change(workspace, broken)
    assert labels(store, workspace) == ["deployment.apps/web created, service/web created"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_store_keeps_the_history_across_a_restart(
    kind: str, open_backend: Callable[..., Any]
) -> None:
    first = Workspaces(open_backend(kind))
    workspace, _ = first.create(ClusterConfig(cni="calico"), seed=9)
    first.change(workspace, lambda c: apply_text(c, WEB))
    before = state_of(first, workspace)
    victim = sorted(pods(first, workspace))[1]
    first.change(workspace, lambda c: c.delete("Pod", "default", victim))
    first.undo(workspace)
    first.undo(workspace)

    again = Workspaces(open_backend(kind))  # as after a restart: nothing cached
    history = again.history(workspace)
    assert [(e.label, e.undone) for e in history.entries] == [
        (f"pod default/{victim} deleted", True),
        ("deployment.apps/web created, service/web created", True),
    ]
    again.redo(workspace)
    assert state_of(again, workspace) == before
    third = Workspaces(open_backend(kind))
    assert third.history(workspace).redo.label == f"pod default/{victim} deleted"
    assert state_of(third, workspace) == before


def test_a_database_from_before_undo_gains_the_history_table(tmp_path: Path) -> None:
    path = tmp_path / "podpath.sqlite3"
    old = Workspaces(SqliteBackend(path))
    workspace, _ = old.create(ClusterConfig(), seed=2)
    old.change(workspace, lambda c: apply_text(c, WEB))
    with sqlite3.connect(path) as db:  # the schema as it was before undo existed
        db.execute("DROP TABLE history")
    before = pods(Workspaces(SqliteBackend(path)), workspace)

    store = Workspaces(SqliteBackend(path))
    assert pods(store, workspace) == before
    assert store.history(workspace).entries == []
    store.change(workspace, lambda c: nodes.scale(c, "default", "web", 1))
    store.undo(workspace)
    assert pods(store, workspace) == before


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_servers_on_one_database_never_undo_the_same_change_twice(
    kind: str, open_backend: Callable[..., Any]
) -> None:
    one, two = Workspaces(open_backend(kind)), Workspaces(open_backend(kind))
    workspace, _ = one.create(ClusterConfig(), seed=4)
    one.change(
        workspace, lambda c: apply_text(c, "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    )
    one.change(
        workspace, lambda c: apply_text(c, "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
    )
    assert two.undo(workspace).label == "namespace/b created"  # two has nothing cached
    assert one.undo(workspace).label == "namespace/a created"  # one sees two's undo first
    names = one.read(workspace, lambda c: {n["metadata"]["name"] for n in c.list("Namespace")})
    assert not names & {"a", "b"}


def test_a_page_asks_the_store_for_the_history_once_per_version(store: Workspaces) -> None:
    """What the Undo button names comes from the store once per version of the workspace:
    a class reloading unchanged sandboxes asks nothing more; every change (an undo too)
    brings the new history."""
    workspace, _ = store.create(ClusterConfig(), seed=1)
    CREATED = "deployment.apps/web created, service/web created"
    asked: list[str] = []
    history = store.backend.history

    def counting(workspace_id: str) -> Any:
        asked.append(workspace_id)
        return history(workspace_id)

    store.backend.history = counting  # type: ignore[method-assign]
    store.change(workspace, lambda c: apply_text(c, WEB))
    for _ in range(3):
        store.read(workspace, lambda c: None)
        assert store.shown_history(workspace).undo.label == CREATED
    assert len(asked) == 1
    store.undo(workspace)
    store.read(workspace, lambda c: None)
    shown = store.shown_history(workspace)
    assert shown.undo is None and shown.redo.label == CREATED
    assert len(asked) == 3  # the undo read it once to find its entry, the page once more
