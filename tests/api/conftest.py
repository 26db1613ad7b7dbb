"""An in-process JSON API client: one ``create_app`` per test, driven through httpx.

(Starlette's TestClient warns when used with httpx rather than httpx2, and warnings are
errors here, so each call runs ``httpx.AsyncClient`` over ``ASGITransport`` in ``asyncio.run``.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from app.web.app import create_app


class Api:
    """A synchronous client for ONE app (so its workspaces live as long as the test)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://localhost"
            ) as client:
                response = await client.request(method, url, **kwargs)
                await response.aread()
                return response

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(call())
        # A loop already runs in this thread (Playwright's sync API leaves one): use another.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, call()).result()

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def post_yaml(self, url: str, text: str | bytes) -> httpx.Response:
        return self.post(url, content=text, headers={"content-type": "application/yaml"})


def make_api(tmp_path: Path, **settings: Any) -> Api:
    return Api(Settings(store="memory", data_dir=tmp_path, **settings))


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path)


def new_workspace(api: Api, **options: Any) -> str:
    """POST /api/v1/workspaces with ``options``; asserts 201 and returns the id."""
    response = api.post("/api/v1/workspaces", json=options)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def apply_ok(api: Api, workspace: str, text: str) -> dict[str, Any]:
    """Apply YAML to the workspace; asserts 200 and returns the answer."""
    response = api.post_yaml(f"/api/v1/workspaces/{workspace}/apply", text)
    assert response.status_code == 200, response.text
    return response.json()


def list_items(api: Api, workspace: str, query: str = "") -> list[dict[str, Any]]:
    """GET .../objects?query; asserts 200 and returns the items."""
    response = api.get(f"/api/v1/workspaces/{workspace}/objects?{query}")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def deployment(name: str, replicas: int = 2, namespace: str = "default", port: int = 8080) -> str:
    """A Deployment manifest whose pods carry app=<name> and a container port named http."""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{{name: http, containerPort: {port}}}]
"""
