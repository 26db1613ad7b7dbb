"""kube-proxy's service table and what its rules do to a packet, named after the behaviour of
pkg/proxy/{iptables,nftables,ipvs}/proxier.go and the "Virtual IPs and Service Proxies" page."""

from __future__ import annotations

import base64
import hashlib
from collections import Counter

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.objects import key_of
from app.cluster.state import ClusterConfig
from app.errors import NotFound
from app.network import kubeproxy as kp
from app.network.kubeproxy import chains as kr
from tests.unit.scenarios import deployment

OUTSIDE = "198.51.100.7"


def svc_yaml(name="web", type_="ClusterIP", port_name="http", extra="", selector=None):
    selector = selector or name
    port = (
        f"{{name: {port_name}, port: 80, targetPort: http}}"
        if port_name
        else "{port: 80, targetPort: http}"
    )
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: default}}
spec:
  type: {type_}
  selector: {{app: {selector}}}
  ports: [{port}]
{extra}"""


def make(mode="iptables", replicas=3, type_="ClusterIP", extra="", port_name="http", cni="flannel"):
    cluster = Cluster.create(ClusterConfig(cni=cni, proxy_mode=mode), seed=7)
    text = deployment("web", replicas) + "---\n" + svc_yaml("web", type_, port_name, extra)
    apply_text(cluster, text)
    return cluster


def web(cluster, port_name="http"):
    name = "default/web" + (f":{port_name}" if port_name else "")
    return next(sp for sp in kp.service_table(cluster) if sp.name == name)


def node_ip(cluster, node):
    return cluster.node_summary(cluster.get("Node", "", node))["internalIP"]


def a_pod_ip(cluster, node):
    """An address in the node's pod range that belongs to no pod (a client pod)."""
    cidr = cluster.node_summary(cluster.get("Node", "", node))["podCIDRs"][0]
    return cidr.rsplit(".", 1)[0] + ".200"


# --- names ---------------------------------------------------------------------------------
def test_svc_chain_name_is_kube_svc_plus_base32_sha256_of_port_name_and_protocol():
    sp = web(make())
    digest = hashlib.sha256(b"default/web:httptcp").digest()
    assert sp.chain == "KUBE-SVC-" + base64.b32encode(digest).decode()[:16]


def test_system_service_chains_match_the_names_every_kubeadm_cluster_shows():
    chains = {sp.name: sp.chain for sp in kp.service_table(make())}
    assert chains["default/kubernetes:https"] == "KUBE-SVC-NPX46M4PTMTKRN6Y"
    assert chains["kube-system/kube-dns:dns"] == "KUBE-SVC-TCOU7JCQXEZGVUNU"
    assert chains["kube-system/kube-dns:dns-tcp"] == "KUBE-SVC-ERIFXISQEP7F7OF4"
    assert chains["kube-system/kube-dns:metrics"] == "KUBE-SVC-JD5MR3NA4I4DYORP"


def test_sep_chain_name_hashes_port_name_protocol_and_endpoint():
    digest = hashlib.sha256(b"default/web:httptcp10.244.1.5:8080").digest()
    expected = "KUBE-SEP-" + base64.b32encode(digest).decode()[:16]
    assert kr.endpoint_chain_name("default/web:http", "TCP", "10.244.1.5:8080") == expected


def test_service_port_name_has_no_colon_part_when_the_port_is_unnamed():
    sp = web(make(port_name=""), port_name="")
    assert sp.name == "default/web"
    assert sp.port_name == ""
    assert len(sp.endpoints) == 3  # the slice's unnamed port ("") matches


# --- the service table ---------------------------------------------------------------------
def test_headless_and_external_name_services_are_not_proxied():
    cluster = make()
    apply_text(cluster, svc_yaml("headless", extra="  clusterIP: None\n", selector="web"))
    apply_text(
        cluster,
        "apiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: default}\n"
        "spec: {type: ExternalName, externalName: example.com}\n",
    )
    names = {sp.service for sp in kp.service_table(cluster)}
    assert "web" in names
    assert not names & {"headless", "ext"}


