"""Traces over IPv6 on dual-stack and IPv6 clusters.

Sources: curl's name resolution (both families asked, IPv6 tried first: "happy eyeballs",
RFC 8305; ``-4``/``-6`` choose one); RFC 3986 (an IPv6 literal in a URL is in brackets, as
tcpdump and curl print ``[addr]:port``); flannel's configuration docs (``EnableIPv6``: the
VXLAN backend's IPv6 device ``flannel-v6.1``, on UDP 8472 between the nodes' IPv6
addresses); Calico's IPPool reference (IP-in-IP is IPv4 only: an IPv6 pool is routed);
kube-proxy's meta proxier (one proxier per family on a dual-stack node).
"""

from __future__ import annotations

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import InvalidObjects
from app.network.targets import parse_target
from app.network.trace import trace
from tests.unit.scenarios import deployment

# web's two pods, with no container port: the Services' targetPort is their port.
OBJECTS = (
    deployment("web", 2, ports=[])
    + """---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{port: 80, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: v4only}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: worker-2, containers: [{name: c, image: curlimages/curl}]}
"""
)


def make(mode: str = "dual", cni: str = "flannel", **config) -> Cluster:
    cluster = Cluster.create(ClusterConfig(ip_family=mode, cni=cni, **config), seed=1)
    apply_text(cluster, OBJECTS)
    return cluster


def requests(t) -> list:
    return [h for h in t.hops if h.phase == "request"]


def web_ips(cluster: Cluster) -> list[str]:
    return cluster.get("Service", "default", "web")["spec"]["clusterIPs"]


def test_a_name_with_an_aaaa_record_goes_over_ipv6_from_a_dual_stack_pod():
    """curl asks for both and tries IPv6 first: the pod sends from its IPv6 address to the
    Service's IPv6 ClusterIP, and the reply comes back from that address."""
    cluster = make()
    t = trace(cluster, "pod/default/client", "http://web/")
    assert t.verdict == "delivered"
    first = requests(t)[0]
    client_v6 = cluster.get("Pod", "default", "client")["status"]["podIPs"][1]["ip"]
    assert first.packet.src_ip == client_v6
    assert first.packet.dst == f"[{web_ips(cluster)[1]}]:80"
    assert t.reply[-1].packet.src == f"[{web_ips(cluster)[1]}]:80"
    assert t.dns["type"] == "AAAA"
    assert t.source["ip"] == client_v6


def test_ip_family_ipv4_asks_for_a_only_as_curl_dash_4():
    cluster = make()
    t = trace(cluster, "pod/default/client", "http://web/", ip_family="IPv4")
    assert requests(t)[0].packet.dst == f"{web_ips(cluster)[0]}:80"
    assert t.dns["type"] == "A"


def test_a_single_stack_service_falls_back_to_ipv4():
    """No AAAA record (NOERROR, no data): the client uses the A record."""
    cluster = make()
    t = trace(cluster, "pod/default/client", "http://v4only/")
    spec = cluster.get("Service", "default", "v4only")["spec"]
    assert t.verdict == "delivered" and requests(t)[0].packet.dst_ip == spec["clusterIP"]
    assert ":" not in requests(t)[0].packet.src_ip


def test_an_ipv6_literal_crosses_nodes_in_flannels_ipv6_vxlan():
    cluster = make()
    target = next(
        p
        for p in cluster.list("Pod", "default")
        if p["metadata"]["name"].startswith("web-") and p["spec"]["nodeName"] == "worker-1"
    )
    v6 = target["status"]["podIPs"][1]["ip"]
    t = trace(cluster, "pod/default/client", f"http://[{v6}]:80/")
    assert t.verdict == "delivered"
    wrap = next(h for h in t.hops if h.action == "encapsulate")
    assert wrap.where == "flannel-v6.1"
    assert wrap.packet.outer == {
        "src": "fc00:f853:ccd:e793::c",
        "dst": "fc00:f853:ccd:e793::b",
        "protocol": "UDP",
        "port": 8472,
        "vni": 1,
    }
    assert wrap.packet.dst == f"[{v6}]:80"


def test_calico_routes_ipv6_between_nodes_even_in_ipip_mode():
    cluster = make(cni="calico", calico_mode="ipip")
    t = trace(cluster, "external", "http://[fc00:f853:ccd:e793::b]:30080/")
    assert t.verdict == "delivered"
    assert not any(h.action == "encapsulate" for h in t.hops)


def test_a_nodeport_answers_on_the_nodes_ipv6_address():
    cluster = make()
    t = trace(cluster, "external", "http://[fc00:f853:ccd:e793::b]:30080/")
    assert t.verdict == "delivered"
    assert requests(t)[0].packet.src_ip == "2001:db8:100::7"  # the client's IPv6 address
    dnat = next(h for h in t.hops if h.action == "dnat")
    assert "KUBE-NODEPORTS" in dnat.where and ":" in dnat.packet.dst_ip


