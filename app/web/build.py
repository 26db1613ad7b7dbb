"""The Build tab's forms: Deployment, Service, Pod, Ingress, nodes and scaling.

Each form is a plain POST that answers with the whole page; with htmx it gets the panel back
(a success line, or the errors with what the learner typed kept) and the map redrawn out of
band. Every manifest a form makes goes through ``apply_text``, so a form's errors are the
YAML tab's errors for the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from app.cluster import nodes
from app.cluster.apply import apply_text
from app.cluster.cluster import Change, Cluster
from app.cluster.objects import API_VERSIONS
from app.errors import (
    FieldError,
    Forbidden,
    InvalidObjects,
    NotFound,
    PodpathError,
    invalid_message,
    qualified_kind,
)
from app.render.forms import (
    BUILDERS,
    field_errors,
    forms_view,
    ingress_fields,
    manifest_yaml,
    policy_form_layout,
    selector_preview,
)
from app.web.rendering import CLUSTER_CHANGED, render
from app.web.sandbox import page_context

router = APIRouter(include_in_schema=False)


def _change_lines(cluster: Cluster, change: Change) -> list[str]:
    """What the controllers did next, pod by pod: where each new pod landed, which went."""
    lines = []
    for key in change.created:
        pod = cluster.state.objects.get(key)
        if key.kind != "Pod" or pod is None:
            continue
        ip = (pod.get("status") or {}).get("podIP") or "no IP yet"
        node = pod["spec"].get("nodeName") or "no node yet"
        lines.append(f"pod/{key.name} started on {node} ({ip})")
    lines += [f"pod/{k.name} deleted" for k in change.deleted if k.kind == "Pod"]
    return lines


def _panel(
    request: Request, workspace_id: str, extra: dict[str, Any], status_code: int = 200
) -> Response:
    """The Build panel (the whole page without htmx), the map redrawn out of band."""

    def build(cluster: Cluster) -> dict[str, Any]:
        context = {"forms": forms_view(cluster), **extra}
        values = extra.get("build_values")
        if extra.get("build_form") == "service" and values:
            # Only when the form comes back with what was typed (an error): after a create
            # the form is empty again, and so is its preview.
            context["preview"] = selector_preview(
                cluster, values.get("namespace", ""), values.get("selector", "")
            )
        if extra.get("build_form") == "networkpolicy" and values:
            context["np_rows"] = policy_form_layout(values)
        error = extra.get("build_error")
        if extra.get("build_form") == "networkpolicy" and values and error is not None:
            # Each API server message beside the box it is about (the rows as typed).
            context["np_errors"] = field_errors(values, getattr(error, "errors", None) or [])
        return context

    context = page_context(request, workspace_id, "build", False, build)
    return render(
        request,
        "workspace.html",
        context,
        block="panel",
        also=CLUSTER_CHANGED,
        status_code=status_code,
    )


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _run(
    request: Request,
    workspace_id: str,
    form: str,
    values: dict[str, str],
    change: Callable[[Cluster], list[str]],
    made: dict[str, str] | None = None,
) -> Response:
    """Run ``change`` on the workspace: the panel with its lines, or with the error and what
    the learner typed. ``made`` collects the YAML a form made, shown in both cases. (When
    the workspace itself is missing, building the page raises the 404.)"""
    store = request.app.state.workspaces
    extra: dict[str, Any] = {"build_form": form}
    status = 200
    try:
        extra["build_applied"] = await run_in_threadpool(store.change, workspace_id, change)
    except PodpathError as error:
        extra.update(build_error=error, build_values=values)
        status = error.status
    if made and made.get("yaml"):
        extra["build_yaml"] = made["yaml"]
    return await run_in_threadpool(_panel, request, workspace_id, extra, status)


def _whole_number(text: str, field: str, kind: str, name: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        errors = [FieldError(field, f'Invalid value: "{text}": must be a whole number', kind=kind)]
        qualified = qualified_kind(kind, API_VERSIONS.get(kind))
        raise InvalidObjects(invalid_message(qualified, name, errors), errors) from None


@router.get("/w/{workspace_id}/build")
def build_tab(request: Request, workspace_id: str) -> Response:
    """The Build tab with every form (a link target that works without JavaScript)."""
    return _panel(request, workspace_id, {})


@router.get("/w/{workspace_id}/build/preview")
def build_selector_preview(
    request: Request,
    workspace_id: str,
    namespace: Annotated[str, Query()] = "default",
    selector: Annotated[str, Query()] = "",
) -> Response:
    """The "matches N pods" line for the Service form's selector, as a fragment."""
    preview = request.app.state.workspaces.read(
        workspace_id, lambda cluster: selector_preview(cluster, namespace, selector)
    )
    env = request.app.state.templates.env
    template = env.get_template("_build_forms.html")
    context = template.new_context({"request": request, "preview": preview})
    html = "".join(template.blocks["selector_preview"](context))
    return HTMLResponse(html, headers={"Vary": "HX-Request"})