def test_endpoints_are_ready_only_and_sorted_by_ip_port_string_like_endpointslicecache():
    cluster = make(replicas=3)
    sl = next(
        s
        for s in cluster.list("EndpointSlice", "default")
        if s["metadata"]["name"].startswith("web-")
    )
    dropped = sl["endpoints"][0]["addresses"][0]

    def unready(obj):
        obj["endpoints"][0]["conditions"]["ready"] = False

    cluster.state.modify(key_of(sl), unready)
    sp = web(cluster)
    ips = [f"{e.ip}:{e.port}" for e in sp.endpoints]
    assert ips == sorted(ips)
    assert dropped not in {e.ip for e in sp.endpoints}
    assert len(ips) == 2
    assert all(e.pod and e.pod[0] == "default" and e.node for e in sp.endpoints)


# --- decide: iptables ----------------------------------------------------------------------
def test_probability_cascade_gives_each_of_three_endpoints_a_third():
    counts = Counter(kp.pick("iptables", 3, seed) for seed in range(30_000))
    assert all(abs(counts[i] / 30_000 - 1 / 3) < 0.015 for i in range(3))
    text = kp.rules(make(), "worker-1").text
    chain = web(make()).chain
    lines = [
        line for line in text.splitlines() if line.startswith(f"-A {chain} ") and "-> " in line
    ]
    # iptables-save prints the kernel's fixed-point value (libxt_statistic.c), not 0.3333333333
    assert ["0.33333333349" in lines[0], "0.50000000000" in lines[1], "statistic" in lines[2]] == [
        True,
        True,
        False,
    ]


def test_pod_to_cluster_ip_is_dnated_to_a_ready_endpoint_and_keeps_its_source():
    cluster = make()
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", a_pod_ip(cluster, "worker-1"), sp.cluster_ip, 80, seed=3)
    assert d.action == "dnat"
    assert d.endpoint in sp.endpoints
    assert d.masquerade is False
    assert d.service == sp
    assert "picked endpoint" in d.reason


def test_matched_rules_follow_the_packet_chain_by_chain_and_are_the_rendered_lines():
    cluster = make()
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", a_pod_ip(cluster, "worker-1"), sp.cluster_ip, 80, seed=3)
    chains = [r.chain for r in d.matched]
    assert chains[:3] == ["PREROUTING", "KUBE-SERVICES", sp.chain]
    assert chains[3].startswith("KUBE-SEP-") and chains[-2:] == ["POSTROUTING", "KUBE-POSTROUTING"]
    assert "-j DNAT --to-destination" in d.matched[3].text
    ruleset = kp.rules(cluster, "worker-1")
    by_pos = {
        (c["table"], c["chain"], r["index"]): r["text"] for c in ruleset.chains for r in c["rules"]
    }
    for ref in d.matched:
        assert by_pos[(ref.table, ref.chain, ref.index)] == ref.text
        assert ref.text in ruleset.text


def test_traffic_from_outside_the_cluster_cidr_to_a_cluster_ip_is_masqueraded():
    cluster = make()
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", node_ip(cluster, "worker-1"), sp.cluster_ip, 80)
    assert d.action == "dnat" and d.masquerade
    assert any(
        "! -s 10.244.0.0/16" in r.text and r.text.endswith("-j KUBE-MARK-MASQ") for r in d.matched
    )
    assert d.matched[0].chain == "OUTPUT"  # the node's own packet starts in OUTPUT


def test_pod_reaching_itself_through_its_service_is_masqueraded():
    cluster = make()
    sp = web(cluster)
    me = sp.endpoints[0]
    for seed in range(50):
        d = kp.decide(cluster, me.node, me.ip, sp.cluster_ip, 80, seed=seed)
        if d.endpoint == me:
            break
    assert d.endpoint == me
    assert d.masquerade
    assert any(r.text.startswith("-A KUBE-SEP-") and f"-s {me.ip}/32" in r.text for r in d.matched)
    assert "hairpin" in d.reason


