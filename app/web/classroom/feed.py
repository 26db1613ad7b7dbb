"""Class events to browsers, as server-sent events.

Each server process keeps one watcher per class that has someone listening. The watcher
reads the class's event log (the store is the truth, shared by every process and machine)
when the store says something was added (at once within a process, and across machines with
PostgreSQL's LISTEN/NOTIFY) and otherwise a few times a second (SQLite cannot notify another
process). What it reads it hands to every listener of the class in this process, so a lecture
hall of 200 streams costs one query per look, not 200.

A stream ends by itself after :data:`STREAM_SECONDS`; the browser's EventSource reconnects
with ``Last-Event-ID`` and nothing is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from app.store.classes.base import ClassBackend, ClassEvent

#: Seconds between keep-alive comments (proxies close idle connections).
KEEP_ALIVE = 15.0
#: Seconds a stream lasts before the browser is asked to reconnect.
STREAM_SECONDS = 300.0
#: Events a watcher keeps for listeners that fall behind.
RECENT = 500
#: Seconds a watcher with no listeners lives on.
LINGER = 30.0


class Watcher:
    """The newest events of one class, read from the store for this process's listeners."""

    def __init__(self, backend: ClassBackend, class_id: str, poll: float) -> None:
        self.backend = backend
        self.class_id = class_id
        self.poll = poll
        self.last = 0
        self.recent: list[ClassEvent] = []
        self.listeners = 0
        self.changed = asyncio.Condition()
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def run(self, done: Callable[[], None]) -> None:
        self.last = await run_in_threadpool(self.backend.last_seq, self.class_id)
        idle_since: float | None = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll)
                self.wake.clear()
                try:
                    found = await run_in_threadpool(
                        self.backend.events_after, self.class_id, self.last
                    )
                except Exception:  # the store is down for a moment: look again later
                    found = []
                if found:
                    self.recent = (self.recent + found)[-RECENT:]
                    self.last = found[-1].seq
                    async with self.changed:
                        self.changed.notify_all()
                if self.listeners:
                    idle_since = None
                elif idle_since is None:
                    idle_since = loop.time()
                elif loop.time() - idle_since > LINGER:
                    return
        finally:
            done()

    def after(self, seq: int) -> list[ClassEvent] | None:
        """The kept events after ``seq``, or None when some of them are no longer kept."""
        if self.recent and self.recent[0].seq > seq + 1:
            return None
        return [e for e in self.recent if e.seq > seq]


class ClassFeeds:
    """This process's watchers, one per class being listened to.

    Parameters
    ----------
    backend : ClassBackend
        The class store (its ``on_event`` wakes the watchers).
    poll : float
        Seconds between looks at a class's log when nothing woke the watcher.
    """

    def __init__(self, backend: ClassBackend, poll: float = 0.25) -> None:
        self.backend = backend
        self.poll = poll
        self._watchers: dict[str, Watcher] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        backend.on_event(self._notified)

    def _notified(self, class_id: str) -> None:
        """From any thread: something was added to ``class_id``'s log."""
        loop, watcher = self._loop, self._watchers.get(class_id)
        if loop is not None and watcher is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(watcher.wake.set)

    def _watcher(self, class_id: str) -> Watcher:
        self._loop = asyncio.get_running_loop()
        watcher = self._watchers.get(class_id)
        if watcher is None or watcher.task is None or watcher.task.done():
            watcher = self._watchers[class_id] = Watcher(self.backend, class_id, self.poll)
            watcher.task = asyncio.create_task(
                watcher.run(lambda: self._watchers.pop(class_id, None))
            )
        return watcher

    async def listen(
        self,
        class_id: str,
        after: int,
        wanted: Callable[[ClassEvent], bool],
        seconds: float = STREAM_SECONDS,
    ) -> AsyncIterator[ClassEvent | None]:
        """The class's events after ``after`` that ``wanted`` keeps, as they come; None now
        and then, for a keep-alive. Ends after ``seconds``."""
        watcher = self._watcher(class_id)
        watcher.listeners += 1
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        try:
            while loop.time() < end:
                found = watcher.after(after)
                if found is None:  # fell behind what the watcher keeps: read the store
                    found = await run_in_threadpool(self.backend.events_after, class_id, after)
                for event in found:
                    after = event.seq
                    if wanted(event):
                        yield event
                if found:
                    continue
                quiet = False
                async with watcher.changed:
                    if watcher.after(after) == []:  # checked under the lock: no wake-up is lost
                        wait = min(KEEP_ALIVE, max(0.0, end - loop.time()))
                        try:
                            await asyncio.wait_for(watcher.changed.wait(), wait)
                        except TimeoutError:
                            quiet = True
                if quiet:
                    yield None
        finally:
            watcher.listeners -= 1


def sse(event: ClassEvent, data: str | None = None) -> str:
    """One event in the text/event-stream format; ``data`` defaults to the event's JSON.

    >>> print(sse(ClassEvent(7, "c", "hop", {"hop": 2}, 0.0)), end="")
    id: 7
    event: hop
    data: {"hop": 2}
    <BLANKLINE>
    """
    text = json.dumps(event.data) if data is None else data
    lines = "".join(f"data: {line}\n" for line in text.splitlines() or [""])
    return f"id: {event.seq}\nevent: {event.kind}\n{lines}\n"


def last_event_id(value: Any) -> int:
    """The ``Last-Event-ID`` a reconnecting browser sends, or 0.

    >>> last_event_id("12"), last_event_id("x"), last_event_id(None)
    (12, 0, 0)
    """
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0
