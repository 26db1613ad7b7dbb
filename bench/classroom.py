"""A live class under load: N students and their instructor on one server, for a bounded time.

Starts ``python -m app`` (a temporary data folder; the per-browser and per-address limits
raised, since every student comes from 127.0.0.1) and a bare FastAPI app on free loopback
ports, and drives each with the same load generator: one asyncio process, one
``httpx.AsyncClient`` (own cookies) per student.

Each student joins the class (``POST /join/<code>``), loads the lesson page, opens its event
stream (kept open the whole run) and applies the lesson's first Service; then, every 1 to 3 s
(random), does one of: load its sandbox page (``pages``), open a side-panel tab with htmx
(``fragments``), apply a small manifest through the JSON API (``applies``), trace ``client``
to ``http://web/`` (``traces``), run the lesson's Check (``checks``). It also keeps the
stream of its workspace's changes open (the page does, to redraw changes made elsewhere).
On every ``step``, ``trace`` or ``state`` event its class stream carries, it POSTs ``/class/follow`` as the page does
(after a random part of the spread the event names, one at a time, naming the teacher's trace
it shows: ``follows``). The instructor reloads the
dashboard's board every 2 s (``dashboard``) and, every 5 s, moves to the next lesson step,
traces 1 s later and shows three hops (``teacher``).

The class runs ``--warmup`` seconds (10 by default) before the measured window opens: at
the start every student's first clicks and the instructor's first moves meet clusters no
request has drawn yet, all at once. Those seconds are timed apart and printed on a line of
their own (p95 per kind, errors), so the measured window is the class under way.

Prints, for the measured window only (joins are setup): the count and the p50/p95/p99 latency
of each kind of request, the errors (any answer but 2xx/3xx, or no answer), the requests per
second, and how long after the instructor's step POST was sent each student's stream had the
step event (p50/p95/max over students x steps). Then the same for the bare app (same clients,
think times, streams and flow; every answer a small HTML string, and its streams carry the
instructor's moves): what the load generator and HTTP cost without Podpath. Also the CPU
seconds the server and the generator used, and the generator's event-loop lag (when that
is high, the generator, not the server, is the bottleneck), what other processes used (a
PostgreSQL server on the same machine) and what the host of a virtual machine took for
others ("steal"). The generator runs on uvloop when it is installed, as the server does.
Before and after, it times a fixed piece of Python work (``machine``): a shared machine's
speed moves from hour to hour, and runs compare only where that number is about the same.

Targets (the live classroom's issue), at 200 students: pages, fragments, applies and traces
p95 under 150 ms, no errors, step-to-stream p95 under 1 s.

Run: ./dev bench  (50 students for 20 s, then the bare app for 10 s)
     .venv/bin/python bench/classroom.py --students 200 --seconds 60 --workers 2
     [--store sqlite|memory] [--database-url postgresql://...] [--warmup 10]

The run is bounded: a watchdog stops both servers and exits after a hard deadline (printed),
and the servers are always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
HX = {"HX-Request": "true"}
LESSON = "services"
#: Where students and the instructor trace from (the lesson's client pod).
CLIENT = "pod/default/client"
#: Students who, while joining, send one request of each kind (a fresh server process imports
#: and compiles templates on first use; the measured window is about a warm one).
WARM = 4
#: What a student does between two thinks, and how often (weights).
MIX = {"pages": 15, "fragments": 30, "applies": 15, "traces": 25, "checks": 15}
ORDER = [*MIX, "follows", "dashboard", "teacher"]
TARGETED = ("pages", "fragments", "applies", "traces")
LIMITS = ("NEW_PER_CLIENT", "NEW_PER_ADDRESS", "WORK_PER_CLIENT", "WORK_PER_ADDRESS")
SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""
SMALL = """apiVersion: apps/v1
kind: Deployment
metadata: {name: extra-%(n)d}
spec:
  replicas: %(r)d
  selector: {matchLabels: {app: extra-%(n)d}}
  template:
    metadata: {labels: {app: extra-%(n)d}}
    spec:
      containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: extra-%(n)d}
spec:
  selector: {app: extra-%(n)d}
  ports: [{port: 80, targetPort: http}]
