"""kube-proxy's nftables mode against upstream: the Services and endpoints of
``TestOverallNFTablesRules`` (kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go) fed to
Podpath's builder give the chains, rules, sets, maps and elements of that test's golden output,
and a Podpath cluster prints them as ``nft list table ip kube-proxy`` would."""

from __future__ import annotations

import re

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network import kubeproxy as kp
from app.network.kubeproxy import text as kt
from app.network.kubeproxy.chains import NodeContext, nft_chain_base
from app.network.kubeproxy.model import Endpoint, ServicePort
from app.network.kubeproxy.nftables import build_nftables
from tests.unit.scenarios import deployment
from tests.unit.test_kubeproxy import svc_yaml

# NewFakeProxier's conventions: pod IPs 10.0.0.0/8, ClusterIPs 172.30.0.0/16, the node
# "test-node" at 192.168.0.2, --nodeport-addresses 192.168.0.2/32.
UPSTREAM_NODE = NodeContext("test-node", "192.168.0.2", "10.0.0.0/8")


def _port(ns, name, ip, eps, **kw) -> ServicePort:
    return ServicePort(
        namespace=ns,
        service=name,
        port_name="p80",
        protocol="TCP",
        cluster_ip=ip,
        port=80,
        node_port=kw.pop("node_port", None),
        load_balancer_ips=kw.pop("lb", ()),
        external_policy=kw.pop("etp", "Cluster"),
        internal_policy="Cluster",
        affinity_timeout=kw.pop("affinity", None),
        endpoints=tuple(Endpoint(ip_, 80, node, None) for ip_, node in eps),
        chain="",
        **kw,
    )


def upstream_services() -> list[ServicePort]:
    """TestOverallNFTablesRules' six Services and their EndpointSlices."""
    return [
        _port("ns1", "svc1", "172.30.0.41", [("10.180.0.1", None)]),
        _port(
            "ns2",
            "svc2",
            "172.30.0.42",
            [("10.180.0.2", None)],  # no nodeName: not local, so Local policy has none
            etp="Local",
            node_port=3001,
            lb=("1.2.3.4",),
            external_ips=("192.168.99.22",),
            health_check_node_port=30000,
        ),
        _port("ns3", "svc3", "172.30.0.43", [("10.180.0.3", None)], node_port=3003),
        _port(
            "ns4",
            "svc4",
            "172.30.0.44",
            [("10.180.0.4", None), ("10.180.0.5", "test-node")],
            external_ips=("192.168.99.33",),
        ),
        _port(
            "ns5",
            "svc5",
            "172.30.0.45",
            [("10.180.0.3", None)],
            node_port=3002,
            lb=("5.6.7.8",),
            affinity=10800,
            load_balancer_source_ranges=("203.0.113.0/25",),
        ),
        _port("ns6", "svc6", "172.30.0.46", []),
    ]


S1, E1 = "service-ULMVA6XW-ns1/svc1/tcp/p80", "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
S2, X2 = "service-42NFTM6N-ns2/svc2/tcp/p80", "external-42NFTM6N-ns2/svc2/tcp/p80"
E2 = "endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80"
S3, X3 = "service-4AT6LBPK-ns3/svc3/tcp/p80", "external-4AT6LBPK-ns3/svc3/tcp/p80"
E3 = "endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80"
S4, X4 = "service-LAUZTJTB-ns4/svc4/tcp/p80", "external-LAUZTJTB-ns4/svc4/tcp/p80"
E4 = "endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80"
E4b = "endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80"
S5, X5 = "service-HVFWP5L3-ns5/svc5/tcp/p80", "external-HVFWP5L3-ns5/svc5/tcp/p80"
E5, F5 = "endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80", "firewall-HVFWP5L3-ns5/svc5/tcp/p80"
A5 = "affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80"
MASQ = "jump mark-for-masquerade"

