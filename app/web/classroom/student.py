"""The student's side: join with a code and a name, then follow the teacher on one's own
sandbox (or stop following), and receive hints."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.classroom.codes import normalise, shown
from app.classroom.follow import catch_up_spread, follow_source
from app.cluster.cluster import Cluster
from app.errors import Forbidden, PodpathError
from app.network.trace.memo import remembered_trace
from app.render.stage import hop_marks
from app.store.classes import ClassEvent, class_note
from app.store.classes.following import FOLLOW_KINDS
from app.web.classroom import class_bar, classes
from app.web.classroom.feed import last_event_id, sse
from app.web.classroom.teacher import event_stream
from app.web.rendering import CLUSTER_CHANGED, is_htmx, render, render_parts

router = APIRouter(include_in_schema=False)


@router.get("/join")
def join_page(
    request: Request, code: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    """Type the join code (the QR code leads straight to the next page)."""
    if code:
        typed = normalise(code)
        if typed is not None:
            classes(request).by_code(typed)  # 404 with the code when no class has it
            return RedirectResponse(f"/join/{typed}", status_code=303)
        context = {"code": code, "problem": "A join code is six letters and digits, like ABC-234."}
        return render(request, "class_join.html", context, status_code=422)
    return render(request, "class_join.html", {})


@router.get("/join/{code}")
def name_page(request: Request, code: str) -> Response:
    row = classes(request).by_code(code)
    return render(request, "class_join.html", {"row": row, "shown": shown(row.code)})


@router.post("/join/{code}")
async def join(
    request: Request, code: str, name: Annotated[str, Form(max_length=400)] = ""
) -> Response:
    """Take a seat: the student's own copy of the class's cluster, then their sandbox."""
    store = classes(request)
    row = store.by_code(code)
    try:
        seat = await run_in_threadpool(store.join, row, name)
    except PodpathError as error:
        context = {"row": row, "shown": shown(row.code), "name": name, "error": error}
        return render(request, "class_join.html", context, status_code=error.status)
    target = f"/w/{seat.workspace}" + (f"/lessons/{row.lesson}" if row.lesson else "")
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _student(request: Request, workspace_id: str) -> dict[str, Any]:
    note = classes(request).workspaces.read(workspace_id, class_note)
    if not note or note.get("role") != "student":
        raise Forbidden(f'workspaces "{workspace_id[:80]}" is not a student\'s sandbox in a class')
    return note


@router.get("/w/{workspace_id}/class/events")
async def student_events(request: Request, workspace_id: str) -> Response:
    """What the student's page hears: the teacher moved (step, trace, hop, starting point),
    and hints for everyone or for this student."""
    note = await run_in_threadpool(_student, request, workspace_id)
    after = last_event_id(request.headers.get("Last-Event-ID") or request.query_params.get("after"))
    seat = note["seat"]

    def wanted(event: ClassEvent) -> bool:
        if event.kind == "hint":
            return event.target in (None, seat)
        return event.kind in FOLLOW_KINDS

    env = request.app.state.templates.env

    def as_sse(event: ClassEvent) -> str:
        if event.kind == "hint":
            html = env.get_template("_class_hint.html").render(hint=event.data)
            return sse(event, html)
        if event.kind == "hop":
            return sse(event)
        # The page asks for its own view of the teacher's move, within this spread.
        spread = catch_up_spread(request.app.state.class_feeds.listening(note["id"]))
        return sse(event, json.dumps({"spread": spread}))

    return event_stream(request, note["id"], after, wanted, as_sse)


@router.post("/w/{workspace_id}/class/follow")
async def catch_up(
    request: Request,
    workspace_id: str,
    shown_trace: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Bring the student's sandbox to where the teacher is and show it: the lesson step, and
    the teacher's last trace run on the student's own cluster, at the teacher's hop.

    ``shown_trace`` is the teacher's trace the page shows already (its number in the class's
    event log): an answer redraws only what changed (the step; the map when objects changed;
    the trace when it is a new one, or cleared when the cluster changed under it), since a
    whole class asks each time the teacher moves.
    """
    async with request.app.state.class_feeds.catching_up:
        # All of it in one trip to the thread pool: the store, the trace, the drawing.
        # One look at the student's sandbox: read, brought to the teacher's step, drawn.
        with request.app.state.workspaces.one_look():
            return await run_in_threadpool(_caught_up, request, workspace_id, shown_trace)