"""


# --- servers ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A server process group this script started (uvicorn's workers are in its group)."""

    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def cpu_seconds(self) -> float:
        """User and system CPU of every live process of the group, in seconds."""
        total, tick = 0.0, os.sysconf("SC_CLK_TCK")
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # its process group
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            with_group(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(8)
        with_group(self.process.pid, signal.SIGKILL)  # workers left behind, if any
        self.process.wait()


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used (user, nice, system, irq)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def stolen() -> float:
    """CPU seconds a virtual machine's host gave to others while this machine wanted them
    ("steal" in /proc/stat): a shared machine is slower while it grows."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return int(fields[7]) / os.sysconf("SC_CLK_TCK") if len(fields) > 7 else 0.0


def with_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def start(name: str, command: list[str], folder: Path, env: dict[str, str], port: int) -> Server:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    tail = log.read_text(errors="replace")[-2000:]
    raise SystemExit(f"bench/classroom.py: {name} did not start ({' '.join(command)}):\n{tail}")


def start_podpath(args: argparse.Namespace, folder: Path) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPATH_")}
    env.update({f"PODPATH_{name}": "1000000" for name in LIMITS}, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(args.workers), "--data-dir", str(folder / "data")]
    if args.database_url:
        command += ["--database-url", args.database_url]
    else:
        command += ["--store", args.store]
    return start("podpath", command, folder, env, port)


def start_bare(folder: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench._bare:bare_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    return start("bare", command, folder, {**os.environ, "PYTHONUNBUFFERED": "1"}, port)


# --- the load ---------------------------------------------------------------------------------
@dataclass
class Run:
    """What one measured run saw."""

    warming: bool = False  # the class under way, before the measured window
    measuring: bool = False
    stop: bool = False
    seated: int = 0
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)
    sent: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    arrived: dict[tuple[str, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    lag: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    closed: asyncio.Event = field(default_factory=asyncio.Event)  # streams may close now
    # The server's, the generator's, all processes', the host's steal.
    cpu: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    began: float = 0.0  # when the measured window opened (perf_counter)
    warm_times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    warm_errors: int = 0

    @property
    def under_way(self) -> bool:
        """Warming up or measured: the students' loops and the instructor's moves run."""
        return self.warming or self.measuring

    async def call(self, kind: str, client: httpx.AsyncClient, method: str, url: str, **kw):
        """One request, timed and counted while measuring (while warming up, kept apart;
        during setup, any error raises)."""
        start = time.perf_counter()
        problem = None
        try:
            answer = await client.request(method, url, **kw)
            if answer.status_code >= 400:
                problem = f"{answer.status_code} {answer.text[:160]!r}"
        except httpx.HTTPError as error:
            answer, problem = None, f"{type(error).__name__} {error}"
        if self.warming:
            self.warm_times[kind].append(time.perf_counter() - start)
            self.warm_errors += bool(problem)
        elif self.measuring:
            self.times[kind].append(time.perf_counter() - start)
            if problem:
                self.errors[kind] += 1
                if len(self.examples) < 5:
                    self.examples.append(f"{kind} {method} {url[:70]}: {problem}")
        elif problem:
            raise RuntimeError(f"setup: {method} {url}: {problem}")
        return answer


def location(answer: httpx.Response) -> str:
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])
    return answer.headers["location"]


def browser_for(url: str) -> httpx.AsyncClient:
    """One browser: its own connections and cookies."""
    timeout = httpx.Timeout(30.0, read=60.0)
    # An idle connection is dropped before uvicorn's 5 s keep-alive ends it: a browser resends
    # a request that met a connection closed under it; httpx would count it as an error.
    limits = httpx.Limits(keepalive_expiry=3.0)
    return httpx.AsyncClient(
        base_url=url, timeout=timeout, limits=limits, headers={"User-Agent": "bench"}
    )


async def listen(run: Run, browser: httpx.AsyncClient, url: str, follow, opened) -> None:
    """Read the student's event stream (reconnecting with Last-Event-ID, as EventSource does);
    wake the follower on step, trace and state; note when each event came."""
    path, last = url.split("?")[0], url.rsplit("after=", 1)[1]
    while not run.stop:
        headers = {"Accept": "text/event-stream", "Last-Event-ID": last}
        try:
            async with browser.stream("GET", path, headers=headers) as answer:
                if answer.status_code != 200:
                    raise httpx.HTTPError(f"stream answered {answer.status_code}")
                opened.set()
                kind, seq, data = "", 0, ""
                async for line in answer.aiter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("id: "):
                        seq, last = int(line[4:]), line[4:]
                    elif line.startswith("data: "):
                        data = line[6:]
                    elif not line and kind:
                        if run.under_way:
                            run.arrived[kind, seq].append(time.perf_counter())
                        if kind in ("step", "trace", "state") and not follow.is_set():
                            follow.spread = spread_of(data)
                            follow.set()
                        kind, data = "", ""
        except httpx.HTTPError as error:
            await stream_broke(run, f"stream {path[:60]}", error)


async def watch_changes(run: Run, browser: httpx.AsyncClient, ws: str, shown: str) -> None:
    """Keep the page's stream of its workspace's changes open, as static/js/live.js does.
    Every change here is the student's own (its applies, its catch-ups), which the page's own
    answers draw: the events are read, and no redraw is asked for."""
    while not run.stop:
        try:
            url = f"/w/{ws}/changes?shown={shown}"
            async with browser.stream(
                "GET", url, headers={"Accept": "text/event-stream"}
            ) as answer:
                if answer.status_code != 200:
                    raise httpx.HTTPError(f"changes stream answered {answer.status_code}")
                async for line in answer.aiter_lines():
                    if line.startswith("data: "):
                        shown = line[6:]
        except httpx.HTTPError as error:
            await stream_broke(run, "changes stream", error)


async def stream_broke(run: Run, what: str, error: Exception) -> None:
    """Count a stream that ended with an error while measuring (with an example or five),
    then wait a moment before it is opened again, as EventSource does."""
    if run.warming:
        run.warm_errors += 1
    elif run.measuring and not run.stop:
        run.errors["streams"] += 1
        if len(run.examples) < 5:
            run.examples.append(f"{what}: {type(error).__name__} {error}")
    await asyncio.sleep(1)


def spread_of(data: str) -> float:
    """The seconds a page spreads its catch-up over, from a move event's data.

    >>> spread_of('{"spread": 800}'), spread_of("")
    (0.8, 0.0)
    """
    try:
        return float(json.loads(data or "{}").get("spread", 0)) / 1000
    except (ValueError, AttributeError):
        return 0.0


class Moved(asyncio.Event):
    """The teacher moved; ``spread``: the seconds the catch-up may wait (as the page does)."""

    spread = 0.0


async def follower(run: Run, browser: httpx.AsyncClient, ws: str, follow: Moved) -> None:
    """Catch up after the teacher moved, as static/js/class.js does: after a random part of
    the spread the event gave, one request at a time, naming the teacher's trace shown."""
    shown = ""
    while True:
        await follow.wait()
        if run.stop:
            return
        await asyncio.sleep(random.uniform(0, follow.spread))
        follow.clear()
        answer = await run.call(
            "follows", browser, "POST", f"/w/{ws}/class/follow", headers=HX,
            data={"shown_trace": shown},
        )  # fmt: skip
        text = answer.text if answer else ""
        if 'id="trace-result"' in text:  # the trace was redrawn: the page shows this one now
            mark = re.search(r'data-followed-trace="(\d+)"', text)
            shown = mark[1] if mark else ""


async def student(run: Run, url: str, code: str, n: int, joining, go: asyncio.Event) -> None:
    async with browser_for(url) as browser:
        async with joining:  # setup: join, load the page, make the lesson's Service
            answer = await run.call(
                "join", browser, "POST", f"/join/{code}", data={"name": f"Student {n:03d}"}
            )
            target = location(answer)
            page = await run.call("pages", browser, "GET", target)
            ws, lesson = target.split("/")[2], target.rsplit("/", 1)[1]
            stream = re.search(r'sse-connect="([^"]+)"', page.text)[1]
            tag = re.search(r'data-tag="([^"]*)"', page.text)
            apply, yaml = f"/api/v1/workspaces/{ws}/apply", {"content-type": "application/yaml"}
            await run.call("applies", browser, "POST", apply, content=SERVICE, headers=yaml)
            if n < WARM:  # each kind of request once, so the measured ones find a warm server
                for tab in ("rules", "objects"):
                    await run.call("warm", browser, "GET", f"/w/{ws}?tab={tab}", headers=HX)
                form = {"from": CLIENT, "to": "http://web/"}
                await run.call("warm", browser, "POST", f"/w/{ws}/trace", data=form, headers=HX)
                await run.call("warm", browser, "POST", f"/w/{ws}/lessons/{lesson}/check")
                await run.call("warm", browser, "POST", f"/w/{ws}/class/follow", headers=HX)
        follow, opened = Moved(), asyncio.Event()
        tasks = [
            asyncio.create_task(listen(run, browser, stream, follow, opened)),
            asyncio.create_task(follower(run, browser, ws, follow)),
            asyncio.create_task(watch_changes(run, browser, ws, tag[1] if tag else "")),
        ]
        try:
            await opened.wait()
            run.seated += 1
            await go.wait()
            await asyncio.sleep(random.uniform(0, 3))
            while not run.stop:
                kind = random.choices(list(MIX), list(MIX.values()))[0]
                if kind == "pages":
                    await run.call(kind, browser, "GET", target)
                elif kind == "fragments":
                    tab = random.choice(("rules", "objects"))
                    await run.call(kind, browser, "GET", f"/w/{ws}?tab={tab}", headers=HX)
                elif kind == "applies":
                    body = SMALL % {"n": random.randrange(3), "r": random.randrange(1, 3)}
                    await run.call(kind, browser, "POST", apply, content=body, headers=yaml)
                elif kind == "traces":
                    form = {"from": CLIENT, "to": "http://web/"}
                    await run.call(kind, browser, "POST", f"/w/{ws}/trace", data=form, headers=HX)
                else:
                    check = f"/w/{ws}/lessons/{lesson}/check"
                    await run.call(kind, browser, "POST", check, headers=HX)
                await asyncio.sleep(random.uniform(1, 3))
        finally:
            follow.set()  # the follower sees the stop
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(run.closed.wait(), 45)  # the last moves still count
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)


