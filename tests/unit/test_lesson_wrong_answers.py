"""A question step's likely wrong answers: how a lesson file writes them (refused with the file
and line when malformed), and what the learner is told for each."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.cluster.cluster import Cluster
from app.lessons import session
from app.lessons.catalog import BUILT_IN, load_catalog, load_lesson
from app.lessons.source import LessonFileError

ANSWER = "      - answer: {pod_ip: client}\n        wrong:\n"


def lesson_with(tmp_path: Path, wrong: str) -> Path:
    """A copy of lesson 1 whose question step lists ``wrong`` (YAML under ``wrong:``)."""
    folder = tmp_path / "lessons" / "13-extra"
    shutil.copytree(BUILT_IN / "01-flat-network", folder)
    yaml_file = folder / "lesson.yaml"
    text = yaml_file.read_text()
    start = text.index(ANSWER)
    end = text.index("    hints:", start)
    yaml_file.write_text(text[:start] + "      - answer: {pod_ip: client}\n" + wrong + text[end:])
    return folder


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def refused(folder: Path, fragment: str) -> LessonFileError:
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert error.value.filename.endswith("13-extra/lesson.yaml")
    assert error.value.line == line_of(folder / "lesson.yaml", fragment)
    return error.value


def test_an_unknown_field_of_a_wrong_answer_is_refused_with_its_line(tmp_path):
    folder = lesson_with(
        tmp_path,
        "        wrong:\n          - answer: {node_ip: worker-1}\n            because: the node\n",
    )
    error = refused(folder, "because: the node")
    assert 'unknown field "because"' in error.problem
    assert "answer, why" in error.problem


def test_a_wrong_answer_needs_its_explanation(tmp_path):
    folder = lesson_with(tmp_path, "        wrong:\n          - answer: {node_ip: worker-1}\n")
    assert 'needs "why"' in refused(folder, "- answer: {node_ip: worker-1}").problem


def test_a_wrong_answer_names_a_value_kind_podpath_knows(tmp_path):
    folder = lesson_with(
        tmp_path,
        "        wrong:\n          - answer: {node_address: worker-1}\n            why: the node\n",
    )
    assert "node_ip" in refused(folder, "node_address").problem


def test_wrong_must_be_a_list_and_otherwise_text(tmp_path):
    folder = lesson_with(tmp_path, "        wrong: {answer: 1, why: x}\n")
    assert "a list of {answer, why}" in refused(folder, "wrong: {answer").problem
    folder = lesson_with(tmp_path / "b", "        otherwise: [1, 2]\n")
    assert "an explanation" in refused(folder, "otherwise: [1, 2]").problem


def answer_with(tmp_path: Path, wrong: str, typed: str) -> str:
    lesson = load_lesson(lesson_with(tmp_path, wrong))
    cluster = Cluster.create(seed=1)
    session.start(cluster, lesson)
    session.go_to(cluster, lesson, 2)
    (outcome,) = session.answer(cluster, lesson, typed)
    assert not outcome.passed
    return outcome.message


WRONG = (
    "        wrong:\n"
    "          - answer: {node_ip: worker-1}\n"
    '            why: "{answer} is worker-1\'s address, seen only on the outer VXLAN header."\n'
    "          - answer: 10.0.0.12\n"
    '            why: "{answer} is worker-2: web-b is there, not client ({pod_ip:client})."\n'
)


def test_a_listed_wrong_answer_gets_its_own_explanation(tmp_path):
    assert (
        answer_with(tmp_path, WRONG, "10.0.0.11")
        == "10.0.0.11 is worker-1's address, seen only on the outer VXLAN header."
    )
    message = answer_with(tmp_path / "b", WRONG, " 10.0.0.12 ")
    assert message.startswith("10.0.0.12 is worker-2: web-b is there, not client (10.244.")


def test_any_other_wrong_answer_gets_the_general_one_or_what_was_asked(tmp_path):
    general = WRONG + '        otherwise: "{answer} is not the source web-b sees."\n'
    assert answer_with(tmp_path, general, "web-b") == "web-b is not the source web-b sees."
    assert (
        answer_with(tmp_path / "b", WRONG, "web-b")
        == 'web-b is not the answer to "Source IP address seen by web-b".'
    )


def test_lesson_one_explains_a_node_address_given_for_a_pod_address():
    lesson = load_catalog().get("flat-network")
    cluster = Cluster.create(seed=1)
    session.start(cluster, lesson)
    session.go_to(cluster, lesson, 2)
    (outcome,) = session.answer(cluster, lesson, "10.0.0.11")
    assert not outcome.passed
    assert "worker-1's address" in outcome.message and "VXLAN" in outcome.message
    assert "is not it" not in outcome.message
