"""The OpenAPI docs page (Swagger UI), served from vendored files so it works offline.

FastAPI's built-in ``/docs`` loads Swagger UI from a CDN and its favicon from
fastapi.tiangolo.com, and starts it with an inline script; a classroom without internet would
get a blank page, and the Content-Security-Policy (app/web/guard/headers.py) allows no
inline script. ``create_app`` builds the app with ``docs_url=None`` and calls
:func:`install_offline_docs` instead: the page ``templates/api_docs.html`` loads every asset
from ``static/vendor/swagger-ui-<version>/`` and starts Swagger UI from
``static/js/api-docs.js``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

#: The vendored swagger-ui-dist release (from the npm registry); its folder name carries it.
SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI_DIR = f"vendor/swagger-ui-{SWAGGER_UI_VERSION}"

DOCS_URL = "/docs"


def install_offline_docs(app: FastAPI, static_url: str = "/static") -> None:
    """Register ``/docs``, the API's Swagger UI page built from vendored files.

    ``static_url`` is where the app mounts the repository's ``static/`` folder.
    """

    async def swagger_ui_html(request: Request) -> Response:
        root_path = request.scope.get("root_path", "").rstrip("/")
        static = f"{root_path}{static_url.rstrip('/')}"
        return request.app.state.templates.TemplateResponse(
            request,
            "api_docs.html",
            {
                "title": f"{app.title} - Swagger UI",
                "openapi_url": root_path + (app.openapi_url or "/openapi.json"),
                "static": static,
                "assets": f"{static}/{SWAGGER_UI_DIR}",
            },
        )

    app.add_route(DOCS_URL, swagger_ui_html, include_in_schema=False)
