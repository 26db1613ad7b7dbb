"""The instructor's side: start a class, the dashboard (with its live updates), the join
screen to project, hints, "everyone, start from here", the hop being shown, a student's
sandbox read-only, and the export."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.classroom.codes import shown
from app.classroom.dashboard import ago, quiz_histogram, stuck
from app.classroom.export import as_csv, student_record
from app.classroom.qr import qr_svg
from app.cluster import scenarios
from app.errors import NotFound
from app.lessons.model import Lesson
from app.render.map import build_map
from app.render.tables import workspace_view
from app.store.classes import ClassEvent, ClassRow, Seat
from app.store.classes.service import DASHBOARD_KINDS
from app.web.classroom import classes
from app.web.classroom.feed import last_event_id, sse
from app.web.rendering import is_htmx, render

router = APIRouter(include_in_schema=False)

KEY_COOKIE = "podpath_class_key"


def instructor(request: Request, class_id: str) -> ClassRow:
    """The class, when the request carries its instructor key (link or cookie).

    Raises
    ------
    NotFound, Forbidden
        No such class; no key or a wrong one.
    """
    key = request.query_params.get("key") or request.cookies.get(KEY_COOKIE)
    return classes(request).authorize(class_id, key)


def join_url(request: Request, row: ClassRow) -> str:
    return str(request.base_url).rstrip("/") + f"/join/{row.code}"


@router.get("/classes/new")
def new_class_page(request: Request) -> Response:
    context = {
        "lessons": request.app.state.lessons.lessons,
        "scenarios": scenarios.SCENARIOS,
    }
    return render(request, "class_new.html", context)


@router.post("/classes")
async def start_class(
    request: Request,
    lesson: Annotated[str | None, Form()] = None,
    scenario: Annotated[str | None, Form()] = None,
) -> Response:
    """Start a class; the answer leads to its dashboard through the instructor's link."""
    if lesson:
        row, key = await run_in_threadpool(classes(request).start, lesson=lesson)
    else:
        if scenario and scenario != scenarios.DEFAULT:
            scenarios.get(scenario)  # an unknown one is a 404/422 before anything is made
        row, key = await run_in_threadpool(classes(request).start, scenario=scenario)
    target = f"/classes/{row.id}?key={key}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _with_key(request: Request, row: ClassRow, target: str) -> Response:
    """Move the key from the link into a cookie for this class's pages, and drop it from
    the address bar (so it is not left on a projected screen)."""
    response = RedirectResponse(target, status_code=303)
    secure = "; Secure" if request.url.scheme == "https" else ""
    response.headers.append(
        "Set-Cookie",
        f"{KEY_COOKIE}={request.query_params['key']}; Path=/classes/{row.id}; "
        f"Max-Age={14 * 24 * 3600}; HttpOnly; SameSite=Lax{secure}",
    )
    return response


def student_view(seat: Seat, lesson: Lesson | None, now: float) -> dict[str, Any]:
    """One student as the dashboard shows them, as of ``now``."""
    p = seat.progress
    step, steps = p.get("step", 0), p.get("steps", 0)
    if not steps:
        where = "exploring"
    elif step >= steps:
        where = "recap and quiz"
    else:
        where = f"{step + 1}. {lesson.steps[step].title}" if lesson else str(step + 1)
    return {
        "seat": seat,
        "where": where,
        "done": len(p.get("done", [])),
        "steps": steps,
        "passed": p.get("passed", 0),
        "failures": p.get("failures", 0),
        "last_failure": (p.get("last_failure") or {}).get("message"),
        "active": ago(max(0.0, now - seat.last_active)),
        "stuck": stuck(p, now),
        "quiz": p.get("quiz"),
    }


def board_context(request: Request, row: ClassRow) -> dict[str, Any]:
    """The dashboard's students and quiz, as of now."""
    store = classes(request)
    lesson = store.lesson_of(row)
    now = store.clock()
    seats = store.seats(row)
    students = [student_view(seat, lesson, now) for seat in seats]
    return {
        "row": row,
        "lesson": lesson,
        "students": students,
        "stuck_count": sum(1 for s in students if s["stuck"]),
        "quiz": quiz_histogram([s.progress for s in seats], lesson),
        "after": store.backend.last_seq(row.id),
    }


@router.get("/classes/{class_id}")
def dashboard(request: Request, class_id: str) -> Response:
    row = instructor(request, class_id)
    if "key" in request.query_params:
        return _with_key(request, row, f"/classes/{row.id}")
    context = board_context(request, row)
    if not is_htmx(request):  # the board's redraws need no join card
        url = join_url(request, row)
        context.update(code=shown(row.code), join_url=url, qr=qr_svg(url, f"Join {row.title}"))
    return render(request, "class_dashboard.html", context, block="board")


