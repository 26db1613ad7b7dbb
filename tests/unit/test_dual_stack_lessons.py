"""A lesson's cluster block may ask for an IP family (``ip_family``: ipv4, ipv6, dual), and a
lesson started from a dual-stack sandbox gets the family its lesson names (IPv4 unless it
says), so its addresses are the ones its text uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.lessons import session
from app.lessons.catalog import BUILT_IN, load_lesson
from app.lessons.source import LessonFileError


def lesson_with(tmp_path: Path, cluster_lines: str):
    folder = tmp_path / "lessons" / "01-extra"
    shutil.copytree(BUILT_IN / "01-flat-network", folder)
    yaml_file = folder / "lesson.yaml"
    text = yaml_file.read_text()
    yaml_file.write_text(
        text.replace("cluster:\n  cni: flannel\n", f"cluster:\n{cluster_lines}", 1)
    )
    return load_lesson(folder)


def test_a_lesson_can_run_on_a_dual_stack_cluster(tmp_path: Path):
    lesson = lesson_with(tmp_path, "  cni: flannel\n  ip_family: dual\n")
    cluster = Cluster.create(seed=1)
    session.start(cluster, lesson)
    assert cluster.config.ip_family == "dual"
    pod = next(p for p in cluster.list("Pod", "default"))
    assert len(pod["status"]["podIPs"]) == 2


def test_a_lesson_without_ip_family_is_ipv4_even_from_a_dual_stack_sandbox(tmp_path: Path):
    lesson = lesson_with(tmp_path, "  cni: flannel\n")
    cluster = Cluster.create(ClusterConfig(ip_family="dual"), seed=1)
    session.start(cluster, lesson)
    assert cluster.config.ip_family == "ipv4"


@pytest.mark.parametrize("lines", ["  cni: weave\n  ip_family: dual\n", "  ip_family: ipv5\n"])
def test_an_ip_family_the_plugin_cannot_have_is_named_with_its_line(tmp_path: Path, lines):
    with pytest.raises(LessonFileError) as error:
        lesson_with(tmp_path, lines)
    assert "cluster.ip_family" in error.value.problem
