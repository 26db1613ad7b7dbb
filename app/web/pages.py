"""HTML pages: the home page and a workspace's page (plain forms, enhanced by htmx)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.cluster import constants as c
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import PodpathError
from app.render.tables import workspace_view
from app.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/")
def home(request: Request) -> Response:
    return render(
        request,
        "home.html",
        {"cni_plugins": c.CNI_PLUGINS, "proxy_modes": c.PROXY_MODES},
    )


@router.post("/w")
def new_workspace(
    request: Request,
    cni: Annotated[str, Form()] = "flannel",
    proxy_mode: Annotated[str, Form()] = "iptables",
) -> Response:
    settings = request.app.state.settings
    config = ClusterConfig(
        cni=cni,
        proxy_mode=proxy_mode,
        max_pods=settings.max_pods,
        max_services=settings.max_services,
        max_objects=settings.max_objects,
        max_workers=settings.max_workers,
    )
    workspace_id, _ = request.app.state.workspaces.create(config)
    return RedirectResponse(f"/w/{workspace_id}", status_code=303)


def _page(request: Request, workspace_id: str, **extra: Any) -> dict[str, Any]:
    view = request.app.state.workspaces.read(workspace_id, workspace_view)
    return {"workspace_id": workspace_id, "view": view, **extra}


@router.get("/w/{workspace_id}")
def workspace_page(request: Request, workspace_id: str) -> Response:
    return render(request, "workspace.html", _page(request, workspace_id, manifest=""))


@router.post("/w/{workspace_id}/apply")
async def workspace_apply(
    request: Request, workspace_id: str, manifest: Annotated[str, Form()] = ""
) -> Response:
    def run(cluster: Cluster) -> list[str]:
        result = apply_text(cluster, manifest)
        return [f"{o.kind.lower()}/{o.name} {o.action}" for o in result.objects]

    store = request.app.state.workspaces
    try:
        lines = await run_in_threadpool(store.change, workspace_id, run)
    except PodpathError as error:
        if error.status == 404:
            raise
        context = _page(request, workspace_id, manifest=manifest, apply_error=error)
        return render(request, "workspace.html", context, block="main", status_code=error.status)
    context = _page(request, workspace_id, manifest="", applied=lines)
    return render(request, "workspace.html", context, block="main")
