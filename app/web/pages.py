"""HTML pages: the home page and opening a new sandbox (the sandbox itself: app/web/sandbox.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.cluster import constants as c
from app.render.lesson import lesson_list
from app.web.lessons import learner_workspace
from app.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/")
def home(request: Request) -> Response:
    """What Podpath is, a new sandbox, and the lessons with the learner's progress."""
    catalog = request.app.state.lessons
    workspace_id = learner_workspace(request)
    if workspace_id is not None:
        lessons = request.app.state.workspaces.read(
            workspace_id, lambda cluster: lesson_list(cluster, catalog)
        )
    else:
        lessons = lesson_list(None, catalog)
    return render(
        request,
        "home.html",
        {
            "cni_plugins": c.CNI_PLUGINS,
            "proxy_modes": c.PROXY_MODES,
            "lessons": lessons,
            "lessons_workspace": workspace_id,
        },
    )


@router.post("/w")
def new_workspace(
    request: Request,
    cni: Annotated[str, Form()] = "flannel",
    proxy_mode: Annotated[str, Form()] = "iptables",
    present: Annotated[bool, Form()] = False,
) -> Response:
    config = request.app.state.settings.cluster_config(cni=cni, proxy_mode=proxy_mode)
    workspace_id, _ = request.app.state.workspaces.create(config)
    target = f"/w/{workspace_id}" + ("?present=1" if present else "")
    return RedirectResponse(target, status_code=303)
