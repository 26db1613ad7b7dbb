"""A lesson's Markdown: its title, its introduction, one section per step, and the recap.

The file reads as a short chapter::

    # The flat network

    Introduction, shown above the first step. Its first paragraph is the summary on the
    lesson list.

    ## Two pods on one node {#same-node}

    What this step explains...

    ## Recap {#recap}

    What the learner can now do.

Each ``##`` heading starts a section and must end in ``{#id}``: the id ties the section to
the step of the same id in ``lesson.yaml`` (``recap`` is the closing section). Raw HTML is
not rendered: lesson text is Markdown only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

from app.lessons.source import LessonFileError

_HEADING = re.compile(r"^##\s+(?P<title>.*?)\s*(?:\{#(?P<id>[^}]*)\})?\s*$")
_ID = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table")


def to_html(text: str) -> str:
    """Markdown to HTML, raw HTML escaped.

    >>> to_html("Pods get **their own** IP.")
    '<p>Pods get <strong>their own</strong> IP.</p>\\n'
    >>> to_html("<script>x</script>")
    '<p>&lt;script&gt;x&lt;/script&gt;</p>\\n'
    """
    return _markdown.render(text)


def inline_html(text: str) -> str:
    """Markdown for one line (a task, a hint, a quiz answer): no surrounding paragraph.

    >>> inline_html("Trace from `client` to **web**")
    'Trace from <code>client</code> to <strong>web</strong>'
    """
    return _markdown.renderInline(text)


@dataclass
class Section:
    id: str
    title: str
    body: str  # Markdown
    line: int

    @property
    def html(self) -> str:
        return to_html(self.body)


@dataclass
class LessonText:
    title: str
    intro: str
    sections: dict[str, Section] = field(default_factory=dict)
    filename: str = ""

    @property
    def summary(self) -> str:
        """The introduction's first paragraph, as plain-ish Markdown."""
        return self.intro.strip().split("\n\n")[0].replace("\n", " ") if self.intro else ""

    @property
    def intro_html(self) -> str:
        return to_html(self.intro)


def read_text(filename: str, text: str) -> LessonText:
    """Split a lesson's Markdown into title, introduction and sections.

    Raises
    ------
    LessonFileError
        When the title is missing, a ``##`` heading has no ``{#id}`` or a bad one, or an id
        is used twice.

    Examples
    --------
    >>> t = read_text("l.md", "# Pods\\n\\nHello.\\n\\n## Look {#look}\\n\\nA pod.\\n")
    >>> t.title, t.summary, t.sections["look"].title, t.sections["look"].line
    ('Pods', 'Hello.', 'Look', 5)
    >>> read_text("l.md", "# Pods\\n\\n## Look\\n")
    Traceback (most recent call last):
    ...
    app.lessons.source.LessonFileError: l.md, line 3: the heading "Look" needs an id: ## Look {#some-id}
    """
    lines = text.splitlines()
    title = ""
    intro: list[str] = []
    sections: dict[str, Section] = {}
    current: Section | None = None
    body: list[str] = []
    fenced = False
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and not title and line.startswith("# "):
            title = line[2:].strip()
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            if current is not None:
                current.body = "\n".join(body).strip() + "\n"
            heading_id = match.group("id")
            if heading_id is None:
                raise LessonFileError(
                    filename,
                    number,
                    f'the heading "{match.group("title")}" needs an id: ## {match.group("title")} {{#some-id}}',
                )
            if not _ID.match(heading_id):
                raise LessonFileError(
                    filename,
                    number,
                    f'the id "{heading_id}" must be lower-case letters, digits and "-"',
                )
            if heading_id in sections:
                raise LessonFileError(filename, number, f'the id "{heading_id}" is used twice')
            current = sections[heading_id] = Section(heading_id, match.group("title"), "", number)
            body = []
            continue
        if current is None:
            intro.append(line)
        else:
            body.append(line)
    if current is not None:
        current.body = "\n".join(body).strip() + "\n"
    if not title:
        raise LessonFileError(filename, 1, "a lesson's Markdown starts with its title: # Title")
    return LessonText(title, "\n".join(intro).strip(), sections, filename)
