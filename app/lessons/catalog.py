"""Finding and loading lessons: the app's own (``app/lessons/catalog``) and, optionally,
more from a folder named in the settings.

A lesson is a folder holding ``lesson.md`` (the text) and ``lesson.yaml`` (setup, checks,
hints, solutions and quiz); see ``docs/lessons.md``. The folder's name gives the order and
the slug: ``03-services`` is the third lesson, at ``/lessons/services``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from app.lessons.lesson import Lesson
from app.lessons.lesson_yaml import parse_lesson
from app.lessons.source import LessonFileError, read_yaml
from app.lessons.text import read_text

BUILT_IN = Path(__file__).parent / "catalog"
_FOLDER = re.compile(r"^(?:(?P<order>\d+)-)?(?P<slug>[a-z0-9]([a-z0-9-]*[a-z0-9])?)$")


@dataclass
class Catalog:
    """Every lesson, in order."""

    lessons: list[Lesson] = field(default_factory=list)

    def get(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def next_after(self, slug: str) -> Lesson | None:
        slugs = [lesson.slug for lesson in self.lessons]
        at = slugs.index(slug) if slug in slugs else -1
        return self.lessons[at + 1] if 0 <= at < len(self.lessons) - 1 else None


def load_lesson(folder: Path, label: str | None = None) -> Lesson:
    """Read one lesson folder.

    Parameters
    ----------
    folder : Path
        Holding ``lesson.md`` and ``lesson.yaml``.
    label : str, optional
        How to name the folder in errors (defaults to its path).

    Raises
    ------
    LessonFileError
        Naming the file, the line and the problem.
    """
    label = label or str(folder)
    match = _FOLDER.match(folder.name)
    if match is None:
        raise LessonFileError(
            label, None, "a lesson folder is named <number>-<slug>, e.g. 03-services"
        )
    files = {}
    for name in ("lesson.md", "lesson.yaml"):
        path = folder / name
        try:
            files[name] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise LessonFileError(f"{label}/{name}", None, "missing") from None
        except UnicodeDecodeError as error:
            raise LessonFileError(f"{label}/{name}", None, f"not UTF-8 text: {error}") from None
    text = read_text(f"{label}/lesson.md", files["lesson.md"])
    doc = read_yaml(f"{label}/lesson.yaml", files["lesson.yaml"])
    order = int(match.group("order") or 0)
    return parse_lesson(match.group("slug"), order, doc, text, label)


def load_catalog(extra: Path | None = None, built_in: Path = BUILT_IN) -> Catalog:
    """Every lesson from the app's folder, then from ``extra``, sorted by order.

    Raises
    ------
    LessonFileError
        For the first malformed lesson, or two lessons with the same slug.

    Examples
    --------
    >>> catalog = load_catalog()
    >>> catalog.lessons[0].slug, catalog.lessons[0].steps[0].id
    ('flat-network', 'same-node')
    """
    lessons: list[Lesson] = []
    sources = [(built_in, False)] + ([(extra, True)] if extra is not None else [])
    for root, is_extra in sources:
        if not root.is_dir():
            raise LessonFileError(str(root), None, "the lessons folder does not exist")
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] not in "._"):
            label = f"{root.name}/{folder.name}" if not is_extra else str(folder)
            lesson = load_lesson(folder, label)
            lesson.extra = is_extra
            clash = next((known for known in lessons if known.slug == lesson.slug), None)
            if clash is not None:
                raise LessonFileError(
                    label, None, f'the slug "{lesson.slug}" is already used by {clash.source}'
                )
            lessons.append(lesson)
    lessons.sort(key=lambda lesson: (lesson.order, lesson.slug))
    return Catalog(lessons)
