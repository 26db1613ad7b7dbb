"""loadBalancerSourceRanges and the iptables-save text around it, pinned to kube-proxy's own
tests in pkg/proxy/iptables/proxier_test.go (TestOverallIPTablesRules' ns5/svc5, a
LoadBalancer with " 203.0.113.0/25"; TestLoadBalancer's packet flows; TestNodePorts'
localhost NodePorts) and to iptables' extensions/libxt_statistic.c and libxt_nfacct.c for how
iptables-save prints what kube-proxy wrote.

kube-proxy's golden text is what it hands to iptables-restore (``-m comment … -m tcp -p tcp -d
… --dport``); Podpath prints what ``iptables-save`` gives back for it (addresses and protocol
first, ``/32`` on hosts), so each expected line here is upstream's rule in that normal form.
"""

from __future__ import annotations

import pytest

from app.network import kubeproxy as kp
from app.network.kubeproxy import chains as kr
from app.network.trace import trace
from tests.unit.test_kubeproxy import make

RANGES = '  loadBalancerSourceRanges: [" 203.0.113.0/25"]\n'  # upstream's own stray space
BLOCKED = "198.51.100.7"  # the default outside client: not in 203.0.113.0/25
ALLOWED = "203.0.113.9"


def lb_cluster(mode="iptables", ranges=RANGES):
    return make(mode=mode, type_="LoadBalancer", extra=ranges)


def web(cluster):
    return next(sp for sp in kp.service_table(cluster) if sp.name == "default/web:http")


def lines(text, chain):
    return [line for line in text.splitlines() if line.startswith(f"-A {chain} ")]


# --- the iptables-save text (TestOverallIPTablesRules, ns5/svc5) ------------------------------
def test_overall_rules_lb_ip_jumps_to_the_kube_fw_chain_not_kube_ext():
    """TestOverallIPTablesRules: '-A KUBE-SERVICES … "ns5/svc5:p80 loadbalancer IP" … -d
    5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C'."""
    cluster = lb_cluster()
    sp = web(cluster)
    fw = kr.chain_name("KUBE-FW-", sp.name, "tcp")
    assert fw == "KUBE-FW-" + sp.chain.removeprefix("KUBE-SVC-")
    text = kp.rules(cluster, "worker-1").text
    assert (
        f"-A KUBE-SERVICES -d {sp.load_balancer_ips[0]}/32 -p tcp -m comment --comment "
        f'"default/web:http loadbalancer IP" -m tcp --dport 80 -j {fw}'
    ) in lines(text, "KUBE-SERVICES")
    assert f":{fw} - [0:0]" in text.split("*nat")[1]


def test_overall_rules_kube_fw_chain_accepts_the_range_then_leaves_the_rest_to_the_filter():
    """TestOverallIPTablesRules: the KUBE-FW chain's two rules (the range, whitespace trimmed,
    jumping to KUBE-EXT; then the bare comment rule)."""
    cluster = lb_cluster()
    sp = web(cluster)
    fw, ext = (kr.chain_name(p, sp.name, "tcp") for p in ("KUBE-FW-", "KUBE-EXT-"))
    assert lines(kp.rules(cluster, "worker-1").text, fw) == [
        f'-A {fw} -s 203.0.113.0/25 -m comment --comment "default/web:http loadbalancer IP" -j {ext}',
        f'-A {fw} -m comment --comment "other traffic to default/web:http will be dropped by '
        'KUBE-PROXY-FIREWALL"',
    ]


def test_overall_rules_kube_proxy_firewall_drops_what_the_fw_chain_did_not_accept():
    """TestOverallIPTablesRules: '-A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80
    traffic not accepted by KUBE-FW-…" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP'."""
    cluster = lb_cluster()
    sp = web(cluster)
    fw = kr.chain_name("KUBE-FW-", sp.name, "tcp")
    text = kp.rules(cluster, "worker-1").text
    assert lines(text.split("*nat")[0], "KUBE-PROXY-FIREWALL") == [
        f"-A KUBE-PROXY-FIREWALL -d {sp.load_balancer_ips[0]}/32 -p tcp -m comment --comment "
        f'"default/web:http traffic not accepted by {fw}" -m tcp --dport 80 -j DROP'
    ]


