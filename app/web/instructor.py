"""For instructors: share a sandbox as a link that opens a copy, and reset it to the defaults.

``GET /s/{token}`` forks the workspace the share token stands for and sends the visitor to
the copy, so everyone who follows a shared link gets a sandbox of their own and the original
stays as it was. The token is not the workspace's id, so the link cannot be used to reach
(and change) the original.
``POST /w/{id}/reset`` puts a fresh default cluster with the same settings (CNI plugin,
kube-proxy mode, workers) in the workspace's place: the learner's objects and events go.

Presentation mode needs no route: ``?present=1`` on ``/w/{id}`` is read by
``static/js/present.js`` and styled by ``static/css/present.css``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.cluster.rebuild import reset
from app.web.rendering import is_htmx

router = APIRouter(include_in_schema=False)

#: Redirects that create or change something must never be replayed from a cache.
NO_STORE = {"Cache-Control": "no-store"}


def share_path(token: str) -> str:
    """The path of the link that opens a copy of a workspace.

    >>> share_path("abc")
    '/s/abc'
    """
    return f"/s/{token}"


@router.get("/s/{token}")
async def open_shared(
    request: Request,
    token: str,
    present: Annotated[bool, Query()] = False,
) -> Response:
    """Fork the shared workspace and redirect (303) to the copy; 404 when there is none."""
    new_id, _ = await run_in_threadpool(request.app.state.workspaces.fork_shared, token)
    target = f"/w/{new_id}" + ("?present=1" if present else "")
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@router.post("/w/{workspace_id}/reset")
async def reset_workspace(request: Request, workspace_id: str) -> Response:
    """Back to a fresh default cluster with the same settings, then to the sandbox page.

    htmx follows a 303 with a background fetch and would swap the whole page into the
    form's target, so an htmx request gets ``HX-Redirect`` instead: a full page load.
    """
    await run_in_threadpool(request.app.state.workspaces.change, workspace_id, reset)
    target = f"/w/{workspace_id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target, **NO_STORE})
    return RedirectResponse(target, status_code=303, headers=NO_STORE)
