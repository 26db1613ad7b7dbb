"""NetworkPolicy decisions as Hubble's flow log prints them (``hubble observe``, compact).

Cilium enforces standard NetworkPolicy in its eBPF programs on each pod's veth. Hubble shows
each decision as a ``policy-verdict`` event and the packet's fate, for example (Cilium's
"Inspecting Network Flows with the CLI" guide; Hubble's printer tests)::

    default/xwing:42704 (ID:27863) <> default/deathstar-…:80 (ID:45219) policy-verdict:none INGRESS DENIED (TCP Flags: SYN)
    default/xwing:42704 (ID:27863) <> default/deathstar-…:80 (ID:45219) Policy denied DROPPED (TCP Flags: SYN)

An allowed flow shows ``policy-verdict:L3-L4 INGRESS ALLOWED`` (the rule's match type, see
:func:`match_type`), then ``to-endpoint FORWARDED``. The timestamp Hubble prints
first is left out: Podpath keeps no clock for packets.
"""

from __future__ import annotations

from typing import Any

from app.network import cilium
from app.network.topology import NetworkIndex


def endpoint_text(index: NetworkIndex, ip: str, port: int) -> str:
    """One side of a flow: ``namespace/pod:port (ID:n)``, or an address with its reserved
    identity's name (``(world)``, ``(host)``, ``(remote-node)``); an IPv6 address is written
    in brackets before its port (``[2001:db8::1]:80``).

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> from app.network.topology import network_index
    >>> index = network_index(Cluster.create(ClusterConfig(cni="cilium", ip_family="dual")))
    >>> endpoint_text(index, "2001:db8::1", 80), endpoint_text(index, "fc00:f853:ccd:e793::b", 22)
    ('[2001:db8::1]:80 (world)', '[fc00:f853:ccd:e793::b]:22 (remote-node)')
    """
    pod = index.pod_by_ip.get(ip)
    if pod is not None:
        meta = pod["metadata"]
        return f"{meta['namespace']}/{meta['name']}:{port} (ID:{cilium.identity(pod)})"
    where = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    if ip in index.node_by_ip:
        return f"{where} (remote-node)"
    return f"{where} (world)"


def flags(protocol: str) -> str:
    return "(TCP Flags: SYN)" if protocol == "TCP" else f"({protocol})"


def match_type(rule: dict[str, Any] | None, direction: str = "Ingress") -> str:
    """The policy-verdict match type of an allowing NetworkPolicy rule, as Hubble prints it
    (pkg/monitor/api ``PolicyMatchType.String``): peers and ports ``L3-L4``, peers only
    ``L3-Only``, ports only ``L4-Only``, neither (``{}``, every peer on every port) ``all``.
    Without a rule (an exception such as the pod's own node) it stays ``L3-L4``, as before.

    >>> match_type({"from": [{"podSelector": {}}], "ports": [{"port": 80}]})
    'L3-L4'
    >>> match_type({"from": [{"podSelector": {}}]}), match_type({"ports": [{"port": 80}]})
    ('L3-Only', 'L4-Only')
    >>> match_type({}), match_type({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}, "Egress")
    ('all', 'L3-Only')
    """
    if rule is None:
        return "L3-L4"
    peers = bool(rule.get("from" if direction == "Ingress" else "to"))
    ports = bool(rule.get("ports"))
    if peers and ports:
        return "L3-L4"
    if peers:
        return "L3-Only"
    return "L4-Only" if ports else "all"