def test_without_source_ranges_there_is_no_fw_chain_and_the_firewall_chain_is_empty():
    cluster = lb_cluster(ranges="")
    sp = web(cluster)
    text = kp.rules(cluster, "worker-1").text
    assert "KUBE-FW-" not in text
    assert lines(text, "KUBE-PROXY-FIREWALL") == []
    ext = kr.chain_name("KUBE-EXT-", sp.name, "tcp")
    assert any(line.endswith(f"-j {ext}") for line in lines(text, "KUBE-SERVICES"))


def test_overall_rules_kube_firewall_blocks_incoming_localnet_connections():
    """TestOverallIPTablesRules (and TestNodePorts' expectFirewall): route_localnet for
    localhost NodePorts comes with this rule; kubelet's INPUT/OUTPUT jumps to it."""
    text = kp.rules(make(), "worker-1").text
    assert lines(text, "KUBE-FIREWALL") == [
        '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming '
        'localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'
    ]
    assert "-A INPUT -j KUBE-FIREWALL" in text and "-A OUTPUT -j KUBE-FIREWALL" in text


def test_overall_rules_localhost_nodeport_rule_comes_first_and_is_counted_by_nfacct():
    """TestOverallIPTablesRules: for each NodePort, the '-d 127.0.0.0/8 … -m nfacct
    --nfacct-name localhost_nps_accepted_pkts' rule, then the plain one; iptables-save puts two
    spaces before the counter's name (libxt_nfacct.c + xtables_save_string)."""
    cluster = make(type_="NodePort")
    sp = web(cluster)
    ext = kr.chain_name("KUBE-EXT-", sp.name, "tcp")
    mine = [
        line
        for line in lines(kp.rules(cluster, "worker-1").text, "KUBE-NODEPORTS")
        if "default/web" in line
    ]
    assert mine == [
        f'-A KUBE-NODEPORTS -d 127.0.0.0/8 -p tcp -m comment --comment "default/web:http" -m tcp '
        f"--dport {sp.node_port} -m nfacct --nfacct-name  localhost_nps_accepted_pkts -j {ext}",
        f'-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport '
        f"{sp.node_port} -j {ext}",
    ]


def test_overall_rules_invalid_conntrack_drop_is_counted_by_nfacct():
    """TestOverallIPTablesRules: KUBE-FORWARD's INVALID drop carries the
    ct_state_invalid_dropped_pkts counter."""
    assert lines(kp.rules(make(), "worker-1").text, "KUBE-FORWARD")[0] == (
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  "
        "ct_state_invalid_dropped_pkts -j DROP"
    )


def test_probabilities_are_what_iptables_save_prints_not_what_kube_proxy_wrote():
    """kube-proxy writes 0.3333333333 / 0.5000000000 (TestOverallIPTablesRules' svc4 shows
    0.5000000000); the kernel keeps lround(p * 2^31) and libxt_statistic.c prints %.11f."""
    cluster = make(replicas=3)
    text = kp.rules(cluster, "worker-1").text
    probs = [
        line.split("--probability ")[1].split()[0]
        for line in lines(text, web(cluster).chain)
        if "--probability" in line
    ]
    assert probs == ["0.33333333349", "0.50000000000"]


# --- what the rules do (TestLoadBalancer's packet flows) ----------------------------------------
@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_blocked_external_to_lb_ip_is_dropped_in_every_mode(mode):
    """TestLoadBalancer: 'blocked external to LB1' → DROP."""
    cluster = lb_cluster(mode)
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", BLOCKED, sp.load_balancer_ips[0], 80, from_outside=True)
    assert d.action == "drop"
    assert "spec.loadBalancerSourceRanges [203.0.113.0/25]" in d.reason and BLOCKED in d.reason


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_accepted_external_to_lb_ip_is_delivered_masqueraded(mode):
    """TestLoadBalancer: 'accepted external to LB1' → the endpoint, masq true."""
    cluster = lb_cluster(mode)
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", ALLOWED, sp.load_balancer_ips[0], 80, from_outside=True)
    assert (d.action, d.masquerade) == ("dnat", True)
    assert d.endpoint in sp.endpoints


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_nodeport_bypasses_load_balancer_source_ranges(mode):
    """TestLoadBalancer: 'nodePort bypasses LoadBalancerSourceRanges' (proxier.go: nodeports
    are not subject to loadBalancerSourceRanges)."""
    cluster = lb_cluster(mode)
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", BLOCKED, "10.0.0.11", sp.node_port, from_outside=True)
    assert d.action == "dnat"


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_pod_to_lb_ip_is_blocked_by_the_source_ranges(mode):
    """TestLoadBalancer: 'pod to LB1 (blocked by LoadBalancerSourceRanges)' → DROP: kube-proxy
    catches the LB IP on the pod's own node and the pod's address is not in the ranges."""
    cluster = lb_cluster(mode)
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", "10.244.1.9", sp.load_balancer_ips[0], 80)
    assert d.action == "drop"