async def instructor(run: Run, url: str, ready: asyncio.Future, go: asyncio.Event) -> None:
    async with browser_for(url) as browser:
        link = location(
            await run.call("teacher", browser, "POST", "/classes", data={"lesson": LESSON})
        )
        board = location(await run.call("dashboard", browser, "GET", link))  # sets the key cookie
        page = (await run.call("dashboard", browser, "GET", board)).text
        code = re.search(r'class-badge">Class ([A-Z0-9]{3}-[A-Z0-9]{3})', page)[1]
        teacher = re.search(r'href="/w/([^/"]+)/lessons', page)[1]
        yaml = {"content-type": "application/yaml"}
        apply = f"/api/v1/workspaces/{teacher}/apply"
        await run.call("teacher", browser, "POST", apply, content=SERVICE, headers=yaml)
        ready.set_result(code)
        await go.wait()

        async def dashboard() -> None:
            while not run.stop:
                await run.call("dashboard", browser, "GET", board, headers=HX)
                await asyncio.sleep(2)

        async def send(kind: str | None, path: str, form: dict[str, str], **kw):
            if kind:
                run.sent[kind].append(time.perf_counter())
            return await run.call("teacher", browser, "POST", path, data=form, **kw)

        watching = asyncio.create_task(dashboard())
        step = 0
        try:
            while not run.stop:
                began = time.perf_counter()
                step = (step + 1) % 5
                path = f"/w/{teacher}/lessons/{LESSON}/step"
                await send("step", path, {"step": str(step)}, headers=HX)
                await asyncio.sleep(1)
                form = {"from": CLIENT, "to": "http://web/"}
                traced = await send("trace", f"/w/{teacher}/trace", form, headers=HX)
                mark = re.search(r'data-class-trace="(\d+)"', traced.text if traced else "")
                for hop in range(1, 4):
                    await asyncio.sleep(0.5)
                    if mark and not run.stop:
                        await send("hop", f"{board}/hop", {"trace": mark[1], "hop": str(hop)})
                await asyncio.sleep(max(0.0, 5 - (time.perf_counter() - began)))
        finally:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)


