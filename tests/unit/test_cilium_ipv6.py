"""Cilium on dual-stack and IPv6 clusters (Helm ``ipv6.enabled: true``).

Each test names its upstream source: Cilium's Helm chart values (cluster-pool IPv6 defaults
``clusterPoolIPv6PodCIDRList: ["fd00::/104"]``, ``clusterPoolIPv6MaskSize: 120``;
``enableIPv6Masquerade``), bpf/bpf_sock.c (one cgroup program per family:
``cil_sock6_connect``, ``cil_sock6_sendmsg``, ``cil_sock6_recvmsg``), pkg/loadbalancer
``L3n4Addr.String`` (``[IPv6]:port``), pkg/maps/ipcache (``FlagIPv6TunnelEndpoint``, flags
printed comma-separated), daemon/cmd ``allocateRouterIPv6``, Cilium's masquerading docs
(``enable-ipv6-masquerade``) and its docs' ``cilium endpoint list`` (IPv6 column, then IPv4).
"""

from __future__ import annotations

import ipaddress

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.kind_export import cni_install
from app.cluster.state import ClusterConfig
from app.network.cilium import ipcache, rules
from app.network.topology import network_index
from app.network.trace import trace
from tests.unit.scenarios import deployment

POOL6 = ipaddress.ip_network("fd00::/104")

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
kind: Pod
metadata: {name: client}
spec: {nodeName: worker-2, containers: [{name: c, image: curlimages/curl}]}
"""
)

DENY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only-from-frontend}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {role: frontend}}}]
    ports: [{port: 80}]
"""


def make(mode: str = "dual", **config) -> Cluster:
    cluster = Cluster.create(ClusterConfig(cni="cilium", ip_family=mode, **config), seed=1)
    apply_text(cluster, OBJECTS)
    return cluster


def request(t) -> list:
    return [h for h in t.hops if h.phase == "request"]


def web_ips(cluster: Cluster) -> list[str]:
    return cluster.get("Service", "default", "web")["spec"]["clusterIPs"]


def test_pods_get_ipv6_addresses_from_the_cluster_pool_a_120_per_node():
    """Helm values: clusterPoolIPv6PodCIDRList fd00::/104, clusterPoolIPv6MaskSize 120;
    cilium_host takes a router address of each family (daemon/cmd allocateRouterIPv6)."""
    cluster = make()
    index = network_index(cluster)
    assert [str(r) for r in index.pod_ranges["worker-1"]] == ["10.1.1.0/24", "fd00::100/120"]
    assert index.gateway6["worker-1"] == "fd00::101"
    client = cluster.get("Pod", "default", "client")
    v4, v6 = [e["ip"] for e in client["status"]["podIPs"]]
    assert ipaddress.ip_address(v4) in ipaddress.ip_network("10.1.2.0/24")
    assert ipaddress.ip_address(v6) in ipaddress.ip_network("fd00::200/120")
    assert ipaddress.ip_network("fd00::200/120").subnet_of(POOL6)


def test_an_ipv6_clusterip_is_balanced_at_connect6_and_no_node_rewrites_the_packet():
    """bpf_sock.c cil_sock6_connect (cgroup/connect6): the socket is connected to the backend,
    so the wire carries the backend's IPv6 address and no node DNATs."""
    cluster = make()
    v6 = web_ips(cluster)[1]
    t = trace(cluster, "pod/default/client", "http://web/")
    assert t.verdict == "delivered"
    hops = request(t)
    assert str(hops[0].packet.dst) == f"[{v6}]:80"
    lb = next(h for h in hops if h.where == "socket LB (cgroup connect6)")
    assert lb.why["entry"].startswith(f"[{v6}]:80/TCP")
    backend = lb.packet.dst_ip
    assert ipaddress.ip_address(backend) in POOL6
    after = hops[hops.index(lb) + 1 :]
    assert all(h.packet.dst_ip == backend for h in after)
    assert not [h for h in after if h.action == "dnat"]


def test_dns_on_an_ipv6_cluster_meets_sendmsg6_and_recvmsg6():
    """bpf_sock.c attaches cil_sock6_sendmsg / cil_sock6_recvmsg for IPv6 UDP."""
    t = trace(make("ipv6"), "pod/default/client", "http://web/")
    where = {h.where for h in t.hops if h.phase == "dns"}
    assert {"socket LB (cgroup sendmsg6)", "socket LB (cgroup recvmsg6)"} <= where
    assert not any(w.endswith("4)") for w in where if w.startswith("socket LB"))


def test_a_nodeport_on_the_nodes_ipv6_address_crosses_vxlan_over_the_ipv4_underlay():
    """bpf/lib/nodeport.h: a NodePort request for another node's backend is SNATed to
    cilium_host's router address (here its IPv6 one) and tunnelled; on a dual-stack cluster
    the ipcache's tunnel endpoint is the node's IPv4 address."""
    t = trace(make(), "external", "http://[fc00:f853:ccd:e793::b]:30080/")
    assert t.verdict == "delivered"
    hops = request(t)
    dnat = next(h for h in hops if h.action == "dnat")
    assert dnat.where == "eBPF tc ingress on eth0"
    snat = next(h for h in hops if h.action == "snat")
    assert snat.packet.src_ip == "fd00::101"
    wrap = next(h for h in hops if h.action == "encapsulate")
    assert (wrap.packet.outer["src"], wrap.packet.outer["dst"]) == ("10.0.0.11", "10.0.0.12")