def test_service_without_endpoints_is_rejected_not_dropped():
    cluster = make()
    apply_text(cluster, svc_yaml("lonely", selector="nobody"))
    ip = cluster.get("Service", "default", "lonely")["spec"]["clusterIP"]
    d = kp.decide(cluster, "worker-1", a_pod_ip(cluster, "worker-1"), ip, 80)
    assert d.action == "reject"
    assert d.endpoint is None
    last = d.matched[-1]
    assert last.table == "filter" and last.chain == "KUBE-SERVICES"
    assert '"default/lonely:http has no endpoints"' in last.text
    assert last.text.endswith("-j REJECT --reject-with icmp-port-unreachable")
    assert "connection refused" in d.reason


def test_no_service_on_the_destination_leaves_the_packet_alone():
    cluster = make()
    d = kp.decide(cluster, "worker-1", a_pod_ip(cluster, "worker-1"), "10.244.2.77", 8080)
    assert (d.action, d.service, d.endpoint, d.masquerade) == ("none", None, None, False)


def test_external_traffic_policy_cluster_masquerades_nodeport_traffic():
    cluster = make(type_="NodePort")
    sp = web(cluster)
    d = kp.decide(
        cluster, "worker-1", OUTSIDE, node_ip(cluster, "worker-1"), sp.node_port, from_outside=True
    )
    assert d.action == "dnat" and d.masquerade
    assert [r.chain for r in d.matched][:4] == [
        "PREROUTING",
        "KUBE-SERVICES",
        "KUBE-NODEPORTS",
        "KUBE-EXT-" + sp.chain[9:],
    ]
    assert "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS" in d.matched[1].text


def _local_scenario(mode="iptables"):
    cluster = make(
        mode=mode, replicas=1, type_="NodePort", extra="  externalTrafficPolicy: Local\n"
    )
    sp = web(cluster)
    here = sp.endpoints[0].node
    other = next(n for n in ("worker-1", "worker-2") if n != here)
    return cluster, sp, here, other


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_external_traffic_policy_local_drops_on_a_node_without_local_endpoints(mode):
    cluster, sp, _here, other = _local_scenario(mode)
    d = kp.decide(cluster, other, OUTSIDE, node_ip(cluster, other), sp.node_port, from_outside=True)
    assert d.action == "drop"
    assert "times out" in d.reason
    if mode == "iptables":
        assert d.matched[-1].chain == "KUBE-EXTERNAL-SERVICES"
        assert '"default/web:http has no local endpoints"' in d.matched[-1].text
        assert d.matched[-1].text.endswith("-j DROP")


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_external_traffic_policy_local_keeps_the_client_ip_on_a_node_with_an_endpoint(mode):
    cluster, sp, here, _other = _local_scenario(mode)
    d = kp.decide(cluster, here, OUTSIDE, node_ip(cluster, here), sp.node_port, from_outside=True)
    assert d.action == "dnat" and d.endpoint.node == here
    assert d.masquerade is False


def test_pod_to_a_local_policy_nodeport_is_short_circuited_to_the_cluster_chain():
    cluster, sp, _here, other = _local_scenario()
    d = kp.decide(cluster, other, a_pod_ip(cluster, other), node_ip(cluster, other), sp.node_port)
    assert d.action == "dnat" and not d.masquerade
    assert any(
        "pod traffic for default/web:http external destinations" in r.text for r in d.matched
    )


def test_load_balancer_ip_matches_its_service():
    cluster = make(type_="LoadBalancer")
    sp = web(cluster)
    (lb,) = sp.load_balancer_ips
    d = kp.decide(cluster, "worker-2", OUTSIDE, lb, 80, from_outside=True)
    assert d.action == "dnat" and d.service == sp and d.masquerade
    assert '"default/web:http loadbalancer IP"' in d.matched[1].text


def test_internal_traffic_policy_local_uses_only_endpoints_on_this_node():
    cluster = make(replicas=1, extra="  internalTrafficPolicy: Local\n")
    sp = web(cluster)
    here = sp.endpoints[0].node
    other = next(n for n in ("worker-1", "worker-2") if n != here)
    d = kp.decide(cluster, here, a_pod_ip(cluster, here), sp.cluster_ip, 80)
    assert d.action == "dnat" and d.endpoint.node == here
    assert any(r.chain.startswith("KUBE-SVL-") for r in d.matched)
    d = kp.decide(cluster, other, a_pod_ip(cluster, other), sp.cluster_ip, 80)
    assert d.action == "drop"
    assert '"default/web:http has no local endpoints"' in d.matched[-1].text


