"""The DNS lookup at the start of a trace that names its target."""

from __future__ import annotations

from typing import Any

from app.cluster import families
from app.cluster.cilium_config import replaces_kube_proxy
from app.network import datapath, dns, kubeproxy
from app.network import why as why_
from app.network.cilium import lb as cilium_lb
from app.network.cilium import trace_hooks as cilium_hooks
from app.network.model import Hop, Packet
from app.network.run import TraceRun, chain_where, ephemeral_port, rule_of
from app.network.trace import family as trace_family
from app.network.trace import policy as trace_policy


def resolve_target(run: TraceRun) -> str | None:
    src, name = run.source, run.target.host
    for qtype in trace_family.query_types(run.cluster, src, run.ip_family):  # AAAA first
        resolution = dns.resolve(run.cluster, src.pod, name, qtype)
        if resolution.rcode != "NOERROR" or resolution.addresses():
            break
    run.trace.dns = resolution.to_dict()
    tried = ", ".join(a.name for a in resolution.tried)
    addresses = resolution.addresses()
    server = resolution.nameserver
    if src.kind == "pod" and src.pod is not None and server in families.dns_ips():
        if not _dns_hops_in_cluster(run, resolution):
            return None
    else:
        where = (
            "the node's resolver (its /etc/resolv.conf, not CoreDNS)"
            if src.kind == "node"
            else "public DNS"
        )
        query = Packet(src.ip, ephemeral_port(run.seed, 1), server, 53, "UDP")
        run.add(
            Hop(
                src.node,
                "resolver",
                "resolve",
                f"{src.label} asks {where} for {name}: tried {tried}; answer {resolution.rcode}"
                + (f" {', '.join(addresses)}." if addresses else "."),
                query,
                phase="dns",
                at=f"node/{src.node}" if src.node else "net/internet",
                why=_resolv_conf(resolution),
            )
        )
    if resolution.rcode != "NOERROR" or not addresses:
        hint = ""
        if (src.kind != "pod" and name.lower().endswith((".cluster.local", ".svc"))) or (
            src.kind != "pod" and "." not in name
        ):
            hint = " Cluster names only resolve inside pods, whose resolver asks CoreDNS; this client uses ordinary DNS."
        elif src.kind == "pod" and "." not in name:
            hint = (
                f" A short name only finds Services in the pod's own namespace "
                f"({src.pod['metadata']['namespace']}); for another namespace use <service>.<namespace>."
            )
        if src.kind != "pod" or "." in name:
            from app.network.ingress import unserved_note

            unserved = unserved_note(run.cluster, name)
            hint += f" {unserved}" if unserved else ""
        if resolution.rcode == "NOERROR":  # the name exists, not with this family's record
            run.end("nxdomain", trace_family.no_record_reason(run.cluster, name, resolution.type))
            return None
        stop = "" if tried.endswith(".") else "."  # the last name tried may end in its root dot
        run.end(
            "nxdomain", f"The name {name} does not resolve (NXDOMAIN): tried {tried}{stop}{hint}"
        )
        return None
    # CoreDNS's loadbalance plugin shuffles the A records; the client takes the first.
    return addresses[run.seed % len(addresses)]


