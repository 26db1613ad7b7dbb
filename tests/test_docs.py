"""The README's "Settings" table and ``app.settings.Settings`` agree, both ways."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from app.__main__ import build_parser
from app.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def settings_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Settings[ \t]*\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Settings' section"
    table = [line for line in match.group(1).splitlines() if line.lstrip().startswith("|")]
    assert table, "the README's Settings section has no table"
    return "\n".join(table)


def _env_vars(section: str) -> set[str]:
    return set(re.findall(r"\bPODPATH_[A-Z0-9_]+\b", section))


def _flags(section: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z0-9][a-z0-9-]*", section))


def test_every_setting_is_in_the_readme(settings_section: str) -> None:
    env_vars, flags = _env_vars(settings_section), _flags(settings_section)
    missing = [
        f.name
        for f in fields(Settings)
        if f"PODPATH_{f.name.upper()}" not in env_vars
        and "--" + f.name.replace("_", "-") not in flags
    ]
    assert not missing, f"add these settings to the README's Settings table: {missing}"


def test_every_documented_variable_is_a_setting(settings_section: str) -> None:
    real = {f"PODPATH_{f.name.upper()}" for f in fields(Settings)}
    unknown = sorted(_env_vars(settings_section) - real)
    assert not unknown, f"the README documents settings that do not exist: {unknown}"


def test_every_documented_flag_is_accepted_by_python_m_app(settings_section: str) -> None:
    accepted = {opt for action in build_parser()._actions for opt in action.option_strings}
    unknown = sorted(_flags(settings_section) - accepted)
    assert not unknown, f"the README documents flags that `python -m app` lacks: {unknown}"
