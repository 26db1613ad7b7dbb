"""The real kubectl against Podpath's Kubernetes-compatible API (issue 13, "How it is checked").

Prints, for a workspace of 200 pods (20 Deployments of 10 replicas, each with its Service):

1. the median wall time of ``kubectl get pods -o wide`` against Podpath, and against the
   floor: a bare FastAPI app (one process, like Podpath's) that answers every request kubectl
   makes with the bytes Podpath answered it with, recorded first (goal: within 3x);
2. the median time of the Table request alone (``GET .../pods`` as a Table) over HTTP, against
   the same bare app.

Run: ./dev bench  (or .venv/bin/python bench/kubectl.py); needs kubectl on PATH.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.apply import big_manifest
from tests.conftest import ServerHandle, free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
ROUNDS = 15


def median_ms(fn, rounds: int = ROUNDS) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def kubectl_runner(kubectl: str, server: str, home: Path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}

    def run() -> None:
        done = subprocess.run(
            [kubectl, "--server", server, "get", "pods", "-o", "wide"],
            capture_output=True,
            env=env,
            check=True,
        )
        assert done.stdout.count(b"\n") >= 200

    return run


def record(base: str, paths: list[tuple[str, str]]) -> dict[str, tuple[bytes, str]]:
    """What Podpath answers to each (path, accept) kubectl asks for."""
    answers = {}
    with httpx.Client(timeout=30) as client:
        for path, accept in paths:
            answer = client.get(base + path, headers={"accept": accept})
            answers[path] = (answer.content, answer.headers["content-type"])
    return answers


def start_bare(recorded: dict[str, tuple[bytes, str]], folder: Path) -> subprocess.Popen:
    """A bare FastAPI app serving the recorded answers (uvicorn, one process)."""
    module = folder / "bare_kubectl.py"
    module.write_text(
        "import pickle\n"
        "from fastapi import FastAPI, Request\n"
        "from fastapi.responses import Response\n"
        f"ANSWERS = pickle.loads({__import__('pickle').dumps(recorded)!r})\n"
        "app = FastAPI()\n"
        "@app.get('/healthz')\n"
        "def healthz():\n"
        "    return {'status': 'ok'}\n"
        "@app.get('/{path:path}')\n"
        "def anything(request: Request, path: str):\n"
        "    body, kind = ANSWERS.get('/' + path.split('/', 2)[-1], (b'{}', 'application/json'))\n"
        "    return Response(body, media_type=kind)\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(folder), "bare_kubectl:app",
         "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    process.port = port  # type: ignore[attr-defined]
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the bare app did not start")


def main() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubectl: not on PATH, nothing measured")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server: ServerHandle = start_server(folder / "data")
        bare = None
        try:
            made = httpx.post(f"{server.url}/api/v1/workspaces", json={}, timeout=60).json()
            workspace = made["id"]
            applied = httpx.post(
                f"{server.url}/api/v1/workspaces/{workspace}/apply",
                content=big_manifest(deployments=20, replicas=10),
                headers={"content-type": "application/yaml"},
                timeout=120,
            )
            applied.raise_for_status()
            base = f"{server.url}/k/{workspace}"
            pods = "/api/v1/namespaces/default/pods"
            recorded = record(
                base,
                [
                    ("/version", "application/json"),
                    ("/api", "application/json"),
                    ("/apis", "application/json"),
                    ("/api/v1", "application/json"),
                    ("/apis/apps/v1", "application/json"),
                    ("/apis/discovery.k8s.io/v1", "application/json"),
                    ("/apis/networking.k8s.io/v1", "application/json"),
                    (pods, TABLE),
                ],
            )
            bare = start_bare(recorded, folder)
            bare_base = f"http://127.0.0.1:{bare.port}/k/{workspace}"  # type: ignore[attr-defined]
            podpath_ms = median_ms(kubectl_runner(kubectl, base, folder / "home-a"))
            floor_ms = median_ms(kubectl_runner(kubectl, bare_base, folder / "home-b"))
            print(
                f"kubectl get pods -o wide, 200 pods: {podpath_ms:.0f} ms median; "
                f"floor (bare FastAPI, same answers) {floor_ms:.0f} ms; "
                f"ratio {podpath_ms / floor_ms:.2f} (goal: under 3)"
            )
            with httpx.Client(timeout=30) as client:
                table_ms = median_ms(lambda: client.get(base + pods, headers={"accept": TABLE}))
                bare_ms = median_ms(lambda: client.get(bare_base + pods, headers={"accept": TABLE}))
            print(
                f"the Table request alone: {table_ms:.1f} ms median; bare {bare_ms:.1f} ms; "
                f"ratio {table_ms / bare_ms:.2f}"
            )
        finally:
            if bare is not None:
                bare.terminate()
                bare.wait()
            server.stop()


if __name__ == "__main__":
    main()
