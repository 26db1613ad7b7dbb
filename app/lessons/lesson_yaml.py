"""Reading a lesson's ``lesson.yaml``: its order, its cluster block, its setup, its steps
(task, question, checks, hints, solution and alternatives) and its quiz, with the titles and
text of the Markdown beside them. Every shape is checked here, at load time, so a mistake in
a lesson file is reported with its line when the app starts; the checks themselves are read
by :mod:`app.lessons.check_kinds`."""

from __future__ import annotations

from typing import Any

from app.cluster import constants as c
from app.lessons.check_kinds import read_check, read_command, read_value
from app.lessons.lesson import Action, Check, Choice, Lesson, Question, Step
from app.lessons.source import LessonFileError, Located, Path, dotted, only, require
from app.lessons.text import LessonText, Section, inline_html

#: Actions a setup or a solution is made of.
ACTION_KEYS = {
    "apply",
    "delete",
    "scale",
    "switch",
    "trace",
    "traffic",
    "dns",
    "compare",
    "answer",
    "run",
}


def parse_lesson(slug: str, order: int, doc: Located, text: LessonText, source: str) -> Lesson:
    """Build a :class:`Lesson` from its YAML and Markdown, checking every shape.

    Parameters
    ----------
    slug : str
        The lesson's name in addresses (its folder's name without the number).
    order : int
        Its place in the list (the folder's number), unless ``order:`` says otherwise.
    doc : Located
        ``lesson.yaml`` as read by :func:`app.lessons.source.read_yaml`.
    text : LessonText
        ``lesson.md`` as read by :func:`app.lessons.text.read_text`: one section per step
        id, and the recap.
    source : str
        The folder it was read from, as errors and the lesson list name it.

    Returns
    -------
    Lesson

    Raises
    ------
    LessonFileError
        Naming the file and line of the first problem found.

    Examples
    --------
    >>> from app.lessons.source import read_yaml
    >>> from app.lessons.text import read_text
    >>> text = read_text("lesson.md", "# Hello\\n\\nHi.\\n\\n## One {#one}\\n\\nGo.\\n\\n"
    ...                  "## Recap {#recap}\\n\\nDone.\\n")
    >>> yaml = '''
    ... steps:
    ...   - id: one
    ...     task: Trace from `client` to `web`.
    ...     checks: [{traced: {to: web}}]
    ...     solution: [{trace: {from: client, to: web}}]
    ... quiz:
    ...   - question: Which?
    ...     choices:
    ...       - {answer: This, correct: true, why: Yes.}
    ...       - {answer: That, why: No.}
    ... '''
    >>> lesson = parse_lesson("hello", 1, read_yaml("lesson.yaml", yaml), text, "x/01-hello")
    >>> lesson.title, lesson.cni, [s.id for s in lesson.steps], lesson.steps[0].checks[0].kind
    ('Hello', 'flannel', ['one'], 'traced')
    >>> bad = read_yaml("lesson.yaml", yaml.replace("steps:", "cluster: {workers: 11}\\nsteps:"))
    >>> parse_lesson("hello", 1, bad, text, "x/01-hello")
    Traceback (most recent call last):
    ...
    app.lessons.source.LessonFileError: lesson.yaml, line 2: cluster.workers: must be from 1 to 10
    """
    data = require(doc, doc.data, (), dict, "a mapping")
    only(doc, data, (), {"order", "cluster", "setup", "steps", "quiz"})
    order = require(doc, data.get("order", order), ("order",), int, "a whole number")
    cluster = require(doc, data.get("cluster", {}), ("cluster",), dict, "a mapping")
    only(doc, cluster, ("cluster",), {"cni", "proxy_mode", "workers", "seed", "ip_family"})
    cni = cluster.get("cni", "flannel")
    if cni not in c.CNI_PLUGINS:
        raise doc.error(
            ("cluster", "cni"), f"cluster.cni: must be one of {', '.join(c.CNI_PLUGINS)}"
        )
    proxy_mode = cluster.get("proxy_mode", "iptables")
    if proxy_mode not in c.PROXY_MODES:
        raise doc.error(
            ("cluster", "proxy_mode"),
            f"cluster.proxy_mode: must be one of {', '.join(c.PROXY_MODES)}",
        )
    ip_family = cluster.get("ip_family", "ipv4")
    if ip_family not in c.IP_FAMILY_MODES or (ip_family != "ipv4" and cni not in c.IPV6_PLUGINS):
        raise doc.error(
            ("cluster", "ip_family"),
            f"cluster.ip_family: must be one of {', '.join(c.IP_FAMILY_MODES)}, "
            f"and ipv4 with a plugin other than {' or '.join(c.IPV6_PLUGINS)}",
        )
    workers = require(doc, cluster.get("workers", 2), ("cluster", "workers"), int, "a whole number")
    if not 1 <= workers <= 10:
        raise doc.error(("cluster", "workers"), "cluster.workers: must be from 1 to 10")
    seed = require(doc, cluster.get("seed", order), ("cluster", "seed"), int, "a whole number")
    steps_data = require(doc, data.get("steps"), ("steps",), list, "a list of steps")
    if not steps_data:
        raise doc.error(("steps",), "steps: a lesson needs at least one step")
    steps = [_step(doc, text, item, ("steps", i)) for i, item in enumerate(steps_data)]
    ids = [s.id for s in steps]
    for i, step_id in enumerate(ids):
        if step_id in ids[:i]:
            raise doc.error(("steps", i, "id"), f'steps[{i}].id: "{step_id}" is used twice')
    for section_id, section in text.sections.items():
        if section_id != "recap" and section_id not in ids:
            raise _md_error(text, section, f'no step in lesson.yaml has the id "{section_id}"')
    if "recap" not in text.sections:
        raise doc.error((), f'{slug}: the Markdown needs a closing "## Recap {{#recap}}" section')
    quiz_data = require(doc, data.get("quiz"), ("quiz",), list, "a list of questions")
    if not quiz_data:
        raise doc.error(("quiz",), "quiz: a lesson ends with at least one question")
    return Lesson(
        slug=slug,
        order=order,
        title=text.title,
        summary=text.summary,
        intro_html=text.intro_html,
        recap_html=text.sections["recap"].html,
        cni=cni,
        proxy_mode=proxy_mode,
        workers=workers,
        seed=seed,
        ip_family=ip_family,
        setup=_actions(doc, data.get("setup", []), ("setup",)),
        steps=steps,
        quiz=[_question(doc, q, ("quiz", i)) for i, q in enumerate(quiz_data)],
        source=source,
    )


