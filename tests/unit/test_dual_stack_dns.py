"""DNS on dual-stack and IPv6 clusters: AAAA records, IPv6 pod names and ip6.arpa PTRs.

Sources: the Kubernetes DNS-Based Service Discovery specification (section 2.4.1: a ClusterIP
Service gets an A record per IPv4 and an AAAA record per IPv6 ClusterIP; 2.4.2 SRV; 2.4.3
PTR; headless Services one record per ready endpoint address); the CoreDNS kubernetes plugin
(``endpointHostname``: an IPv6 endpoint's name is its address with dashes for colons;
``pods insecure``: ``a-b-c-d.ns.pod`` and the IPv6 form with dashes for colons; the reverse
zone ``ip6.arpa`` in the nibble form of RFC 3596).
"""

from __future__ import annotations

import ipaddress

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network import dns
from app.terminal.dns_tools import dig
from app.terminal.session import Session
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
kind: Service
metadata: {name: v4}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: curlimages/curl}]}
"""
)


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    made = Cluster.create(ClusterConfig(ip_family="dual"), seed=1)
    apply_text(made, OBJECTS)
    return made


def answers(cluster: Cluster, name: str, qtype: str) -> tuple[str, list[str]]:
    rcode, records = dns.coredns_answer(cluster, name, qtype)
    return rcode, [r.data for r in records if r.type == qtype]


def web_pod_ips(cluster: Cluster, version: int) -> list[str]:
    return sorted(
        e["ip"]
        for p in cluster.list("Pod", "default")
        if p["metadata"]["name"].startswith("web-")
        for e in p["status"]["podIPs"]
        if ipaddress.ip_address(e["ip"]).version == version
    )


def test_a_dual_stack_service_has_an_a_and_an_aaaa_record(cluster):
    """Spec 2.4.1: one A per IPv4 ClusterIP, one AAAA per IPv6 ClusterIP."""
    spec = cluster.get("Service", "default", "web")["spec"]
    assert answers(cluster, "web.default.svc.cluster.local.", "A") == (
        "NOERROR",
        spec["clusterIPs"][:1],
    )
    assert answers(cluster, "web.default.svc.cluster.local.", "AAAA") == (
        "NOERROR",
        spec["clusterIPs"][1:],
    )


def test_a_single_stack_service_answers_aaaa_with_no_data(cluster):
    """The name exists (NOERROR) but holds no IPv6 address: an empty answer, not NXDOMAIN."""
    assert answers(cluster, "v4.default.svc.cluster.local.", "AAAA") == ("NOERROR", [])


def test_a_headless_dual_stack_service_has_an_aaaa_per_ready_ipv6_endpoint(cluster):
    rcode, found = answers(cluster, "db.default.svc.cluster.local.", "AAAA")
    assert rcode == "NOERROR" and sorted(found) == web_pod_ips(cluster, 6)


def test_an_ipv6_endpoint_is_named_with_dashes_for_colons(cluster):
    """CoreDNS endpointHostname: fd00:10:244:1::4 is fd00-10-244-1--4.<svc>.<ns>.svc."""
    ip = web_pod_ips(cluster, 6)[0]
    name = ip.replace(":", "-") + ".db.default.svc.cluster.local."
    assert answers(cluster, name, "AAAA") == ("NOERROR", [ip])


def test_an_ipv6_pod_name_in_the_pod_zone(cluster):
    """pods insecure: the IPv6 form of a-b-c-d.<ns>.pod answers its address as AAAA."""
    ip = web_pod_ips(cluster, 6)[0]
    name = ip.replace(":", "-") + ".default.pod.cluster.local."
    assert answers(cluster, name, "AAAA") == ("NOERROR", [ip])
    assert answers(cluster, name, "A") == ("NOERROR", [])


def test_ipv6_ptr_records_in_nibble_form(cluster):
    """Spec 2.4.3 / RFC 3596: the reverse name of an IPv6 ClusterIP is 32 nibbles under
    ip6.arpa; it points at the Service; a headless endpoint's at its own name."""
    v6 = cluster.get("Service", "default", "web")["spec"]["clusterIPs"][1]
    reverse = ipaddress.ip_address(v6).reverse_pointer + "."
    assert reverse.endswith(".ip6.arpa.") and len(reverse.split(".")) == 35
    assert answers(cluster, reverse, "PTR") == ("NOERROR", ["web.default.svc.cluster.local."])
    pod_ip = web_pod_ips(cluster, 6)[0]
    reverse = ipaddress.ip_address(pod_ip).reverse_pointer + "."
    # CoreDNS serviceRecordForIP: every ready endpoint with that address, in every Service.
    names = {
        pod_ip.replace(":", "-") + f".{svc}.default.svc.cluster.local." for svc in ("db", "web")
    }
    rcode, found = answers(cluster, reverse, "PTR")
    assert rcode == "NOERROR" and set(found) == names


def test_dig_aaaa_in_a_pod_prints_the_ipv6_address(cluster):
    out = dig(cluster, Session("pod/default/client"), ["web.default.svc.cluster.local", "AAAA"])
    v6 = cluster.get("Service", "default", "web")["spec"]["clusterIPs"][1]
    assert f"web.default.svc.cluster.local.\t30\tIN\tAAAA\t{v6}" in out.text
    assert "IN\tAAAA" in out.text and "status: NOERROR" in out.text


def test_an_ipv6_cluster_resolves_through_kube_dns_at_its_ipv6_address():
    """On an IPv6 cluster the kubelet's clusterDNS is kube-dns's IPv6 ClusterIP."""
    cluster = Cluster.create(ClusterConfig(ip_family="ipv6"), seed=1)
    apply_text(cluster, OBJECTS.replace("ipFamilyPolicy: PreferDualStack, ", ""))
    client = cluster.get("Pod", "default", "client")
    assert dns.resolv_conf(cluster, client)["nameserver"] == "fd00:10:96::a"
    out = dig(cluster, Session("pod/default/client"), ["+short", "web", "AAAA", "+search"])
    assert out.text.strip() == cluster.get("Service", "default", "web")["spec"]["clusterIP"]
    text = dig(cluster, Session("pod/default/client"), ["web.default.svc.cluster.local"]).text
    assert ";; SERVER: fd00:10:96::a#53(fd00:10:96::a) (UDP)" in text
    assert answers(cluster, "web.default.svc.cluster.local.", "A") == ("NOERROR", [])
