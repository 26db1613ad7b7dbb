"""``tcpdump -ni IFACE`` on a node, over the last request the terminal sent.

The trace says where each packet was as it left each hop; this works out which of the node's
interfaces it crossed and in which form (the pod's packet on its veth and the bridge before
kube-proxy rewrote it, the inner packet on the tunnel device, the outer VXLAN or IP-in-IP
header on eth0), and prints it in tcpdump 4.99's line format with ``-n``. Timestamps count
from 00:00:00 (the engine has no clock).
"""

from __future__ import annotations

from typing import Any

from app.network.topology import TUNNEL_DEVICE, network_index
from app.network.why import host_veth
from app.terminal.node_commands import interface_names, last_trace
from app.terminal.output import Output, failed
from app.terminal.session import Session

LINK_TYPES = {
    "any": "LINUX_SLL2 (Linux cooked v2)",
    "tunl0": "RAW (Raw IP)",
    "flannel.1": "EN10MB (Ethernet)",
}


def _endpoint(ip: str, port: int | None) -> str:
    return f"{ip}.{port}" if port else ip


def _inner(packet: Any, phase: str, dns: dict[str, Any] | None, reply: bool) -> str:
    """One packet as tcpdump -n prints it after the ``IP``."""
    head = (
        f"{_endpoint(packet.src_ip, packet.src_port)} > {_endpoint(packet.dst_ip, packet.dst_port)}"
    )
    if packet.protocol.upper() == "UDP":
        if 53 in (packet.src_port, packet.dst_port) and dns:
            ident = 4660 + len(dns.get("query", ""))
            name = (dns.get("tried") or [{}])[-1].get("name", dns.get("query", ""))
            if packet.dst_port == 53:
                return f"{head}: {ident}+ {dns.get('type', 'A')}? {name} ({len(name) + 18})"
            answers = dns.get("answers") or []
            shown = " ".join(f"{a['type']} {a['data']}" for a in answers)
            return f"{head}: {ident}*- {len(answers)}/0/0 {shown} ({len(name) + 18 + 16 * len(answers)})"
        return f"{head}: UDP, length 64"
    if packet.http and not reply:
        line = f"GET {packet.http.get('path') or '/'} HTTP/1.1"
        return f"{head}: Flags [P.], seq 1:77, ack 1, win 502, length 76: HTTP: {line}"
    if reply and phase == "reply":
        return f"{head}: Flags [P.], seq 1:239, ack 77, win 509, length 238: HTTP: HTTP/1.1 200 OK"
    return f"{head}: Flags [S], seq 1000, win 64860, options [mss 1410,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"


def _outer(packet: Any, inner: str) -> str:
    outer = packet.outer or {}
    if outer.get("port") == 8472:  # flannel's VXLAN: tcpdump names the port OTV's
        sport = 32768 + sum(packet.src.encode()) % 28000
        return f"{outer['src']}.{sport} > {outer['dst']}.8472: OTV, flags [I] (0x08), overlay 0, instance {outer.get('vni', 1)}\nIP {inner}"
    if outer.get("port"):
        sport = 32768 + sum(packet.src.encode()) % 28000
        return f"{outer['src']}.{sport} > {outer['dst']}.{outer['port']}: UDP, length 120"
    return f"{outer.get('src')} > {outer.get('dst')}: IP {inner}"


