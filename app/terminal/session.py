"""Where a terminal is and what it remembers between commands.

The interpreter keeps no state of its own: the page sends the session back with each command
line (as form fields), so a terminal survives a restart and two tabs never share one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.errors import NotFound

#: The shell a learner starts in: their own machine with kubectl set up, outside the cluster.
CLUSTER = ""


@dataclass(frozen=True)
class Session:
    """``where`` is ``""`` (the learner's machine), ``pod/<namespace>/<name>`` (a shell in a
    pod, after ``kubectl exec -it``) or ``node/<name>`` (after ``kubectl debug node/…``).
    ``sent`` counts the requests sent so far (each trace's seed, so repeated ``curl`` spread
    over the endpoints as kube-proxy's random choice does); ``last`` is the last request
    (``source``, ``to``, ``seed``) for ``tcpdump`` and ``conntrack`` to replay.

    >>> Session("pod/default/client").prompt()
    'root@client:/# '
    >>> Session().prompt(), Session("node/worker-1").prompt()
    ('$ ', 'root@worker-1:/# ')
    """

    where: str = CLUSTER
    sent: int = 0
    last: tuple[str, str, int] | tuple[str, str, int, str] | None = None

    @property
    def kind(self) -> str:
        """``cluster``, ``pod`` or ``node``."""
        return self.where.split("/", 1)[0] if self.where else "cluster"

    @property
    def name(self) -> str:
        return self.where.rsplit("/", 1)[-1] if self.where else ""

    @property
    def namespace(self) -> str:
        return self.where.split("/")[1] if self.kind == "pod" else ""

    @property
    def source(self) -> str:
        """Where a request from this shell starts, as :func:`app.network.trace.trace` reads it:
        the learner's machine is the outside client."""
        return self.where or "external"

    def prompt(self) -> str:
        return f"root@{self.name}:/# " if self.where else "$ "

    def sending(
        self, to: str, host: str | None = None, family: str | None = None
    ) -> tuple[Session, tuple]:
        """The session after one more request, and that request: ``(source, to, seed)``, and
        the HTTP Host header when the client set its own, then the address family it asked
        for (``curl -4`` / ``-6``; the Host slot empty without one)."""
        request: tuple = (self.source, to, self.sent) + ((host,) if host or family else ())
        if family:
            request = (*request[:3], host or "", family)
        return replace(self, sent=self.sent + 1, last=request), request

    def to_fields(self) -> dict[str, str]:
        """The form fields the page sends back with the next command."""
        fields = {"where": self.where, "sent": str(self.sent)}
        if self.last:
            fields["last"] = "\t".join(str(x) for x in self.last)
        return fields

    @classmethod
    def from_fields(cls, where: str = "", sent: str = "0", last: str = "") -> Session:
        """Read back what :meth:`to_fields` wrote; anything unreadable starts afresh.

        >>> Session.from_fields("pod/default/client", "3", "pod/default/client\\thttp://web\\t2")
        Session(where='pod/default/client', sent=3, last=('pod/default/client', 'http://web', 2))
        >>> Session.from_fields("../etc", "x")
        Session(where='', sent=0, last=None)
        """
        parts = where.split("/")
        valid = where == "" or (
            (parts[0] == "pod" and len(parts) == 3) or (parts[0] == "node" and len(parts) == 2)
        )
        valid = valid and all(p and p not in (".", "..") for p in parts[1:])
        count = int(sent) if sent.isdigit() else 0
        previous = last.split("\t")
        request: tuple | None = None
        if (len(previous) in (3, 4) and previous[2].isdigit()) or (
            len(previous) == 5 and previous[2].isdigit() and previous[4] in ("IPv4", "IPv6")
        ):
            request = (previous[0], previous[1], int(previous[2]), *previous[3:])
        return cls(where if valid else CLUSTER, min(count, 10**9), request)


def pod_of(cluster: Any, session: Session) -> dict[str, Any]:
    """The pod a pod shell is in; NotFound when it went away (deleted, or rescheduled under a
    new name)."""
    pod = cluster.get("Pod", session.namespace, session.name)
    if pod is None:
        raise NotFound(f'pods "{session.name}" not found')
    return pod
