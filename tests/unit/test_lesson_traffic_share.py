"""A ``traffic`` check's ``share`` (issue 14): how many of a batch's requests the pods of a
selector got, so that a weighted split (a canary's 90/10) is graded by its shares and not
only by which pods answered; and a malformed one named with its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.lessons.catalog import BUILT_IN, load_lesson
from app.lessons.checks import evaluate
from app.lessons.model import Check
from app.lessons.outcome import StepState
from app.lessons.source import LessonFileError

APPS = """apiVersion: apps/v1
kind: Deployment
metadata: {name: stable}
spec:
  replicas: 3
  selector: {matchLabels: {app: web, track: stable}}
  template:
    metadata: {labels: {app: web, track: stable}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: canary}
spec:
  replicas: 1
  selector: {matchLabels: {app: web, track: canary}}
  template:
    metadata: {labels: {app: web, track: canary}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: worker-1, containers: [{name: c, image: curl}]}
"""


def share_check(least: int, most: int) -> Check:
    spec = {
        "traffic": {"from": "client", "to": "http://web/", "count": 200},
        "share": {"track=canary": [least, most]},
    }
    return Check("traffic", spec, 1)


def test_the_canarys_share_of_a_batch_is_counted_from_its_pods():
    """kube-proxy picks one of the four endpoints with equal probability: the canary's one pod
    gets about a quarter of 200 requests."""
    cluster = Cluster.create(seed=4)
    apply_text(cluster, APPS)
    assert evaluate(cluster, share_check(25, 75), StepState()).passed
    few = evaluate(cluster, share_check(0, 10), StepState())
    assert not few.passed
    assert "reached pods matching track=canary" in few.message
    assert "this step needs between 0 and 10" in few.message


@pytest.mark.parametrize("bounds", ["[20]", "[30, 10]", "[a, 10]", "5"])
def test_a_share_that_is_not_least_and_most_is_named_with_its_line(tmp_path: Path, bounds: str):
    folder = tmp_path / "lessons" / "13-extra"
    shutil.copytree(BUILT_IN / "13-network-policy", folder)
    yaml_file = folder / "lesson.yaml"
    text = yaml_file.read_text()
    check = "      - traced: {from: frontend/ui, verdict: dropped}\n"
    assert check in text
    added = (
        '      - traffic: {from: frontend/ui, to: "http://api.backend/"}\n'
        f"        share: {{app=api: {bounds}}}\n"
    )
    yaml_file.write_text(text.replace(check, check + added, 1))
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert "[least, most]" in error.value.problem
    line = text[: text.index(check)].count("\n") + 3
    assert error.value.line == line
