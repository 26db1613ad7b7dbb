"""What a trace is made of: packets, hops and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from app.cluster.families import bracketed as _bracketed

VERDICTS = ("delivered", "refused", "dropped", "nxdomain", "unreachable")
ACTIONS = (
    "send",
    "bridge",
    "route",
    "dnat",
    "snat",
    "encapsulate",
    "decapsulate",
    "proxy",
    "resolve",
    "deliver",
    "reject",
    "drop",
)


@dataclass(frozen=True)
class Packet:
    """A packet as it leaves a hop.

    ``outer`` is the encapsulating header while the packet is inside a tunnel (VXLAN or
    IP-in-IP); ``http`` the request line and headers where there is one.

    >>> p = Packet("10.244.1.2", 43210, "10.96.0.10", 53, "UDP")
    >>> p.to_dict()["src"], p.to_dict()["dst"]
    ('10.244.1.2:43210', '10.96.0.10:53')
    >>> Packet("fd00:10:244:1::5", 43210, "fd00:10:96::a", 53, "UDP").dst  # as tcpdump/curl
    '[fd00:10:96::a]:53'
    """

    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    protocol: str = "TCP"
    outer: dict[str, Any] | None = None
    http: dict[str, Any] | None = None

    @property
    def src(self) -> str:
        return f"{_bracketed(self.src_ip)}:{self.src_port}"

    @property
    def dst(self) -> str:
        return f"{_bracketed(self.dst_ip)}:{self.dst_port}"

    def with_dst(self, ip: str, port: int) -> Packet:
        return replace(self, dst_ip=ip, dst_port=port)

    def with_src(self, ip: str, port: int | None = None) -> Packet:
        return replace(self, src_ip=ip, src_port=self.src_port if port is None else port)

    def reversed(self) -> Packet:
        """The reply to this packet: source and destination swapped, no tunnel, no request."""
        return Packet(self.dst_ip, self.dst_port, self.src_ip, self.src_port, self.protocol)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"src": self.src, "dst": self.dst, "protocol": self.protocol}
        if self.outer is not None:
            data["outer"] = dict(self.outer)
        if self.http is not None:
            data["http"] = dict(self.http)
        return data


@dataclass
class Hop:
    """One step of a packet's journey."""

    node: str | None  # the node it happens on; None off-cluster (the internet, the cloud)
    where: str  # the component or device: "pod eth0", "cni0", "netfilter (KUBE-SERVICES)", ...
    action: str  # one of ACTIONS
    summary: str  # one sentence for a learner
    packet: Packet  # as it leaves this hop
    phase: str = "request"  # dns, request or reply
    at: str = (
        ""  # the topology id of the device (for drawing): "pod/default/web-x", "node/worker-1"
    )
    rule: dict[str, Any] | None = None  # the netfilter rule matched: table, chain, index, text
    changed: list[str] = field(default_factory=list)  # packet fields changed by this hop
    # The table entry that sent the packet on: {"table", "entry", "note"?, "also"?}
    # (see app/network/why.py); a netfilter hop's comes from its rule.
    why: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.why is None and self.rule is not None and self.rule.get("text"):
            from app.network.why import netfilter_why

            self.why = netfilter_why(self.rule)

    def to_dict(self, index: int) -> dict[str, Any]:
        data = {
            "index": index,
            "phase": self.phase,
            "node": self.node,
            "where": self.where,
            "at": self.at,
            "action": self.action,
            "summary": self.summary,
            "packet": self.packet.to_dict(),
            "changed": list(self.changed),
        }
        if self.rule is not None:
            data["rule"] = self.rule
        if self.why is not None:
            data["why"] = self.why
        return data


@dataclass
class Trace:
    """The answer to "what happens when X sends this request to Y?".

    ``cause`` is the object field the reason blames, where it blames one:
    ``{"kind", "namespace", "name", "field"}`` with ``field`` a path such as
    ``spec.ports[0].targetPort``. A reason text that carries a ``cause`` attribute (see
    ``app.network.explain.Reason``) sets it when it becomes the trace's reason; text added to
    the reason later (a note) keeps it.

    >>> class Text(str):
    ...     cause = {"kind": "Service", "namespace": "default", "name": "web",
    ...              "field": "spec.selector"}
    >>> t = Trace({}, {}, 0)
    >>> t.reason = Text("Service default/web has no endpoints")
    >>> t.reason += " More."
    >>> t.to_dict()["cause"]["field"]
    'spec.selector'
    """

    source: dict[str, Any]
    target: dict[str, Any]
    seed: int
    hops: list[Hop] = field(default_factory=list)
    reply: list[Hop] = field(default_factory=list)
    verdict: str = "delivered"
    reason: str = ""
    endpoint: dict[str, Any] | None = None
    dns: dict[str, Any] | None = None
    http_status: int | None = None  # when a proxy answered by itself (404, 503, a redirect)
    cause: dict[str, str] | None = None  # the field the reason blames: kind, namespace, name, field
    location: str | None = None  # a redirect's Location header, when a proxy answered one

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "reason" and getattr(value, "cause", None) is not None:
            super().__setattr__("cause", dict(value.cause))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "seed": self.seed,
            "verdict": self.verdict,
            "reason": self.reason,
            "cause": dict(self.cause) if self.cause else None,
            "endpoint": self.endpoint,
            "http_status": self.http_status,
            "dns": self.dns,
            "hops": [h.to_dict(i) for i, h in enumerate(self.hops)],
            "reply": [h.to_dict(i) for i, h in enumerate(self.reply)],
            **({"location": self.location} if self.location else {}),
        }


def changed_fields(before: Packet | None, after: Packet) -> list[str]:
    """Which fields a hop changed: ``src``, ``dst``, ``outer``, ``http``, ``protocol``.

    >>> a = Packet("10.244.1.2", 40000, "10.96.0.10", 53, "UDP")
    >>> changed_fields(a, a.with_dst("10.244.2.3", 53))
    ['dst']
    """
    if before is None:
        return []
    changed = []
    if before.src != after.src:
        changed.append("src")
    if before.dst != after.dst:
        changed.append("dst")
    if before.protocol != after.protocol:
        changed.append("protocol")
    if before.outer != after.outer:
        changed.append("outer")
    if before.http != after.http:
        changed.append("http")
    return changed
