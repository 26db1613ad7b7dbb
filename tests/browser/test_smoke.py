"""The home page and the API docs render in a real browser, offline."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect


def test_home_page_renders(page: Page, screenshots_dir: Path) -> None:
    response = page.goto("/")
    assert response is not None and response.ok, response and response.status
    assert "Podpath" in page.title()
    heading = page.locator("h1").first
    expect(heading).to_be_visible()
    expect(heading).not_to_be_empty()
    page.screenshot(path=screenshots_dir / "home.png", full_page=True)


def test_api_docs_render_offline(page: Page, live_server, screenshots_dir: Path) -> None:
    with urllib.request.urlopen(f"{live_server.url}/openapi.json", timeout=5) as response:
        title = json.load(response)["info"]["title"]
    response = page.goto("/docs")
    assert response is not None and response.ok, response and response.status
    # Swagger UI has fetched /openapi.json and drawn the API's title and its operations.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(title, timeout=15_000)
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.screenshot(path=screenshots_dir / "api-docs.png", full_page=True)
