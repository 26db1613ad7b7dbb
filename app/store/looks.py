"""One look per request: the versions of workspaces a request has read or saved, and the
other rows it read or wrote (a student's seat in a class).

A trace, a Check or a catch-up reads its workspace, saves lesson notes and draws the page.
Within :func:`one_look` the second and third reads take the workspace as this process holds
it, without asking the store for its version again: the request sees the workspace as of its
first look, as one that read it once would. Saving is unchanged: a save over a version another
process moved on still fails and is redone on theirs.

The same holds for a student's seat: a trace draws the class bar from it and then records
the student's progress in it, a Check the other way round; within :func:`one_look` it is read
once (:func:`kept`, :func:`keep`) and what the request writes to it is kept.

Never around a long-lived stream, which must see what others change.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: Per workspace id, the version the current request holds, and per other key (a tuple) the
#: row it read or wrote; None outside :func:`one_look`. A context variable: the request's
#: calls into the thread pool share it.
_LOOKS: ContextVar[dict[Hashable, Any] | None] = ContextVar("podpath_workspace_looks", default=None)


@contextmanager
def one_look() -> Iterator[None]:
    """Within the block, :func:`seen` answers what :func:`note` recorded.

    >>> with one_look():
    ...     note("w1", 3)
    ...     seen("w1")
    3
    >>> seen("w1") is None
    True
    """
    token = _LOOKS.set({})
    try:
        yield
    finally:
        _LOOKS.reset(token)


def note(workspace_id: str, version: int) -> None:
    """Record that the current request holds ``version`` of the workspace (outside
    :func:`one_look`, nothing)."""
    looks = _LOOKS.get()
    if looks is not None:
        looks[workspace_id] = version


def seen(workspace_id: str) -> int | None:
    """The version of the workspace the current request holds, if it looked already."""
    looks = _LOOKS.get()
    return None if looks is None else looks.get(workspace_id)


def keep(key: tuple[Hashable, ...], row: Any) -> None:
    """Record a row the current request read or wrote (outside :func:`one_look`, nothing).

    >>> with one_look():
    ...     keep(("seat", "c1", "s1"), "Ada")
    ...     kept(("seat", "c1", "s1"))
    'Ada'
    >>> keep(("seat", "c1", "s1"), "Ada"); kept(("seat", "c1", "s1")) is None
    True
    """
    looks = _LOOKS.get()
    if looks is not None:
        looks[key] = row


def kept(key: tuple[Hashable, ...]) -> Any:
    """The row the current request read or wrote under ``key``, if any."""
    looks = _LOOKS.get()
    return None if looks is None else looks.get(key)
