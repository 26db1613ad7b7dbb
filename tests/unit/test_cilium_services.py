"""Services under Cilium's kube-proxy replacement (app/network/cilium/lb.py, trace_hooks.py),
pinned to Cilium's "Kubernetes Without kube-proxy" guide (docs.cilium.io,
network/kubernetes/kubeproxy-free): socket-level load balancing at connect() for clients in
the cluster ("the packet on the wire already carries the backend's address", no per-packet
NAT), NodePort/LoadBalancer from outside in the node's tc/XDP program with SNAT to the node
(loadBalancer.mode snat, the default), externalTrafficPolicy Local honoured,
loadBalancerSourceRanges checked (its drop reason "Denied by LB src range check", pkg/monitor/
api/drop.go), no backends answered with ICMP (serviceNoBackendResponse: reject)."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network.trace import trace
from tests.unit.scenarios import deployment, pods_of, service
from tests.unit.test_trace import check_invariants

CLIENT = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: client, labels: {app: client}}\n"
    "spec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}\n"
)


def cilium(type_: str = "ClusterIP", extra: str = "", replicas: int = 2, **settings) -> Cluster:
    c_ = Cluster.create(ClusterConfig(cni="cilium", **settings), seed=7)
    apply_text(
        c_,
        CLIENT
        + "---\n"
        + deployment("web", replicas)
        + "---\n"
        + service("web", type_=type_, extra=extra),
    )
    return c_


def cluster_ip(c_: Cluster, name: str = "web") -> str:
    return c_.get("Service", "default", name)["spec"]["clusterIP"]


def node_port(c_: Cluster, name: str = "web") -> int:
    return c_.get("Service", "default", name)["spec"]["ports"][0]["nodePort"]


def test_pod_to_service_is_translated_at_connect_in_the_client_pod():
    c_ = cilium()
    vip = cluster_ip(c_)
    t = trace(c_, "pod/default/client", f"{vip}:80")
    check_invariants(t)
    assert t.verdict == "delivered"
    connect, socket_lb, wire = t.hops[:3]
    assert connect.packet.dst == f"{vip}:80" and connect.at == "pod/default/client"
    assert socket_lb.where == "socket LB (cgroup connect4)" and socket_lb.action == "dnat"
    assert socket_lb.at == "pod/default/client"
    assert "Cilium's socket LB (cgroup connect4 hook) picked" in socket_lb.summary
    backend = socket_lb.packet.dst
    # The packet that leaves eth0 already carries the backend's address...
    assert wire.where == "pod eth0" and wire.packet.dst == backend
    # ...and no hop on any node rewrites it (no DNAT on the wire, no conntrack to undo).
    assert not [h for h in t.hops if h.action in ("dnat", "snat") and h.at.startswith("node/")]
    assert f"{t.endpoint['ip']}:{t.endpoint['port']}" == backend
    assert not [h for h in t.reply if h.where == "conntrack"]
    # The socket layer answers getpeername() with the Service address.
    last = t.reply[-1]
    assert last.where == "socket LB (cgroup getpeername4)" and last.packet.src == f"{vip}:80"
    assert t.reply[-2].packet.src == backend


def test_the_socket_lb_hop_shows_the_bpf_lb_map_entry_it_used():
    c_ = cilium()
    t = trace(c_, "pod/default/client", f"{cluster_ip(c_)}:80")
    why = t.hops[1].why
    assert why["table"] == "cilium-dbg bpf lb list"
    frontend, backend = why["entry"].split("   ")
    assert frontend.startswith(f"{cluster_ip(c_)}:80/TCP (")
    assert backend.startswith(t.hops[1].packet.dst + "/TCP (")


def test_udp_dns_from_a_node_is_balanced_at_sendmsg_and_answered_through_recvmsg():
    c_ = cilium()
    t = trace(c_, "node/worker-1", "10.96.0.10:53/udp")
    check_invariants(t)
    assert t.hops[1].where == "socket LB (cgroup sendmsg4)"
    assert t.reply[-1].where == "socket LB (cgroup recvmsg4)"
    assert t.reply[-1].packet.src == "10.96.0.10:53"


def test_a_service_name_is_resolved_then_balanced_at_the_socket_with_no_kube_proxy_hop():
    c_ = cilium()
    t = trace(c_, "pod/default/client", "http://web/")
    check_invariants(t)
    assert t.verdict == "delivered"
    dns = [h for h in t.hops if h.phase == "dns"]
    assert any(h.where == "socket LB (cgroup sendmsg4)" for h in dns)
    assert not [h for h in t.hops if "KUBE-" in h.where or h.where == "conntrack"]


def test_a_pods_dns_query_leaves_eth0_already_addressed_to_a_coredns_pod():
    # docs.cilium.io network/kubernetes/kubeproxy-free, "Socket LoadBalancer Bypass" and
    # bpf-lb-sock: the cgroup sendmsg4 hook rewrites a UDP datagram's destination before it
    # is sent, so a capture on the pod's veth never shows kube-dns's ClusterIP.
    c_ = cilium()
    t = trace(c_, "pod/default/client", "http://web/")
    dns = [h for h in t.hops if h.phase == "dns"]
    hook = next(i for i, h in enumerate(dns) if h.where == "socket LB (cgroup sendmsg4)")
    send = next(i for i, h in enumerate(dns) if h.where == "pod eth0")
    assert hook < send, [h.where for h in dns]
    coredns = {
        p["status"]["podIP"] for p in c_.state.of_kind("Pod") if "coredns" in p["metadata"]["name"]
    }
    assert dns[send].packet.dst_ip in coredns
    assert "10.96.0.10" not in {h.packet.dst_ip for h in dns[send:] if h.action != "resolve"}


def test_nodeport_from_outside_to_another_nodes_backend_is_snatted_to_the_node():
    """With routingMode: native Cilium SNATs to the node's address (IPV4_DIRECT_ROUTING)."""
    c_ = cilium(type_="NodePort", replicas=1, routing_mode="native")
    backend_node = pods_of(c_, "web-")[0]["spec"]["nodeName"]
    entry = "10.0.0.12" if backend_node == "worker-1" else "10.0.0.11"
    t = trace(c_, "external", f"http://{entry}:{node_port(c_)}/")
    check_invariants(t)
    assert t.verdict == "delivered"
    dnat = next(h for h in t.hops if h.action == "dnat")
    snat = next(h for h in t.hops if h.action == "snat")
    assert dnat.where == "eBPF tc ingress on eth0" and "NodePort" in dnat.summary
    assert snat.packet.src_ip == entry and "loadBalancer.mode: snat" in snat.summary
    assert t.hops[-1].packet.src_ip == entry  # the backend sees the node, not the client
    undo = [h for h in t.reply if h.where == "eBPF reverse NAT"]
    assert len(undo) == 2
    assert t.reply[-1].packet.src == f"{entry}:{node_port(c_)}"


