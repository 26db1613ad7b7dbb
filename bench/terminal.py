"""The Terminal tab's round trip (issue 13, "How it is checked").

Prints, for a workspace of 200 pods (20 Deployments of 10 replicas, each with its Service)
and a client pod, the median time of one command line posted as the page posts it (htmx)
and answered, against the floor: a bare FastAPI app (one process, like Podpath's) that
answers the same POST with the bytes Podpath answered, recorded first (goal: within 3x). The
two are timed in turns, one request of each per round, so that the load of a shared machine
weighs on both alike:

1. ``true`` (nothing to do: what the route costs by itself);
2. ``kubectl get pods -o wide`` (a read: the screen's lines and the prompt come back);
3. ``kubectl exec client -- curl -s http://far`` (a request from a pod on worker-1 through a
   Service to its one pod on worker-2, so always the longest trace: it comes back for the map
   too, in the trace bar's block; the line is kept for the kind export's replay script, a
   save of the workspace made after the answer is sent).

Run: ./dev bench  (or .venv/bin/python bench/terminal.py).
"""

from __future__ import annotations

import pickle
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

ROUNDS = 41
HTMX = {"HX-Request": "true"}
# The client on worker-1 and the Service "far" with its one pod on worker-2: the request
# always crosses nodes (the longest trace, the largest answer), whatever names and addresses
# the run's cluster gets.
CLIENT = """apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: worker-1, containers: [{name: client, image: curlimages/curl}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: far}
spec:
  replicas: 1
  selector: {matchLabels: {app: far}}
  template:
    metadata: {labels: {app: far}}
    spec:
      nodeSelector: {kubernetes.io/hostname: worker-2}
      containers: [{name: web, image: nginx:1.27, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: far}
spec: {selector: {app: far}, ports: [{port: 80}]}
"""
COMMANDS = ("true", "kubectl get pods -o wide", "kubectl exec client -- curl -s http://far")


def medians_ms(first, second, rounds: int = ROUNDS) -> tuple[float, float]:
    """The median time of each of two calls, taken in turns (one of each per round), so
    that a change in the machine's load during the run weighs on both alike."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for fn, kept in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            kept.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def start_bare(answers: dict[str, bytes], folder: Path) -> subprocess.Popen:
    """A bare FastAPI app answering each command line with Podpath's recorded bytes."""
    module = folder / "bare_terminal.py"
    module.write_text(
        "import pickle\n"
        "from fastapi import FastAPI, Form\n"
        "from fastapi.responses import HTMLResponse\n"
        f"ANSWERS = pickle.loads({pickle.dumps(answers)!r})\n"
        "app = FastAPI()\n"
        "@app.get('/healthz')\n"
        "def healthz():\n"
        "    return {'status': 'ok'}\n"
        "@app.post('/w/{workspace}/terminal')\n"
        "def terminal(workspace: str, line: str = Form('')):\n"
        "    return HTMLResponse(ANSWERS.get(line, b''))\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(folder), "bare_terminal:app",
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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server: ServerHandle = start_server(folder / "data")
        bare = None
        try:
            workspace = httpx.post(f"{server.url}/api/v1/workspaces", json={}, timeout=60).json()[
                "id"
            ]
            manifest = big_manifest(deployments=20, replicas=10) + "---\n" + CLIENT
            httpx.post(
                f"{server.url}/api/v1/workspaces/{workspace}/apply",
                content=manifest,
                headers={"content-type": "application/yaml"},
                timeout=120,
            ).raise_for_status()
            url = f"{server.url}/w/{workspace}/terminal"
            with httpx.Client(timeout=60) as client:
                answers = {
                    line: client.post(url, data={"line": line}, headers=HTMX).content
                    for line in COMMANDS
                }
                bare = start_bare(answers, folder)
                bare_url = f"http://127.0.0.1:{bare.port}/w/{workspace}/terminal"  # type: ignore[attr-defined]
                for line in COMMANDS:
                    assert answers[line], line

                    def podpath(line: str = line) -> None:
                        client.post(url, data={"line": line}, headers=HTMX).raise_for_status()

                    def floor(line: str = line) -> None:
                        client.post(bare_url, data={"line": line}, headers=HTMX).raise_for_status()

                    ours, theirs = medians_ms(podpath, floor)
                    print(
                        f"terminal `{line}`, 200 pods: {ours:.1f} ms median "
                        f"({len(answers[line]) // 1024} KiB); floor (bare FastAPI, same bytes) "
                        f"{theirs:.1f} ms; ratio {ours / theirs:.2f} (goal: under 3)"
                    )
        finally:
            if bare is not None:
                bare.terminate()
                bare.wait()
            server.stop()


if __name__ == "__main__":
    main()
