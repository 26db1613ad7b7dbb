"""Class events to browsers, as server-sent events.

Each server process keeps one watcher per class that has someone listening. The watcher
reads the class's event log (the store is the truth, shared by every process and machine)
when the store says something was added (at once within a process, and across machines with
PostgreSQL's LISTEN/NOTIFY) and otherwise a few times a second (SQLite cannot notify another
process). What it reads it hands to the listeners of the class in this process, so a lecture
hall of 200 streams costs one query per look, not 200; a listener is woken only for events it
wants (a student's stream sleeps through the dashboard's progress events).

A stream ends by itself after :data:`STREAM_SECONDS`; the browser's EventSource reconnects
with ``Last-Event-ID`` and nothing is missed.
"""

from __future__ import annotations

import asyncio
import bisect
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
#: Catch-ups (a student following the teacher's move) one process works on at once.
CATCH_UPS_AT_ONCE = 1
#: Seconds a watcher woken by an append waits for more before it looks (a step moves a
#: whole class at once: one look for the burst, not one per student).
GATHER = 0.02


class Listener:
    """One stream of a class in this process: the last event it has seen, what it wants,
    and how to wake it."""

    def __init__(self, after: int, wanted: Callable[[ClassEvent], bool]) -> None:
        self.after = after
        self.wanted = wanted
        self.woken = asyncio.Event()
        self.waiting = False  # asleep until woken (its ``after`` is all it has looked at)


class Watcher:
    """The newest events of one class, read from the store for this process's listeners."""

    def __init__(self, backend: ClassBackend, class_id: str, poll: float) -> None:
        self.backend = backend
        self.class_id = class_id
        self.poll = poll
        self.last = 0
        self.recent: list[ClassEvent] = []
        self.seqs: list[int] = []  # the recent events' seqs, for bisect
        self.listeners: set[Listener] = set()
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
                if self.wake.is_set():  # a burst of appends (a class moving at once): one look
                    await asyncio.sleep(GATHER)
                self.wake.clear()
                try:
                    found = await run_in_threadpool(
                        self.backend.events_after, self.class_id, self.last
                    )
                except Exception:  # the store is down for a moment: look again later
                    found = []
                if found:
                    self.recent = (self.recent + found)[-RECENT:]
                    self.seqs = [e.seq for e in self.recent]
                    self.last = found[-1].seq
                    self._tell(found)
                if self.listeners:
                    idle_since = None
                elif idle_since is None:
                    idle_since = loop.time()
                elif loop.time() - idle_since > LINGER:
                    return
        finally:
            done()

    def _tell(self, found: list[ClassEvent]) -> None:
        """Wake the listeners that want one of ``found``; the sleeping others have seen
        them (they would have skipped them)."""
        for listener in list(self.listeners):
            if any(e.seq > listener.after and listener.wanted(e) for e in found):
                listener.woken.set()
            elif (
                listener.waiting
                and not listener.woken.is_set()
                and listener.after >= found[0].seq - 1  # it had seen all before these
            ):
                listener.after = max(listener.after, found[-1].seq)

    def after(self, seq: int) -> list[ClassEvent] | None:
        """The kept events after ``seq``, or None when some of them are no longer kept (or
        were added before the watcher started)."""
        if seq < self.last and (not self.recent or self.recent[0].seq > seq + 1):
            return None
        return self.recent[bisect.bisect_right(self.seqs, seq) :]


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
        #: Students' catch-ups this process works on at once; the others queue. A teacher's
        #: move sends a whole class to catch up: one at a time, they wait for each other and
        #: take what the students' own clicks leave, instead of slowing every click.
        self.catching_up = asyncio.Semaphore(CATCH_UPS_AT_ONCE)
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

    def listening(self, class_id: str) -> int:
        """How many streams of ``class_id`` this process has open."""
        watcher = self._watchers.get(class_id)
        return len(watcher.listeners) if watcher is not None else 0

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
        me = Listener(after, wanted)
        watcher.listeners.add(me)
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        try:
            while loop.time() < end:
                found = watcher.after(me.after)
                if found is None:  # fell behind what the watcher keeps: read the store
                    found = await run_in_threadpool(self.backend.events_after, class_id, me.after)
                for event in found:
                    me.after = event.seq
                    if wanted(event):
                        yield event
                if found:
                    continue
                me.woken.clear()
                if watcher.after(me.after) == []:  # nothing came since: sleep until woken
                    wait = min(KEEP_ALIVE, max(0.0, end - loop.time()))
                    me.waiting, quiet = True, False
                    try:
                        await asyncio.wait_for(me.woken.wait(), wait)
                    except TimeoutError:
                        quiet = True
                    finally:
                        me.waiting = False
                    if quiet:
                        yield None
        finally:
            watcher.listeners.discard(me)


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
