"""The house rules of DESIGN.md that a parser can check.

* ``app/cluster``, ``app/network``, ``app/lessons`` and ``app/render`` are pure Python: no web
  framework or template imports, nothing from ``app.web``, no clock and no global random (a
  seeded ``random.Random(seed)`` instance is the way to make a random choice).
* No module under ``app/`` grows past 600 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app"
PURE_PACKAGES = ("cluster", "network", "lessons", "render", "classroom", "kubeapi", "terminal")
MAX_LINES = 600

#: Top-level modules (and the packages under them) a pure module must not import.
FORBIDDEN_MODULES = (
    "fastapi",
    "starlette",
    "jinja2",
    "uvicorn",
    "app.web",
    "time",
    "datetime",
    "secrets",
)
#: What a pure module may take from the ``random`` module: the seeded generator class.
RANDOM_ALLOWED = {"Random"}


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom, root: Path) -> str:
    """The absolute module name of ``from <module> import ...`` in the file at ``path``."""
    if not node.level:
        return node.module or ""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join([*base, node.module] if node.module else base)


def _is_forbidden(module: str) -> bool:
    return any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN_MODULES)


def _violations(path: Path, root: Path = REPO) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(root)
    random_aliases: set[str] = set()  # names bound to the random module itself
    random_class_aliases: set[str] = set()  # names bound to random.Random
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_forbidden(alias.name):
                    yield f"{rel}:{node.lineno}: imports {alias.name}"
                if alias.name == "random":
                    random_aliases.add(alias.asname or "random")
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(path, node, root)
            names = [a.name for a in node.names]
            if _is_forbidden(module):
                yield f"{rel}:{node.lineno}: imports from {module}"
            elif any(_is_forbidden(f"{module}.{name}") for name in names):
                yield f"{rel}:{node.lineno}: imports {module}.{{{', '.join(names)}}}"
            if module == "random":
                for alias in node.names:
                    if alias.name in RANDOM_ALLOWED:
                        random_class_aliases.add(alias.asname or alias.name)
                    else:
                        yield (
                            f"{rel}:{node.lineno}: imports random.{alias.name} "
                            "(global random; use random.Random(seed))"
                        )
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in random_aliases
            and node.attr not in RANDOM_ALLOWED
        ):
            yield (
                f"{rel}:{node.lineno}: uses {node.value.id}.{node.attr} "
                "(global random; use random.Random(seed))"
            )
        if isinstance(node, ast.Call) and not node.args and not node.keywords:
            func = node.func
            unseeded = (isinstance(func, ast.Name) and func.id in random_class_aliases) or (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in random_aliases
                and func.attr == "Random"
            )
            if unseeded:
                yield f"{rel}:{node.lineno}: Random() without a seed"


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_domain_package_is_pure(package: str) -> None:
    folder = APP / package
    assert folder.is_dir(), f"app/{package} is missing"
    problems = [problem for path in _modules(folder) for problem in _violations(path)]
    assert not problems, (
        f"app/{package} must stay pure Python (no web, templates, clock or global random):\n  "
        + "\n  ".join(problems)
    )


def test_no_module_is_over_600_lines() -> None:
    too_long = []
    for path in _modules(APP):
        with path.open(encoding="utf-8") as f:
            count = sum(1 for _ in f)
        if count > MAX_LINES:
            too_long.append(f"{path.relative_to(REPO)}: {count} lines")
    if too_long:
        print(f"Modules over {MAX_LINES} lines:", *too_long, sep="\n  ")
    assert not too_long, f"split these modules (at most {MAX_LINES} lines each):\n  " + (
        "\n  ".join(too_long)
    )


BAD_MODULE = """
import random
import random as rnd
import time
from datetime import datetime
from random import choice, Random
from random import Random as R
from fastapi import FastAPI
from jinja2 import Environment
from app.web import app
from .. import web
from ..web.routes import router
import starlette.responses

ok = random.Random(7)
bad = rnd.randint(1, 6)
pick = random.choice
unseeded = R()
also_unseeded = random.Random()
seeded = Random(3)
"""


def test_the_checker_finds_what_it_should(tmp_path: Path) -> None:
    module = tmp_path / "app" / "cluster" / "bad.py"
    module.parent.mkdir(parents=True)
    module.write_text(BAD_MODULE, encoding="utf-8")
    found = "\n".join(_violations(module, root=tmp_path))
    for expected in (
        ":4: imports time",
        ":5: imports from datetime",
        ":6: imports random.choice",
        ":8: imports from fastapi",
        ":9: imports from jinja2",
        ":10: imports from app.web",
        ":11: imports app.{web}",
        ":12: imports from app.web.routes",
        ":13: imports starlette.responses",
        ":16: uses rnd.randint",
        ":17: uses random.choice",
        ":18: Random() without a seed",
        ":19: Random() without a seed",
    ):
        assert expected in found, f"{expected!r} not reported:\n{found}"
    assert ":15:" not in found and ":20:" not in found and ":2:" not in found, found
