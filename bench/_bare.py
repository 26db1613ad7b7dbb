"""The bare FastAPI app bench/classroom.py measures next to Podpath, with the same load
generator: Podpath's paths for a class, each answered with a small HTML string and no work,
and event streams that carry the instructor's step, trace and hop at once.

Served by ``python -m uvicorn --factory bench._bare:bare_app`` (one process); not a benchmark
itself (``./dev bench`` skips files starting with ``_``).
"""

import asyncio
import json
import random

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from app.classroom.follow import catch_up_spread

SMALL = "<section><h2>Step</h2><p>" + "Podpath " * 40 + "</p></section>"


def bare_app() -> FastAPI:
    app = FastAPI()
    listeners: set[asyncio.Queue[str]] = set()
    last = 0

    def publish(kind: str, data: str = "") -> int:
        nonlocal last
        last += 1
        for queue in list(listeners):
            queue.put_nowait(f"id: {last}\nevent: {kind}\ndata: {data}\n\n")
        return last

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/w/{workspace}/class/events")
    async def events(workspace: str) -> Response:
        queue: asyncio.Queue[str] = asyncio.Queue()

        async def stream():
            listeners.add(queue)
            try:
                yield "retry: 2000\n\n"
                while True:
                    yield await queue.get()
            finally:
                listeners.discard(queue)

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.get("/w/{workspace}/changes")
    async def changes(workspace: str) -> Response:
        async def stream():  # open, and quiet: the students' changes are their own
            yield "retry: 3000\n\n"
            while True:
                await asyncio.sleep(15)
                yield ": keep-alive\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def anything(request: Request, path: str) -> Response:
        if path == "classes":
            return RedirectResponse("/classes/bare?key=k", status_code=303)
        if path == "classes/bare" and "key" in request.query_params:
            return RedirectResponse("/classes/bare", status_code=303)
        if path.startswith("join/"):
            return RedirectResponse(f"/w/s{random.randrange(10**9)}/lessons/x", status_code=303)
        if path.startswith("classes/") and path.endswith("/hop"):
            form = await request.form()
            publish("hop", f'{{"trace": {form["trace"]}, "hop": {form["hop"]}}}')
            return Response(status_code=204)
        page = SMALL + '<a href="/w/teacher/lessons/x"></a><p class="class-badge">Class ABC-234</p>'
        # The students' pages spread their catch-ups as Podpath's do.
        spread = json.dumps({"spread": catch_up_spread(len(listeners))})
        if path.startswith("w/teacher/") and path.endswith("/step"):
            publish("step", spread)
        if path == "w/teacher/trace":
            page += f'<span data-class-trace="{publish("trace", spread)}"></span>'
        if path.endswith("/lessons/x"):  # a student's page: where its stream starts
            page += f'<div sse-connect="/{path.rsplit("/", 2)[0]}/class/events?after={last}">'
        return HTMLResponse(page)

    return app
