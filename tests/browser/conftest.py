"""Playwright (sync API) driving Debian's Chromium against the live server.

Every test in this folder is marked ``browser``. Without ``/usr/bin/chromium`` they are
skipped, unless the environment variable ``CI`` is set: then they fail, because CI must run
them (``.ci/run`` installs Chromium). ``playwright install`` is never used: it downloads
browsers, which this project's machines cannot do.

The ``page`` fixture fails a test whose page asked for anything outside the live server
(a CDN, a web font, an analytics script): Podpath must work in a classroom without internet.
It also fails a test whose page broke the server's Content-Security-Policy (an inline script
or style the browser refused): every browser test checks the pages it visits work under it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HERE = Path(__file__).resolve().parent
#: URL schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = not CHROMIUM.exists() and not os.environ.get("CI")
    for item in items:
        if not item.path.is_relative_to(HERE):
            continue
        item.add_marker(pytest.mark.browser)
        if missing:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"{CHROMIUM} is missing (Debian: apt-get install chromium); "
                    "CI runs these tests"
                )
            )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing, and CI must run the browser tests", pytrace=False)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@pytest.fixture
def pages(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """Make pages, each in its own browser context (its own cookies: another person), whose
    requests must all go to the live server. ``pages(**options)`` takes Playwright's context
    options (``viewport``, ``is_mobile``...). At the end, every page is checked: nothing
    asked of another site, no uncaught JavaScript error, nothing the CSP refused."""
    server = _origin(live_server.url)
    outside: list[str] = []
    errors: list[str] = []
    refused: list[str] = []
    contexts: list[BrowserContext] = []

    def is_outside(url: str) -> bool:
        return urlsplit(url).scheme not in LOCAL_SCHEMES and _origin(url) != server

    def on_request(request: Request) -> None:
        if is_outside(request.url):
            outside.append(f"{request.method} {request.url}")

    def block_outside(route: Route) -> None:
        # Refuse at once rather than wait for a network that may not be there.
        if is_outside(route.request.url):
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def make(**options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        context.route("**/*", block_outside)
        page = context.new_page()
        page.on("request", on_request)
        page.on(
            "websocket", lambda ws: outside.append(f"WS {ws.url}") if is_outside(ws.url) else None
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not outside, "the page asked for things outside the app (it must work offline):\n" + (
        "\n".join(outside)
    )
    assert not errors, "uncaught JavaScript errors on the page:\n" + "\n".join(errors)
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(refused)


@pytest.fixture
def page(pages: Callable[..., Page]) -> Page:
    """A fresh page (its own context) whose requests must all go to the live server."""
    return pages()


@pytest.fixture(scope="session")
def screenshots_dir(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
