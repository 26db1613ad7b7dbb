"""A real server killed with SIGKILL loses nothing: workspaces live in SQLite, or in the
PostgreSQL database of ``PODPATH_DATABASE_URL``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerHandle

from .conftest import deployment

pytestmark = pytest.mark.slow

WS = "/api/v1/workspaces"
MANIFESTS = (
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
    + deployment("web", replicas=3, namespace="shop")
    + "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
    "spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: http}]}\n"
)


def state(client: httpx.Client, workspace: str) -> dict[tuple, tuple]:
    response = client.get(f"{WS}/{workspace}/objects")
    assert response.status_code == 200, response.text
    found = {}
    for o in response.json()["items"]:
        key = (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
        spec, status = o.get("spec") or {}, o.get("status") or {}
        found[key] = (
            spec.get("nodeName"),
            status.get("podIP"),
            spec.get("clusterIP"),
            tuple(p.get("nodePort") for p in spec.get("ports") or [] if isinstance(p, dict)),
            tuple(a for e in o.get("endpoints") or [] for a in e["addresses"]),
        )
    return found


@pytest.fixture(params=["sqlite", "postgres"])
def start(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], ServerHandle]:
    """Start a server on the test's store (its data folder, or its PostgreSQL database)."""
    env = {}
    if request.param == "postgres":  # asked for first: dropped after the servers stop
        env["PODPATH_DATABASE_URL"] = request.getfixturevalue("postgres_database")
    server_factory = request.getfixturevalue("server_factory")
    return lambda: server_factory(tmp_path / "data", env=env)


def test_sigkilled_server_restarts_with_every_object_at_the_same_address(
    start: Callable[[], ServerHandle],
) -> None:
    first = start()
    with httpx.Client(base_url=first.url, timeout=30) as client:
        created = client.post(WS, json={"cni": "calico"})
        assert created.status_code == 201, created.text
        workspace = created.json()["id"]
        response = client.post(
            f"{WS}/{workspace}/apply",
            content=MANIFESTS,
            headers={"content-type": "application/yaml"},
        )
        assert response.status_code == 200, response.text
        pods = [c["name"] for c in response.json()["created"] if c["kind"] == "Pod"]
        victim = pods[0]
        deleted = client.delete(f"{WS}/{workspace}/objects/pod/shop/{victim}")
        assert deleted.status_code == 200, deleted.text
        before = state(client, workspace)
        summary = client.get(f"{WS}/{workspace}").json()
        manifests = client.get(f"{WS}/{workspace}/manifests").text
    first.kill()
    assert not first.is_running()

    second = start()
    with httpx.Client(base_url=second.url, timeout=30) as client:
        assert state(client, workspace) == before
        assert client.get(f"{WS}/{workspace}").json() == summary
        assert client.get(f"{WS}/{workspace}/manifests").text == manifests
        assert client.get(f"{WS}/{workspace}/objects/pod/shop/{victim}").status_code == 404

        more = client.post(
            f"{WS}/{workspace}/apply",
            content=deployment("api", replicas=2, namespace="shop"),
            headers={"content-type": "application/yaml"},
        )
        assert more.status_code == 200, more.text
        new_ips = {c["podIP"] for c in more.json()["created"] if c["kind"] == "Pod"}
        old_ips = {v[1] for v in before.values() if v[1]}
        assert len(new_ips) == 2 and not new_ips & old_ips
        scaled = client.post(
            f"{WS}/{workspace}/objects/deploy/shop/web/scale", json={"replicas": 1}
        )
        assert scaled.status_code == 200, scaled.text
        after = state(client, workspace)
    second.kill()

    third = start()
    with httpx.Client(base_url=third.url, timeout=30) as client:
        assert state(client, workspace) == after