def _md_error(text: LessonText, section: Section, problem: str) -> LessonFileError:
    return LessonFileError(text.filename, section.line, problem)


def _step(doc: Located, text: LessonText, data: Any, path: Path) -> Step:
    data = require(doc, data, path, dict, "a mapping")
    only(
        doc,
        data,
        path,
        {"id", "task", "ask", "setup", "checks", "hints", "solution", "alternatives"},
    )
    step_id = require(doc, data.get("id"), (*path, "id"), str, "the id of a ## section")
    section = text.sections.get(step_id)
    if section is None:
        raise doc.error(
            (*path, "id"),
            f'{dotted((*path, "id"))}: the Markdown has no section "## ... {{#{step_id}}}"',
        )
    task = require(doc, data.get("task"), (*path, "task"), str, "one sentence saying what to do")
    question = data.get("ask")
    if question is not None:
        require(doc, question, (*path, "ask"), str, "a question")
    checks_data = require(doc, data.get("checks"), (*path, "checks"), list, "a list of checks")
    if not checks_data:
        raise doc.error((*path, "checks"), f"{dotted((*path, 'checks'))}: a step needs a check")
    checks = [read_check(doc, item, (*path, "checks", i)) for i, item in enumerate(checks_data)]
    if any(ch.kind == "answer" for ch in checks) and question is None:
        raise doc.error((*path, "checks"), f"{dotted(path)}: an answer check needs an ask:")
    # An answer check says what was asked when an answer is wrong and no explanation fits.
    checks = [
        Check(ch.kind, {**ch.spec, "ask": question}, ch.line) if ch.kind == "answer" else ch
        for ch in checks
    ]
    hints = require(doc, data.get("hints", []), (*path, "hints"), list, "a list of hints")
    for i, hint in enumerate(hints):
        require(doc, hint, (*path, "hints", i), str, "text")
    solution = _actions(doc, data.get("solution"), (*path, "solution"))
    if not solution:
        raise doc.error((*path, "solution"), f"{dotted(path)}: a step needs a solution")
    alternatives = _alternatives(doc, data.get("alternatives", []), (*path, "alternatives"))
    return Step(
        id=step_id,
        title=section.title,
        text_html=section.html,
        task_html=inline_html(task),
        question=question,
        setup=_actions(doc, data.get("setup", []), (*path, "setup")),
        checks=checks,
        hints=[inline_html(h) for h in hints],
        solution=solution,
        line=doc.line(path),
        alternatives=alternatives,
    )


