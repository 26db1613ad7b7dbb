"""Undo and redo: the workspace's last changes, for the JSON API and the sandbox page.

``GET /api/v1/workspaces/{id}/history`` lists them newest first with what Undo and Redo
would do next; ``POST .../undo`` and ``POST .../redo`` take one step (409 when there is
nothing to step to). On the page, the Undo and Redo buttons in the sandbox head are plain
forms posting to ``/w/{id}/undo`` and ``/w/{id}/redo``; htmx swaps the panel (saying what
was undone) and, out of band, the map and the head. ``GET /w/{id}/history`` is the buttons
alone, which the page's script fetches again after any other change.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.cluster.cluster import Cluster
from app.cluster.export import export_yaml
from app.errors import Conflict
from app.store.history import Entry
from app.store.workspaces import Workspaces
from app.web import api_bodies as bodies
from app.web import openapi as oa
from app.web.api import WorkspaceId
from app.web.rendering import CLUSTER_CHANGED, render
from app.web.sandbox import page_context

api_router = APIRouter(prefix="/api/v1", tags=["workspaces"])
page_router = APIRouter(include_in_schema=False)

# The panel's tabs an undo can show its result in as they are (the others need a query).
_TABS = ("build", "yaml", "objects", "events", "trace")


def _store(request: Request) -> Workspaces:
    return request.app.state.workspaces


def _step_json(request: Request, workspace_id: str, direction: str) -> dict[str, Any]:
    store = _store(request)
    entry = store.undo(workspace_id) if direction == "undo" else store.redo(workspace_id)
    done = "undone" if direction == "undo" else "redone"
    return {
        done: entry.to_dict(),
        "output": [outcome_line(entry, direction)],
        "history": store.history(workspace_id).to_dict(),
    }


def outcome_line(entry: Entry, direction: str) -> str:
    """What a step did, in one line.

    >>> outcome_line(Entry(3, "deployment.apps/web created", "", True), "undo")
    'Undone: deployment.apps/web created (the cluster is as it was before)'
    """
    if direction == "undo":
        return f"Undone: {entry.label} (the cluster is as it was before)"
    return f"Redone: {entry.label}"


@api_router.get(
    "/workspaces/{workspace_id}/history",
    summary="The last changes, newest first, and what undo and redo would do next",
    responses={200: oa.ok(bodies.History, "The history."), **oa.READ},
)
def history(request: Request, workspace_id: WorkspaceId):
    return JSONResponse(_store(request).history(workspace_id).to_dict())


@api_router.post(
    "/workspaces/{workspace_id}/undo",
    summary="Undo the newest change still in effect (409 when there is none)",
    description="The cluster becomes exactly what it was before that change (objects, "
    "addresses, EndpointSlices), saved as a new version with its own event.",
    responses={200: oa.ok(bodies.UndoAnswer, "What was undone, and the history."), **oa.CHANGE},
)
async def undo(request: Request, workspace_id: WorkspaceId):
    return JSONResponse(await run_in_threadpool(_step_json, request, workspace_id, "undo"))


@api_router.post(
    "/workspaces/{workspace_id}/redo",
    summary="Redo the change the last undo took back (409 when there is none)",
    description="Any ordinary change after an undo clears what could be redone.",
    responses={200: oa.ok(bodies.RedoAnswer, "What was redone, and the history."), **oa.CHANGE},
)
async def redo(request: Request, workspace_id: WorkspaceId):
    return JSONResponse(await run_in_threadpool(_step_json, request, workspace_id, "redo"))


async def _page_step(request: Request, workspace_id: str, direction: str, tab: str) -> Response:
    store = _store(request)
    step = store.undo if direction == "undo" else store.redo
    tab = tab if tab in _TABS else "objects"

    def build(cluster: Cluster) -> dict[str, Any]:
        return {"export_yaml": export_yaml(cluster)} if tab == "yaml" else {}

    def nothing_to_step(error: Conflict) -> Response:
        # Nothing to step to (a second tab got there first, say): say so in the panel, which
        # keeps its tabs, and bring fresh buttons; nothing changed.
        context = page_context(request, workspace_id, tab, False, build)
        context.update(notice=error.message)
        return render(
            request,
            "workspace.html",
            context,
            block="panel",
            also=("sandbox_head",),
            status_code=error.status,
        )

    def stepped(entry: Entry) -> Response:
        context = page_context(request, workspace_id, tab, False, build)
        context.update(outcome=[outcome_line(entry, direction)])
        # The addresses may have changed under the trace on screen: it goes too.
        also = (*CLUSTER_CHANGED, "trace_result")
        return render(request, "workspace.html", context, block="panel", also=also)

    try:
        entry = await run_in_threadpool(step, workspace_id)
    except Conflict as error:
        return await run_in_threadpool(nothing_to_step, error)
    return await run_in_threadpool(stepped, entry)


@page_router.post("/w/{workspace_id}/undo")
async def page_undo(
    request: Request, workspace_id: str, tab: Annotated[str, Form()] = "objects"
) -> Response:
    return await _page_step(request, workspace_id, "undo", tab)


@page_router.post("/w/{workspace_id}/redo")
async def page_redo(
    request: Request, workspace_id: str, tab: Annotated[str, Form()] = "objects"
) -> Response:
    return await _page_step(request, workspace_id, "redo", tab)
