"""Sandbox page benchmarks (issue 4, "Quality bars").

Prints:

1. the bytes of the first load of ``/w/{id}``: the page and every asset the browser fetched
   for it (Playwright's network events in Debian's Chromium, against a live server), each
   counted uncompressed and gzipped (level 6, as a web server would), on the default cluster
   and with 30 pods (goal: under 250 KB and under 80 KB);
2. the median server time of the map fragment, measured in-process: ``build_map`` plus the
   ``_map.html`` render, for the default cluster with 30 pods and 10 Services (goal: under
   15 ms) and with 200 pods and 20 Services (goal: under 80 ms); the whole ``GET /w/{id}``
   page over HTTP is printed beside it for reference;
3. the median and 95th percentile interval between animation frames (requestAnimationFrame
   timestamps taken in the page) while a trace plays on the 200-pod map in headless
   Chromium, for about 3 s (goal: median under 17 ms, p95 under 25 ms).

Run: ./dev bench  (or .venv/bin/python bench/ui.py)
"""

from __future__ import annotations

import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from playwright.sync_api import sync_playwright

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.render.map import build_map
from app.web.rendering import template_environment
from bench.apply import big_manifest
from tests.conftest import start_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CLIENT = """apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}
"""
KB = 1024


def small_manifest() -> str:
    """30 pods and 10 Services: 10 Deployments of 3 replicas, each with its Service."""
    return big_manifest(deployments=10, replicas=3)


def large_manifest() -> str:
    """200 pods and 20 Services: 20 Deployments of 10 replicas, each with its Service."""
    return big_manifest(deployments=20, replicas=10)


def median_ms(fn, rounds: int) -> float:
    fn()  # warm up (template compiled, indexes built)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- 1. first load ------------------------------------------------------------------------
def first_load(browser, base_url: str, workspace: str) -> tuple[int, int, list[tuple[str, int]]]:
    """(raw bytes, gzipped bytes, [(path, raw bytes)]) of everything /w/{id} loaded."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    urls: list[str] = []
    page.on("requestfinished", lambda request: urls.append(request.url))
    page.goto(f"/w/{workspace}", wait_until="networkidle")
    context.close()
    raw_total = gz_total = 0
    assets = []
    with httpx.Client() as client:
        for url in dict.fromkeys(urls):  # in order, once each
            if urlsplit(url).scheme not in ("http", "https"):
                continue
            body = client.get(url).content
            raw_total += len(body)
            gz_total += len(gzip.compress(body, compresslevel=6))
            assets.append((urlsplit(url).path, len(body)))
    return raw_total, gz_total, assets


# --- 2. the map fragment, in-process ------------------------------------------------------
def map_fragment_ms(cluster: Cluster, rounds: int) -> tuple[float, int]:
    env = template_environment(ROOT / "templates")
    template = env.get_template("_map.html")

    def render() -> str:
        return template.render(map=build_map(cluster))

    return median_ms(render, rounds), len(render())


def page_ms(base_url: str, workspace: str, rounds: int) -> float:
    with httpx.Client(base_url=base_url) as client:
        return median_ms(lambda: client.get(f"/w/{workspace}").raise_for_status(), rounds)


# --- 3. frame intervals while a trace plays -------------------------------------------------
COLLECT = """async (ms) => {
  const deltas = [];
  let last = null;
  const end = performance.now() + ms;
  await new Promise((done) => {
    function frame(now) {
      if (last !== null) deltas.push(now - last);
      last = now;
      if (now < end) requestAnimationFrame(frame); else done();
    }
    requestAnimationFrame(frame);
  });
  return deltas;
}"""


def frame_intervals(browser, base_url: str, workspace: str) -> tuple[list[float], int]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(f"/w/{workspace}")
    page.wait_for_function("window.podpathTracePlayer !== undefined")
    bar = page.locator("form.trace-bar")
    bar.locator('select[name="from"]').select_option("pod/default/client")
    bar.locator('input[name="to"]').fill("http://app-7/")
    bar.get_by_role("button", name="Trace it").click()
    player = page.locator("[data-trace-player]")
    player.wait_for()
    page.keyboard.press("Home")  # stop the autoplay and start from the first hop
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Play").click()
    deltas = page.evaluate(COLLECT, 3000)
    hop = int(player.get_attribute("data-current-hop") or "0")
    context.close()
    return deltas, hop


def main() -> None:
    print("Sandbox page (issue 4)")

    # 2 first: in-process, no server needed.
    small = Cluster.create(ClusterConfig(), seed=1)
    apply_text(small, small_manifest())
    large = Cluster.create(ClusterConfig(), seed=1)
    apply_text(large, large_manifest())
    apply_text(large, CLIENT)
    for name, cluster, goal in (
        ("30 pods, 10 Services", small, 15),
        ("200 pods, 20 Services", large, 80),
    ):
        ms, size = map_fragment_ms(cluster, rounds=30)
        pods = cluster.state.count("Pod")
        verdict = "ok" if ms < goal else "OVER GOAL"
        print(
            f"  map fragment, {name} ({pods} pods with system ones, {size / KB:.0f} KB of SVG): "
            f"median {ms:.1f} ms in-process (build_map + _map.html; goal < {goal} ms) {verdict}"
        )

    with tempfile.TemporaryDirectory(prefix="podpath-bench-ui-") as tmp:
        server = start_server(Path(tmp) / "data", args=["--store", "memory"])
        try:
            with httpx.Client(base_url=server.url) as client:
                ids = {}
                for name, manifest in (
                    ("default", None),
                    ("30 pods", small_manifest()),
                    ("200 pods", large_manifest() + "---\n" + CLIENT),
                ):
                    workspace = client.post("/api/v1/workspaces", json={}).json()["id"]
                    if manifest:
                        client.post(
                            f"/api/v1/workspaces/{workspace}/apply",
                            content=manifest,
                            headers={"Content-Type": "application/yaml"},
                        ).raise_for_status()
                    ids[name] = workspace
            for name in ("30 pods", "200 pods"):
                print(
                    f"  GET /w/{{id}} whole page over HTTP, {name}: "
                    f"median {page_ms(server.url, ids[name], 15):.1f} ms (for reference)"
                )
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    for name in ("default", "30 pods"):
                        raw, gz, assets = first_load(browser, server.url, ids[name])
                        ok = "ok" if raw < 250 * KB and gz < 80 * KB else "OVER GOAL"
                        print(
                            f"  first load of /w/{{id}}, {name} cluster: {len(assets)} requests, "
                            f"{raw / KB:.1f} KB uncompressed, {gz / KB:.1f} KB gzipped "
                            f"(goal < 250 KB and < 80 KB) {ok}"
                        )
                        for path, size in assets:
                            print(f"      {size / KB:7.1f} KB  {path}")
                    deltas, hop = frame_intervals(browser, server.url, ids["200 pods"])
                finally:
                    browser.close()
        finally:
            server.stop()
    median, p95 = statistics.median(deltas), percentile(deltas, 0.95)
    ok = "ok" if median < 17 and p95 < 25 else "OVER GOAL"
    print(
        f"  frame interval while a trace plays on the 200-pod map (headless Chromium, "
        f"{len(deltas)} frames in 3 s, reached hop {hop}): median {median:.1f} ms, "
        f"p95 {p95:.1f} ms, max {max(deltas):.1f} ms (goal: median < 17 ms, p95 < 25 ms) {ok}"
    )


if __name__ == "__main__":
    main()