# The golden output's rules, chain by chain, in kube-proxy's spelling ("add rule ip
# kube-proxy CHAIN RULE"; the base chains' hooks are checked separately).
GOLDEN_RULES = {
    "cluster-ips-check": [
        'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
        'ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"',
    ],
    "filter-prerouting-pre-dnat": ["ct state new jump firewall-check"],
    "filter-output-pre-dnat": ["ct state new jump firewall-check"],
    "filter-input": [
        "ct state new jump nodeport-endpoints-check",
        "ct state new jump service-endpoints-check",
    ],
    "filter-forward": [
        "ct state new jump service-endpoints-check",
        "ct state new jump cluster-ips-check",
    ],
    "filter-output": [
        "ct state new jump service-endpoints-check",
        "ct state new jump cluster-ips-check",
    ],
    "firewall-check": ["ip daddr . meta l4proto . th dport vmap @firewall-ips"],
    "mark-for-masquerade": ["mark set mark or 0x4000"],
    "masquerading": [
        "mark and 0x4000 == 0 return",
        "mark set mark xor 0x4000",
        "masquerade fully-random",
    ],
    "nat-output": ["jump services"],
    "nat-postrouting": ["jump masquerading"],
    "nat-prerouting": ["jump services"],
    "nodeport-endpoints-check": [
        "ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports"
    ],
    "reject-chain": ["reject"],
    "services": [
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
    ],
    "service-endpoints-check": ["ip daddr . meta l4proto . th dport vmap @no-endpoint-services"],
    S1: [
        f"ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 {MASQ}",
        f"numgen random mod 1 vmap {{ 0 : goto {E1} }}",
    ],
    E1: [f"ip saddr 10.180.0.1 {MASQ}", "meta l4proto tcp dnat to 10.180.0.1:80"],
    S2: [
        f"ip daddr 172.30.0.42 ip saddr != 10.0.0.0/8 {MASQ}",
        f"numgen random mod 1 vmap {{ 0 : goto {E2} }}",
    ],
    X2: [
        f'ip saddr 10.0.0.0/8 goto {S2} comment "short-circuit pod traffic"',
        f'fib saddr type local {MASQ} comment "masquerade local traffic"',
        f'fib saddr type local goto {S2} comment "short-circuit local traffic"',
    ],
    E2: [f"ip saddr 10.180.0.2 {MASQ}", "meta l4proto tcp dnat to 10.180.0.2:80"],
    S3: [
        f"ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 {MASQ}",
        f"numgen random mod 1 vmap {{ 0 : goto {E3} }}",
    ],
    X3: [MASQ, f"goto {S3}"],
    E3: [f"ip saddr 10.180.0.3 {MASQ}", "meta l4proto tcp dnat to 10.180.0.3:80"],
    S4: [
        f"ip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 {MASQ}",
        f"numgen random mod 2 vmap {{ 0 : goto {E4} , 1 : goto {E4b} }}",
    ],
    X4: [MASQ, f"goto {S4}"],
    E4b: [f"ip saddr 10.180.0.5 {MASQ}", "meta l4proto tcp dnat to 10.180.0.5:80"],
    E4: [f"ip saddr 10.180.0.4 {MASQ}", "meta l4proto tcp dnat to 10.180.0.4:80"],
    S5: [
        f"ip daddr 172.30.0.45 ip saddr != 10.0.0.0/8 {MASQ}",
        f"ip saddr @{A5} goto {E5}",
        f"numgen random mod 1 vmap {{ 0 : goto {E5} }}",
    ],
    X5: [MASQ, f"goto {S5}"],
    E5: [
        f"ip saddr 10.180.0.3 {MASQ}",
        f"update @{A5} {{ ip saddr }}",
        "meta l4proto tcp dnat to 10.180.0.3:80",
    ],
    F5: ["ip saddr != { 203.0.113.0/25 } drop"],
}
GOLDEN_ELEMENTS = {
    "cluster-ips": {f"172.30.0.4{i}" for i in range(1, 7)},
    "nodeport-ips": {"192.168.0.2"},
    "service-ips": {
        f"172.30.0.41 . tcp . 80 : goto {S1}",
        f"172.30.0.42 . tcp . 80 : goto {S2}",
        f"192.168.99.22 . tcp . 80 : goto {X2}",
        f"1.2.3.4 . tcp . 80 : goto {X2}",
        f"172.30.0.43 . tcp . 80 : goto {S3}",
        f"172.30.0.44 . tcp . 80 : goto {S4}",
        f"192.168.99.33 . tcp . 80 : goto {X4}",
        f"172.30.0.45 . tcp . 80 : goto {S5}",
        f"5.6.7.8 . tcp . 80 : goto {X5}",
    },
    "service-nodeports": {
        f"tcp . 3001 : goto {X2}",
        f"tcp . 3003 : goto {X3}",
        f"tcp . 3002 : goto {X5}",
    },
    "no-endpoint-nodeports": {'tcp . 3001 comment "ns2/svc2:p80" : drop'},
    "no-endpoint-services": {
        '1.2.3.4 . tcp . 80 comment "ns2/svc2:p80" : drop',
        '192.168.99.22 . tcp . 80 comment "ns2/svc2:p80" : drop',
        '172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain',
    },
    "firewall-ips": {f"5.6.7.8 . tcp . 80 : goto {F5}"},
    A5: set(),
}
# How nft prints what kube-proxy wrote: the mark expressions in their normal form, and an
# anonymous vmap's elements separated by ", ".
NFT_PRINTS = {
    "mark set mark or 0x4000": "meta mark set meta mark | 0x00004000",
    "mark and 0x4000 == 0 return": "meta mark & 0x00004000 == 0 return",
    "mark set mark xor 0x4000": "meta mark set meta mark ^ 0x00004000",
}


