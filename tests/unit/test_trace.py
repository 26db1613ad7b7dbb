"""Packet traces for every path the lessons need, with the invariants every trace keeps."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from app.cluster import nodes
from app.cluster.apply import apply_text
from app.network.model import Trace
from app.network.trace import trace
from tests.unit.scenarios import cluster, deployment, pods_of, service, web_app

CLIENT = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: client}}}}\nspec: {{nodeName: {node}, containers: [{{name: shell, image: busybox}}]}}\n"


def with_client(c, name="client", node="worker-1"):
    apply_text(c, CLIENT.format(name=name, node=node))
    return c


def actions(t: Trace, phase: str = "request") -> list[str]:
    return [h.action for h in t.hops if h.phase == phase]


def check_invariants(t: Trace) -> None:
    """Each hop's packet follows from the one before by the hop's action."""
    for hops in ([h for h in t.hops if h.phase == "request"], t.reply):
        for before, hop in itertools.pairwise(hops):
            a, b = before.packet, hop.packet
            if hop.action in ("send", "bridge", "route", "deliver", "reject", "drop"):
                if hop.action in ("route",) and b.outer is None and a.outer is not None:
                    pytest.fail(f"hop {hop.where} lost the outer header without decapsulating")
                assert (a.src, a.dst) == (b.src, b.dst), (
                    f"{hop.action} at {hop.where} changed addresses"
                )
            elif hop.action == "dnat":
                assert a.src == b.src and a.dst != b.dst, f"dnat at {hop.where}"
            elif hop.action == "snat":
                assert a.dst == b.dst and a.src != b.src, f"snat at {hop.where}"
            elif hop.action == "encapsulate":
                assert a.outer is None and b.outer is not None and (a.src, a.dst) == (b.src, b.dst)
            elif hop.action == "decapsulate":
                assert a.outer is not None and b.outer is None and (a.src, a.dst) == (b.src, b.dst)
    if t.verdict == "delivered" and t.reply:
        dialled = next(h for h in t.hops if h.phase == "request").packet
        assert t.reply[-1].packet.src == dialled.dst, "the client must see the address it dialled"
        assert t.reply[-1].packet.dst == dialled.src


# --- 1. pod to pod ----------------------------------------------------------------------------------


def test_pod_to_pod_on_the_same_node_crosses_the_bridge_with_no_nat():
    c = with_client(web_app(cluster(), replicas=2))
    target = next(p for p in pods_of(c, "web-") if p["spec"]["nodeName"] == "worker-1")
    t = trace(c, "pod/default/client", f"{target['status']['podIP']}:8080")
    check_invariants(t)
    assert actions(t) == ["send", "bridge", "deliver"]
    assert t.hops[1].where == "cni0"
    assert t.verdict == "delivered" and t.endpoint["name"] == target["metadata"]["name"]
    assert t.hops[-1].packet.src_ip == c.get("Pod", "default", "client")["status"]["podIP"]


@pytest.mark.parametrize(
    "cni,device,outer",
    [
        ("flannel", "flannel.1", {"protocol": "UDP", "port": 8472, "vni": 1}),
        ("weave", "vxlan-6784", {"protocol": "UDP", "port": 6784}),
    ],
)
def test_pod_to_pod_across_nodes_is_wrapped_in_vxlan_node_to_node(cni, device, outer):
    c = with_client(web_app(cluster(cni=cni), replicas=2))
    target = next(p for p in pods_of(c, "web-") if p["spec"]["nodeName"] == "worker-2")
    t = trace(c, "pod/default/client", f"{target['status']['podIP']}:8080")
    check_invariants(t)
    assert actions(t) == [
        "send",
        "route",
        "encapsulate",
        "route",
        "decapsulate",
        "bridge",
        "deliver",
    ]
    wrapped = t.hops[2].packet.outer
    assert wrapped["src"] == "10.0.0.11" and wrapped["dst"] == "10.0.0.12"
    assert {k: wrapped[k] for k in outer} == outer
    assert t.hops[2].where == device
    client_ip = c.get("Pod", "default", "client")["status"]["podIP"]
    assert t.hops[-1].packet.src_ip == client_ip, (
        "no NAT between pods: the receiver sees the sender"
    )


def test_calico_routes_pod_traffic_between_nodes_without_a_tunnel_by_default():
    c = with_client(web_app(cluster(cni="calico"), replicas=2))
    target = next(p for p in pods_of(c, "web-") if p["spec"]["nodeName"] == "worker-2")
    t = trace(c, "pod/default/client", f"{target['status']['podIP']}:8080")
    check_invariants(t)
    assert actions(t) == ["send", "route", "route", "route", "deliver"]
    assert all(h.packet.outer is None for h in t.hops)


def test_calico_ip_in_ip_wraps_cross_node_traffic_through_tunl0():
    from app.cluster.cluster import Cluster
    from app.cluster.state import ClusterConfig

    c = Cluster.create(ClusterConfig(cni="calico", calico_mode="ipip"), seed=3)
    with_client(web_app(c, replicas=2))
    target = next(p for p in pods_of(c, "web-") if p["spec"]["nodeName"] == "worker-2")
    t = trace(c, "pod/default/client", f"{target['status']['podIP']}:8080")
    check_invariants(t)
    assert actions(t) == [
        "send",
        "route",
        "encapsulate",
        "route",
        "decapsulate",
        "route",
        "deliver",
    ]
    assert t.hops[2].where == "tunl0" and t.hops[2].packet.outer["protocol"] == "IPIP"


# --- 2. pod to Service ----------------------------------------------------------------------------


def test_pod_to_service_by_name_looks_it_up_then_kube_proxy_dnats_to_an_endpoint():
    c = with_client(web_app(cluster(), replicas=3))
    svc_ip = c.get("Service", "default", "web")["spec"]["clusterIP"]
    t = trace(c, "pod/default/client", "http://web/", seed=4)
    check_invariants(t)
    dns_actions = actions(t, "dns")
    assert (
        dns_actions[:2] == ["send", "dnat"]
        and "resolve" in dns_actions
        and dns_actions[-1] == "deliver"
    )
    assert t.dns["tried"][0]["name"] == "web.default.svc.cluster.local."
    request = [h for h in t.hops if h.phase == "request"]
    assert request[0].packet.dst == f"{svc_ip}:80"
    dnat = next(h for h in request if h.action == "dnat")
    assert dnat.rule["chain"].startswith("KUBE-SEP-") or dnat.rule["chain"].startswith("KUBE-SVC-")
    assert t.verdict == "delivered"
    assert t.endpoint["name"].startswith("web-") and t.endpoint["port"] == 8080
    assert t.reply[-1].packet.src == f"{svc_ip}:80"


def test_the_seed_decides_the_endpoint_and_the_same_seed_gives_the_same_trace():
    c = with_client(web_app(cluster(), replicas=3))
    picked = {
        trace(c, "pod/default/client", "http://web/", seed=s).endpoint["name"] for s in range(30)
    }
    assert len(picked) == 3
    assert (
        trace(c, "pod/default/client", "http://web/", seed=9).to_dict()
        == trace(c, "pod/default/client", "http://web/", seed=9).to_dict()
    )


def test_a_pod_reaching_itself_through_its_service_is_masqueraded():
    c = web_app(cluster(), replicas=1)
    me = pods_of(c, "web-")[0]
    t = trace(c, f"pod/default/{me['metadata']['name']}", "http://web/")
    check_invariants(t)
    assert t.endpoint["name"] == me["metadata"]["name"]
    assert any(h.action == "snat" for h in t.hops)


def test_headless_service_goes_straight_to_a_pod_ip():
    c = with_client(cluster())
    apply_text(
        c, deployment("db", 2) + "---\n" + service("db", target="http") + "  clusterIP: None\n"
    )
    t = trace(c, "pod/default/client", "db:8080")
    check_invariants(t)
    assert not any(h.action == "dnat" for h in t.hops if h.phase == "request")
    assert t.endpoint["name"].startswith("db-")


# --- 3. failures ------------------------------------------------------------------------------------


def test_a_service_with_no_endpoints_is_rejected_at_once_naming_its_selector():
    c = with_client(cluster())
    apply_text(c, deployment("web", 2) + "---\n" + service("web", selector={"app": "frontend"}))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "refused" and t.hops[-1].action == "reject"
    assert "app=frontend" in t.reason and "app=web" in t.reason
    assert t.endpoint is None and t.reply == []


def test_a_target_port_the_pod_does_not_listen_on_is_refused_by_the_pod():
    c = with_client(cluster())
    apply_text(c, deployment("web", 1) + "---\n" + service("web", target=9090))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "refused"
    assert "does not listen on TCP 9090" in t.reason and "8080" in t.reason


def test_a_short_name_from_another_namespace_is_nxdomain_with_the_names_tried():
    c = with_client(cluster())
    apply_text(
        c,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
        + deployment("api", 1, namespace="shop")
        + "---\n"
        + service("api", namespace="shop"),
    )
    t = trace(c, "pod/default/client", "http://api/")
    assert t.verdict == "nxdomain"
    assert "api.default.svc.cluster.local." in t.reason
    assert "<service>.<namespace>" in t.reason
    assert trace(c, "pod/default/client", "http://api.shop/").verdict == "delivered"


def test_pods_on_a_not_ready_node_are_never_chosen():
    c = with_client(cluster(), node="worker-2")
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, labels: {app: solo}}\n"
        "spec: {nodeName: worker-1, containers: [{name: c, image: nginx}]}\n---\n"
        + service("solo", target=80),
    )
    nodes.set_node_ready(c, "worker-1", False)
    t = trace(c, "pod/default/client", "http://solo/")
    assert t.verdict == "refused"


# --- 4. NodePort from outside ---------------------------------------------------------------------


def test_nodeport_with_cluster_policy_snats_so_the_pod_sees_a_node_address():
    c = web_app(cluster(), replicas=1, type_="NodePort")
    node_port = c.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    pod = pods_of(c, "web-")[0]
    other = "worker-1" if pod["spec"]["nodeName"] == "worker-2" else "worker-2"
    other_ip = {"worker-1": "10.0.0.11", "worker-2": "10.0.0.12"}[other]
    t = trace(c, "external", f"http://{other_ip}:{node_port}/")
    check_invariants(t)
    assert t.verdict == "delivered"
    seen = t.hops[-1].packet.src_ip
    assert seen != "198.51.100.7"
    assert ipaddress.ip_address(seen) in ipaddress.ip_network("10.244.0.0/16") or seen == other_ip
    assert t.reply[-1].packet.src == f"{other_ip}:{node_port}"


def test_nodeport_with_local_policy_keeps_the_client_ip_or_drops_on_a_node_without_a_pod():
    c = web_app(cluster(), replicas=1, type_="NodePort")
    apply_text(c, service("web", type_="NodePort") + "  externalTrafficPolicy: Local\n")
    node_port = c.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    pod = pods_of(c, "web-")[0]
    here = {"worker-1": "10.0.0.11", "worker-2": "10.0.0.12"}
    with_pod = here[pod["spec"]["nodeName"]]
    without = next(ip for n, ip in here.items() if n != pod["spec"]["nodeName"])
    t = trace(c, "external", f"http://{with_pod}:{node_port}/")
    check_invariants(t)
    assert t.verdict == "delivered" and t.hops[-1].packet.src_ip == "198.51.100.7"
    t = trace(c, "external", f"http://{without}:{node_port}/")
    assert t.verdict == "dropped" and "times out" in t.reason


# --- 5. LoadBalancer -----------------------------------------------------------------------------------


def test_load_balancer_picks_a_node_then_follows_the_nodeport_path():
    c = web_app(cluster(), replicas=2, type_="LoadBalancer")
    lb_ip = c.get("Service", "default", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    t = trace(c, "external", f"http://{lb_ip}/")
    check_invariants(t)
    assert t.hops[1].where == "cloud load balancer" and t.hops[1].action == "dnat"
    assert t.hops[1].packet.dst_ip in ("10.0.0.11", "10.0.0.12"), "the control plane is excluded"
    assert t.verdict == "delivered"
    assert t.reply[-1].packet.src == f"{lb_ip}:80"


# --- 6. Ingress --------------------------------------------------------------------------------------

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
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
"""


