"""The hops a trace shows where Cilium's eBPF replaces kube-proxy (see :mod:`.lb`).

A client in the cluster is load-balanced at connect(): two hops in the client (the call, then
Cilium's socket LB choosing the backend), and the packet leaves eth0 already addressed to the
backend. On the way back nothing is rewritten: a last hop shows the socket layer answering
getpeername() with the Service address. Traffic from outside meets Cilium's program on the
node's eth0, which translates it (and SNATs it towards another node's backend); its reverse
NAT undoes that on the way back.
"""

from __future__ import annotations

from typing import Any

from app.network import cilium, datapath
from app.network import why as why_
from app.network.cilium import family, hubble, lb
from app.network.cilium.datapath import host_veth
from app.network.cilium.rules import rev_nat_id
from app.network.explain import Reason, cause_of, field_cause, service_without_endpoints
from app.network.model import Hop, Packet

CONNECT_HOOK = {"TCP": "cgroup connect4", "UDP": "cgroup sendmsg4", "SCTP": "cgroup connect4"}
PEER_HOOK = {"TCP": "cgroup getpeername4", "UDP": "cgroup recvmsg4", "SCTP": "cgroup getpeername4"}


def hook(table: dict[str, str], protocol: str, ip: str) -> str:
    """The cgroup hook that sees a socket call: bpf_sock.c attaches one program per family
    (``cil_sock4_connect`` on cgroup/connect4, ``cil_sock6_connect`` on cgroup/connect6, and
    so on for sendmsg, recvmsg and getpeername), so an IPv6 address meets the ``6`` one.

    >>> hook(CONNECT_HOOK, "UDP", "fd00:10:96::a"), hook(PEER_HOOK, "TCP", "10.96.0.1")
    ('cgroup sendmsg6', 'cgroup getpeername4')
    """
    name = table.get(protocol, table["TCP"])
    return name[:-1] + "6" if ":" in ip else name


def lb_entry(cluster: Any, node: str, decision: lb.LbDecision) -> dict[str, Any]:
    """The ``cilium-dbg bpf lb list`` line behind a decision: the chosen backend's slot of
    the frontend (slot 0, the frontend itself, when none was chosen)."""
    ep, pool = decision.endpoint, decision.pool
    slot = (pool.index(ep) + 1) if ep is not None and ep in pool else 0
    rev = rev_nat_id(cluster, node, decision.frontend)
    entry = f"{decision.frontend} ({slot})   "
    entry += (
        f"{lb.addr(ep.ip, ep.port)}/{decision.service.protocol} ({rev}) ({slot})"
        if ep is not None and decision.service
        else f"0.0.0.0:0 ({rev}) (0) [{decision.kind}]"
    )
    return why_.why(
        "cilium-dbg bpf lb list",
        entry,
        "Cilium's Service map on this node: the frontend, and the backend in the slot it chose.",
    )


def connect(run: Any, packet: Packet, node: str, pod: dict[str, Any] | None) -> Packet:
    """Cilium's socket LB on the client's connect() (or sendmsg() for UDP): the hops it adds,
    and the packet as it will leave the client (to the backend, when a frontend matched)."""
    decision = lb.decide(
        run.cluster,
        node,
        packet.src_ip,
        packet.dst_ip,
        packet.dst_port,
        packet.protocol,
        seed=run.seed,
        from_outside=False,
        affinity=run.affinity,
    )
    if decision.action != "dnat" or decision.endpoint is None or decision.service is None:
        return packet  # not a frontend, or nothing to pick: the packet goes as dialled
    ep, sp = decision.endpoint, decision.service
    at = datapath.pod_at(pod) if pod is not None else f"node/{node}"
    who = f"{datapath.pod_label(pod)}'s process" if pod is not None else f"A process on {node}"
    call = "sendmsg()" if packet.protocol == "UDP" else "connect()"
    run.add(
        Hop(
            node,
            "socket",
            "send",
            f"{who} calls {call} to {packet.dst}, the {decision.kind} of Service "
            f"{sp.namespace}/{sp.service}.",
            packet,
            at=at,
        )
    )
    translated = packet.with_dst(ep.ip, ep.port)
    name = hook(CONNECT_HOOK, packet.protocol, packet.dst_ip)
    run.add(
        Hop(
            node,
            f"socket LB ({name})",
            "dnat",
            f"Cilium's socket LB ({name} hook) picked {lb.addr(ep.ip, ep.port)} for "
            f"{decision.frontend}: "
            f"{decision.reason}. The socket is connected to the backend before any packet "
            "exists, so the packet on the wire carries the backend's address and no node "
            "rewrites it (no DNAT, nothing for conntrack to undo).",
            translated,
            at=at,
            why=lb_entry(run.cluster, node, decision),
        )
    )
    run.socket_lb = (packet.dst_ip, packet.dst_port)
    run.via = (sp.namespace, sp.service, sp.port_name)
    return translated


