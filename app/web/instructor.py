"""For instructors: share a sandbox as a link that offers a copy, and reset it to the defaults.

``GET /s/{token}`` shows what the shared sandbox holds and a "Make my copy" button; only that
button's ``POST /s/{token}`` makes the copy, so link previewers and prefetchers (which GET)
make nothing. Everyone who follows a shared link gets a sandbox of their own and the original
stays as it was. The token is not the workspace's id, so the link cannot be used to reach
(and change) the original. The owner makes the link (``POST /w/{id}/share``), replaces it by
a new one (``.../share/rotate``: the old one stops working) or stops sharing
(``.../share/revoke``); a link also stops working ``share_days`` after it was made, and at a
reset.

``POST /w/{id}/reset`` puts a fresh default cluster with the same settings (CNI plugin,
kube-proxy mode, workers) in the workspace's place: the learner's objects and events go.

Presentation mode needs no route: ``?present=1`` on ``/w/{id}`` is read by
``static/js/present.js`` and styled by ``static/css/present.css``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.cluster.rebuild import reset
from app.render.share import share_preview
from app.web.rendering import is_htmx, render

router = APIRouter(include_in_schema=False)


@router.get("/s/{token}")
async def shared(
    request: Request, token: str, present: Annotated[bool, Query()] = False
) -> Response:
    """What a copy would hold, and the button that makes it; 404 for a link that is unknown,
    expired or revoked. Makes nothing."""
    store = request.app.state.workspaces
    workspace_id = await run_in_threadpool(store.shared_workspace, token)
    preview = await run_in_threadpool(store.read, workspace_id, share_preview)
    share = await run_in_threadpool(store.current_share, workspace_id)
    context = {
        "token": token,
        "present": present,
        "preview": preview,
        "share": share,
        "idle_days": store.idle_days,
    }
    return render(request, "shared.html", context)


@router.post("/s/{token}")
async def copy_shared(
    request: Request, token: str, present: Annotated[bool, Form()] = False
) -> Response:
    """Copy the shared workspace and go to the copy (303)."""
    new_id, _ = await run_in_threadpool(request.app.state.workspaces.fork_shared, token)
    target = f"/w/{new_id}" + ("?present=1" if present else "")
    return RedirectResponse(target, status_code=303)


def _share_box(request: Request, workspace_id: str) -> Response:
    """The share widget (for htmx), or back to the sandbox page."""
    if not is_htmx(request):
        return RedirectResponse(f"/w/{workspace_id}", status_code=303)
    context = {
        "workspace_id": workspace_id,
        "share": request.app.state.workspaces.current_share(workspace_id),
    }
    return render(request, "workspace.html", context, block="share_box")


@router.post("/w/{workspace_id}/share")
async def make_share(request: Request, workspace_id: str) -> Response:
    """Make the workspace's share link (or keep the one it has)."""
    await run_in_threadpool(request.app.state.workspaces.make_share, workspace_id)
    return await run_in_threadpool(_share_box, request, workspace_id)


@router.post("/w/{workspace_id}/share/rotate")
async def rotate_share(request: Request, workspace_id: str) -> Response:
    """A new share link; the old one stops working."""
    await run_in_threadpool(request.app.state.workspaces.rotate_share, workspace_id)
    return await run_in_threadpool(_share_box, request, workspace_id)


@router.post("/w/{workspace_id}/share/revoke")
async def revoke_share(request: Request, workspace_id: str) -> Response:
    """Stop sharing: the link stops working; copies already made stay."""
    await run_in_threadpool(request.app.state.workspaces.revoke_share, workspace_id)
    return await run_in_threadpool(_share_box, request, workspace_id)


@router.post("/w/{workspace_id}/reset")
async def reset_workspace(request: Request, workspace_id: str) -> Response:
    """Back to a fresh default cluster with the same settings, then to the sandbox page. The
    share link stops working: it would hand out the new, empty cluster.

    htmx follows a 303 with a background fetch and would swap the whole page into the
    form's target, so an htmx request gets ``HX-Redirect`` instead: a full page load.
    """
    store = request.app.state.workspaces
    await run_in_threadpool(store.change, workspace_id, reset)
    await run_in_threadpool(store.revoke_share, workspace_id)
    target = f"/w/{workspace_id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
