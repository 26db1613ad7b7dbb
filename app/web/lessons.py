"""Lessons in the browser: ``/lessons/<slug>`` shows a lesson, and ``/w/{id}/lessons/<slug>``
is that lesson beside the sandbox's map.

No GET changes anything: a link to a lesson (from another site too) only shows it. Starting
one is a POST: ``POST /lessons/<slug>`` (the home page's list and the lesson's start page)
starts it in the learner's lesson workspace, made on first use, and ``POST
/w/{id}/lessons/<slug>/start`` starts it in that workspace (the panel's Start button, the
next lesson after a quiz).

The learner's lesson workspace is remembered in a cookie, so the home page can show their
progress and each lesson resumes where they left it. Every action (start, check, hint, Show
me, moving between steps, the quiz) is a plain form; htmx swaps the lesson panel, and the
map and trace when the cluster changed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.cluster.cluster import Cluster
from app.errors import NotFound
from app.lessons import notes, session
from app.lessons.actions import Done
from app.lessons.model import Lesson
from app.render.lesson import lesson_outline, lesson_preview, lesson_view
from app.render.sandbox import with_shares
from app.render.stage import hop_marks
from app.web.rendering import CLUSTER_CHANGED, is_htmx, render

router = APIRouter(include_in_schema=False)

#: The cookie naming the learner's lesson workspace (its id is the only key to it).
COOKIE = "podpath_lessons"


def _lesson(request: Request, slug: str) -> Lesson:
    lesson = request.app.state.lessons.get(slug)
    if lesson is None:
        raise NotFound(f'lessons "{slug[:80]}" not found')
    return lesson


def learner_workspace(request: Request) -> str | None:
    """The learner's lesson workspace from their cookie, if it still exists."""
    workspace_id = request.cookies.get(COOKIE)
    store = request.app.state.workspaces
    if workspace_id and store.exists(workspace_id):
        return workspace_id
    return None


def active_lesson_view(request: Request, cluster: Cluster) -> dict[str, Any] | None:
    """The open lesson's panel for a sandbox page, or None when no lesson is open."""
    slug = notes.active(cluster)
    lesson = request.app.state.lessons.get(slug) if slug else None
    return lesson_view(cluster, lesson, request.app.state.lessons) if lesson else None


def record_activity(request: Request, workspace_id: str, context: dict[str, Any]) -> None:
    """Remember a trace, lookup or batch of requests the learner ran while a lesson is open,
    for the step's checks to read."""
    entry = context.pop("activity", None)
    if entry is None or context.get("lesson") is None:
        return

    def remember(cluster: Cluster) -> None:
        if notes.active(cluster):
            notes.record(cluster, entry)

    request.app.state.workspaces.change(workspace_id, remember)


@router.get("/lessons")
def lessons_index() -> Response:
    return RedirectResponse("/#lessons", status_code=303)


def _lesson_url(workspace_id: str, slug: str, present: bool = False, resumed: bool = False) -> str:
    query = "&".join(q for q, on in (("present=1", present), ("resumed=1", resumed)) if on)
    return f"/w/{workspace_id}/lessons/{slug}" + (f"?{query}" if query else "")


#: What the panel says when a lesson resumed on a rebuilt cluster (``session.open_lesson``).
RESUMED = "Welcome back: the cluster was rebuilt as the earlier steps of this lesson leave it."


@router.get("/lessons/{slug}")
def lesson_start_page(
    request: Request, slug: str, present: Annotated[bool, Query()] = False
) -> Response:
    """Show a lesson. With a lesson workspace (the cookie), it is shown there, beside the map;
    without one, a page says what the lesson teaches, with a button to start it. Nothing is
    made or changed here: starting is :func:`start_lesson`."""
    lesson = _lesson(request, slug)
    workspace_id = learner_workspace(request)
    if workspace_id is not None:
        target = _lesson_url(workspace_id, slug, present=present)
        return RedirectResponse(target, status_code=303)
    context = {
        "lesson": lesson_outline(lesson, request.app.state.lessons),
        "present": present,
    }
    response = render(request, "lesson_start.html", context)
    return response