def _as_nft_prints(rule: str) -> str:
    return NFT_PRINTS.get(rule, rule.replace(" , ", ", "))


@pytest.fixture(scope="module")
def upstream():
    return build_nftables(
        upstream_services(),
        UPSTREAM_NODE,
        service_cidr="172.30.0.0/16",
        nodeport_ips=["192.168.0.2"],
    )


def test_upstream_chain_names_hash_as_kube_proxy_hashes_them():
    """servicePortChainNameBase / servicePortEndpointChainNameBase, per the golden names."""
    assert "service-" + nft_chain_base("ns1", "svc1", "tcp", "p80") == S1
    assert "endpoint-" + nft_chain_base("ns4", "svc4", "tcp", "p80", "10.180.0.5:80") == E4b


def test_overall_nftables_rules_match_upstream_TestOverallNFTablesRules(upstream):
    chains = {c.name: [r.text for r in c.rules] for c in upstream.chains if c.kind == "chain"}
    assert chains == {
        name: [_as_nft_prints(r) for r in rules] for name, rules in GOLDEN_RULES.items()
    }
    containers = {c.name: {r.text for r in c.rules} for c in upstream.chains if c.kind != "chain"}
    assert containers == GOLDEN_ELEMENTS


def test_affinity_set_and_container_types_match_the_golden_declarations(upstream):
    by_name = {c.name: c for c in upstream.chains}
    assert by_name[A5].kind == "set"
    assert by_name[A5].header == ["type ipv4_addr", "flags dynamic,timeout", "timeout 10800s"]
    assert {n for n, c in by_name.items() if c.kind == "map"} == {
        "firewall-ips",
        "no-endpoint-nodeports",
        "no-endpoint-services",
        "service-ips",
        "service-nodeports",
    }
    assert by_name["cluster-ips"].header[1] == 'comment "Active ClusterIPs"'


def test_base_chains_hook_in_at_upstreams_priorities(upstream):
    """Pre-DNAT filter chains at dstnat - 10 (-110), the endpoint checks at filter (0), NAT at
    dstnat / srcnat; nft names a priority where the hook has a standard name for it."""
    hooks = {c.name: c.header[0] for c in upstream.chains if c.header and "hook" in c.header[0]}
    assert hooks == {
        "filter-prerouting-pre-dnat": "type filter hook prerouting priority dstnat - 10; policy accept;",
        "filter-output-pre-dnat": "type filter hook output priority -110; policy accept;",
        "filter-input": "type filter hook input priority filter; policy accept;",
        "filter-forward": "type filter hook forward priority filter; policy accept;",
        "filter-output": "type filter hook output priority filter; policy accept;",
        "nat-prerouting": "type nat hook prerouting priority dstnat; policy accept;",
        "nat-output": "type nat hook output priority -100; policy accept;",
        "nat-postrouting": "type nat hook postrouting priority srcnat; policy accept;",
    }


def test_nft_list_prints_sets_and_maps_before_chains_in_creation_order(upstream):
    text = kt.nft_list(upstream)
    blocks = re.findall(r"^\t(set|map|chain) (\S+) \{", text, re.M)
    kinds = [k for k, _ in blocks]
    assert kinds == sorted(kinds, key=lambda k: k == "chain")  # no set after a chain
    names = [n for _, n in blocks]
    assert names[:7] == [
        "cluster-ips",
        "nodeport-ips",
        "no-endpoint-services",
        "no-endpoint-nodeports",
        "firewall-ips",
        "service-ips",
        "service-nodeports",
    ]
    assert names.index("filter-prerouting-pre-dnat") < names.index("nat-prerouting")
    # setupNFTables creates a Service's endpoint chains before its service/external chains.
    assert names.index(E5) < names.index(S5) < names.index(X5) < names.index(F5)


# --- a Podpath cluster --------------------------------------------------------------------------
def lb_cluster(ranges: str) -> Cluster:
    cluster = Cluster.create(ClusterConfig(proxy_mode="nftables"), seed=7)
    extra = f"  loadBalancerSourceRanges: [{ranges}]\n" if ranges else ""
    apply_text(
        cluster, deployment("web", 2) + "---\n" + svc_yaml("web", "LoadBalancer", "http", extra)
    )
    return cluster


