"""metadata.creationTimestamp, as the API server keeps it: set when an object is created (RFC
3339 in UTC, to the second), never changed after (updates, applies, scaling, labels keep it;
a client-sent one is ignored), so kubectl's AGE columns count from it.

The time comes from the state's ``now`` (app/cluster/clock.py), which the workspace store
sets from its clock before each change and which is never saved: a change that creates
nothing stays a no-op, and undo puts back the objects with the times they had.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from app.cluster import clock, persistence
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.scenarios import build
from app.cluster.state import ClusterConfig
from app.store.workspaces import Workspaces, new_workspace_id
from app.terminal.interpreter import run
from app.terminal.session import Session

T0 = 1_796_563_500  # 2026-12-06T13:25:00Z
T1 = T0 + 3600 * 3 + 4 * 60  # 3h4m later
T2 = T1 + 2 * 86400  # two days after that

#: How the API server writes a metav1.Time: RFC 3339, UTC, whole seconds.
API_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

WEB = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
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


def created(obj: dict[str, Any]) -> str | None:
    return obj["metadata"].get("creationTimestamp")


def times(cluster: Cluster, kind: str, namespace: str = "default") -> dict[str, str | None]:
    return {o["metadata"]["name"]: created(o) for o in cluster.list(kind, namespace)}


def at(cluster: Cluster, now: float) -> Cluster:
    cluster.state.now = now
    return cluster


def test_every_object_of_a_new_cluster_carries_its_creation_time_in_the_api_servers_format():
    cluster = Cluster.create(seed=1, now=T0)
    everything = [o for objs in cluster.state.by_kind.values() for o in objs.values()]
    assert {o["kind"] for o in everything} >= {"Namespace", "Node", "Pod", "Service", "DaemonSet"}
    assert all(API_TIME.match(created(o) or "") for o in everything)
    assert {created(o) for o in everything} == {"2026-12-06T13:25:00Z"}


def test_a_cluster_given_no_time_is_stamped_with_one_fixed_instant_so_tests_stay_the_same():
    one, two = Cluster.create(seed=1), Cluster.create(seed=1)
    assert one.to_state() == two.to_state()
    assert created(one.require("Namespace", "", "default")) == clock.rfc3339(clock.DEFAULT_NOW)


def test_what_an_apply_creates_and_what_the_controllers_derive_is_stamped_at_that_change():
    cluster = at(Cluster.create(seed=1, now=T0), T1)
    apply_text(cluster, WEB)
    stamp = clock.rfc3339(T1)
    assert created(cluster.require("Deployment", "default", "web")) == stamp
    assert set(times(cluster, "ReplicaSet").values()) == {stamp}
    pods = [p for p in cluster.list("Pod", "default")]
    assert len(pods) == 2
    assert {created(p) for p in pods} == {stamp}
    assert {p["status"]["startTime"] for p in pods} == {stamp}  # describe's Start Time
    slices = [
        s for s in cluster.list("EndpointSlice", "default") if s["metadata"]["name"] != "kubernetes"
    ]
    assert {created(s) for s in slices} == {stamp}
    assert created(cluster.require("Namespace", "", "default")) == clock.rfc3339(T0)
    assert cluster.events()[-1].first == cluster.events()[-1].last == stamp


def test_a_client_sent_creation_timestamp_is_ignored_on_create_and_on_update():
    cluster = at(Cluster.create(seed=1, now=T0), T1)
    text = (
        "apiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: conf, creationTimestamp: '1999-01-01T00:00:00Z'}\ndata: {a: '1'}\n"
    )
    apply_text(cluster, text)
    assert created(cluster.require("ConfigMap", "default", "conf")) == clock.rfc3339(T1)
    at(cluster, T2)
    apply_text(cluster, text.replace("a: '1'", "a: '2'"))
    conf = cluster.require("ConfigMap", "default", "conf")
    assert conf["data"] == {"a": "2"} and created(conf) == clock.rfc3339(T1)


def test_updates_labels_and_scaling_down_keep_the_original_timestamps():
    cluster = at(Cluster.create(seed=1, now=T0), T1)
    apply_text(cluster, WEB)
    before = {kind: times(cluster, kind) for kind in ("Deployment", "ReplicaSet", "Pod", "Service")}
    at(cluster, T2)
    session = Session()
    for line in ("kubectl label deploy web tier=front", "kubectl annotate svc web note=x"):
        assert run(cluster, line, session, T2).status == 0
    apply_text(cluster, WEB.replace("labels: {app: web}}", "labels: {app: web, team: a}}", 1))
    after = {kind: times(cluster, kind) for kind in before}
    assert after == before
    assert run(cluster, "kubectl scale deploy web --replicas=1", session, T2).status == 0
    survivor = times(cluster, "Pod")
    assert len(survivor) == 1 and set(survivor.items()) <= set(before["Pod"].items())


def test_scaling_up_stamps_only_the_new_pods():
    cluster = at(Cluster.create(seed=1, now=T0), T1)
    apply_text(cluster, WEB)
    old = times(cluster, "Pod")
    at(cluster, T2)
    apply_text(cluster, WEB.replace("replicas: 2", "replicas: 4"))
    now = times(cluster, "Pod")
    assert len(now) == 4
    assert {name: now[name] for name in old} == old
    assert {now[name] for name in now.keys() - old.keys()} == {clock.rfc3339(T2)}
    assert created(cluster.require("Deployment", "default", "web")) == clock.rfc3339(T1)


def test_a_rollout_restart_makes_new_pods_with_new_times():
    cluster = at(Cluster.create(seed=1, now=T0), T1)
    apply_text(cluster, WEB)
    old = times(cluster, "Pod")
    assert run(cluster, "kubectl rollout restart deployment/web", Session(), T2).status == 0
    now = times(cluster, "Pod")
    assert not now.keys() & old.keys()
    assert set(now.values()) == {clock.rfc3339(T2)}
    replica_sets = times(cluster, "ReplicaSet")
    assert sorted(replica_sets.values()) == [clock.rfc3339(T1), clock.rfc3339(T2)]


def test_an_endpoint_slice_rewritten_for_new_pods_keeps_its_time_as_it_keeps_its_uid():
    cluster = at(Cluster.create(seed=1, now=T0), T1)
    apply_text(cluster, WEB)
    name = next(n for n in times(cluster, "EndpointSlice") if n.startswith("web-"))
    first = cluster.require("EndpointSlice", "default", name)
    uid, addresses = first["metadata"]["uid"], len(first["endpoints"])
    at(cluster, T2)
    apply_text(cluster, WEB.replace("replicas: 2", "replicas: 3"))
    again = cluster.require("EndpointSlice", "default", name)
    assert len(again["endpoints"]) == addresses + 1
    assert again["metadata"]["uid"] == uid and created(again) == clock.rfc3339(T1)


def test_the_terminals_kubectl_prints_ages_and_describe_prints_the_times():
    cluster = build("web-service", now=T0)
    session = Session()
    assert run(cluster, "kubectl run x --image=nginx", session, T1).status == 0
    pods = run(cluster, "kubectl get pods", session, T1 + 312).output
    assert "<unknown>" not in pods
    ages = {line.split()[0]: line.split()[-1] for line in pods.splitlines()[1:]}
    assert ages["x"] == "5m12s" and ages["client"] == "3h9m"
    services = run(cluster, "kubectl get svc,deploy,rs,ep,nodes,ns", session, T2).output
    assert "<unknown>" not in services and " 2d3h " in services
    described = run(cluster, "kubectl describe pod x", session, T1 + 45).output
    assert "Start Time:       Sun, 06 Dec 2026 16:29:00 +0000\n" in described
    assert "  Normal  Scheduled  45s   default-scheduler  " in described
    deployment = run(cluster, "kubectl describe deploy web", session, T1).output
    assert "CreationTimestamp:      Sun, 06 Dec 2026 13:25:00 +0000\n" in deployment


def test_saving_and_loading_keep_the_times_and_never_save_the_clock():
    cluster = at(Cluster.create(seed=1, now=T0), T1)
    apply_text(cluster, WEB)
    saved = json.loads(json.dumps(cluster.to_state()))
    assert "now" not in json.dumps(saved["meta"])
    loaded = Cluster.from_state(saved)
    assert times(loaded, "Pod") == times(cluster, "Pod")
    assert loaded.events()[-1].first == clock.rfc3339(T1)


def old_save(cluster: Cluster) -> dict[str, Any]:
    """What a workspace saved before creation times were kept looks like."""
    saved = json.loads(json.dumps(cluster.to_state()))
    for row in saved["objects"]:
        row["object"]["metadata"].pop("creationTimestamp", None)
        row["object"].get("status", {}).pop("startTime", None)
    for event in saved["events"]:
        del event["first"], event["last"]
    return saved


def test_an_old_saved_workspace_without_times_loads_and_shows_its_ages_as_unknown():
    old = Cluster.from_state(old_save(build("web-service", now=T0)))
    session = Session()
    pods = run(old, "kubectl get pods", session, T1).output
    assert pods.splitlines()[1].split()[-1] == "<unknown>"
    assert "Start Time" not in run(old, "kubectl describe pod client", session, T1).output
    events = run(old, "kubectl get events", session, T1).output
    assert events.splitlines()[1].startswith("<unknown>")
    # An update keeps "no time" (the real creation time is not known); what is new gets one.
    assert run(old, "kubectl label pod client tier=front", session, T1).status == 0
    assert created(old.require("Pod", "default", "client")) is None
    assert run(old, "kubectl run x --image=nginx", session, T1).status == 0
    assert created(old.require("Pod", "default", "x")) == clock.rfc3339(T1)


@pytest.fixture(params=["memory", "sqlite"])
def make_store(
    request: pytest.FixtureRequest, open_backend: Callable[..., Any]
) -> Callable[[list[float]], Workspaces]:
    """A store whose clock reads the next of the given times at each call."""

    def make(ticks: list[float]) -> Workspaces:
        return Workspaces(open_backend(request.param), clock=lambda: ticks[0])

    return make


def test_the_store_stamps_each_change_with_its_clock(make_store):
    now = [float(T0)]
    store = make_store(now)
    workspace, cluster = store.create(ClusterConfig(), seed=1)
    assert created(cluster.require("Node", "", "worker-1")) == clock.rfc3339(T0)
    now[0] = T1 + 0.75  # the fraction is dropped, as the API server drops it
    store.change(workspace, lambda c: apply_text(c, WEB))
    pods = store.read(workspace, lambda c: times(c, "Pod"))
    assert set(pods.values()) == {clock.rfc3339(T1)}


def test_a_change_that_changes_nothing_stays_a_no_op_at_a_later_time(make_store):
    now = [float(T0)]
    store = make_store(now)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    store.change(workspace, lambda c: apply_text(c, WEB))
    version = store.backend.version(workspace)
    now[0] = T2
    answer = store.change(workspace, lambda c: apply_text(c, WEB))
    assert {o.action for o in answer.objects} == {"unchanged"}
    assert store.backend.version(workspace) == version
    assert len(store.history(workspace).entries) == 1


def test_undo_and_redo_put_back_the_timestamps_the_objects_had(make_store):
    now = [float(T0)]
    store = make_store(now)
    workspace, _ = store.create(ClusterConfig(), seed=1)
    now[0] = T1
    store.change(workspace, lambda c: apply_text(c, WEB))
    before = store.read(workspace, lambda c: times(c, "Pod"))
    now[0] = T2
    store.change(workspace, lambda c: apply_text(c, WEB.replace("image: nginx", "image: httpd")))
    after = store.read(workspace, lambda c: times(c, "Pod"))
    assert set(after.values()) == {clock.rfc3339(T2)} and not after.keys() & before.keys()
    now[0] = T2 + 60
    store.undo(workspace)
    assert store.read(workspace, lambda c: times(c, "Pod")) == before
    store.redo(workspace)
    assert store.read(workspace, lambda c: times(c, "Pod")) == after
    undone = store.read(workspace, lambda c: c.events()[-1])
    assert undone.reason == "ChangeRedone" and undone.first == clock.rfc3339(T2 + 60)


def test_an_old_saved_workspace_in_the_store_loads_and_takes_changes(make_store, open_backend):
    store = make_store([float(T1)])
    workspace = new_workspace_id()
    saved = persistence.Saved.from_dict(old_save(build("web-service", seed=4)))
    store.backend.insert(workspace, saved, T1)
    assert store.read(workspace, lambda c: set(times(c, "Pod").values())) == {None}
    store.change(workspace, lambda c: apply_text(c, WEB.replace("name: web", "name: api")))
    made = store.read(workspace, lambda c: created(c.require("Deployment", "default", "api")))
    assert made == clock.rfc3339(T1)
