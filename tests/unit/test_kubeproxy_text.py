"""The text a node's kube-proxy rules print as (iptables-save, nft list table, ipvsadm -Ln),
checked against the shapes kube-proxy writes in pkg/proxy/{iptables,nftables,ipvs}/proxier.go."""

from __future__ import annotations

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network import kubeproxy as kp
from app.network.kubeproxy import chains as kr
from app.network.kubeproxy import text as kt
from tests.unit.scenarios import deployment
from tests.unit.test_kubeproxy import svc_yaml


def make(mode="iptables", type_="ClusterIP", extra="", cni="flannel", replicas=3):
    cluster = Cluster.create(ClusterConfig(cni=cni, proxy_mode=mode), seed=7)
    apply_text(
        cluster, deployment("web", replicas) + "---\n" + svc_yaml("web", type_, "http", extra)
    )
    return cluster


def web(cluster):
    return next(sp for sp in kp.service_table(cluster) if sp.name == "default/web:http")


def chain_lines(text, chain):
    return [line for line in text.splitlines() if line.startswith(f"-A {chain} ")]


def test_iptables_save_shape_has_tables_chain_declarations_and_commit():
    text = kp.rules(make(), "worker-1").text
    lines = text.splitlines()
    assert lines[0] == "*filter"
    assert lines.count("COMMIT") == 2 and "*nat" in lines
    nat = lines[lines.index("*nat") :]
    assert nat[1:5] == [
        ":PREROUTING ACCEPT [0:0]",
        ":INPUT ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
    ]
    assert ":KUBE-SERVICES - [0:0]" in nat and ":KUBE-MARK-MASQ - [0:0]" in nat


def test_kube_services_ends_with_the_addrtype_local_jump_to_kube_nodeports():
    text = kp.rules(make(), "worker-1").text
    services = [
        line for line in text.split("*nat")[1].splitlines() if line.startswith("-A KUBE-SERVICES ")
    ]
    assert services[-1] == (
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the '
        'last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
    )


def test_cluster_ip_rule_and_its_masquerade_rule_for_off_cluster_sources():
    cluster = make()
    sp = web(cluster)
    text = kp.rules(cluster, "worker-1").text
    assert (
        f"-A KUBE-SERVICES -d {sp.cluster_ip}/32 -p tcp -m comment --comment "
        f'"default/web:http cluster IP" -m tcp --dport 80 -j {sp.chain}'
    ) in text
    assert chain_lines(text, sp.chain)[0] == (
        f"-A {sp.chain} ! -s 10.244.0.0/16 -d {sp.cluster_ip}/32 -p tcp -m comment --comment "
        f'"default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ'
    )


def test_masquerade_cidr_is_the_cni_pod_range():
    cluster = make(cni="calico")
    assert (
        "! -s 192.168.0.0/16"
        in chain_lines(kp.rules(cluster, "worker-1").text, web(cluster).chain)[0]
    )


def test_mark_masq_and_postrouting_masquerade_with_random_fully():
    text = kp.rules(make(), "worker-1").text
    assert chain_lines(text, "KUBE-MARK-MASQ") == ["-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000"]
    assert chain_lines(text, "KUBE-POSTROUTING") == [
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ]


def test_sep_chain_masquerades_hairpin_then_dnats():
    cluster = make()
    sp = web(cluster)
    ep = sp.endpoints[0]
    sep = kr.endpoint_chain_name(sp.name, "tcp", f"{ep.ip}:{ep.port}")
    assert chain_lines(kp.rules(cluster, "worker-1").text, sep) == [
        f'-A {sep} -s {ep.ip}/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ',
        f'-A {sep} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination {ep.ip}:{ep.port}',
    ]


def test_probability_is_printed_as_iptables_save_prints_the_fixed_point_value():
    """kube-proxy writes %0.10f (computeProbability, pkg/proxy/iptables/proxier.go); the kernel
    keeps lround(p * 2^31) and iptables-save prints %.11f of it (extensions/libxt_statistic.c)."""
    assert [kt.probability(n) for n in (4, 3, 2)] == [
        "0.25000000000",
        "0.33333333349",
        "0.50000000000",
    ]


def test_client_ip_affinity_uses_recent_rcheck_in_the_svc_chain_and_recent_set_in_the_sep():
    cluster = make(
        extra="  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}\n"
    )
    sp = web(cluster)
    text = kp.rules(cluster, "worker-1").text
    svc = chain_lines(text, sp.chain)
    assert (
        sum("-m recent --rcheck --seconds 600 --reap --name KUBE-SEP-" in line for line in svc) == 3
    )
    assert all("--mask 255.255.255.255 --rsource -j KUBE-SEP-" in line for line in svc[1:4])
    assert text.count("-m recent --set --name KUBE-SEP-") == 3


