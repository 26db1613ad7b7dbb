"""HTML pages: the home page and opening a new sandbox (the sandbox itself: app/web/sandbox.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.cluster import constants as c
from app.cluster import scenarios
from app.render.lesson import lesson_list
from app.web.cni_form import EBPF, new_cluster_choices
from app.web.lessons import learner_workspace
from app.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz(request: Request, response: Response) -> dict[str, object]:
    """200 ``{"status": "ok", "store": ...}`` while the store can be written, 503
    ``{"status": "degraded", ...}`` when it cannot; ``store`` says why and the disk space
    left (see :meth:`app.store.workspaces.Workspaces.health`)."""
    store = request.app.state.workspaces.health()
    if not store["writable"]:
        response.status_code = 503
    return {"status": "ok" if store["writable"] else "degraded", "store": store}


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
            "proxy_modes": (*c.PROXY_MODES, EBPF),
            "routing_modes": c.CILIUM_ROUTING_MODES,
            "ip_families": c.IP_FAMILY_MODES,
            "scenarios": scenarios.SCENARIOS,
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
    scenario: Annotated[str, Form()] = "",
    ip_family: Annotated[str, Form()] = "ipv4",
    routing_mode: Annotated[str, Form()] = "tunnel",
) -> Response:
    """A new sandbox, empty or from a ready scenario (then opened on its first request)."""
    config = request.app.state.settings.cluster_config(
        **new_cluster_choices(cni, proxy_mode, routing_mode), ip_family=ip_family
    )
    store = request.app.state.workspaces
    query = {"present": "1"} if present else {}
    if not scenario or scenario == scenarios.DEFAULT:
        workspace_id, _ = store.create(config)
    else:
        workspace_id, _ = store.create_from(scenarios.build(scenario, config, now=store.clock()))
        for first in scenarios.scenario_requests(scenario, config.cni, config.ip_family)[:1]:
            query.update({"from": first.source, "to": first.to})
    target = f"/w/{workspace_id}" + (f"?{urlencode(query)}" if query else "")
    return RedirectResponse(target, status_code=303)
