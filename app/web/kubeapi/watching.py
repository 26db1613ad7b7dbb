"""``?watch=1``: a stream of watch events, one JSON object a line, for as long as the client
listens (or ``timeoutSeconds``). The workspace is looked at a few times a second (a change
from any process shows, as the store is shared) and each look is diffed against the last."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.cluster.cluster import Cluster
from app.kubeapi import convert, operations, selectors, watch
from app.kubeapi.paths import Target
from app.kubeapi.status import ApiError, bad_request
from app.web.kubeapi.responses import encode, require_workspace, status_response, workspaces

#: Seconds between two looks at the workspace.
POLL_SECONDS = 0.25
#: The longest a watch lasts unless the client asks for less (the API server's default
#: request timeout is of this order too).
MAX_WATCH_SECONDS = 1800


async def watch_response(request: Request, workspace_id: str, target: Target) -> Response:
    query = request.query_params
    try:
        await run_in_threadpool(require_workspace, request, workspace_id)
        labels = selectors.label_matcher(query.get("labelSelector"))
        fields = selectors.field_matcher(query.get("fieldSelector"))
        if target.name is not None:
            fields = _and(fields, selectors.field_matcher(f"metadata.name={target.name}"))
        timeout = min(int(query.get("timeoutSeconds") or MAX_WATCH_SECONDS), MAX_WATCH_SECONDS)
        since = int(query.get("resourceVersion") or 0)
    except ApiError as error:
        return status_response(error)
    except ValueError:
        return status_response(bad_request("resourceVersion and timeoutSeconds are numbers"))

    seen: watch.Snapshot = {}  # the copies last taken, reused while unchanged

    def look(cluster: Cluster) -> tuple[int, watch.Snapshot]:
        if cluster.state.resource_version == last_version[0]:
            return last_version[0], dict(seen)  # nothing at all changed
        now: watch.Snapshot = {}
        for key, obj in watch.snapshot(
            operations.objects(cluster, target.resource, target.namespace)
        ).items():
            old = seen.get(key)
            if old is not None and watch.version_of(old) == watch.version_of(obj):
                now[key] = old
            elif labels(obj) and fields(obj):
                # A copy, made under the workspace's lock: live objects change in place.
                now[key] = json.loads(encode(obj))
        seen.clear()
        seen.update(now)
        last_version[0] = cluster.state.resource_version
        return last_version[0], dict(now)

    last_version = [-1]

    table = convert.wants_table(request.headers.get("accept", ""))
    include = query.get("includeObject", "Metadata")
    # A streaming list (client-go's WatchList): the current objects as ADDED whatever the
    # resourceVersion (resourceVersionMatch=NotOlderThan), then a BOOKMARK marking their end.
    streaming_list = query.get("sendInitialEvents") == "true"

    async def events() -> AsyncIterator[bytes]:
        version, known = await run_in_threadpool(workspaces(request).read, workspace_id, look)
        first = True

        def line(event: watch.WatchEvent) -> bytes:
            nonlocal first
            body = None
            if table:
                body = convert.table_of(
                    target.resource,
                    [event.object],
                    str(version),
                    include,
                    workspaces(request).clock(),
                    headers=first,
                )
                first = False
            return (encode(event.to_dict(body)) + "\n").encode()

        initial = list(known.values())
        if streaming_list:  # every object, then the bookmark that ends them
            for event in watch.changes({}, known):
                yield line(event)
            end = watch.initial_events_end(
                target.resource.group_version, target.resource.kind, version
            )
            yield (encode(end.to_dict()) + "\n").encode()
        else:
            for event in watch.newer_than(initial, since) if since else watch.changes({}, known):
                yield line(event)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            if await request.is_disconnected():
                return
            try:
                version, now = await run_in_threadpool(workspaces(request).read, workspace_id, look)
            except Exception:  # the workspace went away (expired): the watch ends
                return
            for event in watch.changes(known, now, deleted_version=version):
                yield line(event)
            known = now

    return StreamingResponse(events(), media_type="application/json")


def _and(first: selectors.Matcher, second: selectors.Matcher) -> selectors.Matcher:
    return lambda obj: first(obj) and second(obj)