async def ticker(run: Run) -> None:
    """The generator's own event-loop lag, sampled every 50 ms."""
    while not run.stop:
        start = time.perf_counter()
        await asyncio.sleep(0.05)
        if run.measuring:
            run.lag.append(time.perf_counter() - start - 0.05)


async def drive(
    server: Server, students: int, seconds: float, setup: float, warmup: float = 0.0
) -> Run:
    """Seat everyone (setup, not measured), let the class run ``warmup`` seconds (timed
    apart), then measure ``seconds`` of class."""
    run, go = Run(), asyncio.Event()
    ready = asyncio.get_running_loop().create_future()
    tasks = [asyncio.create_task(instructor(run, server.url, ready, go))]
    try:
        async with asyncio.timeout(setup):
            await asyncio.wait([tasks[0], ready], return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            await tasks[0]  # raises what went wrong
        code = ready.result()
        joining = asyncio.Semaphore(8)
        tasks += [
            asyncio.create_task(student(run, server.url, code, n, joining, go))
            for n in range(students)
        ]
        async with asyncio.timeout(setup):  # everyone joined and listening
            while run.seated < students:
                failed = [t for t in tasks if t.done()]
                if failed:
                    await asyncio.gather(*failed)  # raises what went wrong
                await asyncio.sleep(0.1)
        tasks.append(asyncio.create_task(ticker(run)))
        print(
            f"  {students} students joined and listening; class under way for {warmup:.0f} s, "
            f"then measuring {seconds:.0f} s",
            flush=True,
        )
        await asyncio.sleep(1)
        run.warming = True
        go.set()
        await asyncio.sleep(warmup)
        cpu, generator, machine = server.cpu_seconds(), time.process_time(), machine_busy()
        steal = stolen()
        run.warming, run.measuring = False, True
        began = run.began = time.perf_counter()
        await asyncio.sleep(seconds)
        run.stop = True  # no new request; the ones under way finish and count (up to 30 s)
        run.elapsed = time.perf_counter() - began
        run.cpu = (
            server.cpu_seconds() - cpu,
            time.process_time() - generator,
            machine_busy() - machine,
            stolen() - steal,
        )
        await asyncio.wait(tasks[:1], timeout=30)  # the instructor's last move is sent
        await asyncio.sleep(3)  # and has reached the streams
        run.closed.set()
        await asyncio.wait(tasks, timeout=30)
        run.measuring = False
    finally:
        run.closed.set()
        run.stop = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return run


# --- the figures ------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile of seconds, in ms.

    >>> pct([0.001 * n for n in range(1, 101)], 95)
    95.0
    """
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))] * 1000


def delays(run: Run, kind: str) -> list[float]:
    """Each student's delay from the instructor's POST being sent to its stream having the
    event (the n-th event of ``kind`` is the n-th POST's), for the POSTs sent while measuring."""
    seqs = sorted(seq for k, seq in run.arrived if k == kind)
    found = []
    for sent, seq in zip(run.sent[kind], seqs, strict=False):
        if sent >= run.began:
            found += [t - sent for t in run.arrived[kind, seq]]
    return found


def measured_sends(run: Run, kind: str) -> int:
    return sum(sent >= run.began for sent in run.sent[kind])


def report(title: str, run: Run, students: int) -> None:
    elapsed = run.elapsed
    print(f"{title}: {students} students, {elapsed:.0f} s measured")
    print(f"  {'requests':<10} {'count':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'errors':>6}  (ms)")
    total = 0
    for kind in ORDER:
        times = run.times.get(kind, [])
        total += len(times)
        if times:
            p50, p95, p99 = (pct(times, q) for q in (50, 95, 99))
            line = f"  {kind:<10} {len(times):>6} {p50:>6.0f} {p95:>6.0f} {p99:>6.0f}"
            line += f" {run.errors[kind]:>6}"
            print(line + ("  (target: p95 < 150)" if kind in TARGETED else ""))
    errors = sum(run.errors.values())
    streams = run.errors["streams"]
    print(f"  all        {total:>6} requests, {total / elapsed:.1f}/s; {errors} errors", end="")
    print(f" ({streams} dropped streams)" if streams else "")
    for example in run.examples:
        print(f"    e.g. {example}")
    for kind in ("step", "hop"):
        found = delays(run, kind)
        target = ", target: p95 < 1000" if kind == "step" else ""
        if found:
            print(
                f"  {kind}->stream {len(found):>6} {pct(found, 50):>6.0f} {pct(found, 95):>6.0f} "
                f"{max(found) * 1000:>6.0f} (max)  of {measured_sends(run, kind) * students} "
                f"student x {kind}{target}"
            )
    warm = [k for k in TARGETED if run.warm_times.get(k)]
    if warm:
        figures = ", ".join(f"{k} {pct(run.warm_times[k], 95):.0f}" for k in warm)
        print(f"  warming up (not counted): p95 {figures} ms; {run.warm_errors} errors")
    lag = pct(run.lag, 95) if run.lag else 0.0
    server, generator, machine, steal = (seconds / elapsed for seconds in run.cpu)
    print(
        f"  CPU (cores): server {server:.2f}, load generator {generator:.2f} (its event-loop lag "
        f"p95 {lag:.0f} ms), other processes {max(0.0, machine - server - generator):.2f}, "
        f"taken by the host {steal:.2f}"
    )


def machine_speed() -> float:
    """Milliseconds one core takes for a fixed piece of Python work (the best of five): the
    same number on a quiet machine from run to run, higher while the machine is slower (a
    shared host's other guests, its clock), whatever the code under test.

    >>> machine_speed() > 0
    True
    """
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for n in range(200_000):
            total += n * n % 7
        best = min(best, time.perf_counter() - start)
    return best * 1000


def run_loop(main: Coroutine[Any, Any, Run]) -> Run:
    """Run the load generator on uvloop when it is installed (as it is for the server): the
    generator shares the machine's cores with the server, and spends less of them so."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20, help="measured load on Podpath")
    parser.add_argument(
        "--baseline-seconds", type=float, help="measured load on the bare app (default: half)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=10,
        help="seconds of class before the measured window (its figures printed apart)",
    )
    parser.add_argument("--workers", type=int, default=1, help="python -m app --workers")
    parser.add_argument("--store", choices=["sqlite", "memory"], default="sqlite")
    parser.add_argument("--database-url", default="", help="a PostgreSQL URL (then no --store)")
    args, _ = parser.parse_known_args(argv)  # ./dev bench passes its arguments to every script
    if args.store == "memory" and args.workers > 1 and not args.database_url:
        raise SystemExit("bench/classroom.py: the memory store runs with one worker")
    baseline = args.seconds / 2 if args.baseline_seconds is None else args.baseline_seconds
    setup = 30 + 0.5 * args.students  # the joins, the streams
    deadline = 2 * (setup + 90 + args.warmup) + args.seconds + baseline
    store = "PostgreSQL" if args.database_url else args.store
    print(
        f"classroom: {args.students} students, store {store}, {args.workers} worker(s), "
        f"{os.cpu_count()} cores; hard deadline {deadline:.0f} s"
    )
    if not args.database_url:
        print("  (no --database-url given: no PostgreSQL run)")
    print(
        f"  machine: a fixed piece of Python work takes {machine_speed():.1f} ms (lower: quicker)"
    )
    servers: list[Server] = []

    def give_up() -> None:
        print(f"bench/classroom.py: past the hard deadline of {deadline:.0f} s", flush=True)
        for server in servers:
            server.stop()
        os._exit(3)

    watchdog = threading.Timer(deadline, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-classroom-") as folder:
            servers.append(start_podpath(args, Path(folder)))
            run = run_loop(drive(servers[-1], args.students, args.seconds, setup, args.warmup))
            servers.pop().stop()
            report("Podpath", run, args.students)
            if baseline > 0:
                servers.append(start_bare(Path(folder)))
                run = run_loop(drive(servers[-1], args.students, baseline, setup, args.warmup))
                servers.pop().stop()
                report("bare FastAPI, same load generator", run, args.students)
        print(f"  machine, after: the same work takes {machine_speed():.1f} ms")
    finally:
        for server in servers:
            server.stop()
        watchdog.cancel()


if __name__ == "__main__":
    main()