def test_iptables_drop_names_the_fw_chain_end_and_the_kube_proxy_firewall_rule():
    cluster = lb_cluster()
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", BLOCKED, sp.load_balancer_ips[0], 80, from_outside=True)
    fw = kr.chain_name("KUBE-FW-", sp.name, "tcp")
    assert [r.chain for r in d.matched][-3:] == [fw, "FORWARD", "KUBE-PROXY-FIREWALL"]
    assert d.matched[-1].text.endswith("-j DROP")


def test_node_in_the_ranges_may_reach_the_lb_ip_and_so_may_the_lb_ip_itself():
    """TestLoadBalancer: 'node to LB1 (allowed …)' and 'same node to LB1, SNATted to LB1
    (implicitly allowed)': a range holding the node's IP adds a '-s <LB IP>' rule."""
    cluster = lb_cluster(ranges='  loadBalancerSourceRanges: ["10.0.0.0/24", " 203.0.113.0/25"]\n')
    sp = web(cluster)
    lb = sp.load_balancer_ips[0]
    fw, ext = (kr.chain_name(p, sp.name, "tcp") for p in ("KUBE-FW-", "KUBE-EXT-"))
    assert f"-A {fw} -s {lb}/32 -m comment --comment " in "\n".join(
        lines(kp.rules(cluster, "worker-1").text, fw)
    )
    for src in ("10.0.0.11", lb):
        assert kp.decide(cluster, "worker-1", src, lb, 80).action == "dnat", src
    assert kp.decide(cluster, "worker-1", "10.244.1.9", lb, 80).action == "drop"
    assert ext in kp.rules(cluster, "worker-1").text


# --- traces -------------------------------------------------------------------------------------
def test_trace_from_outside_is_dropped_and_the_reason_names_the_field_and_the_fix():
    cluster = lb_cluster()
    lb = web(cluster).load_balancer_ips[0]
    t = trace(cluster, "external", f"http://{lb}/")
    assert t.verdict == "dropped"
    assert t.hops[-1].action == "drop"
    assert (
        "default/web" in t.hops[-1].summary
        and "spec.loadBalancerSourceRanges" in t.hops[-1].summary
    )
    assert "Service default/web" in t.reason and f"{BLOCKED}/32" in t.reason
    assert t.reason.cause["field"] == "spec.loadBalancerSourceRanges"


def test_trace_from_a_client_inside_the_ranges_is_delivered():
    cluster = lb_cluster()
    lb = web(cluster).load_balancer_ips[0]
    assert trace(cluster, f"external/{ALLOWED}", f"http://{lb}/").verdict == "delivered"


def test_trace_to_the_nodeport_of_the_same_service_is_delivered():
    cluster = lb_cluster()
    t = trace(cluster, "external", f"10.0.0.11:{web(cluster).node_port}")
    assert t.verdict == "delivered"


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_trace_from_a_pod_to_the_lb_ip_is_dropped_by_kube_proxy_on_its_node(mode):
    cluster = lb_cluster(mode)
    lb = web(cluster).load_balancer_ips[0]
    pod = next(p for p in cluster.list("Pod", "default"))
    t = trace(cluster, f"pod/default/{pod['metadata']['name']}", f"http://{lb}/")
    assert t.verdict == "dropped"
    assert "kube-proxy" in t.hops[-1].summary
    assert t.reason.cause["field"] == "spec.loadBalancerSourceRanges"


def test_localhost_to_nodeport_matches_the_counted_localhost_rule_and_is_masqueraded():
    """TestNodePorts ('ipv4, localhost-nodeports enabled'): 'localhost to nodePort gets
    masqueraded', through the -d 127.0.0.0/8 rule that feeds localhost_nps_accepted_pkts."""
    cluster = make(type_="NodePort")
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", "127.0.0.1", "127.0.0.1", sp.node_port)
    assert (d.action, d.masquerade) == ("dnat", True)
    nodeports = [r.text for r in d.matched if r.chain == "KUBE-NODEPORTS"]
    assert len(nodeports) == 1 and "-d 127.0.0.0/8" in nodeports[0]
    assert "localhost_nps_accepted_pkts" in nodeports[0]