def test_on_an_ipv6_cluster_the_tunnel_runs_between_the_nodes_ipv6_addresses():
    """pkg/maps/ipcache: an IPv6 tunnel endpoint sets FlagIPv6TunnelEndpoint, printed
    ``hastunnel,ipv6tunnel``."""
    cluster = make("ipv6")
    t = trace(cluster, "external", "http://[fc00:f853:ccd:e793::b]:30080/")
    wrap = next(h for h in request(t) if h.action == "encapsulate")
    assert wrap.packet.outer["dst"] == "fc00:f853:ccd:e793::c"
    rows = dict(ipcache.entries(cluster, "worker-1"))
    assert rows["fd00::200/120"].endswith(
        "tunnelendpoint=fc00:f853:ccd:e793::c flags=hastunnel,ipv6tunnel"
    )


def test_service_list_and_bpf_lb_list_write_ipv6_frontends_in_brackets():
    """pkg/loadbalancer L3n4Addr.String: "[IPv6]:Port"; the NodePort on the node's IPv6
    address and the surrogate [::] frontend."""
    cluster = make()
    v4, v6 = web_ips(cluster)
    text = rules.service_list(cluster, "worker-1")
    assert f"{v4}:80/TCP" in text and f"[{v6}]:80/TCP" in text
    assert "[fc00:f853:ccd:e793::b]:30080/TCP" in text and "[::]:30080/TCP" in text
    six = rules.service_list(cluster, "worker-1", "IPv6")
    assert f"{v4}:80/TCP" not in six
    assert all(b.startswith("[fd00::") for b in _backends(six))
    lb = rules.bpf_lb_list(cluster, "worker-1", "IPv6")
    assert f"[{v6}]:80/TCP (1)" in lb


def _backends(text: str) -> list[str]:
    return [line.split("=>")[1].split()[0] for line in text.splitlines() if "=>" in line]


def test_a_networkpolicy_drops_ipv6_traffic_and_hubble_says_so():
    """Cilium enforces NetworkPolicy per endpoint, whatever the family (bpf_lxc); Hubble's
    drop line names both endpoints."""
    cluster = make()
    apply_text(cluster, DENY)
    t = trace(cluster, "pod/default/client", "http://web/")
    assert t.verdict == "dropped"
    drop = next(h for h in request(t) if h.action == "drop")
    assert ":" in drop.packet.dst_ip
    assert drop.why["table"] == "hubble observe" and "Policy denied DROPPED" in drop.why["entry"]


def test_ipv6_traffic_to_the_outside_is_masqueraded_by_ip6tables():
    """Helm enableIPv6Masquerade (true by default) and Cilium's masquerading docs: pod IPv6
    traffic leaving the cluster takes the node's IPv6 address."""
    t = trace(make(), "pod/default/client", "http://[2001:db8::1]/")
    snat = next(h for h in request(t) if h.action == "snat")
    assert snat.packet.src_ip == "fc00:f853:ccd:e793::c"
    assert snat.why["table"] == "ip6tables nat"
    assert snat.why["entry"].startswith("-A CILIUM_POST_nat -s fd00::200/120 ! -d fd00::200/120")


def test_endpoint_list_and_pod_route_carry_the_ipv6_address():
    """Cilium's docs print ``cilium endpoint list`` with an IPv6 column before the IPv4 one;
    the pod's IPv6 default route points at cilium_host's IPv6 router address."""
    cluster = make()
    t = trace(cluster, "pod/default/client", "http://web/")
    hops = request(t)
    last = next(h for h in hops if h.why and h.why["table"] == "cilium-dbg endpoint list")
    words = last.why["entry"].split()
    assert ":" in words[-3] and "." in words[-2]
    sent = next(h for h in hops if h.why and h.why["table"] == "ip -6 route")
    assert sent.why["entry"] == "default via fd00::201 dev eth0 metric 1024 pref medium"


def test_the_kind_export_turns_ipv6_on_in_the_helm_values():
    """Helm values ipv6.enabled (false by default) and, on an IPv6 cluster, ipv4.enabled=false."""
    dual = cni_install(ClusterConfig(cni="cilium", ip_family="dual"))
    assert "ipv6.enabled=true" in dual and "ipv4.enabled=false" not in dual
    assert "clusterPoolIPv6PodCIDRList=fd00::/104" in dual
    six = cni_install(ClusterConfig(cni="cilium", ip_family="ipv6"))
    assert "ipv4.enabled=false" in six and "clusterPoolIPv4PodCIDRList" not in six