def _caught_up(request: Request, workspace_id: str, shown_trace: str) -> Response:
    from app.web.sandbox import page_context  # sandbox imports this package

    store = classes(request)
    note = _student(request, workspace_id)
    follow = store.follow_state(note["id"])
    done = store.catch_up(workspace_id, follow)
    # A trace the page has not shown is run on the student's cluster. One it shows already
    # stays, unless the move changed the cluster under it: then the trace area is cleared,
    # as the teacher's own page clears it when a step changes the cluster.
    new_trace = follow.trace is not None and shown_trace != str(follow.trace.seq)

    def build(cluster: Cluster) -> dict[str, Any]:
        # The student's trace stays on the teacher's hop: it does not play by itself.
        extra: dict[str, Any] = {"changed": True, "follow_hop": follow.hop_index, "autoplay": False}
        if done["state"]:
            extra["lesson_note"] = (
                "The teacher shared a new starting point: your sandbox is now a copy of it."
            )
        if follow.trace is None:
            return extra
        asked = follow.trace.data
        source = follow_source(cluster, asked["from"])
        method, headers = asked.get("method", "GET"), asked.get("headers") or {}
        query = {
            "from": source or asked["from"],
            "to": asked["to"],
            "seed": asked.get("seed", 0),
            "method": method,
            "headers": "\n".join(f"{name}: {value}" for name, value in headers.items()),
            "ipFamily": asked.get("ipFamily", ""),  # the bar's family select says it
        }
        extra.update(trace_query=query, follow_trace=follow.trace.seq)
        if source is None:
            extra["follow_missing"] = asked["from"]
            return extra
        if not new_trace:
            return extra
        try:
            # The whole class asks for this trace, and a student who traced it already (or
            # asks again after a reload) has it on this state of the cluster. The teacher's
            # family goes too: a cluster switched to the other family alone answers as a
            # learner's own trace asking for it there does.
            _, extra["trace"] = remembered_trace(
                cluster,
                source,
                asked["to"],
                int(asked.get("seed", 0)),
                method,
                headers,
                ip_family=asked.get("ipFamily") or None,
            )
        except PodpathError as error:
            extra["trace_error"] = error
            return extra
        # Not the student's work for a Check: no activity is recorded.
        return extra

    context = page_context(request, workspace_id, "trace", False, build)
    if context.get("classroom"):
        context["classroom"]["behind"] = False  # caught up now: no catch-up on load again
    if "trace" in context:
        context["marks"] = hop_marks(context["map"], context["trace"])
    if not is_htmx(request):
        return render(request, "workspace.html", context)
    parts = {"class_status": "class-status"}
    if context.get("lesson") and (done["moved"] or done["rebuilt"]):
        parts["lesson_panel"] = "lesson"
    if done["rebuilt"]:
        parts.update({block: block.replace("_", "-") for block in CLUSTER_CHANGED})
    if new_trace or done["rebuilt"]:
        parts["trace_result"] = "trace-result"
    if new_trace:  # the trace bar says where the request went, as after one's own trace
        parts["trace_bar"] = "trace-bar"
    return render_parts(request, "workspace.html", context, parts)


@router.post("/w/{workspace_id}/class/following")
async def set_following(
    request: Request, workspace_id: str, on: Annotated[bool, Form()] = True
) -> Response:
    """Stop following the teacher, or follow again (which catches up at once)."""
    store = classes(request)
    note = await run_in_threadpool(_student, request, workspace_id)
    row = store.get(note["id"])
    seat = await run_in_threadpool(store.seat, row, note["seat"])
    await run_in_threadpool(store.set_following, row, seat, on)
    context = {
        "classroom": await run_in_threadpool(class_bar, request, note),
        "workspace_id": workspace_id,
        "follow_now": on,  # following again catches up at once
    }
    if is_htmx(request):
        return await run_in_threadpool(render, request, "workspace.html", context, "class_status")
    return RedirectResponse(f"/w/{workspace_id}", status_code=303)