def peer_hop(leg: Any, packet: Packet, node: str | None, at: str) -> Hop:
    """The last hop of the reply to a socket-balanced connection: the application asks who
    it talks to and is told the Service address."""
    ip, port = leg.socket_lb
    name = hook(PEER_HOOK, packet.protocol, ip)
    call = "recvmsg()" if packet.protocol == "UDP" else "getpeername()"
    shown = packet.with_src(ip, port)
    return Hop(
        node,
        f"socket LB ({name})",
        "snat",
        f"No packet was rewritten on the way back: the answer came from {packet.src}, and "
        f"Cilium's {name} hook answers {call} with the Service address {shown.src}, so the "
        "application sees the address it dialled.",
        shown,
        at=at,
    )


def where_on(run: Any, node: str, packet: Packet, from_outside: bool) -> str:
    """Which of Cilium's programs a packet meets first on ``node``."""
    if from_outside:
        return "eBPF tc ingress on eth0"
    pod = run.index.pod_by_ip.get(packet.src_ip)
    if pod is not None and pod["spec"].get("nodeName") == node:
        return f"eBPF on {host_veth(pod)} (bpf_lxc)"
    return "eBPF (bpf_host)"


def refuse(run: Any, node: str, decision: lb.LbDecision, packet: Packet, from_outside: bool):
    """The drop (or reject) hop of Cilium's load balancer, and the trace's end.

    A frontend with no backend to pick (none at all, or ``externalTrafficPolicy: Local`` on a
    node without one) is answered, not dropped: ``lb4_local`` returns ``DROP_NO_SERVICE`` when
    the frontend has no backend slots (bpf/lib/lb.h), and with ``serviceNoBackendResponse:
    reject`` (the Helm default) the ``CILIUM_CALL_IPV4_NO_SERVICE`` tail call,
    ``tail_no_service_ipv4``, sends ICMP destination unreachable, code port unreachable
    (cilium/cilium PR #28157): the client sees connection refused at once.
    """
    sp = decision.service
    if decision.action == "reject":
        run.add(
            Hop(
                node,
                where_on(run, node, packet, from_outside),
                "reject",
                decision.reason[0].upper() + decision.reason[1:] + ".",
                packet,
                at=f"node/{node}",
                why=why_.why(
                    "cilium-dbg bpf lb list",
                    lb_entry(run.cluster, node, decision)["entry"],
                    "The frontend has no backend slot to pick on this node: lb4_local returns "
                    "DROP_NO_SERVICE, and tail_no_service_ipv4 answers ICMP destination "
                    "unreachable (port unreachable) instead of dropping "
                    "(serviceNoBackendResponse: reject, the default).",
                ),
            )
        )
        if decision.drop_reason == lb.NO_LOCAL_BACKEND:
            nodes = sorted({e.node for e in sp.endpoints if e.node}) or ["no node"]
            text = (
                f"Service {sp.namespace}/{sp.service} has spec.externalTrafficPolicy: Local, and "
                f"{node} runs none of its ready pods (they run on {', '.join(nodes)}), so Cilium "
                f"on {node} has no backend for this frontend and answers ICMP port unreachable: "
                "the client sees connection refused at once. Send it to a node that runs one, "
                "or set spec.externalTrafficPolicy: Cluster."
            )
            field = "spec.externalTrafficPolicy"
            run.end(
                "refused", Reason(text, field_cause("Service", sp.namespace, sp.service, field))
            )
            return
        cause = service_without_endpoints(run.cluster, sp.namespace, sp.service, sp.port_name)
        run.end(
            "refused",
            Reason(
                f"{cause} Cilium has no backend for the frontend and answers ICMP destination "
                "unreachable (port unreachable; serviceNoBackendResponse: reject), so the client "
                "sees connection refused at once.",
                cause_of(cause),
            ),
        )
        return
    run.add(
        Hop(
            node,
            where_on(run, node, packet, from_outside),
            decision.action,
            decision.reason[0].upper() + decision.reason[1:] + ".",
            packet,
            at=f"node/{node}",
            why=why_.why(
                "hubble observe",
                hubble.drop_line(run.index, packet, decision.drop_reason),
                "The drop as Hubble's flow log prints it, with Cilium's drop reason.",
            ),
        )
    )
    name = f"{sp.namespace}/{sp.service}"
    if decision.drop_reason == lb.SOURCE_RANGE:
        field = "spec.loadBalancerSourceRanges"
        text = (
            f"{decision.reason}. Add the client's range to the Service's "
            f"spec.loadBalancerSourceRanges (for example {packet.src_ip}/32), or send it from an "
            "address inside them."
        )
    else:
        field = "spec.internalTrafficPolicy"
        nodes = sorted({e.node for e in sp.endpoints if e.node}) or ["no node"]
        text = (
            f"Service {name} has spec.internalTrafficPolicy: Local, and {node} runs none of its "
            f"ready pods (they run on {', '.join(nodes)}), so Cilium on {node} drops the packet "
            f"({lb.NO_BACKEND}) and the client times out. Send it from a node that runs one, or "
            "set spec.internalTrafficPolicy: Cluster."
        )
    run.end("dropped", Reason(text, field_cause("Service", sp.namespace, sp.service, field)))