def test_client_ip_affinity_sticks():
    cluster = make(extra="  sessionAffinity: ClientIP\n")
    sp = web(cluster)
    assert sp.affinity_timeout == 10800  # the API default for timeoutSeconds
    affinity: dict = {}
    client = a_pod_ip(cluster, "worker-1")
    first = kp.decide(cluster, "worker-1", client, sp.cluster_ip, 80, seed=1, affinity=affinity)
    assert affinity == {(client, "default/web:http"): f"{first.endpoint.ip}:{first.endpoint.port}"}
    for seed in range(2, 30):
        d = kp.decide(cluster, "worker-1", client, sp.cluster_ip, 80, seed=seed, affinity=affinity)
        assert d.endpoint == first.endpoint
    assert "--rcheck --seconds 10800 --reap" in d.matched[2].text
    assert d.matched[2].chain == sp.chain
    assert "sessionAffinity" in d.reason


def test_client_ip_affinity_pins_each_client_without_a_shared_table():
    """Separate traces (no affinity table passed between them) from one client agree, and
    several clients spread over the endpoints: each is pinned by its own address."""
    cluster = make(extra="  sessionAffinity: ClientIP\n")
    sp = web(cluster)
    client = a_pod_ip(cluster, "worker-1")
    chosen = {
        kp.decide(cluster, "worker-1", client, sp.cluster_ip, 80, seed=s).endpoint
        for s in range(20)
    }
    assert len(chosen) == 1
    clients = [f"10.244.1.{n}" for n in range(10, 40)]
    spread = {
        kp.decide(cluster, "worker-1", c, sp.cluster_ip, 80, seed=0).endpoint for c in clients
    }
    assert len(spread) == len(sp.endpoints)
    first = kp.decide(cluster, "worker-1", client, sp.cluster_ip, 80)
    assert (
        f"sessionAffinity: ClientIP keeps every later connection from {client} on it"
        in first.reason
    )


def test_affinity_to_an_endpoint_that_is_gone_is_ignored():
    cluster = make(extra="  sessionAffinity: ClientIP\n")
    sp = web(cluster)
    client = a_pod_ip(cluster, "worker-1")
    affinity = {(client, sp.name): "10.9.9.9:8080"}
    d = kp.decide(cluster, "worker-1", client, sp.cluster_ip, 80, seed=4, affinity=affinity)
    assert d.endpoint in sp.endpoints
    assert affinity[(client, sp.name)] == f"{d.endpoint.ip}:{d.endpoint.port}"


def test_the_same_seed_gives_the_same_decision():
    cluster = make()
    sp = web(cluster)
    client = a_pod_ip(cluster, "worker-1")
    picks = {
        kp.decide(cluster, "worker-1", client, sp.cluster_ip, 80, seed=11).endpoint
        for _ in range(5)
    }
    assert len(picks) == 1


def test_unknown_node_is_not_found():
    with pytest.raises(NotFound, match='nodes "nope" not found'):
        kp.decide(make(), "nope", "10.244.1.9", "10.96.0.1", 443)


# --- decide: nftables and ipvs ---------------------------------------------------------------
def test_ipvs_round_robin_takes_the_seed_mod_n_th_real_server():
    cluster = make(mode="ipvs")
    sp = web(cluster)
    client = a_pod_ip(cluster, "worker-1")
    got = [
        kp.decide(cluster, "worker-1", client, sp.cluster_ip, 80, seed=s).endpoint for s in range(6)
    ]
    assert got == list(sp.endpoints) * 2
    d = kp.decide(cluster, "worker-1", client, sp.cluster_ip, 80, seed=1)
    (real_server,) = [r for r in d.matched if r.table == "ipvs"]
    assert real_server.chain == f"TCP {sp.cluster_ip}:80"
    assert real_server.text.strip().startswith(f"-> {d.endpoint.ip}:{d.endpoint.port}")
    assert "Masq" in real_server.text
    assert "round robin" in d.reason


def test_ipvs_masquerades_off_cluster_sources_with_the_cluster_ip_ipset_rule():
    cluster = make(mode="ipvs")
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", node_ip(cluster, "worker-1"), sp.cluster_ip, 80)
    assert d.masquerade
    assert any("--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ" in r.text for r in d.matched)