@router.get("/classes/{class_id}/join-screen")
def join_screen(request: Request, class_id: str) -> Response:
    """The join code, address and QR code, big, for the projector."""
    row = instructor(request, class_id)
    url = join_url(request, row)
    context = {
        "row": row,
        "code": shown(row.code),
        "join_url": url,
        "qr": qr_svg(url, f"Join {row.title}"),
        "students": len(classes(request).seats(row)),
    }
    return render(request, "class_join_screen.html", context)


@router.get("/classes/{class_id}/events")
async def dashboard_events(request: Request, class_id: str) -> Response:
    """The dashboard's live updates: a student joined, moved, or stopped following."""
    row = instructor(request, class_id)
    after = last_event_id(request.headers.get("Last-Event-ID") or request.query_params.get("after"))

    def wanted(event: ClassEvent) -> bool:
        return event.kind in DASHBOARD_KINDS

    return event_stream(request, row.id, after, wanted, lambda e: sse(e))


def event_stream(request: Request, class_id: str, after: int, wanted, render_event) -> Response:
    feeds = request.app.state.class_feeds

    async def stream():
        yield "retry: 2000\n\n"
        async for event in feeds.listen(class_id, after, wanted):
            yield ": keep-alive\n\n" if event is None else render_event(event)

    headers = {"X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.post("/classes/{class_id}/hint")
async def send_hint(
    request: Request,
    class_id: str,
    hint: Annotated[str, Form(max_length=2000)] = "",
    seat: Annotated[str, Form(max_length=64)] = "",
    to: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A hint to one student (``seat``, or ``to`` by name) or, with neither, to everyone."""
    row = instructor(request, class_id)
    store = classes(request)
    if to.strip() and not seat:
        seat = store.seat_named(row, to).id
    await run_in_threadpool(store.hint, row, hint, seat or None)
    sent_to = store.seat(row, seat).name if seat else "everyone"
    board = await run_in_threadpool(board_context, request, row)  # the class's seats: off the loop
    context = {**board, "sent": {"text": hint.strip(), "to": sent_to}}
    if is_htmx(request):
        return await run_in_threadpool(
            render, request, "class_dashboard.html", context, "hint_form"
        )
    return RedirectResponse(f"/classes/{row.id}", status_code=303)


@router.post("/classes/{class_id}/hop")
async def show_hop(
    request: Request,
    class_id: str,
    trace: Annotated[int, Form(ge=0)],
    hop: Annotated[int, Form(ge=0, le=999)],
) -> Response:
    """The hop of the teacher's trace on screen now (sent by the teacher's page as they step)."""
    row = instructor(request, class_id)
    await run_in_threadpool(classes(request).hop, row, trace, hop)
    return Response(status_code=204)


@router.post("/classes/{class_id}/push")
async def push_state(request: Request, class_id: str) -> Response:
    """Everyone, start from here."""
    row = instructor(request, class_id)
    await run_in_threadpool(classes(request).push_state, row)
    target = f"/w/{row.teacher_workspace}" + (f"/lessons/{row.lesson}" if row.lesson else "")
    if is_htmx(request):
        return render(request, "_class_pushed.html", {"row": row})
    return RedirectResponse(target, status_code=303)


@router.get("/classes/{class_id}/students/{seat_id}")
def student_sandbox(request: Request, class_id: str, seat_id: str) -> Response:
    """A student's sandbox, read-only: their map, lesson progress and objects."""
    row = instructor(request, class_id)
    store = classes(request)
    seat = store.seat(row, seat_id)

    def read(cluster: Any) -> dict[str, Any]:
        return {"map": build_map(cluster), "view": workspace_view(cluster)}

    try:
        context = store.workspaces.read(seat.workspace, read)
    except NotFound:
        raise NotFound(f"{seat.name}'s sandbox is gone (unused for too long)") from None
    lesson = store.lesson_of(row)
    context.update(row=row, seat=seat, lesson=lesson)
    context["student"] = student_view(seat, lesson, store.clock())
    return render(request, "class_student.html", context)


@router.get("/classes/{class_id}/export.{fmt}")
def export(request: Request, class_id: str, fmt: str) -> Response:
    """The class's progress as CSV (one row per student and step) or JSON."""
    row = instructor(request, class_id)
    if fmt not in ("csv", "json"):
        raise NotFound(f'exports "{fmt[:10]}" not found: use export.csv or export.json')
    store = classes(request)
    lesson = store.lesson_of(row)
    records = [student_record(s.name, s.joined, s.progress, lesson) for s in store.seats(row)]
    stem = f"podpath-class-{row.code}"
    disposition = {"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'}
    if fmt == "csv":
        return Response(as_csv(records), media_type="text/csv; charset=utf-8", headers=disposition)
    body = {
        "class": {"code": row.code, "title": row.title, "lesson": row.lesson},
        "students": records,
    }
    return Response(json.dumps(body, indent=2), media_type="application/json", headers=disposition)
