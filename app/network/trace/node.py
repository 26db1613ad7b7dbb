"""A trace through one node's netfilter: kube-proxy's rules (or Cilium's load balancer) decide,
NetworkPolicy's egress check, the SNAT, then the datapath onwards; a packet for another node's
own address (a NodePort there) goes through that node's rules next.
"""

from __future__ import annotations

from app.cluster.cilium_config import replaces_kube_proxy
from app.cluster.families import bracketed
from app.network import datapath, failures, kubeproxy, masquerade
from app.network.cilium import lb as cilium_lb
from app.network.cilium import trace_hooks as cilium_hooks
from app.network.explain import no_endpoints_reason
from app.network.model import Hop, Packet
from app.network.reply import Leg, Nat
from app.network.run import TraceRun, chain_where, rule_of
from app.network.trace import policy as trace_policy
from app.network.trace.arrival import arrive


def through_node(
    run: TraceRun,
    node: str,
    packet: Packet,
    from_outside: bool,
    client_node: str | None,
    leg: Leg | None = None,
) -> None:
    """kube-proxy's rules on ``node``, then the datapath onwards (and the next node's rules,
    when the packet is for that node's own address: a NodePort there)."""
    cilium = replaces_kube_proxy(run.cluster.config)
    decide = cilium_lb.decide if cilium else kubeproxy.decide
    decision = decide(
        run.cluster,
        node,
        packet.src_ip,
        packet.dst_ip,
        packet.dst_port,
        packet.protocol,
        seed=run.seed,
        from_outside=from_outside,
        affinity=run.affinity,
    )
    if leg is None:
        leg = Leg(client=packet, client_node=client_node, socket_lb=run.socket_lb)
    leg.visited.add(node)
    here = f"node/{node}"
    if cilium and decision.action in ("reject", "drop"):
        cilium_hooks.refuse(run, node, decision, packet, from_outside)
        return
    if decision.action in ("reject", "drop"):
        verb = "rejects" if decision.action == "reject" else "drops"
        run.add(
            Hop(
                node,
                chain_where(decision),
                decision.action,
                f"kube-proxy's rule {verb} it: {decision.reason}",
                packet,
                at=here,
                rule=rule_of(decision),
            )
        )
        if decision.action == "reject":
            run.end("refused", no_endpoints_reason(run.cluster, decision, packet))
        else:
            run.end("dropped", failures.drop_reason(run, decision, node))
        return
    if decision.action == "dnat" and decision.endpoint is not None:
        ep = decision.endpoint
        translated = packet.with_dst(ep.ip, ep.port)
        run.add(
            cilium_hooks.dnat_hop(run.cluster, node, decision, packet, translated)
            if cilium
            else Hop(
                node,
                chain_where(decision),
                "dnat",
                f"kube-proxy rewrites the destination to endpoint {bracketed(ep.ip)}:{ep.port}. "
                f"{decision.reason}",
                translated,
                at=here,
                rule=rule_of(decision),
            )
        )
        by = "cilium" if cilium else "kube-proxy"
        if getattr(decision, "dsr", False):  # undone on the backend's node, which answers
            by, undo_at = "cilium-dsr", ep.node or node
        else:
            undo_at = node
        leg.nats.append(Nat(undo_at, "dnat", packet.dst_ip, packet.dst_port, by))
        if decision.service is not None:
            sp = decision.service
            run.via = (sp.namespace, sp.service, sp.port_name)
        packet = translated
    elif failures.is_virtual(run, packet.dst_ip):
        failures.unexposed_port(run, node, packet)
        return
    sender = run.index.pod_by_ip.get(packet.src_ip)
    if sender is not None and trace_policy.blocked(run, "Egress", sender, packet, node):
        return
    snat = None
    target_node = _node_of(run, packet.dst_ip)
    if cilium and decision.action == "dnat" and decision.masquerade:
        snat = cilium_hooks.snat_hop(run, node, packet)
    elif decision.action == "dnat" and decision.masquerade:
        snat = masquerade.snat_hop(run.cluster, run.index, packet, node, by_kube_proxy=True)
    elif masquerade.needs_cni_masquerade(run.index, packet, node, target_node):
        snat = masquerade.snat_hop(run.cluster, run.index, packet, node, by_kube_proxy=False)
    original = packet
    if snat is not None:
        by = "cilium" if cilium and decision.action == "dnat" else "kube-proxy"
        leg.nats.append(Nat(node, "snat", packet.src_ip, packet.src_port, by))
        packet = snat.packet
    hops, arrival = datapath.route(run.cluster, run.index, packet, node)
    if snat is not None and cilium and decision.action == "dnat":
        cilium_hooks.world_vni(hops)
    if snat is not None:
        hops = masquerade.insert_snat(hops, snat, node, original)
    run.extend(hops)
    if arrival.kind == "host" and arrival.node not in leg.visited:
        # The packet is for another node's own address: that node's rules see it first.
        through_node(run, arrival.node, packet, True, client_node, leg)
        return
    leg.server = packet
    arrive(run, arrival, packet, leg)


def _node_of(run: TraceRun, ip: str) -> str | None:
    pod = run.index.pod_by_ip.get(ip)
    if pod is not None:
        return pod["spec"].get("nodeName")
    return run.index.node_by_ip.get(ip)
