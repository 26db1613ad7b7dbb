"""The sandbox's Terminal tab, ``/w/{id}/terminal``: a command line in, the interpreter's
answer out (:mod:`app.terminal`).

A command that changes the cluster runs as a change of the workspace (saved, undoable, the
map redrawn); any other as a read. A line the replay log keeps (:mod:`app.terminal.replay`,
saved with the workspace, no part of its undo) is saved with the change, or with the lesson's
records when a lesson is open, or else right after the answer is sent. A command that sent a
request brings its trace along, in the trace bar's own block, so the page plays it on the map
as it plays any trace: both drawn from the state the command ran on, in the same trip to the
store. The session (where the shell is) travels with the form, so the server keeps no
terminal state.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from app.cluster.cluster import Cluster
from app.lessons import notes
from app.lessons.activity import terminal_records
from app.render.stage import hop_marks
from app.store.classes import class_note
from app.terminal import Reply, Session, changes_cluster, replay, run
from app.terminal.complete import completions
from app.web.rendering import CLUSTER_CHANGED, is_htmx, render
from app.web.sandbox import map_view, page_context, view_context

log = logging.getLogger("podpath")

router = APIRouter(include_in_schema=False)

#: The longest command line (a pasted heredoc of manifests included) the terminal takes.
MAX_LINE = 100_000
WELCOME = (
    "Podpath terminal: kubectl against this sandbox, from your machine outside the cluster.\n"
    "Try: kubectl get pods -o wide · kubectl exec -it POD -- sh (then curl -v http://SERVICE) · "
    "kubectl debug node/worker-1 -it --image=busybox · help\n"
)


def _terminal(cluster: Cluster, session: Session) -> dict[str, Any]:
    return {
        "session": session.to_fields(),
        "prompt": session.prompt(),
        # Once per state of the cluster (names change only when objects do). In a <script>
        # element: "<" escaped so no text can close it.
        "complete": cluster.state.memoised(
            "terminal.completions",
            lambda: json.dumps(completions(cluster)).replace("<", "\\u003c"),
        ),
    }


@router.get("/w/{workspace_id}/terminal")
def terminal_tab(
    request: Request,
    workspace_id: str,
    system: Annotated[bool, Query()] = False,
    ns: Annotated[str | None, Query()] = None,
) -> Response:
    def build(cluster: Cluster) -> dict[str, Any]:
        return {"terminal": _terminal(cluster, Session()), "terminal_welcome": WELCOME}

    context = page_context(request, workspace_id, "terminal", system, build, ns or None)
    return render(request, "workspace.html", context, block="panel")


@router.post("/w/{workspace_id}/terminal")
async def terminal_run(
    request: Request,
    workspace_id: str,
    line: Annotated[str, Form(max_length=MAX_LINE)] = "",
    where: Annotated[str, Form(max_length=300)] = "",
    sent: Annotated[str, Form(max_length=12)] = "0",
    last: Annotated[str, Form(max_length=3000)] = "",
) -> Response:
    session = Session.from_fields(where, sent, last)
    now = time.time()
    store = request.app.state.workspaces
    htmx = is_htmx(request)
    view = map_view(request)
    # A line that changes the cluster, or leaves a line for the replay log, runs as a change
    # of the workspace: what it leaves to remember (the log, a lesson's records) is saved in
    # the same trip when the cluster changed or a lesson's Check may read it. Any other runs
    # as a read.
    writing = changes_cluster(line, session) or replay.may_keep(line, session.where)

    def answer(cluster: Cluster) -> Answer:
        reply = run(cluster, line, session, now) if line.strip() else Reply("", 0, session)
        done = Answer(reply, {"terminal": _terminal(cluster, reply.session)})
        done.records = _lesson_records(cluster, reply)
        done.typed = replay.to_keep(cluster, reply.ran)
        if writing and (reply.changed or done.records):
            _note(cluster, done.records, done.typed)
            done.records, done.typed = [], []
        if htmx and reply.trace is not None and not reply.changed:
            # Only the trace under the map and the trace bar go with the screen's lines: what
            # they show is built here, on the state the command ran on.
            done.parts.update(_trace_parts(cluster, workspace_id, reply, view))
        return done

    done = await run_in_threadpool(store.change if writing else store.read, workspace_id, answer)
    reply = done.reply
    later = None
    if done.records:  # a read left something a lesson's Check reads: saved before answering
        await run_in_threadpool(_remember, store, workspace_id, done.records, done.typed)
    elif done.typed:
        # Only the replay log's line (a request sent, no lesson open): saved right after the
        # answer is sent, so the learner does not wait for a save that shows nothing.
        later = BackgroundTask(_remember_later, store, workspace_id, done.typed)
    shown = {"prompt": session.prompt(), "line": line, "output": reply.output}
    # Drawn in a worker thread: the drawing may ask the store (the teacher's trace goes to the
    # class; a redrawn head asks for the share link), never on the event loop.
    return await run_in_threadpool(_answer_page, request, workspace_id, done, shown, later)


def _answer_page(
    request: Request,
    workspace_id: str,
    done: Answer,
    shown: dict[str, Any],
    later: BackgroundTask | None,
) -> Response:
    """The answer to a command line: the screen's lines (and what the command changed), or
    the whole page for a browser without htmx."""
    reply = done.reply
    htmx = is_htmx(request)
    if htmx and not reply.changed:
        # The screen and the prompt, and the trace when a request was sent: no need to draw
        # the page around them.
        context = {**done.parts, "terminal_reply": shown}
        if reply.trace is not None:
            _class_trace(request, context, reply)
        return _answer(request, context, reply, later)

    def build(cluster: Cluster) -> dict[str, Any]:
        extra: dict[str, Any] = {"terminal": done.parts["terminal"], "terminal_reply": shown}
        if reply.trace is not None and reply.request is not None:
            extra["trace"] = reply.trace.to_dict()
            extra["trace_query"] = _bar_query(reply.request)
        return extra

    context = page_context(request, workspace_id, "terminal", False, build)
    if "trace" in context:  # the packet moves over the map the page draws
        context["marks"] = hop_marks(context["map"], context["trace"])
        _class_trace(request, context, reply)
    if not htmx:
        response = render(request, "workspace.html", context)
        response.background = later
        return response
    return _answer(request, context, reply, later)


@dataclass
class Answer:
    """What one command line gave: the reply, the parts of the page it draws, and what is
    left to remember when it ran as a read."""

    reply: Reply
    parts: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)  # for the open lesson
    typed: list[dict[str, Any]] = field(default_factory=list)  # for the replay log


def _trace_parts(
    cluster: Cluster, workspace_id: str, reply: Reply, view: tuple[bool, str | None]
) -> dict[str, Any]:
    """What the trace block and the trace bar draw for the request a command sent: the trace,
    placed on the map the page shows, and the bar's sources and suggestions."""
    assert reply.trace is not None and reply.request is not None
    extra = {"trace": reply.trace.to_dict(), "trace_query": _bar_query(reply.request)}
    context = view_context(cluster, workspace_id, "terminal", view[0], extra, view[1])
    context["marks"] = hop_marks(context["map"], context["trace"])
    context["class_note"] = class_note(cluster)
    return context


