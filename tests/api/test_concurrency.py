"""Many clients changing one workspace at once against a real server: no lost update, with
one server process or several (``--workers 2``, each with its own cache, sharing SQLite or a
PostgreSQL database), and two separate servers on one PostgreSQL database (as two machines
behind a load balancer) each seeing what the other saved."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerHandle

from .conftest import deployment

pytestmark = pytest.mark.slow

WS = "/api/v1/workspaces"
THREADS = 8
PER_THREAD = 10


@pytest.fixture(
    params=[(1, "sqlite"), (2, "sqlite"), (2, "postgres")],
    ids=["one-process", "two-workers", "two-workers-postgres"],
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> ServerHandle:
    workers, store = request.param
    env = {}
    if store == "postgres":  # asked for first, so the database is dropped after the server stops
        env["PODPATH_DATABASE_URL"] = request.getfixturevalue("postgres_database")
    server_factory = request.getfixturevalue("server_factory")
    server = server_factory(tmp_path / "data", args=["--workers", str(workers)], env=env)
    if workers > 1:
        assert len(worker_processes(server.process.pid)) == workers, server.log_path.read_text()
    return server


def worker_processes(pid: int) -> list[str]:
    """The processes uvicorn started under ``pid`` to serve requests."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def service(name: str) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\n"
        "spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}\n"
    )


def test_concurrent_applies_to_one_workspace_lose_nothing(server: ServerHandle) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        workspace = client.post(WS, json={}).json()["id"]

    def worker(thread: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for i in range(PER_THREAD):
                response = client.post(
                    f"{WS}/{workspace}/apply",
                    content=service(f"t{thread}-{i}"),
                    headers={"content-type": "application/yaml"},
                )
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))
    assert all(s == 200 for statuses in results for s in statuses), results

    with httpx.Client(base_url=server.url, timeout=60) as client:
        services = client.get(f"{WS}/{workspace}/objects?kind=svc&namespace=default").json()
        names = {s["metadata"]["name"] for s in services["items"]}
        expected = {f"t{t}-{i}" for t in range(THREADS) for i in range(PER_THREAD)}
        assert expected <= names, sorted(expected - names)
        ips = [s["spec"]["clusterIP"] for s in services["items"]]
        ports = [
            p["nodePort"] for s in services["items"] for p in s["spec"]["ports"] if "nodePort" in p
        ]
        assert len(ips) == len(set(ips)), "two Services got the same ClusterIP"
        assert len(ports) == len(set(ports)) == THREADS * PER_THREAD, "a NodePort was given twice"
        summary = client.get(f"{WS}/{workspace}").json()
        assert summary["userObjects"] == THREADS * PER_THREAD


def test_concurrent_scales_leave_a_consistent_deployment(server: ServerHandle) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        workspace = client.post(WS, json={}).json()["id"]
        response = client.post(
            f"{WS}/{workspace}/apply",
            content=deployment("web", replicas=1)
            + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
            "spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}\n",
            headers={"content-type": "application/yaml"},
        )
        assert response.status_code == 200, response.text

    def scale(replicas: int) -> int:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            return client.post(
                f"{WS}/{workspace}/objects/deploy/default/web/scale", json={"replicas": replicas}
            ).status_code

    targets = [3, 7] * 4
    with ThreadPoolExecutor(len(targets)) as pool:
        statuses = list(pool.map(scale, targets))
    assert statuses == [200] * len(targets)

    with httpx.Client(base_url=server.url, timeout=60) as client:
        deploy = client.get(f"{WS}/{workspace}/objects/deploy/default/web").json()
        replicas = deploy["spec"]["replicas"]
        assert replicas in (3, 7)
        pods = client.get(f"{WS}/{workspace}/objects?kind=po&namespace=default").json()["items"]
        assert len(pods) == replicas
        ips = [p["status"]["podIP"] for p in pods]
        assert len(set(ips)) == len(ips)
        replica_sets = client.get(f"{WS}/{workspace}/objects?kind=rs&namespace=default").json()
        assert [rs["spec"]["replicas"] for rs in replica_sets["items"]] == [replicas]
        slices = client.get(f"{WS}/{workspace}/objects?kind=endpointslice&namespace=default")
        addresses = {
            a
            for s in slices.json()["items"]
            if s["metadata"]["labels"].get("kubernetes.io/service-name") == "web"
            for e in s["endpoints"]
            for a in e["addresses"]
        }
        assert addresses == set(ips)


def test_every_process_sees_each_change_at_once(server: ServerHandle) -> None:
    """A change acknowledged by one worker is what the next request sees, whichever worker
    answers it (each caches workspaces, checked against the saved version)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        workspace = client.post(WS, json={}).json()["id"]
    for i in range(12):
        # A new connection each time, so the kernel spreads them over the workers.
        with httpx.Client(base_url=server.url, timeout=60) as client:
            applied = client.post(
                f"{WS}/{workspace}/apply",
                content=service(f"s{i}"),
                headers={"content-type": "application/yaml"},
            )
            assert applied.status_code == 200, applied.text
        with httpx.Client(base_url=server.url, timeout=60) as client:
            listed = client.get(f"{WS}/{workspace}/objects?kind=svc&namespace=default").json()
            names = {s["metadata"]["name"] for s in listed["items"]}
            assert {f"s{j}" for j in range(i + 1)} <= names, (i, sorted(names))
        if i % 4 == 3:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                assert client.post(f"{WS}/{workspace}/undo").status_code == 200
            with httpx.Client(base_url=server.url, timeout=60) as client:
                listed = client.get(f"{WS}/{workspace}/objects?kind=svc&namespace=default").json()
                assert f"s{i}" not in {s["metadata"]["name"] for s in listed["items"]}
            with httpx.Client(base_url=server.url, timeout=60) as client:
                assert client.post(f"{WS}/{workspace}/redo").status_code == 200


def test_two_servers_on_one_postgres_database_each_see_what_the_other_saved(
    postgres_database: str, server_factory: Callable[..., ServerHandle], tmp_path: Path
) -> None:
    env = {"PODPATH_DATABASE_URL": postgres_database}
    first = server_factory(tmp_path / "one", env=env)
    second = server_factory(tmp_path / "two", env=env)
    with (
        httpx.Client(base_url=first.url, timeout=60) as one,
        httpx.Client(base_url=second.url, timeout=60) as two,
    ):
        created = one.post(WS, json={"cni": "calico"})
        assert created.status_code == 201, created.text
        workspace = created.json()["id"]
        assert one.get(f"{WS}/{workspace}/objects?kind=svc&namespace=default").status_code == 200
        applied = two.post(
            f"{WS}/{workspace}/apply",
            content=deployment("web", replicas=2) + "---\n" + service("web"),
            headers={"content-type": "application/yaml"},
        )
        assert applied.status_code == 200, applied.text
        services = one.get(f"{WS}/{workspace}/objects?kind=svc&namespace=default").json()
        assert "web" in {s["metadata"]["name"] for s in services["items"]}  # not a stale cache
        pods = one.get(f"{WS}/{workspace}/objects?kind=po&namespace=default").json()["items"]
        assert len(pods) == 2
        assert one.post(f"{WS}/{workspace}/undo").status_code == 200
        left = two.get(f"{WS}/{workspace}/objects?kind=svc&namespace=default").json()
        assert "web" not in {s["metadata"]["name"] for s in left["items"]}
        assert not (tmp_path / "one" / "podpath.sqlite3").exists()  # nothing kept on disk