def test_tunnel_mode_nodeport_snats_to_cilium_host_and_the_reply_comes_back_through_vxlan():
    """bpf/lib/nodeport.h, tail_nodeport_nat_egress_ipv4: with TUNNEL_MODE and a backend
    whose ipcache entry has a tunnel endpoint, the SNAT address is IPV4_GATEWAY (cilium_host's
    router address) and the request is encapsulated with WORLD_ID; the router address's
    ipcache entry has a tunnel endpoint (pkg/node/manager nodeAddressHasTunnelIP:
    NodeCiliumInternalIP), so the backend's answer returns through cilium_vxlan, never out of
    eth0, where iptables-save's "! -o cilium_+" masquerade rule would not apply anyway."""
    c_ = cilium(type_="NodePort", replicas=1)
    backend_node = pods_of(c_, "web-")[0]["spec"]["nodeName"]
    entry_node = "worker-2" if backend_node == "worker-1" else "worker-1"
    entry = "10.0.0.12" if entry_node == "worker-2" else "10.0.0.11"
    router = c_.node_summary(c_.get("Node", "", entry_node))["gateway"]["ip"]
    t = trace(c_, "external", f"http://{entry}:{node_port(c_)}/")
    check_invariants(t)
    assert t.verdict == "delivered"
    snat = next(h for h in t.hops if h.action == "snat")
    assert snat.packet.src_ip == router and "cilium_host" in snat.summary
    wrap = next(h for h in t.hops if h.action == "encapsulate")
    assert wrap.packet.outer["vni"] == 2  # reserved:world
    assert t.hops[-1].packet.src_ip == router
    back = next(h for h in t.reply if h.action == "encapsulate")
    assert back.node == backend_node and back.packet.dst_ip == router
    assert (
        back.why["entry"].startswith(f"{router}/32")
        and "tunnelendpoint=" + entry in (back.why["entry"])
    )
    assert not [h for h in t.reply if h.node == backend_node and h.action == "snat"]
    undo = [h for h in t.reply if h.where == "eBPF reverse NAT"]
    assert [h.node for h in undo] == [entry_node, entry_node]
    assert t.reply[-1].packet.src == f"{entry}:{node_port(c_)}"


def test_nodeport_from_outside_to_a_local_backend_keeps_the_clients_address():
    c_ = cilium(type_="NodePort", replicas=1)
    backend_node = pods_of(c_, "web-")[0]["spec"]["nodeName"]
    entry = "10.0.0.11" if backend_node == "worker-1" else "10.0.0.12"
    t = trace(c_, "external", f"http://{entry}:{node_port(c_)}/")
    assert t.verdict == "delivered"
    assert not [h for h in t.hops if h.action == "snat"]
    assert t.hops[-1].packet.src_ip == "198.51.100.7"