def seen_on(cluster: Any, node: str, traced: Any) -> list[tuple[str, str]]:
    """Every packet of the trace that crossed an interface of ``node``: (interface, line)."""
    index = network_index(cluster)
    cni = index.cni
    bridge = {"flannel": "cni0", "weave": "weave"}.get(cni)
    tunnel = TUNNEL_DEVICE[cni]
    steps = [*traced.hops, *traced.reply]
    seen: list[tuple[str, str]] = []
    for i, hop in enumerate(steps):
        packet = hop.packet
        reply = hop.phase == "reply" or (hop.phase == "dns" and packet.src_port == 53)
        inner = _inner(packet, hop.phase, traced.dns, reply)
        following = steps[i + 1] if i + 1 < len(steps) else None
        pod = index.pod_by_ip.get(packet.src_ip if hop.action == "send" else packet.dst_ip)
        if hop.node == node and hop.where == "pod eth0" and hop.action == "send" and pod:
            seen.append((host_veth(cni, pod), inner))
            if bridge:
                seen.append((bridge, inner))
        elif hop.node == node and hop.action == "bridge" and pod:
            seen.append((host_veth(cni, pod), inner))
            if bridge:
                seen.insert(len(seen) - 1, (bridge, inner))
        elif hop.node == node and hop.where == "lxc veth" and hop.action == "route" and pod:
            # Cilium has no bridge: its eBPF redirects the packet straight to the pod's lxc.
            seen.append((host_veth(cni, pod), inner))
        elif hop.node == node and hop.action in ("encapsulate", "decapsulate"):
            wrapped = packet if hop.action == "encapsulate" else steps[i - 1].packet
            inner_line = _inner(wrapped, hop.phase, traced.dns, reply)
            if hop.action == "encapsulate":
                seen.append((tunnel, inner_line))
                seen.append(("eth0", _outer(wrapped, inner_line)))
            else:
                seen.append(("eth0", _outer(wrapped, inner_line)))
                seen.append((tunnel, _inner(packet, hop.phase, traced.dns, reply)))
        elif (
            hop.node == node
            and packet.outer is None
            and following is not None
            and following.node != node
            and hop.action not in ("deliver",)
        ) or (
            hop.node != node
            and packet.outer is None
            and following is not None
            and following.node == node
            and hop.action not in ("encapsulate",)
        ):
            seen.append(("eth0", inner))
    return seen


def _local_addresses(cluster: Any, node: str) -> set[str]:
    index = network_index(cluster)
    pods = {ip for ip, pod in index.pod_by_ip.items() if pod["spec"].get("nodeName") == node}
    return pods | {index.node_ip.get(node, ""), index.gateway.get(node, ("", ""))[1]}


def _direction(iface: str, line: str, local: set[str]) -> str:
    """``In`` or ``Out`` as the host sees it: a pod's packet comes in on its veth and the
    bridge and goes out on the tunnel and eth0; what a local address sends is ``Out`` there."""
    source = line.split(" ", 1)[0]
    address = ".".join(source.split(".")[:4])
    mine = address in local
    pod_side = iface in ("cni0", "weave") or iface.startswith(("veth", "cali", "lxc"))
    return ("In" if mine else "Out") if pod_side else ("Out" if mine else "In")


def tcpdump(cluster: Any, session: Session, args: list[str]) -> Output:
    """``tcpdump -ni IFACE`` (``-i IFACE -n``, ``-nni``…): the last request's packets."""
    iface = "eth0"
    words = iter(args)
    for arg in words:
        if arg.startswith("-") and "i" in arg[1:]:
            iface = arg.split("i", 1)[1] or next(words, "eth0")
    node = session.name
    names = interface_names(cluster, node)
    if iface not in names:
        return failed(
            f"tcpdump: {iface}: No such device exists\n(SIOCGIFHWADDR: No such device)\n", 1
        )
    link = LINK_TYPES.get(iface, "EN10MB (Ethernet)")
    output = Output().err(
        "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"
        f"listening on {iface}, link-type {link}, snapshot length 262144 bytes\n"
    )
    traced = last_trace(cluster, session)
    lines = []
    if traced is not None:
        seen = seen_on(cluster, node, traced)
        if iface == "any":
            # -i any names each packet's interface and direction (tcpdump 4.99, LINUX_SLL2).
            local = _local_addresses(cluster, node)
            lines = [f"{name} {_direction(name, line, local)} {line}" for name, line in seen]
        else:
            lines = [line for name, line in seen if name == iface]
    for n, line in enumerate(lines, start=1):
        if iface == "any":
            name, direction, rest = line.split(" ", 2)
            output.out(f"00:00:00.{n * 137:06d} {name} {direction} IP {rest}\n")
        else:
            output.out(f"00:00:00.{n * 137:06d} IP {line}\n")
    if traced is None:
        output.err(
            "(nothing sent from this terminal yet: curl something from a pod, then run this again)\n"
        )
    output.err(
        f"^C\n{len(lines)} packets captured\n{len(lines)} packets received by filter\n"
        "0 packets dropped by kernel\n"
    )
    return output
