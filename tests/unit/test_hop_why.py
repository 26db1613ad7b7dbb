"""Every hop says why it went on: the table entry (route, FDB, neighbour, conntrack, rule) that
sent the packet there, as the tool that lists it prints it."""

from __future__ import annotations

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network.model import Trace
from app.network.trace import trace
from app.network.why import fake_mac
from tests.unit.scenarios import pods_of, web_app
from tests.unit.test_trace_partial import parse, render_trace

CLIENT = "apiVersion: v1\nkind: Pod\nmetadata: {name: client, labels: {app: client}}\nspec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}\n"
INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""
PLUGINS = [("flannel", "bgp"), ("calico", "bgp"), ("calico", "ipip"), ("weave", "bgp")]


def build(cni: str, mode: str = "bgp") -> Cluster:
    c = Cluster.create(ClusterConfig(cni=cni, workers=2, calico_mode=mode), seed=7)
    web_app(c, replicas=2, type_="NodePort")
    apply_text(c, CLIENT + "---\n" + INGRESS)
    return c


def the_traces(c: Cluster) -> dict[str, Trace]:
    node_port = c.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    return {
        "pod to Service": trace(c, "pod/default/client", "http://web/"),
        "external to NodePort": trace(c, "external", f"http://10.0.0.11:{node_port}/"),
        "external to Ingress": trace(c, "external", "http://shop.example.com/"),
    }


@pytest.fixture(scope="module", params=PLUGINS, ids=lambda p: "-".join(p))
def traces(request) -> tuple[Cluster, dict[str, Trace]]:
    c = build(*request.param)
    return c, the_traces(c)


def test_every_hop_of_every_trace_has_a_why_with_a_table_and_an_entry(traces):
    _, found = traces
    for name, t in found.items():
        assert t.verdict == "delivered", (name, t.reason)
        for hop in t.hops + t.reply:
            assert hop.why, f"{name}: {hop.phase} {hop.where} {hop.action} has no why"
            assert hop.why["table"] and hop.why["entry"], (name, hop.where, hop.why)
            assert hop.to_dict(0)["why"] == hop.why


def test_netfilter_hops_show_the_rule_they_matched(traces):
    _, found = traces
    for t in found.values():
        for hop in t.hops:
            if hop.rule:
                assert hop.why["table"] == f"iptables {hop.rule['table']}"
                assert hop.why["entry"] == hop.rule["text"]