def test_ingress_host_goes_through_the_controller_which_opens_a_second_connection():
    c = web_app(cluster(), replicas=2)
    apply_text(c, deployment("api", 1) + "---\n" + service("api") + "---\n" + INGRESS)
    t = trace(c, "external", "http://shop.example.com/api/cart")
    check_invariants(t)
    assert t.verdict == "delivered", t.reason
    assert t.endpoint["name"].startswith("api-")
    proxy = next(h for h in t.hops if h.action == "proxy")
    controller_ip = pods_of(c, "ingress-nginx-controller-", "ingress-nginx")[0]["status"]["podIP"]
    assert proxy.packet.src_ip == controller_ip
    assert "X-Forwarded-For" in proxy.packet.http["headers"]
    assert t.hops[-1].packet.src_ip == controller_ip
    assert t.reply[-1].packet.src.endswith(":80")


def test_ingress_without_a_matching_rule_answers_404_and_without_endpoints_503():
    """The controller answers these itself: the connection works, the client gets a status."""
    c = web_app(cluster(), replicas=1)
    apply_text(c, service("api") + "---\n" + INGRESS)
    assert trace(c, "external", "http://shop.example.com/").http_status is None
    t = trace(c, "external", "http://shop.example.com/api")
    check_invariants(t)
    assert t.verdict == "delivered" and t.http_status == 503 and "no endpoints" in t.reason
    assert "app=api" in t.reason
    assert t.endpoint["namespace"] == "ingress-nginx" and t.reply[-1].action == "deliver"
    lb_ip = c.get("Service", "ingress-nginx", "ingress-nginx-controller")["status"]["loadBalancer"][
        "ingress"
    ][0]["ip"]
    other = trace(c, "external", f"http://{lb_ip}/")  # Host: the bare IP, which no rule names
    assert other.http_status == 404 and "404" in other.reason
    assert "Not Found Not Found" not in other.reason