@router.post("/lessons/{slug}")
async def start_lesson(
    request: Request, slug: str, present: Annotated[bool, Form()] = False
) -> Response:
    """Start (or resume) a lesson in the learner's lesson workspace, made on first use and
    remembered in the cookie, then show it beside the map."""
    lesson = _lesson(request, slug)
    store = request.app.state.workspaces
    workspace_id = learner_workspace(request)
    if workspace_id is None:
        config = request.app.state.settings.cluster_config()
        workspace_id, _ = await run_in_threadpool(store.create, config)
    note = await run_in_threadpool(
        store.change, workspace_id, lambda cluster: session.open_lesson(cluster, lesson)
    )
    target = _lesson_url(workspace_id, slug, present=present, resumed=note is not None)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        workspace_id,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _panel(
    request: Request, workspace_id: str, extra: dict[str, Any], also: tuple[str, ...] = ()
) -> Response:
    """The page with the lesson panel (for htmx: the panel, and the map, head and trace when
    the cluster changed, and the blocks named in ``also``)."""
    from app.web.sandbox import page_context  # sandbox imports this module

    context = page_context(request, workspace_id, "trace", False)
    context.update(extra)
    if "trace" in context:
        context["marks"] = hop_marks(context["map"], context["trace"])
    # A lesson's setup or solution may switch the CNI plugin: the head shows the settings.
    if extra.get("changed"):
        also = (*CLUSTER_CHANGED, "trace_result", *also)
    return render(request, "workspace.html", context, block="lesson_panel", also=also)


@router.get("/w/{workspace_id}/lessons/{slug}")
async def lesson_page(
    request: Request, workspace_id: str, slug: str, resumed: Annotated[bool, Query()] = False
) -> Response:
    """The lesson beside the map. The workspace's open lesson shows where the learner is;
    another lesson shows what it teaches and a button to start it (:func:`start_here`), and
    the workspace stays as it is."""
    from app.web.sandbox import page_context  # sandbox imports this module

    lesson = _lesson(request, slug)
    catalog = request.app.state.lessons

    def preview(cluster: Cluster) -> dict[str, Any]:
        if notes.active(cluster) == slug:
            return {}
        return {"lesson_preview": lesson_preview(cluster, lesson, catalog)}

    context = await run_in_threadpool(page_context, request, workspace_id, "trace", False, preview)
    if "lesson_preview" in context:
        context["lesson"] = context.pop("lesson_preview")
    elif resumed and context["lesson"]["status"]["step"] > 0:
        context["lesson_note"] = RESUMED
    # Drawn off the event loop, as every answer here that reads a workspace: a lecture hall's
    # pages would otherwise hold up each other's streams and requests.
    return await run_in_threadpool(render, request, "workspace.html", context, "lesson_panel")


@router.post("/w/{workspace_id}/lessons/{slug}/start")
async def start_here(request: Request, workspace_id: str, slug: str) -> Response:
    """Start (or resume) a lesson in this workspace: the cluster is rebuilt for it unless it
    is the open lesson already. For htmx: the panel, the map, head, trace and side panel,
    the page's title and its address; otherwise a redirect to the lesson's page."""
    lesson = _lesson(request, slug)
    note = await run_in_threadpool(
        request.app.state.workspaces.change,
        workspace_id,
        lambda cluster: session.open_lesson(cluster, lesson),
    )
    if not is_htmx(request):
        target = _lesson_url(workspace_id, slug, resumed=note is not None)
        return RedirectResponse(target, status_code=303)
    extra = {"lesson_note": note, "changed": True, "retitle": True}
    response = await run_in_threadpool(_panel, request, workspace_id, extra, ("panel",))
    response.headers["HX-Push-Url"] = _lesson_url(workspace_id, slug)
    return response


def _act(request: Request, workspace_id: str, lesson: Lesson, act: Any) -> Any:
    def run(cluster: Cluster) -> Any:
        session.open_lesson(cluster, lesson)  # a form from another lesson's page
        return act(cluster)

    return request.app.state.workspaces.change(workspace_id, run)


