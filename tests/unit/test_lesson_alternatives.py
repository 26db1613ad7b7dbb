"""A step's further reference solutions (``alternatives:``): how a lesson file writes them
(refused with the file and line when malformed), and that "Show me" runs the first solution."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.cluster.cluster import Cluster
from app.lessons import session
from app.lessons.catalog import BUILT_IN, load_catalog, load_lesson
from app.lessons.model import is_behavioural
from app.lessons.source import LessonFileError

SOLUTION = '    solution:\n      - trace: {from: client, to: "http://{pod_ip:web-a}/"}\n'


def lesson_with(tmp_path: Path, extra: str) -> Path:
    """A copy of lesson 1 whose first step's solution is followed by ``extra``."""
    folder = tmp_path / "lessons" / "13-extra"
    shutil.copytree(BUILT_IN / "01-flat-network", folder)
    yaml_file = folder / "lesson.yaml"
    text = yaml_file.read_text()
    assert SOLUTION in text
    yaml_file.write_text(text.replace(SOLUTION, SOLUTION + extra, 1))
    return folder


def refused(folder: Path, fragment: str) -> LessonFileError:
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    lines = (folder / "lesson.yaml").read_text().splitlines()
    assert error.value.filename.endswith("13-extra/lesson.yaml")
    assert error.value.line == next(i for i, line in enumerate(lines, 1) if fragment in line)
    return error.value


def test_alternatives_are_read_in_the_form_of_a_solution(tmp_path):
    folder = lesson_with(
        tmp_path,
        "    alternatives:\n"
        '      - - trace: {from: client, to: "{pod_ip:web-a}:80"}\n'
        "      - |\n          apiVersion: v1\n          kind: Namespace\n"
        "          metadata: {name: extra}\n",
    )
    step = load_lesson(folder).steps[0]
    assert [[a.kind for a in alt] for alt in step.alternatives] == [["trace"], ["apply"]]
    assert [a.kind for a in step.solution] == ["trace"]


def test_an_unknown_action_in_an_alternative_is_refused_with_its_line(tmp_path):
    folder = lesson_with(tmp_path, "    alternatives:\n      - - kubectl: apply -f web.yaml\n")
    error = refused(folder, "kubectl: apply")
    assert "steps[0].alternatives[0][0]: an action is one of" in error.problem


def test_alternatives_must_be_a_list_of_solutions(tmp_path):
    folder = lesson_with(tmp_path, "    alternatives: {trace: {from: client, to: web}}\n")
    assert "a list of solutions" in refused(folder, "alternatives: {trace").problem
    folder = lesson_with(tmp_path / "b", "    alternatives:\n      - []\n")
    assert "an alternative needs an action" in refused(folder, "      - []").problem


def test_a_misspelt_alternatives_field_is_refused(tmp_path):
    folder = lesson_with(tmp_path, "    alternative:\n      - - trace: {from: client, to: web}\n")
    # The line given is where the misspelt field's value starts.
    error = refused(folder, "      - - trace: {from: client, to: web}")
    assert 'unknown field "alternative"' in error.problem and "alternatives" in error.problem


def test_show_me_runs_the_first_solution_only():
    lesson = load_catalog().get("services")
    step = next(s for s in lesson.steps if s.alternatives)
    cluster = Cluster.create(seed=1)
    session.start(cluster, lesson)
    session.go_to(cluster, lesson, lesson.steps.index(step))
    session.show_me(cluster, lesson)
    service = cluster.get("Service", "default", "web")
    # The solution numbers the targetPort; the alternative names the container's port.
    assert service["spec"]["ports"][0]["targetPort"] == 80
    assert any("targetPort: http" in a.value for a in step.alternatives[0] if a.kind == "apply")


def test_a_behavioural_step_is_one_with_a_network_check_or_a_manifest_to_apply():
    lesson = load_catalog().get("services")
    kinds = {s.id: is_behavioural(s) for s in lesson.steps}
    assert kinds["make-service"] and not kinds["rules"] and not kinds["trace-service"]