def _bar_query(sent: tuple) -> dict[str, Any]:
    """What the trace bar shows of a request a command sent (``Session.sending``'s tuple):
    from, to, seed, and the family ``curl -4`` / ``-6`` chose, as the bar's select says it."""
    source, to, seed = sent[:3]
    query: dict[str, Any] = {"from": source, "to": to, "seed": seed}
    if len(sent) == 5:
        query["ipFamily"] = sent[4]
    return query


def _class_trace(request: Request, context: dict[str, Any], reply: Reply) -> None:
    """The teacher's request goes to the students following, as one from the trace bar does,
    with the family of ``curl -4`` / ``-6`` (a request with its own Host header cannot be
    replayed from from/to/seed)."""
    sent = reply.request
    if "trace" not in context or sent is None or (len(sent) > 3 and sent[3]):
        return
    source, to, seed = sent[:3]
    context["class_trace"] = request.app.state.classes.traced(
        context["class_note"], source, to, seed, ip_family=sent[4] if len(sent) == 5 else None
    )


def _lesson_records(cluster: Cluster, reply: Reply) -> list[dict[str, Any]]:
    """While a lesson is open, what the line did that its checks read: the commands run, the
    request sent (as a trace from the trace bar is), the names looked up (as the DNS tab's
    are)."""
    if not notes.active(cluster):
        return []
    return terminal_records(cluster, reply)


def _note(cluster: Cluster, records: list[dict[str, Any]], typed: list[dict[str, Any]]) -> None:
    """Remember the lesson's records (while it is open) and then the lines for the replay log
    (after them: the log's ``seq`` then counts them), in the lessons' notes: saved with the
    workspace, no part of its undo history."""
    before = cluster.state.notes.get("seq", 0)
    if notes.active(cluster):
        for record in records:
            notes.record(cluster, record)
    replay.remember(cluster, typed, since=before)


def _remember(
    store: Any, workspace_id: str, records: list[dict[str, Any]], typed: list[dict[str, Any]]
) -> None:
    store.change(workspace_id, lambda cluster: _note(cluster, records, typed))


def _remember_later(store: Any, workspace_id: str, typed: list[dict[str, Any]]) -> None:
    """The replay log's lines, after the answer: a failure (the disk full, the workspace gone)
    loses only them, and is logged."""
    try:
        _remember(store, workspace_id, [], typed)
    except Exception:
        log.exception("podpath: could not keep a Terminal line for the replay script")


def _answer(
    request: Request, context: dict[str, Any], reply: Reply, later: BackgroundTask | None = None
) -> HTMLResponse:
    """The lines to add to the screen, and out of band: the new prompt and session, the
    trace under the map, and (after a change) the map, trace bar and head."""
    env = request.app.state.templates.env
    context = {"request": request, **context}
    html = env.get_template("_terminal_reply.html").render(context)
    page = env.get_template("workspace.html")
    # A request sent: its trace under the map, and the trace bar saying what it was.
    also = ["trace_result", "trace_bar"] if reply.trace is not None else []
    if reply.changed:
        also.extend(name for name in CLUSTER_CHANGED if name not in also)
    for name in also:
        inner = "".join(page.blocks[name](page.new_context(context)))
        html += f'<div id="{name.replace("_", "-")}" hx-swap-oob="innerHTML">{inner}</div>'
    return HTMLResponse(html, headers={"Vary": "HX-Request"}, background=later)
