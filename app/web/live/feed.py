"""Telling open sandbox pages that their workspace changed somewhere else.

A learner's ``kubectl`` (the API under ``/k/<id>``), a second tab or a script changes a
workspace while its page is open: the page must show it at once, as after a change made
with its own forms. Each page listens (server-sent events) and is told the new
:func:`objects_tag` of its workspace when the objects change.

One :class:`ClusterFeeds` per process serves every page. A change this process saved is
heard at once (:attr:`Workspaces.observers <app.store.workspaces.Workspaces.observers>`);
one saved by another process or machine is found by one look at the versions of all the
workspaces being watched (one query, every :data:`POLL` seconds, however many pages are
open). A save that changed only lesson notes (a trace recorded for a Check) keeps the tag:
no page is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from app.cluster.cluster import Cluster
from app.store.base import Mark
from app.store.workspaces import Workspaces

#: Seconds between two looks at the versions of the watched workspaces (changes saved by
#: another process; this process's own are heard at once).
POLL = 1.0
#: Seconds between keep-alive comments (proxies close idle connections).
KEEP_ALIVE = 15.0
#: Seconds a stream lasts before the browser reconnects (EventSource does it by itself).
STREAM_SECONDS = 300.0


def tag_of(mark: Mark) -> str:
    """The tag of a saved state, read from its meta record (:meth:`Backend.marks
    <app.store.base.Backend.marks>`): the same text :func:`objects_tag` gives its cluster.

    >>> tag_of(Mark(7, 0, 12, 3, {"cni": "flannel"}))
    '0.12.3.814f3164'
    """
    settings = zlib.crc32(json.dumps(mark.config, sort_keys=True).encode())
    return f"{mark.lineage}.{mark.resource_version}.{mark.event_seq}.{settings:x}"


def objects_tag(cluster: Cluster) -> str:
    """A short text naming the state of the cluster's objects, events and settings: two
    states with the same tag draw the same map. Pages carry it to say what they show.

    Parameters
    ----------
    cluster : Cluster
        The workspace's cluster.

    Returns
    -------
    str
        The tag; it changes with every change of an object, an event or a setting, and not
        with a change of lesson notes.

    >>> from app.cluster.scenarios import build
    >>> from app.cluster.apply import apply_text
    >>> cluster = build("web-service")
    >>> before = objects_tag(cluster)
    >>> before == objects_tag(cluster)
    True
    >>> _ = apply_text(cluster, "apiVersion: v1\\nkind: Namespace\\nmetadata: {name: team}\\n")
    >>> objects_tag(cluster) == before
    False

    A saved state's meta record gives the same tag (another process reads it so):

    >>> from app.cluster.persistence import meta_of
    >>> tag_of(Mark.from_meta(1, meta_of(cluster.state))) == objects_tag(cluster)
    True
    """

    def tag() -> str:
        lineage, version, events, config = cluster.state.objects_mark
        return tag_of(Mark(0, lineage, version, events, config.to_state()))

    return cluster.state.memoised("live.tag", tag)


class _Page:
    """One open page's stream: the tag it was last told, and how to wake it."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.woken = asyncio.Event()


class ClusterFeeds:
    """This process's open pages, by workspace, and the one watcher that serves them.

    Parameters
    ----------
    workspaces : Workspaces
        The store (its observers report this process's saves; its backend's versions show
        the others').
    poll : float
        Seconds between looks for changes saved by other processes.
    """

    def __init__(self, workspaces: Workspaces, poll: float = POLL) -> None:
        self.workspaces = workspaces
        self.poll = poll
        self._pages: dict[str, set[_Page]] = {}
        self._versions: dict[str, int] = {}  # the store version each tag was read at
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        workspaces.observers.append(self._saved)

    def tag(self, workspace_id: str) -> str:
        """The workspace's tag now (from any thread); raises NotFound when there is none."""
        return self.workspaces.read(workspace_id, objects_tag)

    def watching(self) -> int:
        """How many pages this process keeps up to date."""
        return sum(len(pages) for pages in self._pages.values())

    async def listen(
        self, workspace_id: str, shown: str, now: str, seconds: float = STREAM_SECONDS
    ) -> AsyncIterator[str | None]:
        """The workspace's new tags as its objects change, for a page that shows ``shown``
        (``now`` is the tag read as the stream opened: when it differs, it comes first);
        None now and then, for a keep-alive. Ends after ``seconds``."""
        loop = self._loop = asyncio.get_running_loop()
        page = _Page(shown)
        self._pages.setdefault(workspace_id, set()).add(page)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch())
        self._wake(page, now)
        end = loop.time() + seconds
        try:
            while (left := end - loop.time()) > 0:
                try:
                    await asyncio.wait_for(page.woken.wait(), min(KEEP_ALIVE, left))
                except TimeoutError:
                    if end - loop.time() > 0:  # not at the end: say the stream is alive
                        yield None
                    continue
                page.woken.clear()
                yield page.tag
        finally:
            pages = self._pages.get(workspace_id)
            if pages is not None:
                pages.discard(page)
                if not pages:
                    del self._pages[workspace_id]
                    self._versions.pop(workspace_id, None)

    @staticmethod
    def _wake(page: _Page, tag: str) -> None:
        if page.tag != tag:
            page.tag = tag
            page.woken.set()

    def _tell(self, workspace_id: str, tag: str) -> None:
        for page in self._pages.get(workspace_id, ()):
            self._wake(page, tag)

    def _saved(self, workspace_id: str, cluster: Cluster) -> None:
        """From the thread that saved a change (under the workspace's lock)."""
        loop = self._loop
        if loop is None or loop.is_closed() or workspace_id not in self._pages:
            return
        tag = objects_tag(cluster)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._tell, workspace_id, tag)

    async def _watch(self) -> None:
        """While any page listens: look for changes saved by other processes."""
        while self._pages:
            await asyncio.sleep(self.poll)
            known = dict(self._versions)
            try:
                found = await run_in_threadpool(self._changed_since, list(self._pages), known)
            except Exception:  # the store is down for a moment: look again later
                continue
            for workspace_id, (version, tag) in found.items():
                if workspace_id in self._pages:
                    self._versions[workspace_id] = version
                    self._tell(workspace_id, tag)

    def _changed_since(
        self, workspace_ids: list[str], known: dict[str, int]
    ) -> dict[str, tuple[int, str]]:
        """The version and tag of each workspace whose version is not the known one (in the
        thread pool). One query for all the versions; a version this process holds built
        (it saved or loaded it) gives its tag at once; the others' tags are read from their
        meta records, in one more query. No workspace is loaded: a class of students saving
        notes through other processes costs this one little."""
        backend, cache = self.workspaces.backend, self.workspaces.cache
        found: dict[str, tuple[int, str]] = {}
        unknown: list[str] = []
        for workspace_id, version in backend.versions(workspace_ids).items():
            if known.get(workspace_id) == version:
                continue
            held = cache.get(workspace_id)
            if held is not None and held.version == version:
                found[workspace_id] = (version, objects_tag(held.cluster))
            else:
                unknown.append(workspace_id)
        if unknown:
            for workspace_id, mark in backend.marks(unknown).items():
                found[workspace_id] = (mark.version, tag_of(mark))
        return found
