"""A server's memory while 100 copies of a near-quota workspace are made (issue 11).

Starts ``python -m app`` on a SQLite data folder, fills one workspace close to the default
quotas (390 Deployments of 5 pods and their Services: 1,950 of 2,000 pods, about 3,500
objects), shares it, and makes 100 copies through the share link's **Make my copy** (each
from its own browser cookie, as a class would). Prints the server's resident memory (VmRSS)
before and after, its peak (VmHWM), and the median time of one copy. Before the cache was
bounded by objects, 80 such copies took a server from 127 MB to 2.09 GB.

Run: ./dev bench  (or .venv/bin/python bench/copies.py)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.apply import big_manifest
from tests.conftest import start_server

COPIES = 100


def memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(Path(folder) / "data")
        pid = server.process.pid
        try:
            with httpx.Client(base_url=server.url, timeout=300) as client:
                workspace = client.post("/api/v1/workspaces", json={"workers": 20}).json()["id"]
                applied = client.post(
                    f"/api/v1/workspaces/{workspace}/apply",
                    content=big_manifest(deployments=390, replicas=5),
                    headers={"content-type": "application/yaml"},
                )
                assert applied.status_code == 200, applied.text[:300]
                objects = sum(
                    client.get(f"/api/v1/workspaces/{workspace}").json()["counts"].values()
                )
                client.post(f"/w/{workspace}/share")
                page = client.get(f"/w/{workspace}").text
                token = page.split('href="/s/', 1)[1].split('"', 1)[0]
                before = memory_mb(pid, "VmRSS")
                times = []
                for i in range(COPIES):
                    cookie = {"podpath_client": f"bench-student-{i:04d}-xxxxxxxx"}
                    start = time.perf_counter()
                    made = client.post(f"/s/{token}", cookies=cookie)
                    times.append(time.perf_counter() - start)
                    assert made.status_code == 303, made.text[:300]
                after = memory_mb(pid, "VmRSS")
                peak = memory_mb(pid, "VmHWM")
        finally:
            server.stop()
    print(f"copies of a near-quota workspace ({objects} objects), {COPIES} made:")
    print(f"  server memory before the copies  {before:8.1f} MB")
    print(f"  server memory after {COPIES} copies   {after:8.1f} MB")
    print(f"  server peak memory               {peak:8.1f} MB")
    print(f"  one copy: median {statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