def test_external_traffic_policy_local_is_refused_on_a_node_without_a_backend():
    """bpf/lib/lb.h: lb4_local returns DROP_NO_SERVICE for a frontend without backend slots;
    with serviceNoBackendResponse: reject (Helm default) tail_no_service_ipv4 answers ICMP
    destination unreachable, port unreachable (cilium/cilium PR #28157): connection refused,
    not a timeout."""
    c_ = cilium(type_="NodePort", replicas=1, extra="  externalTrafficPolicy: Local\n")
    backend_node = pods_of(c_, "web-")[0]["spec"]["nodeName"]
    other = "10.0.0.12" if backend_node == "worker-1" else "10.0.0.11"
    t = trace(c_, "external", f"http://{other}:{node_port(c_)}/")
    assert t.verdict == "refused"
    assert t.hops[-1].where == "eBPF tc ingress on eth0" and t.hops[-1].action == "reject"
    assert "DROPPED" not in t.hops[-1].why["entry"]
    assert "port unreachable" in t.hops[-1].why["note"]
    assert t.cause["field"] == "spec.externalTrafficPolicy"
    # From inside the cluster the same NodePort uses every backend (the internal scope).
    inside = trace(c_, "pod/default/client", f"{other}:{node_port(c_)}")
    assert inside.verdict == "delivered"


def test_load_balancer_source_ranges_are_enforced_by_cilium_for_a_pod_outside_them():
    c_ = cilium(type_="LoadBalancer", extra="  loadBalancerSourceRanges: [203.0.113.0/25]\n")
    lb_ip = c_.get("Service", "default", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    t = trace(c_, "pod/default/client", f"{lb_ip}:80")
    assert t.verdict == "dropped"
    drop = t.hops[-1]
    assert "Denied by LB src range check" in drop.summary
    assert t.cause["field"] == "spec.loadBalancerSourceRanges"


def test_a_service_without_backends_is_refused_with_icmp():
    c_ = cilium()
    apply_text(c_, service("nobody", selector={"app": "nothing"}))
    t = trace(c_, "pod/default/client", f"{cluster_ip(c_, 'nobody')}:80")
    assert t.verdict == "refused"
    assert "port unreachable" in t.reason and "connection refused" in t.reason
    # tail_no_service_ipv4 answers the packet: not a drop, so no "DROPPED" line.
    assert t.hops[-1].action == "reject" and "DROPPED" not in str(t.hops[-1].why)


def test_a_load_balancer_drop_prints_hubbles_own_line_with_identities():
    """Hubble's compact printer (hubble.py's drop_line, the same as for policy drops): ``<>``
    for a drop, each side with its identity, the drop reason of pkg/monitor/api/drop.go."""
    c_ = cilium(type_="LoadBalancer", extra="  loadBalancerSourceRanges: [203.0.113.0/25]\n")
    lb_ip = c_.get("Service", "default", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    t = trace(c_, "pod/default/client", f"{lb_ip}:80")
    entry = t.hops[-1].why["entry"]
    client = c_.get("Pod", "default", "client")
    from app.network import cilium as cilium_

    assert f"(ID:{cilium_.identity(client)}) <> {lb_ip}:80 (world)" in entry
    assert entry.endswith("Denied by LB src range check DROPPED (TCP Flags: SYN)")


def test_without_kube_proxy_replacement_kube_proxy_translates_as_before():
    c_ = cilium(kube_proxy_replacement=False)
    t = trace(c_, "pod/default/client", f"{cluster_ip(c_)}:80")
    check_invariants(t)
    dnat = next(h for h in t.hops if h.action == "dnat")
    assert dnat.at == "node/worker-1" and "KUBE-SVC-" in dnat.where
    assert not [h for h in t.hops if "socket" in h.where]


def test_dsr_keeps_the_clients_address_and_the_backends_node_answers_directly():
    """Cilium's "Kubernetes Without kube-proxy", Direct Server Return: with
    loadBalancer.mode=dsr (native routing) the backend sees the client, and the reply leaves
    the backend's node straight for the client, from the frontend's address."""
    c_ = cilium(type_="NodePort", replicas=1, routing_mode="native", load_balancer_mode="dsr")
    backend_node = pods_of(c_, "web-")[0]["spec"]["nodeName"]
    entry_node = "worker-2" if backend_node == "worker-1" else "worker-1"
    entry = c_.get("Node", "", entry_node)["status"]["addresses"][0]["address"]
    t = trace(c_, "external", f"http://{entry}:{node_port(c_)}/")
    check_invariants(t)
    assert t.verdict == "delivered"
    assert not [h for h in t.hops if h.action == "snat"]
    assert t.hops[-1].packet.src_ip == "198.51.100.7"
    assert "loadBalancer.mode: dsr" in next(h for h in t.hops if h.action == "dnat").summary
    undo = next(h for h in t.reply if h.where == "eBPF reverse NAT")
    assert undo.node == backend_node and "Direct Server Return" in undo.summary
    assert entry_node not in {h.node for h in t.reply}
    assert t.reply[-1].packet.src == f"{entry}:{node_port(c_)}"


def test_dsr_needs_native_routing():
    import pytest

    from app.errors import InvalidObjects

    with pytest.raises(InvalidObjects) as refused:
        Cluster.create(ClusterConfig(cni="cilium", load_balancer_mode="dsr"))
    assert refused.value.errors[0].field == "loadBalancerMode"
    assert "routingMode: native" in refused.value.errors[0].message