def test_nftables_numgen_random_mod_n_is_uniform():
    counts = Counter(kp.pick("nftables", 3, seed) for seed in range(30_000))
    assert all(abs(counts[i] / 30_000 - 1 / 3) < 0.015 for i in range(3))
    cluster = make(mode="nftables")
    sp = web(cluster)
    d = kp.decide(cluster, "worker-1", a_pod_ip(cluster, "worker-1"), sp.cluster_ip, 80, seed=2)
    assert any(r.text.startswith("numgen random mod 3 vmap {") for r in d.matched)
    assert d.matched[-3].text.startswith("meta l4proto tcp dnat to ")


@pytest.mark.parametrize("mode", ["nftables", "ipvs"])
def test_service_without_endpoints_is_rejected_in_every_mode(mode):
    cluster = make(mode=mode)
    apply_text(cluster, svc_yaml("lonely", selector="nobody"))
    ip = cluster.get("Service", "default", "lonely")["spec"]["clusterIP"]
    assert kp.decide(cluster, "worker-1", a_pod_ip(cluster, "worker-1"), ip, 80).action == "reject"


# --- traffic -------------------------------------------------------------------------------
def test_traffic_10000_requests_spread_evenly_over_three_endpoints():
    cluster = make()
    sp = web(cluster)
    out = kp.traffic(
        cluster, "worker-1", a_pod_ip(cluster, "worker-1"), sp.cluster_ip, 80, "TCP", 10_000, seed=5
    )
    assert out["count"] == 10_000 and out["refused"] == out["dropped"] == 0
    hits = [e["requests"] for e in out["endpoints"]]
    assert sum(hits) == 10_000 and len(hits) == 3
    assert all(abs(h - 10_000 / 3) < 300 for h in hits)
    assert {e["pod"] for e in out["endpoints"]} == {f"{e.pod[0]}/{e.pod[1]}" for e in sp.endpoints}


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_traffic_is_decide_with_derived_seeds(mode):
    cluster = make(mode=mode)
    sp = web(cluster)
    client = a_pod_ip(cluster, "worker-1")
    out = kp.traffic(cluster, "worker-1", client, sp.cluster_ip, 80, "TCP", 300, seed=9)
    expected = Counter(
        kp.decide(
            cluster, "worker-1", client, sp.cluster_ip, 80, seed=kp.request_seed(9, i)
        ).endpoint.ip
        for i in range(300)
    )
    assert {e["ip"]: e["requests"] for e in out["endpoints"]} == {
        e.ip: expected[e.ip] for e in sp.endpoints
    }


def test_traffic_with_client_ip_affinity_lands_on_one_endpoint():
    cluster = make(extra="  sessionAffinity: ClientIP\n")
    sp = web(cluster)
    out = kp.traffic(
        cluster, "worker-1", a_pod_ip(cluster, "worker-1"), sp.cluster_ip, 80, "TCP", 1000, seed=1
    )
    assert sorted(e["requests"] for e in out["endpoints"]) == [0, 0, 1000]


def test_traffic_to_a_service_without_endpoints_is_all_refused():
    cluster = make()
    apply_text(cluster, svc_yaml("lonely", selector="nobody"))
    ip = cluster.get("Service", "default", "lonely")["spec"]["clusterIP"]
    out = kp.traffic(cluster, "worker-1", "10.244.1.200", ip, 80, "TCP", 50, seed=0)
    assert (out["refused"], out["dropped"], out["endpoints"]) == (50, 0, [])


def test_traffic_with_local_policy_on_a_node_without_endpoints_is_all_dropped():
    cluster, sp, _here, other = _local_scenario()
    out = kp.traffic(
        cluster,
        other,
        OUTSIDE,
        node_ip(cluster, other),
        sp.node_port,
        "TCP",
        20,
        seed=0,
        from_outside=True,
    )
    assert out["dropped"] == 20


def test_traffic_count_is_at_most_10000():
    with pytest.raises(ValueError, match="10000"):
        kp.traffic(make(), "worker-1", "10.244.1.9", "10.96.0.1", 443, "TCP", 10_001, seed=0)
