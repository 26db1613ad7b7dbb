"""What the lesson panel and the lesson list show, from a lesson and the workspace's notes."""

from __future__ import annotations

from typing import Any

from app.errors import PodpathError
from app.lessons import notes
from app.lessons.catalog import Catalog
from app.lessons.model import Lesson
from app.lessons.refs import expected_values
from app.lessons.session import status
from app.lessons.text import inline_html


def lesson_view(cluster: Any, lesson: Lesson, catalog: Catalog) -> dict[str, Any]:
    """The panel beside the map: where the learner is, the current step or the quiz.

    Parameters
    ----------
    cluster : Cluster
        Read only: a lesson never opened here shows as at its first step.
    lesson : Lesson
    catalog : Catalog
        For the lesson's number and the next lesson.

    Returns
    -------
    dict
        ``slug``, ``title``, ``number``, ``count``, ``steps`` (one entry per step: number,
        title, done, current), ``step`` (the current step, or None on the recap and quiz),
        ``quiz``, ``recap_html``, ``status`` and ``next_lesson``.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.lessons.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> view = lesson_view(Cluster.create(seed=1), catalog.lessons[0], catalog)
    >>> view["number"], view["step"]["number"], view["step"]["done"]
    (1, 1, False)
    """
    record = notes.all_progress(cluster).get(lesson.slug) or notes.fresh_progress()
    index = min(record["step"], len(lesson.steps))
    steps = [
        {
            "index": i,
            "number": i + 1,
            "id": s.id,
            "title": s.title,
            "done": s.id in record["done"],
            "current": i == index,
        }
        for i, s in enumerate(lesson.steps)
    ]
    step = None
    if index < len(lesson.steps):
        current = lesson.steps[index]
        shown_hints = record["hints"].get(current.id, 0)
        step = {
            "index": index,
            "number": index + 1,
            "id": current.id,
            "title": current.title,
            "text_html": current.text_html,
            "task_html": current.task_html,
            "question": current.question,
            "answer": record["answers"].get(current.id, ""),
            "hints": current.hints[:shown_hints],
            "hints_left": len(current.hints) - shown_hints,
            "hint_count": len(current.hints),
            "results": record["results"].get(current.id, []),
            "done": current.id in record["done"],
            "shown": current.id in record["shown"],
            "reveal": _expected_answer(cluster, current),
        }
    quiz_record = record.get("quiz") or {}
    chosen = quiz_record.get("answers", {})
    quiz = [
        {
            "index": qi,
            "text_html": q.text_html,
            "chosen": chosen.get(str(qi)),
            "right": chosen.get(str(qi)) is not None and q.choices[chosen[str(qi)]].correct,
            "choices": [
                {
                    "index": ci,
                    "text_html": ch.text_html,
                    "correct": ch.correct,
                    "why_html": ch.why_html,
                }
                for ci, ch in enumerate(q.choices)
            ],
        }
        for qi, q in enumerate(lesson.quiz)
    ]
    slugs = [item.slug for item in catalog.lessons]
    following = catalog.next_after(lesson.slug)
    return {
        "slug": lesson.slug,
        "title": lesson.title,
        "number": slugs.index(lesson.slug) + 1 if lesson.slug in slugs else 0,
        "count": len(slugs),
        "intro_html": lesson.intro_html,
        "recap_html": lesson.recap_html,
        "steps": steps,
        "step": step,
        "at_quiz": step is None,
        "quiz": quiz,
        "quiz_done": bool(quiz_record),
        "score": quiz_record.get("score"),
        "status": status(cluster, lesson),
        "next_lesson": {"slug": following.slug, "title": following.title} if following else None,
    }


def _expected_answer(cluster: Any, step: Any) -> str | None:
    """The answer an ``ask`` step expects, for "Reveal the answer" (an instructor's aid)."""
    for check in step.checks:
        if check.kind == "answer":
            try:
                values = expected_values(cluster, check.spec["answer"])
            except PodpathError:
                return None  # what it names does not exist yet
            return " or ".join(values) if values else None
    return None


def lesson_list(cluster: Any | None, catalog: Catalog) -> list[dict[str, Any]]:
    """The home page's list: every lesson with the learner's progress (none without a
    workspace).

    >>> from app.lessons.catalog import load_catalog
    >>> lesson_list(None, load_catalog())[0]["state"]
    'not started'
    """
    items = []
    for number, lesson in enumerate(catalog.lessons, start=1):
        state = (
            status(cluster, lesson)
            if cluster is not None
            else {"state": "not started", "done": 0, "total": len(lesson.steps)}
        )
        items.append(
            {
                "number": number,
                "slug": lesson.slug,
                "title": lesson.title,
                "summary_html": inline_html(lesson.summary),
                "state": state["state"],
                "done": state["done"],
                "total": state["total"],
                "label": progress_label(state),
            }
        )
    return items


