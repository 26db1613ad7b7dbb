"""kube-proxy's IPv6 rules on a dual-stack node: what ip6tables-save and the ip6 nftables
table hold.

Sources: kubernetes ``pkg/proxy/nftables`` tests' IPv6 golden dump (``add table ip6
kube-proxy``; ``ip6 daddr @cluster-ips reject``; ``ip6 daddr { fd00:10:96::/112 } drop``;
``type ipv6_addr`` sets; an endpoint chain ``endpoint-…-ns1/svc1/tcp/p80__fd00.10.180..2.1/80``
with ``dnat to [fd00:10:180::2:1]:80``); ``pkg/proxy/iptables`` proxier (the same chain names
per family: their hashes come from the service port name and protocol only; IPv6 host
prefixes are /128 and ``--to-destination`` takes ``[addr]:port``).
"""

from __future__ import annotations

import re

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network import kubeproxy
from app.network.trace import trace
from tests.unit.scenarios import deployment

# web's two pods, with no container port: the Services' targetPort is their port.
OBJECTS = (
    deployment("web", 2, ports=[])
    + """---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ipFamilyPolicy: PreferDualStack, selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: worker-2, containers: [{name: c, image: curlimages/curl}]}
"""
)


def make(proxy_mode: str = "iptables") -> Cluster:
    cluster = Cluster.create(ClusterConfig(ip_family="dual", proxy_mode=proxy_mode), seed=1)
    apply_text(cluster, OBJECTS)
    return cluster


def web(cluster: Cluster) -> tuple[str, str, list[str]]:
    v4, v6 = cluster.get("Service", "default", "web")["spec"]["clusterIPs"]
    pods = [
        p["status"]["podIPs"][1]["ip"]
        for p in cluster.list("Pod", "default")
        if p["metadata"]["name"].startswith("web-")
    ]
    return v4, v6, sorted(pods)


def test_ip6tables_save_holds_the_ipv6_clusterip_and_endpoints():
    cluster = make()
    _v4, v6, pods = web(cluster)
    text = kubeproxy.rules(cluster, "worker-1", "iptables", "IPv6").text
    assert re.search(
        rf'-A KUBE-SERVICES -d {re.escape(v6)}/128 -p tcp -m comment --comment "default/web:http '
        rf'cluster IP" -m tcp --dport 80 -j KUBE-SVC-\w+',
        text,
    )
    for ip in pods:
        assert f"-j DNAT --to-destination [{ip}]:80" in text
        assert f"-s {ip}/128 " in text
    assert "! -s fd00:10:244::/56 -d" in text  # the local-traffic detector's IPv6 cluster CIDR
    assert "10.244." not in text and "10.96." not in text.replace("10.96.0.0", "")


def test_both_families_use_the_same_service_chain_name():
    cluster = make()
    v4_text = kubeproxy.rules(cluster, "worker-1", "iptables", "IPv4").text
    v6_text = kubeproxy.rules(cluster, "worker-1", "iptables", "IPv6").text
    pattern = r'--comment "default/web:http cluster IP" -m tcp --dport 80 -j (KUBE-SVC-\w+)'
    assert re.search(pattern, v4_text).group(1) == re.search(pattern, v6_text).group(1)
    assert "fd00:" not in v4_text and "10.244." not in v6_text


def test_the_ip6_nftables_table_as_kube_proxys_golden_dump_writes_it():
    cluster = make("nftables")
    _v4, v6, pods = web(cluster)
    text = kubeproxy.rules(cluster, "worker-1", "nftables", "IPv6").text
    assert text.startswith("table ip6 kube-proxy {")
    assert (
        'ip6 daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"'
        in text
    )
    assert (
        'ip6 daddr { fd00:10:96::/112 } drop comment "Drop traffic to unallocated ClusterIPs"'
        in text
    )
    assert "type ipv6_addr" in text and "ipv4_addr" not in text
    assert re.search(r"\bip (daddr|saddr)\b", text) is None
    for ip in pods:
        assert f"dnat to [{ip}]:80" in text
        dotted = ip.replace(":", ".")
        assert re.search(
            rf"chain endpoint-\w{{8}}-default/web/tcp/http__{re.escape(dotted)}/80 ", text
        )
    assert f"{v6} . tcp . 80 : goto service-" in text


def test_the_rules_a_trace_over_ipv6_matched_are_in_the_ipv6_program():
    cluster = make()
    t = trace(cluster, "pod/default/client", "http://web/")
    text = kubeproxy.rules(cluster, "worker-2", "iptables", "IPv6").text
    matched = [
        m["text"]
        for h in t.hops
        if h.rule and h.phase == "request"
        for m in h.rule.get("matched", [h.rule])
    ]
    assert matched and all(line in text.splitlines() for line in matched)


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_an_ipv4_cluster_has_no_ipv6_rules(mode):
    cluster = Cluster.create(ClusterConfig(proxy_mode=mode), seed=1)
    default = kubeproxy.rules(cluster, "worker-1").text
    assert default == kubeproxy.rules(cluster, "worker-1", mode, "IPv4").text
    assert "fd00:" not in default


def test_a_node_shell_prints_ip6tables_save_and_both_nft_tables():
    """On a dual-stack node ip6tables-save holds the IPv6 proxier's rules and iptables-save
    the IPv4 one's; nft list ruleset shows table ip then table ip6 kube-proxy."""
    from app.terminal.interpreter import run
    from app.terminal.session import Session

    cluster = make()
    _v4, v6, _pods = web(cluster)
    node = Session("node/worker-1")
    six = run(cluster, "ip6tables-save -t nat", node).output
    four = run(cluster, "iptables-save -t nat", node).output
    assert f"-d {v6}/128" in six and "fd00:" not in four
    assert run(cluster, "ip6tables-save", Session("node/worker-1")).status == 0
    single = Cluster.create(seed=1)
    assert run(single, "ip6tables-save", Session("node/worker-1")).output == ""
    nft = make("nftables")
    ruleset = run(nft, "nft list ruleset", node).output
    assert ruleset.index("table ip kube-proxy {") < ruleset.index("table ip6 kube-proxy {")
