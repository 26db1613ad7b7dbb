"""What a command prints: stdout and stderr in the order they were written.

A pipe feeds only stdout to the next command; stderr (``curl -v``'s lines, error messages)
goes straight to the terminal, as in a real shell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.terminal.session import Session

STDOUT, STDERR = 1, 2


@dataclass
class Output:
    """One command's output (``chunks`` of ``(stream, text)``), its exit status, and what it
    did besides printing."""

    chunks: list[tuple[int, str]] = field(default_factory=list)
    status: int = 0
    session: Session | None = None  # a new session: exec, debug, exit, a request sent
    trace: Any = None  # the Trace of a request this command sent: the page plays it
    request: tuple | None = None  # that trace's (source, to, seed[, Host header])
    changed: bool = False  # the cluster changed
    # DNS lookups made, (source, name, type, Resolution), for a lesson's looked_up checks
    lookups: list[tuple[str, str, str, Any]] = field(default_factory=list)

    def out(self, text: str) -> Output:
        if text:
            self.chunks.append((STDOUT, text))
        return self

    def err(self, text: str) -> Output:
        if text:
            self.chunks.append((STDERR, text))
        return self

    @property
    def stdout(self) -> str:
        return "".join(t for s, t in self.chunks if s == STDOUT)

    @property
    def text(self) -> str:
        return "".join(t for _, t in self.chunks)


def printed(text: str, status: int = 0) -> Output:
    """Output of a command that only writes ``text`` to stdout.

    >>> printed("hello\\n").text
    'hello\\n'
    """
    return Output(status=status).out(text)


def failed(text: str, status: int = 1) -> Output:
    """Output of a command that only writes ``text`` to stderr and fails.

    >>> failed("sh: x: not found\\n", 127).status
    127
    """
    return Output(status=status).err(text)


def changed(text: str) -> Output:
    """Output of a command that changed the cluster and says so in one line.

    >>> changed("pod/client labeled\\n").changed
    True
    """
    output = printed(text)
    output.changed = True
    return output