def _dns_hops_in_cluster(run: TraceRun, resolution: Any) -> bool:
    """The query's own trip: to kube-dns's ClusterIP, DNAT to a CoreDNS pod, and back."""
    src = run.source
    assert src.pod is not None and src.node is not None
    query = Packet(src.ip, ephemeral_port(run.seed, 1), resolution.nameserver, 53, "UDP")
    names = ", ".join(a.name for a in resolution.tried)
    cilium = replaces_kube_proxy(run.cluster.config)
    decide = cilium_lb.decide if cilium else kubeproxy.decide
    decision = decide(run.cluster, src.node, query.src_ip, query.dst_ip, 53, "UDP", seed=run.seed)
    chosen = decision.endpoint if decision.action == "dnat" else None
    forwarded = query.with_dst(chosen.ip, chosen.port) if chosen is not None else query
    if cilium and chosen is not None:
        # Cilium's socket LB rewrites the address at sendmsg(), before any packet exists: the
        # query leaves eth0 already addressed to a CoreDNS pod.
        run.add(cilium_hooks.dns_hop(run, src.node, decision, forwarded))
    asks = (
        f"{src.label} asks its nameserver {resolution.nameserver} (kube-dns) for {run.target.host}"
    )
    run.add(
        Hop(
            src.node,
            "pod eth0",
            "send",
            f"{asks}; the query leaves addressed to CoreDNS pod {forwarded.dst_ip}."
            if cilium and chosen is not None
            else f"{asks}.",
            forwarded if cilium else query,
            "dns",
            datapath.pod_at(src.pod),
            why=_resolv_conf(resolution, why_.pod_route(run.index, src.pod, query.dst_ip)),
        )
    )
    if chosen is None:
        run.add(
            Hop(
                src.node,
                cilium_hooks.where_on(run, src.node, query, False) if cilium else "netfilter",
                "drop",
                f"kube-dns has no ready CoreDNS pod: {decision.reason}",
                query,
                "dns",
                f"node/{src.node}",
            )
        )
        run.end(
            "dropped",
            f"The DNS query gets no answer: the kube-dns Service ({resolution.nameserver}) has "
            "no ready CoreDNS pod, so every name lookup in the cluster times out.",
        )
        return False
    if not cilium:
        run.add(
            Hop(
                src.node,
                chain_where(decision),
                "dnat",
                f"kube-proxy sends the query to CoreDNS pod {chosen.ip}. {decision.reason}",
                forwarded,
                "dns",
                f"node/{src.node}",
                rule_of(decision),
            )
        )
    if trace_policy.blocked(run, "Egress", src.pod, forwarded, src.node, phase="dns"):
        return False
    hops, arrival = datapath.route(run.cluster, run.index, forwarded, src.node, phase="dns")
    run.extend(hops)
    if arrival.pod is not None and trace_policy.blocked(
        run, "Ingress", arrival.pod, forwarded, arrival.node or "", phase="dns"
    ):
        return False
    coredns_node = arrival.node or src.node
    answers = ", ".join(resolution.addresses()) or "no records"
    run.add(
        Hop(
            coredns_node,
            "CoreDNS",
            "resolve",
            f"CoreDNS answers. The resolver tried {names} (search list, ndots:5); final answer {resolution.rcode}: {answers}.",
            forwarded.reversed(),
            "dns",
            datapath.pod_at(arrival.pod) if arrival.pod else f"node/{coredns_node}",
            why=_coredns_record(resolution),
        )
    )
    # The answer travels back to the client's node, where conntrack undoes the DNAT.
    answer = forwarded.reversed()
    hops, _ = datapath.route(run.cluster, run.index, answer, coredns_node, phase="dns")
    *travel, last_mile, _deliver = hops
    run.extend(travel)
    back = answer.with_src(resolution.nameserver, 53)
    if cilium:  # nothing to undo on the way: the socket layer shows the nameserver's address
        last_mile.packet = answer
        run.add(last_mile)
        run.add(_deliver)
        run.add(cilium_hooks.dns_answer_hop(src.node, answer, back, datapath.pod_at(src.pod)))
        return True
    run.add(
        Hop(
            src.node,
            "conntrack",
            "snat",
            f"conntrack on {src.node} undoes kube-proxy's DNAT: the answer's source goes back to "
            f"{resolution.nameserver}:53, the nameserver the pod asked.",
            back,
            "dns",
            f"node/{src.node}",
            why=why_.conntrack_why(query, answer, src.node),
        )
    )
    last_mile.packet = back
    run.add(last_mile)
    run.add(
        Hop(
            src.node,
            "pod eth0",
            "deliver",
            f"{src.label} gets the answer from {resolution.nameserver}:53.",
            back,
            "dns",
            datapath.pod_at(src.pod),
            why=why_.delivered_why(src.pod, back),
        )
    )
    return True


def _resolv_conf(resolution: Any, route: dict | None = None) -> dict:
    """The resolver's configuration that sends the query to its nameserver."""
    search = " ".join(resolution.search)
    note = (
        f"The client's resolver sends every query to its first nameserver; with search "
        f"{search} and ndots:{resolution.ndots} it tries {len(resolution.tried)} name(s)."
        if search
        else "The client's resolver sends every query to its first nameserver."
    )
    also = [{"table": route["table"], "entry": route["entry"]}] if route else None
    return why_.why("/etc/resolv.conf", f"nameserver {resolution.nameserver}", note, also)


def _coredns_record(resolution: Any) -> dict:
    """The record CoreDNS answers with, in zone-file form (as dig prints it)."""
    answers = resolution.to_dict().get("answers") or []
    if not answers:
        name = resolution.tried[-1].name if resolution.tried else resolution.query
        return why_.why(
            "CoreDNS kubernetes plugin",
            f"{name} NXDOMAIN",
            "No Service, pod or record of that name exists.",
        )
    lines = [f"{a['name']} {a['ttl']} IN {a['type']} {a['data']}" for a in answers]
    return why_.why(
        "CoreDNS kubernetes plugin",
        "\n".join(lines),
        "CoreDNS builds the records from the Services and EndpointSlices it watches.",
    )
