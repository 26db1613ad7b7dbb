"""A lesson's traces with an HTTP method and request headers (issue 14): ``trace`` and
``traces`` checks and ``trace`` actions send them (HTTPRoute header and method matches read
them), a learner's trace is recorded with the method and headers it was sent with, and a
``traced`` check can ask for them (header names compared without case, RFC 9110 section
5.1; values exactly)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.lessons.actions import run_actions
from app.lessons.activity import trace_record
from app.lessons.catalog import BUILT_IN, load_lesson
from app.lessons.checks import evaluate
from app.lessons.checks_network import mismatch
from app.lessons.model import Action, Check
from app.lessons.outcome import StepState
from app.lessons.source import LessonFileError
from app.network.trace import trace

APP = """apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {nodeName: worker-2, containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
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


def app() -> Cluster:
    cluster = Cluster.create(seed=2)
    apply_text(cluster, APP)
    return cluster


def test_a_trace_is_recorded_with_the_method_and_headers_it_was_sent_with():
    cluster = app()
    sent = trace(
        cluster, "pod/default/client", "http://web/", method="POST", headers={"X-Version": "v2"}
    )
    record = trace_record(cluster, "pod/default/client", "http://web/", sent)
    assert record["method"] == "POST" and record["headers"] == {"X-Version": "v2"}
    plain = trace_record(
        cluster,
        "pod/default/client",
        "http://web/",
        trace(cluster, "pod/default/client", "http://web/"),
    )
    assert plain["method"] == "GET" and plain["headers"] == {}


def test_traced_asks_for_a_header_by_name_in_any_case_and_its_value_exactly():
    record = {
        "from": "pod/default/client",
        "to": "http://web/",
        "verdict": "delivered",
        "headers": {"X-Version": "v2"},
        "method": "GET",
    }
    cluster = app()
    assert mismatch(cluster, record, {"headers": {"x-version": "v2"}}) is None
    assert (
        mismatch(cluster, record, {"headers": {"X-Version": "v1"}})
        == "it carried X-Version: v2, not X-Version: v1"
    )
    assert mismatch(cluster, {**record, "headers": {}}, {"headers": {"X-Version": "v2"}}) == (
        "it carried no X-Version header, not X-Version: v2"
    )
    assert mismatch(cluster, record, {"method": "post"}) == "it was a GET request, not POST"


def test_a_trace_action_sends_the_headers_and_hands_them_to_the_page():
    """ "Show me" fills the trace bar from the query: the headers go with it."""
    cluster = app()
    done = run_actions(
        cluster,
        [
            Action(
                "trace", {"from": "client", "to": "http://web/", "headers": {"X-Version": "v2"}}, 1
            )
        ],
    )
    assert done.trace["query"]["headers"] == {"X-Version": "v2"}
    assert done.trace["result"]["verdict"] == "delivered"


def test_traced_passes_only_on_a_trace_sent_with_the_header():
    cluster = app()
    check = Check(
        "traced",
        {"traced": {"from": "client", "headers": {"X-Version": "v2"}}},
        1,
    )
    sent = trace(cluster, "pod/default/client", "http://web/", headers={"X-Version": "v2"})
    record = trace_record(cluster, "pod/default/client", "http://web/", sent)
    assert evaluate(cluster, check, StepState([record])).passed
    plain = trace_record(
        cluster,
        "pod/default/client",
        "http://web/",
        trace(cluster, "pod/default/client", "http://web/"),
    )
    refused = evaluate(cluster, check, StepState([plain]))
    assert not refused.passed and "no X-Version header" in refused.message


@pytest.mark.parametrize(
    ("subject", "problem"),
    [
        ('{from: outside, to: "http://a/", headers: {X-Version: 2}}', "text (quote a number)"),
        ('{from: outside, to: "http://a/", headers: [X-Version]}', "must be a mapping"),
        ('{from: outside, to: "http://a/", method: [GET]}', "an HTTP method"),
        ('{from: outside, to: "http://a/", header: {X-Version: v2}}', 'unknown field "header"'),
    ],
    ids=["number-value", "list", "method-list", "misspelt"],
)
def test_a_malformed_request_is_named_with_its_line(tmp_path: Path, subject: str, problem: str):
    folder = tmp_path / "lessons" / "13-extra"
    shutil.copytree(BUILT_IN / "13-network-policy", folder)
    yaml_file = folder / "lesson.yaml"
    text = yaml_file.read_text()
    check = "      - traced: {from: frontend/ui, verdict: dropped}\n"
    yaml_file.write_text(text.replace(check, check + f"      - trace: {subject}\n", 1))
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert problem in error.value.problem
    assert error.value.line == text[: text.index(check)].count("\n") + 2