@router.post("/w/{workspace_id}/build/nodes")
async def build_add_node(request: Request, workspace_id: str) -> Response:
    """A new worker joins (``kubeadm join``)."""

    def run(cluster: Cluster) -> list[str]:
        change = nodes.add_node(cluster)
        node = next(k.name for k in change.created if k.kind == "Node")
        return [f"node/{node} joined", *_change_lines(cluster, change)]

    return await _run(request, workspace_id, "nodes", {}, run)


@router.post("/w/{workspace_id}/build/nodes/{name}/ready")
async def build_node_ready(request: Request, workspace_id: str, name: str) -> Response:
    """Mark a node NotReady (``ready=false``: it stops posting status) or Ready again."""
    values = await _fields(request)
    ready = values.get("ready", "true").strip().lower() in ("true", "1", "on", "yes")

    def run(cluster: Cluster) -> list[str]:
        change = nodes.set_node_ready(cluster, name, ready)
        return [
            f"node/{name} is {'Ready' if ready else 'NotReady'}",
            *_change_lines(cluster, change),
        ]

    return await _run(request, workspace_id, "nodes", values, run)


@router.post("/w/{workspace_id}/build/nodes/{name}/remove")
async def build_remove_node(request: Request, workspace_id: str, name: str) -> Response:
    """``kubectl delete node``; the control plane stays."""

    def run(cluster: Cluster) -> list[str]:
        node = cluster.get("Node", "", name)
        if node is not None and cluster.node_summary(node)["roles"] == "control-plane":
            raise Forbidden(f"node/{name} is the control plane: the sandbox cannot run without it")
        change = nodes.remove_node(cluster, name)
        return [f"node/{name} deleted", *_change_lines(cluster, change)]

    return await _run(request, workspace_id, "nodes", {}, run)


@router.post("/w/{workspace_id}/build/scale")
async def build_scale(request: Request, workspace_id: str) -> Response:
    """``kubectl scale deployment/<name> --replicas=N``."""
    values = await _fields(request)
    namespace, name = values.get("namespace", "default"), values.get("name", "")

    def run(cluster: Cluster) -> list[str]:
        replicas = _whole_number(values.get("replicas", ""), "spec.replicas", "Deployment", name)
        change = nodes.scale(cluster, namespace, name, replicas)
        return [f"deployment.apps/{name} scaled to {replicas}", *_change_lines(cluster, change)]

    return await _run(request, workspace_id, "scale", values, run)


@router.post("/w/{workspace_id}/build/{form}")
async def build_object(request: Request, workspace_id: str, form: str) -> Response:
    """A Deployment, Service, Pod or Ingress from its form's fields, through ``apply``."""
    builder = BUILDERS.get(form)
    if builder is None:
        raise NotFound(f'there is no "{form}" form: try {", ".join(BUILDERS)}')
    values = await _fields(request)
    if form == "ingress":
        values = ingress_fields(values)  # the path rows numbered, as the form shows them
    made: dict[str, str] = {}

    def run(cluster: Cluster) -> list[str]:
        made["yaml"] = manifest_yaml(builder(values))
        result = apply_text(cluster, made["yaml"])
        applied = [f"{o.kind.lower()}/{o.name} {o.action}" for o in result.objects]
        return applied + _change_lines(cluster, result.change)

    return await _run(request, workspace_id, form, values, run, made)