def _alternatives(doc: Located, data: Any, path: Path) -> list[list[Action]]:
    """A step's further reference solutions: a list, each written as ``solution:`` is."""
    require(doc, data, path, list, "a list of solutions (each a list of actions)")
    out = []
    for i, item in enumerate(data):
        require(doc, item, (*path, i), (list, str), "a solution: a list of actions")
        actions = _actions(doc, item, (*path, i))
        if not actions:
            raise doc.error((*path, i), f"{dotted((*path, i))}: an alternative needs an action")
        out.append(actions)
    return out


def _actions(doc: Located, data: Any, path: Path) -> list[Action]:
    if data is None:
        return []
    if isinstance(data, str):  # a manifest on its own
        return [Action("apply", data, doc.line(path))]
    require(doc, data, path, list, "a list of actions")
    actions = []
    for i, item in enumerate(data):
        item_path = (*path, i)
        require(doc, item, item_path, dict, f"one of: {', '.join(sorted(ACTION_KEYS))}")
        if len(item) != 1 or next(iter(item)) not in ACTION_KEYS:
            raise doc.error(
                item_path,
                f"{dotted(item_path)}: an action is one of: {', '.join(sorted(ACTION_KEYS))}",
            )
        kind, value = next(iter(item.items()))
        if kind == "answer":
            read_value(doc, value, (*item_path, kind))
        elif kind == "run":
            value = {"ran": value} if isinstance(value, str) else value
            require(doc, value, (*item_path, kind), dict, "a command, or {ran, in or on}")
            only(doc, value, (*item_path, kind), {"ran", "in", "on"})
            read_command(doc, value, (*item_path, kind))
        elif kind in ("apply", "delete"):
            require(doc, value, (*item_path, kind), str, "text")
        else:
            require(doc, value, (*item_path, kind), dict, "a mapping")
        actions.append(Action(kind, value, doc.line(item_path)))
    return actions


def _question(doc: Located, data: Any, path: Path) -> Question:
    data = require(doc, data, path, dict, "a mapping with question and choices")
    only(doc, data, path, {"question", "choices"})
    text = require(doc, data.get("question"), (*path, "question"), str, "text")
    choices_data = require(doc, data.get("choices"), (*path, "choices"), list, "a list")
    choices = []
    for i, item in enumerate(choices_data):
        cp = (*path, "choices", i)
        require(doc, item, cp, dict, "a mapping with answer, why and (for the right one) correct")
        only(doc, item, cp, {"answer", "correct", "why"})
        choices.append(
            Choice(
                inline_html(require(doc, item.get("answer"), (*cp, "answer"), str, "text")),
                require(doc, item.get("correct", False), (*cp, "correct"), bool, "true or false"),
                inline_html(require(doc, item.get("why"), (*cp, "why"), str, "an explanation")),
            )
        )
    if len(choices) < 2 or sum(ch.correct for ch in choices) != 1:
        raise doc.error(path, f"{dotted(path)}: needs two or more choices, exactly one correct")
    return Question(inline_html(text), choices)
