"""``POST /w/{id}/compare``: one pod-to-pod request traced under flannel, Calico and Weave Net,
shown side by side under the map (the workspace itself is not changed).

Form fields: ``source_pod`` and ``target_pod`` (``pod/<namespace>/<name>``) and ``port``; or,
from the trace bar, the request's ``from`` (a pod) and ``to``: the request is traced first and
the pod it reaches, on the port it reaches, is the target.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.cluster.cluster import Cluster
from app.errors import PodpathError
from app.lessons.activity import compare_record
from app.network.compare import compare_plugins, pods_of_request
from app.web.lessons import record_activity
from app.web.rendering import render
from app.web.sandbox import page_context

router = APIRouter(include_in_schema=False)


@router.post("/w/{workspace_id}/compare")
def compare(
    request: Request,
    workspace_id: str,
    source: Annotated[str, Form(alias="source_pod")] = "",
    to: Annotated[str, Form(alias="target_pod")] = "",
    port: Annotated[int, Form(ge=1, le=65535)] = 80,
    request_from: Annotated[str, Form(alias="from")] = "",
    request_to: Annotated[str, Form(alias="to")] = "",
    seed: Annotated[int, Form()] = 0,
) -> Response:
    source = source.removeprefix("pod/")
    to = to.removeprefix("pod/")

    def build(cluster: Cluster) -> dict[str, Any]:
        nonlocal source, to, port
        query = {"from": f"pod/{source}", "to": to, "port": port}
        try:
            if not source and request_from:
                source, to, port = pods_of_request(cluster, request_from, request_to, seed)
                query = {"from": f"pod/{source}", "to": to, "port": port, "request": request_to}
            runs = compare_plugins(cluster, source, to, port)
        except PodpathError as error:
            return {"compare_error": error, "compare_query": query}
        return {
            "compare": {"query": query, "runs": [run.to_dict() for run in runs]},
            "activity": compare_record(source, to, runs),
        }

    context = page_context(request, workspace_id, "trace", False, build)
    record_activity(request, workspace_id, context)
    status = context["compare_error"].status if "compare_error" in context else 200
    return render(request, "workspace.html", context, block="trace_result", status_code=status)
