"""The state of one trace while it is being built, shared by the trace modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.network.model import Hop, Packet, Trace, changed_fields
from app.network.reply import Leg
from app.network.targets import Source, Target
from app.network.topology import NetworkIndex

EPHEMERAL_LOW, EPHEMERAL_SPAN = 32768, 28232  # Linux net.ipv4.ip_local_port_range


def ephemeral_port(seed: int, salt: int = 0) -> int:
    """A client port from the Linux ephemeral range, chosen by the seed.

    >>> 32768 <= ephemeral_port(7) <= 60999
    True
    """
    return EPHEMERAL_LOW + (seed * 7919 + salt * 104729) % EPHEMERAL_SPAN


@dataclass
class TraceRun:
    cluster: Any
    index: NetworkIndex
    source: Source
    target: Target
    seed: int
    affinity: dict | None
    trace: Trace
    legs: list[Leg] = field(default_factory=list)
    last: Packet | None = None
    notes: list[str] = field(default_factory=list)  # said at the end of a delivered trace
    # (namespace, Service, port name) of the Service port that chose the pod, when one did
    via: tuple[str, str, str] | None = None
    # The Service address Cilium's socket LB translated at connect() (kube-proxy replacement):
    # the reply's last hop shows the application that address again.
    socket_lb: tuple[str, int] | None = None
    # The HTTP Host header when the client sets its own (curl -H "Host: …"): what an Ingress
    # matches on, while the URL's host is what was resolved and dialled.
    http_host: str | None = None
    # The request's method and headers (the trace API's "method" and "headers"): HTTPRoute
    # matches read them; ingress-nginx, which matches host and path only, does not.
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    # The IP family the trace asks for (curl -4 / -6): IPv4, IPv6, or None for curl's choice.
    ip_family: str | None = None

    @property
    def request_host(self) -> str:
        return self.http_host or self.target.host

    def add(self, hop: Hop) -> None:
        hop.changed = changed_fields(self.last, hop.packet)
        self.last = hop.packet
        self.trace.hops.append(hop)

    def extend(self, hops: list[Hop]) -> None:
        for hop in hops:
            self.add(hop)

    def end(self, verdict: str, reason: str) -> Trace:
        self.trace.verdict = verdict
        self.trace.reason = reason
        if verdict == "delivered" and self.notes:
            self.trace.reason += " " + " ".join(self.notes)
        return self.trace


def chain_where(decision: Any) -> str:
    """The nat chains a packet went through, for a hop's ``where`` (the masquerade in
    POSTROUTING is a hop of its own)."""
    # A REJECT or DROP of kube-proxy's lives in the filter table (reached from FORWARD, INPUT
    # or OUTPUT), not in nat PREROUTING where the DNAT happens.
    table = "filter" if decision.action in ("reject", "drop") else "nat"
    chains = [
        r.chain for r in decision.matched if r.table == table and "POSTROUTING" not in r.chain
    ]
    if not chains:
        return "netfilter"
    return ("netfilter (filter) " if table == "filter" else "netfilter ") + " → ".join(
        dict.fromkeys(chains)
    )


def rule_of(decision: Any) -> dict[str, Any] | None:
    if not decision.matched:
        return None
    # The rule that did the deed: the DNAT (or REJECT/DROP), not the postrouting that follows.
    deciding = [r for r in decision.matched if "POSTROUTING" not in r.chain]
    last = next(
        (
            r
            for r in reversed(deciding)
            if any(
                w in r.text for w in ("DNAT", "dnat to", "REJECT", "DROP", "reject", "drop", "->")
            )
        ),
        deciding[-1] if deciding else decision.matched[-1],
    )
    return {
        "table": last.table,
        "chain": last.chain,
        "index": last.index,
        "text": last.text,
        "matched": [
            {"table": r.table, "chain": r.chain, "index": r.index, "text": r.text}
            for r in decision.matched
        ],
    }
