"""The one place errors become responses.

A :class:`~app.errors.PodpathError` becomes JSON for the API (``/api/...``), an HTML fragment
for an htmx request (so the error shows where the user is looking), or a full error page.
FastAPI's own request validation errors are turned into the same JSON shape, and anything
unexpected into a 500 that says so without leaking internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import FieldError, PodpathError, TooManyRequests

log = logging.getLogger("podpath")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, error: PodpathError) -> Response:
    headers = {}
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    if _wants_json(request):
        return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)
    templates = request.app.state.templates
    context = {"error": error}
    if request.headers.get("HX-Request") == "true":
        html = templates.get_template("_error.html").render(context)
        # htmx does not swap 4xx answers by default; the fragment says where it goes.
        headers["HX-Reswap"] = "innerHTML"
        return HTMLResponse(html, status_code=error.status, headers=headers)
    return templates.TemplateResponse(
        request, "error.html", context, status_code=error.status, headers=headers
    )


def internal_error() -> PodpathError:
    error = PodpathError(
        "Podpath hit an internal error; nothing was changed. Please report what you did."
    )
    error.status = 500
    error.reason = "InternalError"
    return error


class CatchUnexpected:
    """Answer 500 to an unexpected exception, and keep the connection.

    Starlette's own last-resort handler answers and then re-raises, so the server closes
    the keep-alive connection after every 500; this middleware answers and stops there.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if not started:
                response = error_response(Request(scope), internal_error())
                await response(scope, receive, send)


def allowed_methods(request: Request) -> list[str]:
    """The methods some route answers at this request's path (for a 405's ``Allow``)."""
    methods = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            methods.append(method)
    return methods


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PodpathError)
    async def on_podpath_error(request: Request, exc: PodpathError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for problem in exc.errors():
            location = [str(part) for part in problem.get("loc", ()) if part != "body"]
            errors.append(FieldError(".".join(location), problem.get("msg", "invalid")))
        error = PodpathError("the request is invalid", errors)
        error.status = 422
        error.reason = "Invalid"
        return error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error = PodpathError(str(exc.detail))
        error.status = exc.status_code
        error.reason = {404: "NotFound", 405: "MethodNotAllowed", 413: "RequestEntityTooLarge"}.get(
            exc.status_code, "Error"
        )
        response = error_response(request, error)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response
