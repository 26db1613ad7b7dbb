"""The Trace tab's and the trace bar's requests on the sandbox page: one request traced hop by
hop (``POST /w/{id}/trace``), or a hundred sent to see how they spread (``/traffic``). Both
are noted for an open lesson's Check; a teacher's trace also goes to the class following.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.cluster.cluster import Cluster
from app.errors import PodpathError
from app.lessons.activity import trace_record, traffic_record
from app.network.targets import parse_target
from app.network.trace import remembered_trace
from app.network.traffic import send_traffic
from app.render.sandbox import with_shares
from app.render.stage import hop_marks
from app.web.lessons import record_activity
from app.web.rendering import render
from app.web.sandbox import page_context
from app.web.trace_form import header_lines

router = APIRouter(include_in_schema=False)


@router.post("/w/{workspace_id}/trace")
def sandbox_trace(
    request: Request,
    workspace_id: str,
    source: Annotated[str, Form(alias="from")] = "external",
    to: Annotated[str, Form()] = "",
    seed: Annotated[int, Form()] = 0,
    method: Annotated[str, Form(max_length=40)] = "GET",
    headers: Annotated[str, Form(max_length=8000)] = "",
    ip_family: Annotated[str, Form(alias="ipFamily", max_length=10)] = "",
) -> Response:
    """A trace from the Trace tab or the bar: ``method`` and ``headers`` (one ``Name: value``
    per line) are the request's, for HTTPRoute method and header matches; ``ipFamily``
    (``IPv4`` / ``IPv6``, the Trace tab of a dual-stack sandbox) the family a name resolves
    to, as ``curl -4`` / ``-6``."""
    query = {"from": source, "to": to, "seed": seed, "method": method, "headers": headers}
    query["ipFamily"] = ip_family

    def build(cluster: Cluster) -> dict[str, Any]:
        try:
            sent = header_lines(headers)
            traced, result = remembered_trace(
                cluster, source, to, seed, method or "GET", sent, ip_family or None
            )
        except PodpathError as error:
            return {"trace_error": error, "trace_query": query}
        return {
            "activity": trace_record(cluster, source, to, traced),
            "trace": result,
            "trace_query": query,
        }

    with request.app.state.workspaces.one_look():  # drawn, then noted for the lesson
        context = page_context(request, workspace_id, "trace", False, build)
        record_activity(request, workspace_id, context)
    if "trace" in context:
        # The teacher's trace goes to the students following, with the family chosen (if any).
        context["class_trace"] = request.app.state.classes.traced(
            context["class_note"],
            source,
            to,
            seed,
            method or "GET",
            header_lines(headers),
            ip_family=ip_family or None,
        )
        # The packet moves over the map the page draws.
        context["marks"] = hop_marks(context["map"], context["trace"])
    status = context["trace_error"].status if "trace_error" in context else 200
    return render(request, "workspace.html", context, block="trace_result", status_code=status)


@router.post("/w/{workspace_id}/traffic")
def sandbox_traffic(
    request: Request,
    workspace_id: str,
    source: Annotated[str, Form(alias="from")] = "external",
    to: Annotated[str, Form()] = "",
    count: Annotated[int, Form()] = 100,
    seed: Annotated[int, Form()] = 0,
    method: Annotated[str, Form(max_length=40)] = "GET",
    headers: Annotated[str, Form(max_length=8000)] = "",
    ip_family: Annotated[str, Form(alias="ipFamily", max_length=10)] = "",
) -> Response:
    """Send 100 from the Trace tab or the bar, in the family their select chose (if any)."""
    count = max(1, min(count, 10_000))
    query = {"from": source, "to": to, "seed": seed, "method": method, "headers": headers}
    query["ipFamily"] = ip_family

    def build(cluster: Cluster) -> dict[str, Any]:
        try:
            sent = header_lines(headers)
            result = send_traffic(
                cluster, source, to, count, seed, method or "GET", sent, ip_family or None
            )
        except PodpathError as error:
            return {"traffic_error": error, "trace_query": query}
        return {
            "traffic": with_shares(result),
            "trace_query": query,
            "activity": traffic_record(source, to, parse_target(to).host, result),
        }

    context = page_context(request, workspace_id, "trace", False, build)
    record_activity(request, workspace_id, context)
    # Refused input is a 4xx, as a refused trace is (htmx still swaps in the message).
    status = context["traffic_error"].status if "traffic_error" in context else 200
    return render(request, "workspace.html", context, block="trace_result", status_code=status)
