"""The simulated cloud's IPv6 load balancer addresses.

Sources: RFC 3849 (2001:db8::/32, the IPv6 documentation prefix, as RFC 5737's 203.0.113.0/24
is for IPv4); the Service API (``spec.ipFamilies[0]`` is the primary family;
``status.loadBalancer.ingress`` lists the load balancer's addresses); RFC 3596 (AAAA records
hold IPv6 addresses).
"""

from __future__ import annotations

import ipaddress

from app.cluster import families
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.scenarios import build
from app.cluster.state import ClusterConfig
from app.network import dns
from app.network.trace import trace

OBJECTS = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
"""


def make(mode: str) -> Cluster:
    cluster = Cluster.create(ClusterConfig(ip_family=mode), seed=1)
    apply_text(cluster, OBJECTS)
    return cluster


def lb_ip(cluster: Cluster, namespace: str, name: str) -> str:
    return cluster.get("Service", namespace, name)["status"]["loadBalancer"]["ingress"][0]["ip"]


def test_the_ipv6_pool_is_inside_the_documentation_prefix() -> None:
    assert families.LOAD_BALANCER_POOL6.subnet_of(ipaddress.ip_network("2001:db8::/32"))


def test_an_ipv6_clusters_load_balancers_get_ipv6_documentation_addresses() -> None:
    cluster = make("ipv6")
    controller = lb_ip(cluster, "ingress-nginx", "ingress-nginx-controller")
    web = lb_ip(cluster, "default", "web")
    assert controller == "2001:db8:203::a" and web == "2001:db8:203::b"
    traced = trace(cluster, "external", f"http://[{web}]/")
    assert traced.verdict == "delivered"
    assert traced.source["ip"].startswith("2001:db8:")  # the outside client's IPv6 address


def test_public_dns_answers_aaaa_for_an_ingress_host_on_an_ipv6_cluster() -> None:
    cluster = make("ipv6")
    aaaa = dns.resolve(cluster, None, "shop.example.com", "AAAA")
    assert [(r.type, r.data) for r in aaaa.answers] == [("AAAA", "2001:db8:203::a")]
    assert dns.resolve(cluster, None, "shop.example.com", "A").answers == []
    traced = trace(cluster, "external", "http://shop.example.com/")
    assert traced.verdict == "delivered"


def test_a_dual_stack_cluster_keeps_ipv4_load_balancers_and_a_records() -> None:
    # What a cloud lists in status.loadBalancer.ingress for a dual-stack Service differs by
    # provider; Podpath keeps the primary family's (IPv4) address.
    cluster = make("dual")
    assert lb_ip(cluster, "default", "web") == "203.0.113.11"
    answer = dns.resolve(cluster, None, "shop.example.com", "A")
    assert [(r.type, r.data) for r in answer.answers] == [("A", "203.0.113.10")]


def test_class_scenarios_on_ipv6_suggest_the_ipv6_load_balancer() -> None:
    from app.cluster import scenarios

    requests = scenarios.scenario_requests("ingress-two-apps", "flannel", "ipv6")
    cluster = build("ingress-two-apps", ClusterConfig(ip_family="ipv6"))
    address = lb_ip(cluster, "ingress-nginx", "ingress-nginx-controller")
    assert any(r.to == f"http://[{address}]/" for r in requests)