def _done_context(done: Done) -> dict[str, Any]:
    extra: dict[str, Any] = {"lesson_done": done.lines, "changed": True}
    if done.trace:
        extra["trace"] = done.trace["result"]
        extra["trace_query"] = done.trace["query"]
    if done.compare:
        extra["compare"] = done.compare
    if done.traffic:
        extra["traffic"] = with_shares(done.traffic["result"])
        extra["trace_query"] = done.traffic["query"]
    return extra


@router.post("/w/{workspace_id}/lessons/{slug}/check")
async def check_step(
    request: Request, workspace_id: str, slug: str, answer: Annotated[str | None, Form()] = None
) -> Response:
    lesson = _lesson(request, slug)

    def act(cluster: Cluster) -> Any:
        if answer is not None:
            return session.answer(cluster, lesson, answer)
        return session.check(cluster, lesson)

    with request.app.state.workspaces.one_look():  # saved, then drawn: no second look
        await run_in_threadpool(_act, request, workspace_id, lesson, act)
        return await run_in_threadpool(_panel, request, workspace_id, {})


@router.post("/w/{workspace_id}/lessons/{slug}/hint")
async def show_hint(request: Request, workspace_id: str, slug: str) -> Response:
    lesson = _lesson(request, slug)
    await run_in_threadpool(_act, request, workspace_id, lesson, lambda c: session.hint(c, lesson))
    return await run_in_threadpool(_panel, request, workspace_id, {})


@router.post("/w/{workspace_id}/lessons/{slug}/show")
async def show_me(request: Request, workspace_id: str, slug: str) -> Response:
    """Do the step for the learner, then show what changed: the map, and the trace playing."""
    lesson = _lesson(request, slug)
    done = await run_in_threadpool(
        _act, request, workspace_id, lesson, lambda c: session.show_me(c, lesson)
    )
    return await run_in_threadpool(
        _panel, request, workspace_id, {**_done_context(done), "autoplay": True}
    )


@router.post("/w/{workspace_id}/lessons/{slug}/step")
async def go_to_step(
    request: Request, workspace_id: str, slug: str, step: Annotated[int, Form()]
) -> Response:
    lesson = _lesson(request, slug)
    done = await run_in_threadpool(
        _act, request, workspace_id, lesson, lambda c: session.go_to(c, lesson, step)
    )
    extra = _done_context(done)
    if done.lines:
        extra["lesson_note"] = (
            "The steps you skipped were done for you, so this one starts from the cluster it expects."
        )
    return await run_in_threadpool(_panel, request, workspace_id, extra)


@router.post("/w/{workspace_id}/lessons/{slug}/quiz")
async def answer_quiz(request: Request, workspace_id: str, slug: str) -> Response:
    lesson = _lesson(request, slug)
    form = await request.form()
    chosen: dict[int, int] = {}
    for key, value in form.items():
        if key.startswith("q") and key[1:].isdigit() and str(value).isdigit():
            chosen[int(key[1:])] = int(str(value))
    await run_in_threadpool(
        _act, request, workspace_id, lesson, lambda c: session.answer_quiz(c, lesson, chosen)
    )
    return await run_in_threadpool(_panel, request, workspace_id, {})


@router.post("/w/{workspace_id}/lessons/{slug}/restart")
async def restart(request: Request, workspace_id: str, slug: str) -> Response:
    """Start the lesson again from its first step, on a fresh cluster."""
    lesson = _lesson(request, slug)
    await run_in_threadpool(
        request.app.state.workspaces.change,
        workspace_id,
        lambda cluster: session.start(cluster, lesson),
    )
    target = f"/w/{workspace_id}/lessons/{slug}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post("/w/{workspace_id}/lessons/leave")
async def leave(request: Request, workspace_id: str) -> Response:
    """Close the lesson panel: the sandbox stays as it is, the progress is kept."""
    await run_in_threadpool(
        request.app.state.workspaces.change,
        workspace_id,
        lambda cluster: notes.set_active(cluster, None),
    )
    return RedirectResponse(f"/w/{workspace_id}", status_code=303)