def progress_label(state: dict[str, Any]) -> str:
    """What the lesson list says of a lesson's progress.

    >>> progress_label({"state": "in progress", "done": 3, "total": 3, "quiz": None})
    'In progress: quiz left'
    >>> progress_label({"state": "in progress", "done": 1, "total": 3, "quiz": None})
    'In progress: 1 of 3 steps'
    >>> progress_label({"state": "not started", "done": 0, "total": 3})
    '3 steps and a quiz'
    """
    if state["state"] == "complete":
        return "✓ Complete"
    if state["state"] == "not started":
        return f"{state['total']} steps and a quiz"
    if state["done"] >= state["total"]:
        return "In progress: quiz left"
    steps = f"{state['done']} of {state['total']} steps"
    if state.get("quiz"):
        return f"In progress: {steps}, quiz answered"
    return f"In progress: {steps}"


def lesson_outline(lesson: Lesson, catalog: Catalog, cluster: Any | None = None) -> dict[str, Any]:
    """What a lesson teaches, before it is started: its title, summary, introduction and
    steps' titles (ticked when done in ``cluster``), and the cluster it runs on.

    Examples
    --------
    >>> from app.lessons.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> outline = lesson_outline(catalog.get("services"), catalog)
    >>> outline["number"], outline["steps"][0]["number"], outline["state"]
    (3, 1, 'not started')
    """
    state = (
        status(cluster, lesson)
        if cluster is not None
        else {"state": "not started", "done": 0, "total": len(lesson.steps), "step": 0}
    )
    record = notes.all_progress(cluster).get(lesson.slug) if cluster is not None else None
    done = set(record["done"]) if record else set()
    slugs = [item.slug for item in catalog.lessons]
    return {
        "slug": lesson.slug,
        "title": lesson.title,
        "number": slugs.index(lesson.slug) + 1 if lesson.slug in slugs else 0,
        "count": len(slugs),
        "summary_html": inline_html(lesson.summary),
        "intro_html": lesson.intro_html,
        "steps": [
            {"number": i + 1, "title": s.title, "done": s.id in done}
            for i, s in enumerate(lesson.steps)
        ],
        "quiz_count": len(lesson.quiz),
        "cni": lesson.cni,
        "proxy_mode": lesson.proxy_mode,
        "state": state["state"],
        "label": progress_label(state),
        # Where starting resumes (1-based; past the last step is the recap and quiz).
        "resume_at": min(state["step"], len(lesson.steps)) + 1,
    }


#: How many of the objects that a lesson's start removes the panel names.
NAMED_OBJECTS = 6


def lesson_preview(cluster: Any, lesson: Lesson, catalog: Catalog) -> dict[str, Any]:
    """The panel for a lesson that is not the workspace's open one: :func:`lesson_outline`,
    and what starting it would do (``session.open_lesson`` rebuilds the cluster for the
    lesson, so every object in it now goes; the lesson open now keeps its progress).

    Read only, like :func:`lesson_view`.

    Examples
    --------
    >>> from app.cluster.apply import apply_text
    >>> from app.cluster.cluster import Cluster
    >>> from app.lessons.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> cluster = Cluster.create(seed=2)
    >>> _ = apply_text(cluster, "{'apiVersion': 'v1', 'kind': 'Pod', 'metadata': "
    ...     "{'name': 'mine'}, 'spec': {'containers': [{'name': 'c', 'image': 'nginx'}]}}")
    >>> preview = lesson_preview(cluster, catalog.get("dns"), catalog)
    >>> preview["preview"], preview["objects"], preview["object_count"], preview["open"]
    (True, ['pod/mine'], 1, None)
    """
    view = lesson_outline(lesson, catalog, cluster)
    active = notes.active(cluster)
    open_now = catalog.get(active) if active and active != lesson.slug else None
    state = cluster.state
    names = [
        _object_name(key.kind, key.namespace, key.name)
        for key in sorted(state.applied, key=lambda k: (k.kind, k.namespace, k.name))
        if key in state.objects
    ]
    config = cluster.config
    switches = [
        label
        for label, now, wanted in (
            (f"CNI plugin {lesson.cni}", config.cni, lesson.cni),
            (f"kube-proxy in {lesson.proxy_mode} mode", config.proxy_mode, lesson.proxy_mode),
        )
        if now != wanted
    ]
    view.update(
        {
            "preview": True,
            # The settings the rebuilt cluster runs with, where they differ from now's.
            "switches": " and ".join(switches),
            "open": {"slug": open_now.slug, "title": open_now.title} if open_now else None,
            "objects": names[:NAMED_OBJECTS],
            "object_count": len(names),
        }
    )
    return view


def _object_name(kind: str, namespace: str, name: str) -> str:
    """``pod/mine``, as kubectl names an object (with its namespace when not default).

    >>> _object_name("Service", "shop", "api"), _object_name("Namespace", "", "shop")
    ('service/api in shop', 'namespace/shop')
    """
    where = f" in {namespace}" if namespace and namespace != "default" else ""
    return f"{kind.lower()}/{name}{where}"