def test_load_balancer_source_ranges_fill_firewall_ips_and_a_firewall_chain():
    cluster = lb_cluster("203.0.113.0/25")
    sp = next(s for s in kp.service_table(cluster) if s.name == "default/web:http")
    lb = sp.load_balancer_ips[0]
    fw = "firewall-" + nft_chain_base("default", "web", "tcp", "http")
    text = kp.rules(cluster, "worker-1").text
    assert f"{lb} . tcp . 80 : goto {fw}" in text
    assert f"\tchain {fw} {{\n\t\tip saddr != {{ 203.0.113.0/25 }} drop\n\t}}" in text


def test_a_range_holding_the_node_ip_also_lets_the_lb_ip_itself_in():
    """allowFromNode: a VIP bound on the node loops the node's own request back from the VIP."""
    cluster = lb_cluster("10.0.0.0/24")
    lb = next(s for s in kp.service_table(cluster) if s.service == "web").load_balancer_ips[0]
    assert f"ip saddr != {{ 10.0.0.0/24, {lb} }} drop" in kp.rules(cluster, "worker-1").text


def test_without_source_ranges_there_is_no_firewall_chain():
    text = kp.rules(lb_cluster(""), "worker-1").text
    assert "chain firewall-check {" in text
    assert not re.search(r"(chain|goto) firewall-[A-Z2-7]{8}-", text)


def test_podpath_cluster_drops_unallocated_clusterips_and_lists_its_primary_nodeport_ip():
    """nftables mode defaults --nodeport-addresses to "primary": only the node's InternalIP."""
    text = kp.rules(lb_cluster(""), "worker-2").text
    assert 'ip daddr { 10.96.0.0/12 } drop comment "Drop traffic to unallocated ClusterIPs"' in text
    assert "set nodeport-ips {" in text and "elements = { 10.0.0.12 }" in text
    for line in text.splitlines():
        if "ip daddr 10.96.0.1 " in line:  # the kubernetes Service's masquerade rule
            assert "dport" not in line


def test_traces_reject_a_clusterips_other_port_and_drop_an_unallocated_clusterip():
    """TestClusterIPGeneral: "svc1 does not accept svc2's ports" is REJECT, "packet to
    unallocated cluster ip" is DROP (cluster-ips-check's two rules)."""
    from app.network.trace import trace

    cluster = Cluster.create(ClusterConfig(proxy_mode="nftables"), seed=1)
    other_port = trace(cluster, "node/worker-1", "https://10.96.0.1:444/")
    assert other_port.verdict == "refused" and "444/TCP" in other_port.reason
    unallocated = trace(cluster, "node/worker-1", "http://10.96.5.5/")
    assert unallocated.verdict == "dropped" and "unallocated ClusterIP" in unallocated.reason
    assert any("Drop traffic to unallocated ClusterIPs" in str(h.why) for h in unallocated.hops)


def test_a_pod_outside_the_ranges_is_dropped_by_the_firewall_chain_and_the_rules_say_where():
    """TestLoadBalancer's "blocked external to LB": firewall-check's vmap sends the LB IP to the
    Service's firewall chain, whose ip saddr != { ranges } drop matches."""
    cluster = lb_cluster("203.0.113.0/25")
    sp = next(s for s in kp.service_table(cluster) if s.name == "default/web:http")
    pod_ip = next(e.ip for e in sp.endpoints)
    d = kp.decide(cluster, "worker-1", pod_ip, sp.load_balancer_ips[0], 80)
    assert d.action == "drop"
    fw = "firewall-" + nft_chain_base("default", "web", "tcp", "http")
    matched = [(r.chain, r.text) for r in d.matched]
    assert ("filter-prerouting-pre-dnat", "ct state new jump firewall-check") in matched
    assert (fw, "ip saddr != { 203.0.113.0/25 } drop") in matched
    assert any(ch == "firewall-ips" and text.endswith(f"goto {fw}") for ch, text in matched)


@pytest.mark.parametrize("mode,served", [("nftables", False), ("iptables", True)])
def test_nodeports_answer_on_the_primary_ip_only_in_nftables_mode(mode, served):
    """nftables mode's --nodeport-addresses default is "primary" (cmd/kube-proxy
    platformApplyDefaults); iptables mode accepts a NodePort on every local address."""
    cluster = Cluster.create(ClusterConfig(proxy_mode=mode), seed=7)
    apply_text(cluster, deployment("web", 2) + "---\n" + svc_yaml("web", "NodePort", "http", ""))
    sp = next(s for s in kp.service_table(cluster) if s.name == "default/web:http")
    gateway = "10.244.1.1"  # worker-1's cni0 (flannel gives it the /24's .1)
    primary = kp.decide(cluster, "worker-1", "198.51.100.7", "10.0.0.11", sp.node_port)
    other = kp.decide(cluster, "worker-1", "198.51.100.7", gateway, sp.node_port)
    assert primary.action == "dnat"
    assert (other.action == "dnat") is served