def test_external_chain_under_cluster_policy_masquerades_then_jumps_to_svc():
    cluster = make(type_="NodePort")
    sp = web(cluster)
    ext = "KUBE-EXT-" + sp.chain[9:]
    text = kp.rules(cluster, "worker-1").text
    assert chain_lines(text, ext) == [
        f'-A {ext} -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ',
        f"-A {ext} -j {sp.chain}",
    ]
    assert (
        f'-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport {sp.node_port} -j {ext}'
        in text
    )


def test_external_chain_under_local_policy_has_pod_and_local_exceptions_then_svl():
    cluster = make(type_="NodePort", extra="  externalTrafficPolicy: Local\n", replicas=1)
    sp = web(cluster)
    node = sp.endpoints[0].node
    ext, svl = "KUBE-EXT-" + sp.chain[9:], "KUBE-SVL-" + sp.chain[9:]
    lines = chain_lines(kp.rules(cluster, node).text, ext)
    assert [line.split(" -j ")[-1] for line in lines] == [sp.chain, "KUBE-MARK-MASQ", sp.chain, svl]
    assert "-s 10.244.0.0/16" in lines[0] and "--src-type LOCAL" in lines[1]


def test_filter_table_rejects_services_without_endpoints_and_their_nodeports():
    cluster = make()
    apply_text(cluster, svc_yaml("lonely", "NodePort", selector="nobody"))
    svc = cluster.get("Service", "default", "lonely")
    text = kp.rules(cluster, "worker-1").text
    filter_part = text.split("*nat")[0]
    assert (
        f"-A KUBE-SERVICES -d {svc['spec']['clusterIP']}/32 -p tcp -m comment --comment "
        '"default/lonely:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable'
    ) in filter_part
    np = svc["spec"]["ports"][0]["nodePort"]
    assert (
        '-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "default/lonely:http has no endpoints" '
        f"-m addrtype --dst-type LOCAL -m tcp --dport {np} -j REJECT --reject-with icmp-port-unreachable"
    ) in filter_part
    assert "default/lonely" not in text.split("*nat")[1]  # no nat chains without endpoints


def test_nftables_text_is_nft_list_table_shaped():
    cluster = make(mode="nftables")
    sp = web(cluster)
    text = kp.rules(cluster, "worker-1").text
    assert text.startswith("table ip kube-proxy {\n")
    base = kr.nft_chain_base("default", "web", "tcp", "http")
    assert base.endswith("-default/web/tcp/http") and len(base.split("-")[0]) == 8
    assert f"\tchain service-{base} {{" in text
    assert f"{sp.cluster_ip} . tcp . 80 : goto service-{base}" in text
    assert "numgen random mod 3 vmap { 0 : goto endpoint-" in text
    ep = sp.endpoints[0]
    assert f"meta l4proto tcp dnat to {ep.ip}:{ep.port}" in text
    assert (
        "masquerade fully-random" in text
        and "type nat hook prerouting priority dstnat; policy accept;" in text
    )


def test_ipvsadm_text_lists_virtual_servers_with_masq_real_servers():
    cluster = make(mode="ipvs", type_="NodePort", extra="  sessionAffinity: ClientIP\n")
    sp = web(cluster)
    text = kp.rules(cluster, "worker-1").text
    assert text.startswith("IP Virtual Server version")
    assert f"TCP  {sp.cluster_ip}:80 rr persistent 10800" in text
    assert f"TCP  10.0.0.11:{sp.node_port} rr persistent 10800" in text
    ep = sp.endpoints[0]
    assert kt.rs_line(ep.ip, ep.port) in text
    assert "-m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ" in text
    assert "Name: KUBE-NODE-PORT-TCP" in text and str(sp.node_port) in text


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_chains_json_mirrors_the_text(mode):
    ruleset = kp.rules(make(mode=mode, type_="LoadBalancer"), "worker-2")
    assert ruleset.mode == mode and ruleset.node == "worker-2"
    assert ruleset.chains
    for chain in ruleset.chains:
        assert {"table", "chain", "rules"} <= chain.keys()
        for i, rule in enumerate(chain["rules"], 1):
            assert rule["index"] == i
            assert rule["text"] in ruleset.text


def test_rules_default_to_the_cluster_proxy_mode_and_can_show_another():
    cluster = make(mode="nftables")
    assert kp.rules(cluster, "worker-1").mode == "nftables"
    assert kp.rules(cluster, "worker-1", "iptables").text.startswith("*filter")