# --- 7. ExternalName and the internet --------------------------------------------------------------


def test_external_name_is_a_cname_then_egress_masqueraded_to_the_node():
    c = with_client(cluster())
    apply_text(
        c,
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {type: ExternalName, externalName: db.example.com}\n",
    )
    t = trace(c, "pod/default/client", "db:5432")
    check_invariants(t)
    assert any(r["type"] == "CNAME" for r in t.dns["answers"])
    assert t.verdict == "delivered" and t.endpoint["kind"] == "external"
    snat = next(h for h in t.hops if h.action == "snat" and h.phase == "request")
    assert snat.packet.src_ip == "10.0.0.11"
    assert ipaddress.ip_address(t.endpoint["ip"]) in ipaddress.ip_network("192.0.2.0/24")


# --- 8. from a node --------------------------------------------------------------------------------


def test_a_node_reaches_a_cluster_ip_but_cannot_resolve_service_names():
    c = web_app(cluster(), replicas=1)
    svc_ip = c.get("Service", "default", "web")["spec"]["clusterIP"]
    t = trace(c, "node/worker-1", f"http://{svc_ip}/")
    check_invariants(t)
    assert t.verdict == "delivered"
    assert trace(c, "node/worker-1", "http://web.default.svc.cluster.local/").verdict == "nxdomain"


