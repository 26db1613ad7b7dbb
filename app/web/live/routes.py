"""``GET /w/{id}/changes``: a page's stream of its workspace's changes; ``POST
/w/{id}/redraw``: the parts of the page a change made elsewhere redraws.

The page (static/js/live.js) listens, and when told of a tag it does not show asks for the
redraw: the map, the trace bar and the head (with Undo naming the change), as after a change
from its own forms, and the Objects or Events tab when that is open (the other tabs hold
what the learner is typing). The page's own changes come back with their answer first, so
the tag they bring is the one it shows already: no second drawing.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.web.rendering import CLUSTER_CHANGED, is_htmx, render_parts
from app.web.sandbox import TABS, page_context

router = APIRouter(include_in_schema=False)

#: Tabs that only show the cluster: redrawn with the map when it changed elsewhere.
SHOWING_TABS = ("objects", "reachability", "events")


@router.get("/w/{workspace_id}/changes")
async def changes(request: Request, workspace_id: str, shown: str = "") -> Response:
    """Server-sent events: ``changed`` with the workspace's new tag, each time its objects
    change (at once when the stream opens, if the page shows an older state)."""
    feeds = request.app.state.cluster_feeds
    now = await run_in_threadpool(feeds.tag, workspace_id)  # NotFound: a 404, not a stream

    async def stream():
        yield "retry: 3000\n\n"
        async for tag in feeds.listen(workspace_id, shown[:80], now):
            yield ": keep-alive\n\n" if tag is None else f"event: changed\ndata: {tag}\n\n"

    headers = {"X-Accel-Buffering": "no", "Cache-Control": "no-store"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.post("/w/{workspace_id}/redraw")
def redraw(
    request: Request, workspace_id: str, shown: Annotated[str, Form(max_length=80)] = ""
) -> Response:
    """The parts of the page that show the cluster, when it is not the state ``shown``;
    nothing (204) when it is."""
    tab = _current_tab(request)
    if not is_htmx(request):
        return RedirectResponse(f"/w/{workspace_id}?tab={tab}", status_code=303)
    context = page_context(request, workspace_id, tab, False, _changed_elsewhere)
    if context["objects_tag"] == shown:
        return Response(status_code=204)
    parts = {block: block.replace("_", "-") for block in CLUSTER_CHANGED}
    if tab in SHOWING_TABS:
        parts["panel"] = "panel"
    if _settings_of(shown) != _settings_of(context["objects_tag"]):
        parts["trace_result"] = "trace-result"  # new addresses: the trace on screen goes
    return render_parts(request, "workspace.html", context, parts)


def _changed_elsewhere(_cluster: Any) -> dict[str, Any]:
    return {"changed_elsewhere": True}


def _current_tab(request: Request) -> str:
    """The tab of the page that asks (htmx names its URL)."""
    url = urlsplit(request.headers.get("HX-Current-URL", ""))
    if url.path.endswith("/terminal"):
        return "terminal"
    tab = parse_qs(url.query).get("tab", ["build"])[0]
    return tab if tab in TABS else "build"


def _settings_of(tag: str) -> tuple[str, ...]:
    """The lineage and settings parts of a tag (a reset or a switch re-addresses pods).

    >>> _settings_of("0.12.3.ab12"), _settings_of("")
    (('0', 'ab12'), ('',))
    """
    parts = tag.split(".")
    return (parts[0], parts[3]) if len(parts) == 4 else (tag,)