def test_flannel_routes_another_nodes_pods_to_flannel_1_whose_fdb_names_the_node():
    c = build("flannel")
    t = trace(c, "pod/default/client", "http://web/")
    target = next(h for h in t.hops if h.phase == "request" and h.action == "dnat").packet
    other = next(p for p in pods_of(c, "web-") if p["status"]["podIP"] == target.dst_ip)
    assert other["spec"]["nodeName"] == "worker-2", "seed 7 picks the pod on worker-2"
    request = [h for h in t.hops if h.phase == "request"]
    route = next(h for h in request if h.where == "routing table")
    assert route.why == {
        "table": "ip route",
        "entry": "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    } | ({"note": route.why["note"]} if "note" in route.why else {})
    wrap = next(h for h in request if h.action == "encapsulate")
    mac = fake_mac("flannel.1", "worker-2")
    assert wrap.why["table"] == "bridge fdb"
    assert wrap.why["entry"] == f"{mac} dev flannel.1 dst 10.0.0.12 self permanent"
    assert wrap.why["also"] == [
        {"table": "ip neigh", "entry": f"10.244.2.0 dev flannel.1 lladdr {mac} PERMANENT"}
    ]
    assert build("flannel") is not c and fake_mac("flannel.1", "worker-2") == mac, "stable"
    bridge = next(h for h in request if h.action == "bridge")
    assert bridge.why["table"] == "bridge fdb"
    assert (
        bridge.why["entry"].startswith("0a:58:0a:f4:02:") and "master cni0" in bridge.why["entry"]
    )
    decap = next(h for h in request if h.action == "decapsulate")
    assert decap.why["entry"] == "10.244.2.0/24 dev cni0 proto kernel scope link src 10.244.2.1"


def test_the_reply_shows_the_conntrack_entry_with_the_cluster_ip_as_original_destination():
    c = build("flannel")
    t = trace(c, "pod/default/client", "http://web/")
    client = c.get("Pod", "default", "client")["status"]["podIP"]
    cluster_ip = c.get("Service", "default", "web")["spec"]["clusterIP"]
    sent = next(h for h in t.hops if h.phase == "request").packet
    endpoint = t.hops[-1].packet
    undo = next(h for h in t.reply if h.where == "conntrack")
    assert undo.why["table"] == "conntrack"
    assert undo.why["entry"] == (
        f"tcp 6 86399 ESTABLISHED src={client} dst={cluster_ip} sport={sent.src_port} dport=80 "
        f"src={endpoint.dst_ip} dst={client} sport=8080 dport={sent.src_port} "
        "[ASSURED] mark=0 use=1"
    )
    dns_undo = next(h for h in t.hops if h.phase == "dns" and h.where == "conntrack")
    assert dns_undo.why["entry"].startswith(f"udp 17 29 src={client} dst=10.96.0.10 ")


def test_a_masqueraded_nodeport_connection_is_one_entry_for_both_translations():
    c = build("flannel")
    node_port = c.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    t = trace(c, "external", f"http://10.0.0.11:{node_port}/")
    undone = [h for h in t.reply if h.where == "conntrack"]
    assert len(undone) == 2 and undone[0].why == undone[1].why
    entry = undone[0].why["entry"]
    assert f"src=198.51.100.7 dst=10.0.0.11 sport=32768 dport={node_port} " in entry
    leaving = [h for h in t.reply if h.where == "routing table"][-1]
    assert (
        leaving.why["entry"] == "default via 10.0.0.1 dev eth0 proto dhcp src 10.0.0.11 metric 100"
    )


def test_calico_bgp_routes_another_nodes_block_via_its_address_and_each_pod_via_its_cali_veth():
    c = build("calico")
    t = trace(c, "external", "http://shop.example.com/")
    routed = [h for h in t.hops if h.where == "routing table"]
    assert routed and routed[0].why["entry"] == "192.168.0.128/26 via 10.0.0.12 dev eth0 proto bird"
    veth = [h for h in t.hops if h.where == "cali veth"]
    assert all(
        h.why["entry"].startswith(f"{h.packet.dst_ip} dev cali")
        and h.why["entry"].endswith(" scope link")
        for h in veth
    )
    lb = next(h for h in t.hops if h.where == "cloud load balancer")
    assert lb.why["table"] == "load balancer forwarding rule"
    proxy = next(h for h in t.hops if h.action == "proxy")
    assert proxy.why["table"] == "ingress-nginx rule"
    assert proxy.why["entry"].startswith(
        "host shop.example.com path / (Prefix) → default-web-80 → "
    )


def test_calico_ip_in_ip_routes_through_tunl0_onlink():
    t = trace(build("calico", "ipip"), "external", "http://shop.example.com/")
    routed = next(h for h in t.hops if h.where == "routing table")
    assert routed.why["entry"] == "192.168.0.128/26 via 10.0.0.12 dev tunl0 proto bird onlink"


def test_the_packet_panel_has_a_closed_why_disclosure():
    c = build("flannel")
    t = trace(c, "pod/default/client", "http://web/").to_dict()
    doc = parse(render_trace(t))
    steps = t["hops"] + t["reply"]
    for step, hop in enumerate(steps):
        why = doc.find(data_hop_panel=str(step)).find("details", class_="pkt-why")
        assert why is not None and "open" not in why.attrs
        assert why.find("summary").text() == "Why this hop?"
        assert hop["why"]["entry"] in why.find("code", class_="pkt-why-entry").text()
        assert hop["why"]["table"] in why.text()


DROPS = """apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: worker-1, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: a}}
spec: {nodeName: worker-2, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {selector: {app: a}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec: {podSelector: {matchLabels: {app: a}}, policyTypes: [Ingress]}
"""


@pytest.mark.parametrize(
    ("cni", "mode"), [("calico", "iptables"), ("weave", "nftables"), ("flannel", "ipvs")]
)
def test_drops_and_rejects_have_a_why_too(cni, mode):
    """A packet stopped by a NetworkPolicy, or sent to a ClusterIP on a port no Service
    exposes, says what stopped it as well."""
    c = Cluster.create(ClusterConfig(cni=cni, proxy_mode=mode), seed=1)
    apply_text(c, DROPS)
    for target in ("http://a/", "http://a:81/"):
        t = trace(c, "pod/default/client", target, 0)
        last = t.hops[-1]
        assert last.action in ("drop", "reject") or t.verdict == "delivered"
        for hop in t.hops + t.reply:
            assert hop.why and hop.why["table"] and hop.why["entry"], (cni, target, hop.where)
    policy_drop = trace(c, "pod/default/client", "http://a/", 0).hops[-1]
    if cni == "calico":
        assert policy_drop.why["table"] == "NetworkPolicy"
        assert "cali-tw-" in policy_drop.why["note"] and "default/deny" in policy_drop.why["entry"]
