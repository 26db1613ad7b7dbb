"""Apply benchmarks (issue 2).

Prints:
- the time to apply one manifest of 1,000 Deployments (5,000 pods) and 1,000 Services to a
  50-node cluster, in-process (goal: under 2 s), split into parsing+validation and the rest;
- the median latency of a small apply (5 objects) to a classroom-sized workspace over HTTP,
  next to the median of a bare FastAPI endpoint measured in the same run (goal: within 3x).

Run: ./dev bench  (or .venv/bin/python bench/apply.py [--cni cilium] [--ip-family dual])
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cluster.apply import apply_documents
from app.cluster.cluster import Cluster
from app.cluster.manifests import parse_manifests
from app.cluster.state import ClusterConfig


def big_manifest(deployments: int = 1000, replicas: int = 5, dual_stack: bool = False) -> str:
    """``deployments`` Deployments with a Service each (PreferDualStack with ``dual_stack``:
    an address of each family, and an EndpointSlice per family)."""
    policy = "\n  ipFamilyPolicy: PreferDualStack" if dual_stack else ""
    docs = []
    for i in range(deployments):
        docs.append(
            f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  labels: {{app: app-{i}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}, tier: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - name: http
          containerPort: 8080
"""
        )
        docs.append(
            f"""apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:{policy}
  selector: {{app: app-{i}}}
  ports:
  - name: http
    port: 80
    targetPort: http
"""
        )
    return "---\n".join(docs)


def bench_big_apply(cni: str = "flannel", ip_family: str = "ipv4") -> None:
    config = ClusterConfig(
        cni=cni,
        ip_family=ip_family,
        workers=50,
        max_pods=10_000,
        max_services=2_000,
        max_objects=20_000,
    )
    text = big_manifest(dual_stack=ip_family == "dual")
    runs = []
    for seed in range(3):
        cluster = Cluster.create(config, seed=seed)
        start = time.perf_counter()
        docs = parse_manifests(text, track_lines=False)  # as apply_text reads it
        parsed = time.perf_counter()
        result = apply_documents(cluster, docs)
        done = time.perf_counter()
        state = cluster.to_state()
        import json

        encoded = json.dumps(state)
        saved = time.perf_counter()
        runs.append((parsed - start, done - parsed, saved - done, len(encoded)))
        assert len(result.objects) == 2000
        assert cluster.state.count("Pod") >= 5000
    best = min(runs, key=lambda r: r[0] + r[1])
    print(
        f"apply 1,000 Deployments (5,000 pods) + 1,000 Services to a 50-node {cni} cluster"
        + (f", {ip_family}" if ip_family != "ipv4" else "")
    )
    print(f"  parse YAML:                 {best[0] * 1000:8.1f} ms")
    print(f"  validate + apply + controllers: {best[1] * 1000:8.1f} ms")
    print(f"  total (goal < 2000 ms):     {(best[0] + best[1]) * 1000:8.1f} ms")
    print(
        f"  (then serialising the state for SQLite: {best[2] * 1000:.1f} ms, {best[3] / 1e6:.1f} MB)"
    )


SMALL = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web-%(n)d}
spec:
  replicas: 2
  selector: {matchLabels: {app: web-%(n)d}}
  template:
    metadata: {labels: {app: web-%(n)d}}
    spec:
      containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web-%(n)d}
spec:
  selector: {app: web-%(n)d}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-%(n)d-np}
spec:
  type: NodePort
  selector: {app: web-%(n)d}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client-%(n)d, labels: {app: client}}
spec:
  containers: [{name: shell, image: busybox}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web-%(n)d}
spec:
  rules:
  - host: shop-%(n)d.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web-%(n)d, port: {number: 80}}}}
"""


def bench_http(rounds: int = 60, cni: str = "flannel", ip_family: str = "ipv4") -> None:
    import threading

    import httpx
    import uvicorn
    from fastapi import FastAPI

    from app.settings import Settings
    from app.web.app import create_app

    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(data_dir=Path(data_dir), store="sqlite"))

        bare = FastAPI()

        @bare.get("/ping")
        def ping() -> dict[str, str]:
            return {"status": "ok"}

        servers = []
        for port, target in ((18731, app), (18732, bare)):
            server = uvicorn.Server(
                uvicorn.Config(target, host="127.0.0.1", port=port, log_level="error")
            )
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            servers.append(server)
        while not all(s.started for s in servers):
            time.sleep(0.02)
        with httpx.Client(timeout=30) as client:
            wid = client.post(
                "http://127.0.0.1:18731/api/v1/workspaces",
                json={"seed": 1, "cni": cni, "ipFamily": ip_family},
            ).json()["id"]
            # A classroom-sized workspace: about 30 pods and 10 Services before we start.
            for n in range(4):
                client.post(
                    f"http://127.0.0.1:18731/api/v1/workspaces/{wid}/apply",
                    content=SMALL % {"n": 100 + n},
                )
            apply_times, bare_times = [], []
            for n in range(rounds):
                start = time.perf_counter()
                response = client.post(
                    f"http://127.0.0.1:18731/api/v1/workspaces/{wid}/apply",
                    content=SMALL % {"n": n % 20},
                    headers={"content-type": "application/yaml"},
                )
                apply_times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
                start = time.perf_counter()
                client.get("http://127.0.0.1:18732/ping")
                bare_times.append(time.perf_counter() - start)
            pods = len(
                client.get(
                    f"http://127.0.0.1:18731/api/v1/workspaces/{wid}/objects?kind=Pod"
                ).json()["items"]
            )
        for server in servers:
            server.should_exit = True
    apply_ms = statistics.median(apply_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    print(f"small apply (5 objects) over HTTP to a workspace of {pods} pods, SQLite store")
    print(f"  median apply:            {apply_ms:7.2f} ms")
    print(f"  median bare FastAPI GET: {bare_ms:7.2f} ms")
    print(f"  ratio (goal <= 3x):      {apply_ms / bare_ms:7.2f}x")


def cni_argument() -> str:
    """``--cni PLUGIN`` (flannel unless given): the CNI plugin of the benchmark's clusters."""
    import argparse

    from app.cluster import constants

    parser = argparse.ArgumentParser()
    parser.add_argument("--cni", default="flannel", choices=constants.CNI_PLUGINS)
    return parser.parse_known_args()[0].cni


def ip_family_argument() -> str:
    """``--ip-family ipv4|ipv6|dual`` (ipv4 unless given): the benchmark clusters' IP family
    (with dual, the Services are PreferDualStack)."""
    import argparse

    from app.cluster import constants

    parser = argparse.ArgumentParser()
    parser.add_argument("--ip-family", default="ipv4", choices=constants.IP_FAMILY_MODES)
    return parser.parse_known_args()[0].ip_family


if __name__ == "__main__":
    chosen, family = cni_argument(), ip_family_argument()
    bench_big_apply(chosen, family)
    bench_http(cni=chosen, ip_family=family)
