"""The ``traces`` check (issue 14): several traces that must all come out as written at once,
so that a step can ask for "allowed from here and still dropped from there" and fail until
both hold; and what a malformed one is told at load time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.lessons.catalog import BUILT_IN, load_lesson
from app.lessons.checks import evaluate
from app.lessons.model import NETWORK_CHECKS, Check
from app.lessons.outcome import StepState
from app.lessons.source import LessonFileError

PODS = """apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {nodeName: worker-2, containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: friend, labels: {app: friend}}
spec: {nodeName: worker-1, containers: [{name: c, image: curl}]}
---
apiVersion: v1
kind: Pod
metadata: {name: stranger, labels: {app: stranger}}
spec: {nodeName: worker-1, containers: [{name: c, image: curl}]}
"""
ONLY_FRIEND = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-friend}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: friend}}}]}]
"""
ALLOW_ALL = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-friend}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{}]
"""
CHECK = Check(
    "traces",
    {
        "traces": [
            {"from": "friend", "to": "http://{pod_ip:web}/", "endpoint": "app=web"},
            {"from": "stranger", "to": "http://{pod_ip:web}/", "expect": "dropped"},
        ]
    },
    1,
)


def calico() -> Cluster:
    cluster = Cluster.create(ClusterConfig(cni="calico"), seed=3)
    apply_text(cluster, PODS)
    return cluster


def test_it_fails_until_every_trace_holds_and_names_the_one_that_does_not():
    cluster = calico()
    nothing = evaluate(cluster, CHECK, StepState())
    assert not nothing.passed
    # With no policy the first trace holds; the stranger's is the one said to be wrong.
    assert "from stranger" in nothing.message and "this step needs it dropped" in nothing.message
    apply_text(cluster, ALLOW_ALL)  # allowed from everywhere: still not what is asked
    assert "from stranger" in evaluate(cluster, CHECK, StepState()).message
    apply_text(cluster, ONLY_FRIEND)
    done = evaluate(cluster, CHECK, StepState())
    assert done.passed
    assert "friend → " in done.message and "stranger → " in done.message
    assert "isolated" not in done.message  # a passing drop is said without its paragraph


def test_a_drop_the_plugin_does_not_make_is_not_a_pass():
    """kubernetes.io/docs/concepts/services-networking/network-policies/ (Prerequisites): a
    policy without a plugin that implements it has no effect; flannel implements none."""
    cluster = Cluster.create(seed=3)  # flannel
    apply_text(cluster, PODS + "---\n" + ONLY_FRIEND)
    outcome = evaluate(cluster, CHECK, StepState())
    assert not outcome.passed and "from stranger" in outcome.message


def test_it_is_a_network_check_so_a_step_with_it_is_graded_by_behaviour():
    assert "traces" in NETWORK_CHECKS


def lesson_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons" / "13-extra"
    shutil.copytree(BUILT_IN / "13-network-policy", folder)
    return folder


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            '      - traces:\n          - {from: frontend/ui, to: "http://api.backend/"}\n',
            "two or more traces",
        ),
        (
            '      - traces:\n          - {from: frontend/ui, to: "http://api.backend/"}\n'
            '          - {from: client, to: "http://api.backend/", expect: gone}\n',
            "one of delivered, dropped",
        ),
        (
            '      - traces:\n          - {from: frontend/ui, to: "http://api.backend/"}\n'
            '          - {from: client, too: "http://api.backend/"}\n',
            'unknown field "too"',
        ),
    ],
    ids=["one-trace", "bad-verdict", "unknown-key"],
)
def test_a_malformed_traces_check_is_named_with_its_line(tmp_path, written, problem):
    folder = lesson_copy(tmp_path)
    yaml_file = folder / "lesson.yaml"
    text = yaml_file.read_text()
    start = text.index("      - traces:")
    end = text.index("      - traced:", start)
    yaml_file.write_text(text[:start] + written + text[end:])
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert problem in error.value.problem
    assert error.value.line is not None and error.value.line >= text[:start].count("\n") + 1