def test_an_ipv6_address_on_an_ipv4_cluster_is_unreachable_and_says_why():
    cluster = Cluster.create(seed=1)
    apply_text(cluster, OBJECTS.replace("  ipFamilyPolicy: PreferDualStack\n", ""))
    t = trace(cluster, "pod/default/client", "http://[fd00:10:96::1234]/")
    assert t.verdict == "unreachable"
    assert "has no IPv6 address" in t.reason and "IPv4-only" in t.reason


def test_an_ipv6_cluster_asks_kube_dns_at_its_ipv6_address():
    cluster = make("ipv6")
    t = trace(cluster, "pod/default/client", "http://web/")
    assert t.verdict == "delivered"
    query = next(h for h in t.hops if h.phase == "dns")
    assert query.packet.dst == "[fd00:10:96::a]:53"
    assert all(":" in h.packet.dst_ip for h in t.hops)


@pytest.mark.parametrize("mode", ["nftables", "ipvs"])
def test_ipv6_traces_in_the_other_proxy_modes(mode):
    cluster = make(proxy_mode=mode)
    t = trace(cluster, "pod/default/client", "http://web/")
    assert t.verdict == "delivered" and requests(t)[0].packet.dst_ip == web_ips(cluster)[1]


def test_ipv6_targets_are_written_in_brackets():
    assert parse_target("http://[fd00:10:96::1234]/").host == "fd00:10:96::1234"
    assert parse_target("[FD00:10:96:0::a]:53/udp").host == "fd00:10:96::a"  # compressed
    with pytest.raises(InvalidObjects) as caught:
        parse_target("fd00:10:96::a:53")
    assert "[address]:port" in caught.value.message
    with pytest.raises(InvalidObjects):
        trace(make(), "pod/default/client", "http://web/", ip_family="IPv5")


def test_curl_in_a_dual_stack_pod_tries_the_ipv6_address_first():
    """curl -v on a dual-stack pod: both families resolved, "Trying [addr]:port" over IPv6."""
    from app.terminal.interpreter import run
    from app.terminal.session import Session

    cluster = make()
    v4, v6 = web_ips(cluster)
    out = run(cluster, "curl -v http://web/", Session("pod/default/client")).output
    assert f"* IPv6: {v6}\n* IPv4: {v4}\n*   Trying [{v6}]:80..." in out
    assert f"* Connected to web ({v6}) port 80" in out


def test_why_an_ipv6_hop_quotes_the_nodes_ipv6_route():
    """flannel (EnableIPv6) routes another node's IPv6 /64 through flannel-v6.1, as
    ``ip -6 route`` prints it (metric and pref on every IPv6 route)."""
    cluster = make()
    target = next(
        p
        for p in cluster.list("Pod", "default")
        if p["metadata"]["name"].startswith("web-") and p["spec"]["nodeName"] == "worker-1"
    )
    v6 = target["status"]["podIPs"][1]["ip"]
    t = trace(cluster, "pod/default/client", f"http://[{v6}]/")
    route = next(h for h in t.hops if h.where == "routing table")
    assert route.why["entry"] == (
        "fd00:10:244:1::/64 via fd00:10:244:1:: dev flannel-v6.1 onlink metric 1024 pref medium"
    )


def test_the_outside_client_falls_back_to_a_for_a_public_name_on_an_ipv6_cluster():
    """The outside client has both addresses, so like curl it asks for AAAA and A: a public
    name with only an A record still resolves."""
    from app.network.targets import parse_source
    from app.network.trace.family import query_types

    cluster = make("ipv6")
    assert query_types(cluster, parse_source(cluster, "external")) == ["AAAA", "A"]
    assert query_types(cluster, parse_source(cluster, "pod/default/client")) == ["AAAA"]


def test_compare_cnis_on_a_dual_stack_cluster_runs_the_plugins_with_ipv6():
    """Weave Net has no IPv6: the comparison leaves it out rather than failing (Cilium, with
    ``ipv6.enabled``, stays in), and the IPv4 pod addresses of each plugin are compared."""
    from app.network.compare import compare_plugins

    cluster = make()
    web = next(
        p for p in cluster.list("Pod", "default") if p["metadata"]["name"].startswith("web-")
    )
    runs = compare_plugins(cluster, "default/client", f"default/{web['metadata']['name']}")
    assert [r.cni for r in runs] == ["flannel", "calico", "cilium"]
    assert all(r.trace["verdict"] in ("delivered", "refused") for r in runs)


@pytest.mark.parametrize("mode", ["dual", "ipv6"])
def test_every_scenarios_suggested_request_keeps_its_verdict_with_ipv6(mode):
    """The class scenarios on dual-stack and IPv6 clusters: each suggested request (its
    cluster addresses written in the cluster's family) ends as the scenario says."""
    from app.cluster import scenarios

    for s in scenarios.SCENARIOS:
        cluster = scenarios.build(
            s.name, ClusterConfig(ip_family=mode, workers=max(2, s.min_workers))
        )
        for r in scenarios.scenario_requests(s.name, cluster.config.cni, mode):
            assert trace(cluster, r.source, r.to).verdict == r.verdict, (s.name, r.to)