def dnat_hop(
    cluster: Any, node: str, decision: lb.LbDecision, packet: Packet, translated: Packet
) -> Hop:
    ep = decision.endpoint
    assert ep is not None
    return Hop(
        node,
        "eBPF tc ingress on eth0",
        "dnat",
        f"Cilium's {decision.kind} program on {node}'s eth0 (tc ingress, bpf_host) translates "
        f"{packet.dst} to backend {lb.addr(ep.ip, ep.port)}: {decision.reason}."
        + (
            f" loadBalancer.mode: dsr: the client's address stays, the frontend {packet.dst} "
            f"rides along in {_dsr_carrier(packet.dst_ip)}, and {ep.node} will answer the "
            "client directly."
            if decision.dsr
            else ""
        ),
        translated,
        at=f"node/{node}",
        why=lb_entry(cluster, node, decision),
    )


def _dsr_carrier(ip: str) -> str:
    # An IPv6 packet has no IPv4 options: Cilium puts the frontend in an IPv6 extension
    # header instead (bpf/lib/nodeport.h walks the extension headers for it; PR #24792).
    return "an IPv6 extension header" if ":" in ip else "an IPv4 option"


def snat_address(run: Any, node: str, like: str = "") -> str:
    """The source Cilium gives a NodePort request it forwards to a backend on another node.

    With ``routingMode: tunnel`` the backend's ipcache entry has a tunnel endpoint, so
    Cilium SNATs to ``cilium_host``'s router address (``IPV4_GATEWAY``) and encapsulates
    (bpf/lib/nodeport.h, ``tail_nodeport_nat_egress_ipv4``): the backend's answer to that
    address is routed back through cilium_vxlan, as the ipcache gives the router address a
    tunnel endpoint. With native routing it SNATs to the node's own address
    (``IPV4_DIRECT_ROUTING``). An IPv6 request (``like`` an IPv6 address) takes the IPv6
    counterparts: cilium_host's IPv6 router address, or the node's IPv6 address
    (``IPV6_DIRECT_ROUTING``).
    """
    like = like or run.index.node_ip[node]
    if run.cluster.config.routing_mode != "native":
        gateway = family.router(run.index, node, like)
        if gateway:
            return gateway
    return run.index.node_address(node, like)


