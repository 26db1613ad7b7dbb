"""``/docs`` serves Swagger UI from the app's own static files (no CDN), and the OpenAPI
description it shows is served at ``/openapi.json``."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from app.web import app as web_app
from app.web.docs import SWAGGER_UI_DIR

REPO = Path(__file__).resolve().parents[2]


class Client:
    """GET through httpx straight into the ASGI app, with its lifespan run around each call.

    (Starlette's TestClient warns when used with httpx rather than httpx2, and warnings are
    errors here.)
    """

    def __init__(self, settings: Settings) -> None:
        self.app = web_app.create_app(settings)

    def get(self, url: str) -> httpx.Response:
        async def call() -> httpx.Response:
            async with self.app.router.lifespan_context(self.app):
                transport = httpx.ASGITransport(app=self.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                    response = await c.get(url)
                    await response.aread()
                    return response

        return asyncio.run(call())


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client(Settings(data_dir=tmp_path, store="memory"))


def test_docs_page_uses_only_vendored_assets(client: Client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]*)"', response.text)
    assert assets, "the docs page loads no assets?"
    outside = [url for url in assets if not url.startswith("/static/")]
    assert not outside, f"/docs must load only /static/... assets, not {outside}"
    assert "cdn." not in response.text and "https://" not in response.text
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, f"{url}: {asset.status_code}"
        assert asset.content, f"{url} is empty"


def test_vendored_swagger_ui_carries_its_licence() -> None:
    folder = REPO / "static" / SWAGGER_UI_DIR
    assert re.fullmatch(r"vendor/swagger-ui-\d+\.\d+\.\d+", SWAGGER_UI_DIR)
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
        assert (folder / name).is_file(), f"{folder / name} is missing"


def test_openapi_description_is_served(client: Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]


def test_docs_page_has_no_inline_script(client: Client) -> None:
    """The Content-Security-Policy allows only scripts from files on this server."""
    page = client.get("/docs")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)


def test_fastapi_default_cdn_docs_are_off(client: Client) -> None:
    assert client.get("/redoc").status_code == 404