def test_outside_clients_cannot_reach_cluster_ips():
    c = web_app(cluster(), replicas=1)
    svc_ip = c.get("Service", "default", "web")["spec"]["clusterIP"]
    t = trace(c, "external", f"http://{svc_ip}/")
    assert t.verdict == "unreachable" and "ClusterIP" in t.reason


@pytest.mark.parametrize(
    "mode,verdict", [("iptables", "dropped"), ("nftables", "refused"), ("ipvs", "refused")]
)
def test_a_clusterip_on_a_port_the_service_does_not_expose(mode, verdict):
    """iptables has no rule for it (the packet goes nowhere); nftables rejects it; IPVS binds
    the ClusterIP to kube-ipvs0, so the node answers with a reset."""
    from app.cluster.cluster import Cluster
    from app.cluster.state import ClusterConfig

    c = with_client(web_app(Cluster.create(ClusterConfig(proxy_mode=mode), seed=2), replicas=1))
    t = trace(c, "pod/default/client", "web:81")
    assert t.verdict == verdict
    assert "exposes 80/TCP, not 81/TCP" in t.reason


def test_a_nodeport_on_another_node_is_translated_by_that_nodes_rules():
    """kube-proxy on the node that owns the address answers for its NodePorts, whoever sends."""
    c = with_client(web_app(cluster(), replicas=1, type_="NodePort"), node="worker-2")
    node_port = c.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    t = trace(c, "pod/default/client", f"http://10.0.0.11:{node_port}/")
    check_invariants(t)
    assert t.verdict == "delivered" and t.endpoint["name"].startswith("web-")
    dnat = next(h for h in t.hops if h.action == "dnat")
    assert dnat.node == "worker-1"
    first_snat = next(h for h in t.hops if h.action == "snat")
    assert (
        first_snat.node == "worker-2" and first_snat.packet.src_ip == "10.0.0.12"
    )  # the CNI masquerades pod → node
    assert t.reply[-1].packet.src == f"10.0.0.11:{node_port}"


