"""The OpenAPI docs page (Swagger UI), served from vendored files so it works offline.

FastAPI's built-in ``/docs`` loads Swagger UI from a CDN and its favicon from
fastapi.tiangolo.com; a classroom without internet would get a blank page. ``create_app``
builds the app with ``docs_url=None`` and calls :func:`install_offline_docs` instead, which
serves the same page with every asset under ``static/vendor/swagger-ui-<version>/``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse

#: The vendored swagger-ui-dist release (from the npm registry); its folder name carries it.
SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI_DIR = f"vendor/swagger-ui-{SWAGGER_UI_VERSION}"

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def install_offline_docs(app: FastAPI, static_url: str = "/static") -> None:
    """Register ``/docs`` and ``/docs/oauth2-redirect`` using the vendored Swagger UI.

    ``static_url`` is where the app mounts the repository's ``static/`` folder.
    """
    base = f"{static_url.rstrip('/')}/{SWAGGER_UI_DIR}"

    async def swagger_ui_html(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root_path + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root_path}{base}/swagger-ui-bundle.js",
            swagger_css_url=f"{root_path}{base}/swagger-ui.css",
            swagger_favicon_url=f"{root_path}{base}/favicon-32x32.png",
            oauth2_redirect_url=root_path + OAUTH2_REDIRECT_URL,
            init_oauth=app.swagger_ui_init_oauth,
            # No "validator" badge: it would call validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    async def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route(DOCS_URL, swagger_ui_html, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_URL, swagger_ui_redirect, include_in_schema=False)