def snat_hop(run: Any, node: str, packet: Packet) -> Hop:
    address = snat_address(run, node, packet.dst_ip)
    tunnel = address != run.index.node_address(node, packet.dst_ip)
    how = (
        f"{node}'s cilium_host address {address} (with routingMode: tunnel the request goes "
        "through cilium_vxlan, so the answer to that address comes back the same way)"
        if tunnel
        else f"{node}'s address {address}"
    )
    return Hop(
        node,
        "eBPF NodePort SNAT" if tunnel else "eBPF tc egress on eth0",
        "snat",
        f"The backend is on another node, so Cilium (loadBalancer.mode: snat, its default) "
        f"rewrites the source to {how}: the answer must come back through {node}, where "
        f"Cilium undoes both translations. The backend sees {address}, not {packet.src_ip}.",
        packet.with_src(address),
        at=f"node/{node}",
        why=why_.why(
            "cilium-dbg bpf nat list",
            f"{packet.protocol} OUT {packet.src} -> {packet.dst} XLATE_SRC "
            f"{address}:{packet.src_port}",
            "Cilium's own NAT table (a BPF map, not the kernel's conntrack).",
        ),
    )


def world_vni(hops: list[Hop]) -> None:
    """A NodePort request from outside, forwarded through the tunnel, carries ``WORLD_ID`` as
    its VNI, not the SNAT address's identity (nodeport.h: the receiving node must not take it
    for traffic from a cluster node and skip the policies that keep the world out)."""
    old = None
    for hop in hops:
        outer = hop.packet.outer
        if hop.action == "encapsulate" and outer is not None and "vni" in outer:
            old = outer["vni"]
            outer["vni"] = cilium.WORLD_ID
            hop.summary = hop.summary.replace(
                f"VNI {old} (the sender's security identity)",
                f"VNI {cilium.WORLD_ID} (reserved:world: the request came from outside)",
            )
        elif hop.action == "decapsulate" and old is not None:
            hop.summary = hop.summary.replace(f"identity ({old})", f"identity ({cilium.WORLD_ID})")


def dns_hop(run: Any, node: str, decision: lb.LbDecision, forwarded: Packet) -> Hop:
    """The pod's DNS query to kube-dns, load-balanced by Cilium's socket LB at sendmsg()."""
    ep = decision.endpoint
    assert ep is not None and run.source.pod is not None
    name = hook(CONNECT_HOOK, "UDP", ep.ip)
    return Hop(
        node,
        f"socket LB ({name})",
        "dnat",
        f"Cilium's socket LB ({name} hook) sends the query to CoreDNS pod {ep.ip}: "
        f"{decision.reason}. The packet leaves the pod already addressed to it.",
        forwarded,
        "dns",
        datapath.pod_at(run.source.pod),
        why=lb_entry(run.cluster, node, decision),
    )


def dns_answer_hop(node: str, answer: Packet, back: Packet, at: str) -> Hop:
    name = hook(PEER_HOOK, "UDP", back.src_ip)
    return Hop(
        node,
        f"socket LB ({name})",
        "snat",
        f"The answer came from {answer.src}; Cilium's {name} hook reports it as from "
        f"{back.src}, the nameserver the resolver asked, so the resolver accepts it.",
        back,
        "dns",
        at,
    )