def test_a_node_port_nothing_listens_on_is_refused_by_the_node():
    c = with_client(cluster(), node="worker-2")
    t = trace(c, "pod/default/client", "10.0.0.11:30001")
    assert t.verdict == "refused" and "Nothing on worker-1 listens" in t.reason
    assert trace(c, "node/worker-2", "10.0.0.10:6443").endpoint["name"] == "control-plane"


def test_loopback_stays_inside_the_sender():
    c = with_client(cluster())
    apply_text(c, deployment("web", 1))
    web = pods_of(c, "web-")[0]["metadata"]["name"]
    t = trace(c, f"pod/default/{web}", "http://127.0.0.1:8080/")
    assert t.verdict == "delivered" and t.endpoint["name"] == web and len(t.hops) == 2
    assert trace(c, f"pod/default/{web}", "http://127.0.0.1:9999/").verdict == "refused"
    assert trace(c, "external", "http://127.0.0.1/").verdict == "unreachable"


def test_the_dns_answer_comes_back_through_conntrack():
    c = with_client(web_app(cluster(), replicas=1))
    t = trace(c, "pod/default/client", "http://web/")
    dns_hops = [h for h in t.hops if h.phase == "dns"]
    undo = next(h for h in dns_hops if h.action == "snat")
    assert undo.where == "conntrack" and undo.packet.src == "10.96.0.10:53"
    assert dns_hops[-1].action == "deliver" and dns_hops[-1].packet.src == "10.96.0.10:53"


@pytest.mark.parametrize(
    ("cni", "path", "last_device"),
    [
        ("flannel", ["send", "route", "encapsulate", "route", "decapsulate", "drop"], "cni0"),
        ("calico", ["send", "route", "route", "drop"], "routing table"),
        ("weave", ["send", "route", "encapsulate", "route", "decapsulate", "drop"], "weave"),
    ],
)
def test_an_address_no_pod_holds_is_routed_to_its_node_which_answers_host_unreachable(
    cni, path, last_device
):
    c = with_client(with_client(cluster(cni=cni)), name="gone", node="worker-2")
    ip = c.get("Pod", "default", "gone")["status"]["podIP"]
    c.delete("Pod", "default", "gone")
    t = trace(c, "pod/default/client", f"http://{ip}/")
    assert t.verdict == "unreachable" and "No route to host" in t.reason
    assert actions(t) == path
    assert t.hops[-1].node == "worker-2" and t.hops[-1].where == last_device
    check_invariants(t)
