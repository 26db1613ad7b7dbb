"""Lesson files: what a malformed one is told (file, line, problem), and how the parts are read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.lessons.catalog import BUILT_IN, load_catalog, load_lesson
from app.lessons.source import LessonFileError

EXAMPLE = BUILT_IN / "01-flat-network"


def lesson_copy(tmp_path: Path, name: str = "13-extra") -> Path:
    folder = tmp_path / "lessons" / name
    shutil.copytree(EXAMPLE, folder)
    return folder


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def test_an_extra_folder_adds_its_lessons_after_the_apps_own(tmp_path):
    folder = lesson_copy(tmp_path, "90-extra")  # numbered after every built-in lesson
    replace_in(folder / "lesson.md", "# The flat network", "# My own lesson")
    catalog = load_catalog(folder.parent)
    assert catalog.lessons[-1].slug == "extra"
    assert catalog.lessons[-1].title == "My own lesson"
    assert catalog.lessons[-1].extra


def test_an_unknown_check_field_is_named_with_its_line(tmp_path):
    folder = lesson_copy(tmp_path)
    yaml_file = folder / "lesson.yaml"
    replace_in(
        yaml_file,
        "      - answer: {pod_ip: client}",
        "      - answer: {pod_ip: client}\n        exist: true",
    )
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert error.value.filename.endswith("13-extra/lesson.yaml")
    assert error.value.line == line_of(yaml_file, "exist: true")
    assert 'unknown field "exist"' in error.value.problem


def test_broken_yaml_names_the_line(tmp_path):
    folder = lesson_copy(tmp_path)
    yaml_file = folder / "lesson.yaml"
    replace_in(yaml_file, "    task: Now trace", "    task: [Now trace")
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert error.value.line is not None
    assert "not valid YAML" in str(error.value)


def test_a_check_of_no_known_kind_is_refused(tmp_path):
    folder = lesson_copy(tmp_path)
    yaml_file = folder / "lesson.yaml"
    replace_in(
        yaml_file,
        "      - traced: {from: client, endpoint: web-a",
        "      - tracd: {from: client, endpoint: web-a",
    )
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert error.value.line == line_of(yaml_file, "tracd:")
    assert "a check names exactly one of" in error.value.problem


def test_a_step_without_a_section_in_the_markdown_is_refused(tmp_path):
    folder = lesson_copy(tmp_path)
    yaml_file = folder / "lesson.yaml"
    replace_in(yaml_file, "  - id: cross-node", "  - id: cross-nodes")
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert error.value.line == line_of(yaml_file, "id: cross-nodes")
    assert "{#cross-nodes}" in error.value.problem


def test_a_heading_without_an_id_names_the_markdown_line(tmp_path):
    folder = lesson_copy(tmp_path)
    md = folder / "lesson.md"
    replace_in(md, "## Across nodes {#cross-node}", "## Across nodes")
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert error.value.filename.endswith("lesson.md")
    assert error.value.line == line_of(md, "## Across nodes")


def test_a_quiz_question_needs_exactly_one_right_answer(tmp_path):
    folder = lesson_copy(tmp_path)
    yaml_file = folder / "lesson.yaml"
    replace_in(
        yaml_file,
        "      - answer: Node 1's IP.",
        "      - answer: Node 1's IP.\n        correct: true",
    )
    with pytest.raises(LessonFileError, match="exactly one correct"):
        load_lesson(folder)


def test_a_missing_file_and_a_clashing_slug_are_named(tmp_path):
    folder = lesson_copy(tmp_path, "13-flat-network")
    with pytest.raises(LessonFileError, match='slug "flat-network" is already used'):
        load_catalog(folder.parent)
    (folder / "lesson.yaml").unlink()
    with pytest.raises(LessonFileError, match=r"lesson\.yaml: missing"):
        load_catalog(folder.parent)


def test_raw_html_in_lesson_text_is_not_rendered(tmp_path):
    folder = lesson_copy(tmp_path)
    replace_in(folder / "lesson.md", "A pod's `eth0`", "<script>alert(1)</script> A pod's `eth0`")
    lesson = load_lesson(folder)
    assert "<script>" not in lesson.steps[0].text_html
    assert "&lt;script&gt;" in lesson.steps[0].text_html


@pytest.mark.slow
def test_the_server_refuses_to_start_on_a_malformed_lesson(tmp_path):
    folder = lesson_copy(tmp_path)
    replace_in(folder / "lesson.yaml", "  - id: cross-node", "  - id: cross-node\n    colour: blue")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "--store",
            "memory",
            "--port",
            "1",
            "--lessons-dir",
            str(folder.parent),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "13-extra/lesson.yaml, line" in result.stderr
    assert 'unknown field "colour"' in result.stderr