def verdict_lines(
    index: NetworkIndex,
    packet: Any,
    direction: str,
    allowed: bool,
    match: str = "L3-L4",
) -> list[str]:
    """The policy-verdict event and the packet's fate, as ``hubble observe`` prints them.

    >>> from app.network.model import Packet
    >>> from app.network.topology import NetworkIndex
    >>> lines = verdict_lines(NetworkIndex("cilium"), Packet("10.1.1.5", 40000, "10.1.2.7", 80),
    ...                       "Ingress", allowed=False)
    >>> print(lines[1])
    10.1.1.5:40000 (world) <> 10.1.2.7:80 (world) Policy denied DROPPED (TCP Flags: SYN)
    """
    src = endpoint_text(index, packet.src_ip, packet.src_port)
    dst = endpoint_text(index, packet.dst_ip, packet.dst_port)
    way = direction.upper()
    f = flags(packet.protocol)
    if not allowed:
        return [
            f"{src} <> {dst} policy-verdict:none {way} DENIED {f}",
            drop_line(index, packet, "Policy denied"),
        ]
    return [
        f"{src} -> {dst} policy-verdict:{match} {way} ALLOWED {f}",
        f"{src} -> {dst} to-endpoint FORWARDED {f}",
    ]


def drop_line(index: NetworkIndex, packet: Any, reason: str) -> str:
    """A drop as ``hubble observe`` prints it: ``<>`` between the sides, then Cilium's drop
    reason (pkg/monitor/api/drop.go) and ``DROPPED``.

    >>> from app.network.model import Packet
    >>> print(drop_line(NetworkIndex("cilium"), Packet("198.51.100.7", 40000, "203.0.113.5", 80),
    ...                 "Denied by LB src range check"))
    198.51.100.7:40000 (world) <> 203.0.113.5:80 (world) Denied by LB src range check DROPPED (TCP Flags: SYN)
    """
    src = endpoint_text(index, packet.src_ip, packet.src_port)
    dst = endpoint_text(index, packet.dst_ip, packet.dst_port)
    return f"{src} <> {dst} {reason} DROPPED {flags(packet.protocol)}"


def forwarded_line(index: NetworkIndex, packet: Any) -> str:
    src = endpoint_text(index, packet.src_ip, packet.src_port)
    dst = endpoint_text(index, packet.dst_ip, packet.dst_port)
    return f"{src} -> {dst} to-endpoint FORWARDED {flags(packet.protocol)}"


def why_dropped(index: NetworkIndex, packet: Any, direction: str, policies: list[str]) -> dict:
    lines = verdict_lines(index, packet, direction, allowed=False)
    return {
        "table": "hubble observe",
        "entry": lines[1],
        "note": (
            f"{', '.join(policies)}: isolated for {direction.lower()}, no rule allows this peer "
            "and port. Cilium enforces NetworkPolicy in its eBPF program on the pod's lxc veth "
            "(bpf_lxc) and drops the packet; Hubble records the policy verdict, then the drop."
        ),
        "also": [{"table": "hubble observe", "entry": lines[0]}],
    }


def annotate_allowed(run: Any, pod: dict[str, Any], packet: Any, verdict: Any) -> None:
    """Add the Hubble lines of an allowed ingress to the delivery hop (the last one)."""
    if not run.trace.hops:
        return
    hop = run.trace.hops[-1]
    if verdict.applies:
        lines = verdict_lines(run.index, packet, "Ingress", True, match_type(verdict.rule))
    else:
        lines = [forwarded_line(run.index, packet)]
    entries = [{"table": "hubble observe", "entry": line} for line in lines]
    if hop.why is None:
        hop.why = {"table": entries[-1]["table"], "entry": entries[-1]["entry"], "note": ""}
        entries = entries[:-1]
    hop.why = {**hop.why, "also": [*(hop.why.get("also") or []), *entries]}


def matrix_text(
    direction: str, allowed: bool, protocol: str, applies: bool = True, match: str = "L3-L4"
) -> str:
    """What Hubble's flow log would show for a reachability cell, in one sentence.

    >>> matrix_text("Ingress", False, "TCP")
    'Hubble: policy-verdict:none INGRESS DENIED, then Policy denied DROPPED (TCP Flags: SYN).'
    """
    f = flags(protocol)
    if not allowed:
        return (
            f"Hubble: policy-verdict:none {direction.upper()} DENIED, then Policy denied "
            f"DROPPED {f}."
        )
    if not applies:
        return f"Hubble: to-endpoint FORWARDED {f}."
    return (
        f"Hubble: policy-verdict:{match} {direction.upper()} ALLOWED, then to-endpoint "
        f"FORWARDED {f}."
    )
