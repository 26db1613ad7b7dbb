"""The network half of the JSON API over HTTP: trace, traffic, DNS and kube-proxy rules.

Every scenario is built through the API (apply YAML), every trace made here goes through
:func:`trace`, which checks the hop invariants of the trace JSON on the way.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .conftest import Api, apply_ok, deployment, list_items, new_workspace

WS = "/api/v1/workspaces"
CLIENT_IP = "198.51.100.7"  # the outside client (DESIGN.md defaults)
KUBE_DNS = "10.96.0.10:53"
ACTIONS = {
    "send",
    "bridge",
    "route",
    "dnat",
    "snat",
    "encapsulate",
    "decapsulate",
    "proxy",
    "resolve",
    "deliver",
    "reject",
    "drop",
}
VERDICTS = {"delivered", "refused", "dropped", "nxdomain", "unreachable"}
ADDRESS = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$")

CLIENT = """apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  nodeName: worker-1
  containers: [{name: c, image: busybox:1.36}]
"""
# A lone pod pinned to worker-2: the far end of cross-node paths and of the Local NodePort.
SERVER = """apiVersion: v1
kind: Pod
metadata: {name: server, labels: {app: server}}
spec:
  nodeName: worker-2
  containers:
  - name: s
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
"""
SERVICES = """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: weblb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: serverlocal}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: server}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30081}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: empty}
spec:
  selector: {app: nothing}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: wrongport}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  type: ExternalName
  externalName: example.com
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
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


# --- helpers --------------------------------------------------------------------------------


def chain_hash(text: str) -> str:
    """kube-proxy's portProtoHash: base32(sha256(text))[:16] (pkg/proxy/iptables/proxier.go)."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def svc_chain(service_port: str, protocol: str = "tcp") -> str:
    return "KUBE-SVC-" + chain_hash(service_port + protocol)


def sep_chain(service_port: str, endpoint: str, protocol: str = "tcp") -> str:
    return "KUBE-SEP-" + chain_hash(service_port + protocol + endpoint)


def check_address(text: str) -> None:
    match = ADDRESS.match(text)
    assert match, f"{text!r} is not ip:port"
    ipaddress.IPv4Address(match.group(1))
    assert 1 <= int(match.group(2)) <= 65535, text


def check_hops(hops: list[dict[str, Any]], phases: set[str]) -> None:
    assert [h["index"] for h in hops] == list(range(len(hops)))
    for hop in hops:
        assert hop["action"] in ACTIONS, hop
        assert hop["phase"] in phases, hop
        assert isinstance(hop["summary"], str) and hop["summary"].strip(), hop
        assert isinstance(hop["where"], str) and hop["where"], hop
        assert hop["node"] is None or isinstance(hop["node"], str)
        assert isinstance(hop["changed"], list)
        packet = hop["packet"]
        check_address(packet["src"])
        check_address(packet["dst"])
        assert packet["protocol"] in ("TCP", "UDP"), hop
        if "outer" in packet:
            ipaddress.IPv4Address(packet["outer"]["src"])
            ipaddress.IPv4Address(packet["outer"]["dst"])
        if "rule" in hop:
            assert hop["rule"]["chain"] and hop["rule"]["text"], hop


def check_trace(body: dict[str, Any]) -> None:
    """The invariants every trace answer keeps."""
    assert body["verdict"] in VERDICTS, body["verdict"]
    assert isinstance(body["reason"], str) and body["reason"], body
    check_hops(body["hops"], {"dns", "request"})
    check_hops(body["reply"], {"reply"})
    phases = [h["phase"] for h in body["hops"]]
    # The DNS lookup, when there is one, comes first.
    assert phases == sorted(phases, key=lambda p: p != "dns"), phases
    if body["verdict"] != "delivered":
        assert body["endpoint"] is None and body["reply"] == []


def post_trace(api: Api, ws: str, source: str, to: str, seed: int | None = None) -> httpx.Response:
    body: dict[str, Any] = {"from": source, "to": to}
    if seed is not None:
        body["seed"] = seed
    return api.post(f"{WS}/{ws}/trace", json=body)


def trace(api: Api, ws: str, source: str, to: str, seed: int | None = None) -> dict[str, Any]:
    response = post_trace(api, ws, source, to, seed)
    assert response.status_code == 200, response.text
    body = response.json()
    check_trace(body)
    return body


def traffic(api: Api, ws: str, source: str, to: str, count: int) -> dict[str, Any]:
    response = api.post(f"{WS}/{ws}/traffic", json={"from": source, "to": to, "count": count})
    assert response.status_code == 200, response.text
    return response.json()


def dns(api: Api, ws: str, query: str) -> dict[str, Any]:
    response = api.get(f"{WS}/{ws}/dns?{query}")
    assert response.status_code == 200, response.text
    return response.json()


def rules(api: Api, ws: str, query: str) -> dict[str, Any]:
    response = api.get(f"{WS}/{ws}/rules?{query}")
    assert response.status_code == 200, response.text
    return response.json()


def error_fields(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def request_hops(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for h in body["hops"] if h["phase"] == "request"]


def ip_of(address: str) -> str:
    return address.rsplit(":", 1)[0]


@dataclass
class Cluster:
    api: Api
    ws: str

    def pods(self, namespace: str = "default") -> dict[str, dict[str, Any]]:
        items = list_items(self.api, self.ws, f"kind=pods&namespace={namespace}")
        return {p["metadata"]["name"]: p for p in items}

    def pod_ip(self, name: str, namespace: str = "default") -> str:
        return self.pods(namespace)[name]["status"]["podIP"]

    def service(self, name: str, namespace: str = "default") -> dict[str, Any]:
        items = list_items(self.api, self.ws, f"kind=services&namespace={namespace}")
        return next(s for s in items if s["metadata"]["name"] == name)

    def lb_ip(self, name: str, namespace: str = "default") -> str:
        return self.service(name, namespace)["status"]["loadBalancer"]["ingress"][0]["ip"]

    def node_ip(self, name: str) -> str:
        node = next(
            n for n in list_items(self.api, self.ws, "kind=nodes") if n["metadata"]["name"] == name
        )
        return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")

    def web_ips(self) -> set[str]:
        return {p["status"]["podIP"] for n, p in self.pods().items() if n.startswith("web-")}


def build(api: Api, **options: Any) -> Cluster:
    ws = new_workspace(api, **options)
    apply_ok(
        api,
        ws,
        "---\n".join(
            [CLIENT, SERVER, deployment("web", replicas=3), deployment("api", replicas=2), SERVICES]
        ),
    )
    return Cluster(api, ws)


@pytest.fixture
def cluster(api: Api) -> Cluster:
    return build(api)


# --- 1. pod to a Service by name --------------------------------------------------------------


def test_pod_to_service_by_name_resolves_then_dnats_to_a_web_pod(cluster: Cluster) -> None:
    body = trace(cluster.api, cluster.ws, "pod/default/client", "http://web/")
    assert body["verdict"] == "delivered", body["reason"]
    dns_hops = [h for h in body["hops"] if h["phase"] == "dns"]
    assert dns_hops and body["hops"][0]["phase"] == "dns"
    first = dns_hops[0]
    assert first["packet"]["dst"] == KUBE_DNS and first["packet"]["protocol"] == "UDP"
    coredns = {
        p["status"]["podIP"]
        for p in cluster.pods("kube-system").values()
        if (p["metadata"].get("labels") or {}).get("k8s-app") == "kube-dns"
    }
    dnat = next(h for h in dns_hops if h["action"] == "dnat")
    assert ip_of(dnat["packet"]["dst"]) in coredns
    assert dnat["packet"]["dst"].endswith(":53")
    assert any(h["action"] == "resolve" for h in dns_hops)

    endpoint = body["endpoint"]
    assert endpoint["name"].startswith("web-") and endpoint["ip"] in cluster.web_ips()
    hop = next(h for h in request_hops(body) if h["action"] == "dnat")
    assert re.match(r"KUBE-(SEP|SVC)-[A-Z2-7]{16}$", hop["rule"]["chain"]), hop["rule"]
    assert hop["rule"]["chain"] in hop["rule"]["text"]
    assert hop["packet"]["dst"] == f"{endpoint['ip']}:{endpoint['port']}"
    assert endpoint["port"] == 8080  # targetPort http, the container port's name

    cluster_ip = cluster.service("web")["spec"]["clusterIP"]
    assert request_hops(body)[0]["packet"]["dst"] == f"{cluster_ip}:80"
    assert body["reply"][-1]["packet"]["src"] == f"{cluster_ip}:80"
    assert body["reply"][-1]["packet"]["dst"] == request_hops(body)[0]["packet"]["src"]


def test_dnat_hop_names_the_sep_chain_kube_proxy_derives(cluster: Cluster) -> None:
    # KUBE-SEP-<base32(sha256("default/web:http" + "tcp" + "ip:port"))[:16]>, as kube-proxy names it.
    body = trace(cluster.api, cluster.ws, "pod/default/client", "http://web/")
    hop = next(h for h in request_hops(body) if h["action"] == "dnat")
    expected = sep_chain("default/web:http", hop["packet"]["dst"])
    assert hop["rule"]["chain"] == expected
    assert f"--to-destination {hop['packet']['dst']}" in hop["rule"]["text"]


def test_coredns_hop_names_the_pod_the_query_was_dnatted_to(cluster: Cluster) -> None:
    body = trace(cluster.api, cluster.ws, "pod/default/client", "http://web/")
    dns_hops = [h for h in body["hops"] if h["phase"] == "dns"]
    target = next(h for h in dns_hops if h["action"] == "dnat")["packet"]["dst"]
    resolve = next(h for h in dns_hops if h["action"] == "resolve")
    pods = cluster.pods("kube-system")
    name = resolve["at"].rsplit("/", 1)[-1]
    assert name in pods and pods[name]["status"]["podIP"] == ip_of(target)
    assert body["dns"]["answers"][0]["data"] == cluster.service("web")["spec"]["clusterIP"]


# --- 2. invariants on many traces -------------------------------------------------------------

INVARIANT_CASES = [
    ("pod/default/client", "http://web/"),
    ("pod/default/client", "http://web.default.svc.cluster.local/api"),
    ("pod/default/client", "http://empty/"),
    ("pod/default/client", "http://wrongport/"),
    ("pod/default/client", "http://cart/"),
    ("pod/default/client", "http://ext/"),
    ("pod/default/client", f"{KUBE_DNS}/udp"),
    ("node/worker-1", "http://web.default.svc.cluster.local/"),
    ("node/worker-2", "10.96.0.1:443"),
    ("external", "http://10.0.0.11:30080/"),
    ("external", "http://10.0.0.10:30081/"),
    ("external/192.0.2.50", "http://shop.example.com/api"),
    ("external", "http://10.96.0.1:443/"),
]


@pytest.mark.parametrize("seed", [0, 7])
def test_every_trace_keeps_the_hop_invariants(cluster: Cluster, seed: int) -> None:
    verdicts = set()
    for source, to in INVARIANT_CASES:
        body = trace(cluster.api, cluster.ws, source, to, seed)  # trace() checks each hop
        verdicts.add(body["verdict"])
        if body["verdict"] == "delivered":
            assert body["reply"], (source, to)
    assert verdicts >= {"delivered", "refused", "dropped", "nxdomain", "unreachable"}


# --- 3. CNI datapaths -------------------------------------------------------------------------


def test_flannel_wraps_cross_node_pod_traffic_in_vxlan_udp_8472(cluster: Cluster) -> None:
    server = cluster.pod_ip("server")
    body = trace(cluster.api, cluster.ws, "pod/default/client", f"{server}:8080")
    assert body["verdict"] == "delivered"
    encap = next(h for h in body["hops"] if h["action"] == "encapsulate")
    outer = encap["packet"]["outer"]
    assert outer["src"] == cluster.node_ip("worker-1")
    assert outer["dst"] == cluster.node_ip("worker-2")
    assert (outer["protocol"], outer["port"]) == ("UDP", 8472)
    # No NAT anywhere: the receiver sees the sender's own address.
    assert not any(h["action"] in ("dnat", "snat") for h in body["hops"])
    assert ip_of(body["hops"][-1]["packet"]["src"]) == cluster.pod_ip("client")
    assert body["endpoint"]["name"] == "server"


def test_calico_routes_cross_node_pod_traffic_without_an_outer_header(api: Api) -> None:
    calico = build(api, cni="calico")
    server = calico.pod_ip("server")
    body = trace(api, calico.ws, "pod/default/client", f"{server}:8080")
    assert body["verdict"] == "delivered"
    assert not any("outer" in h["packet"] for h in body["hops"])
    assert not any(h["action"] == "encapsulate" for h in body["hops"])


def test_calico_ipip_wraps_cross_node_pod_traffic_in_ip_in_ip(api: Api) -> None:
    calico = build(api, cni="calico", calicoMode="ipip")
    server = calico.pod_ip("server")
    body = trace(api, calico.ws, "pod/default/client", f"{server}:8080")
    assert body["verdict"] == "delivered"
    encap = next(h for h in body["hops"] if h["action"] == "encapsulate")
    outer = encap["packet"]["outer"]
    assert outer["protocol"] == "IPIP"
    assert (outer["src"], outer["dst"]) == (calico.node_ip("worker-1"), calico.node_ip("worker-2"))


# --- 4. failures ------------------------------------------------------------------------------


def test_service_selecting_nothing_is_refused_naming_the_selector(cluster: Cluster) -> None:
    body = trace(cluster.api, cluster.ws, "pod/default/client", "http://empty/")
    assert body["verdict"] == "refused"
    assert "app=nothing" in body["reason"]
    assert body["hops"][-1]["action"] == "reject"


def test_target_port_the_pod_does_not_listen_on_is_refused(cluster: Cluster) -> None:
    body = trace(cluster.api, cluster.ws, "pod/default/client", "http://wrongport/")
    assert body["verdict"] == "refused"
    assert "does not listen" in body["reason"]
    assert body["hops"][-1]["packet"]["dst"].endswith(":9090")


def test_short_name_of_a_service_in_another_namespace_is_nxdomain(cluster: Cluster) -> None:
    body = trace(cluster.api, cluster.ws, "pod/default/client", "http://cart/")
    assert body["verdict"] == "nxdomain"
    tried = [t["name"] for t in body["dns"]["tried"]]
    assert tried[0] == "cart.default.svc.cluster.local."
    for name in tried:
        assert name in body["reason"]
    assert request_hops(body) == []
    # The full name does resolve.
    full = trace(cluster.api, cluster.ws, "pod/default/client", "http://cart.shop/")
    assert full["verdict"] == "refused"  # found, but it has no endpoints


def test_clusterip_on_a_port_the_service_does_not_expose_is_not_delivered(
    cluster: Cluster,
) -> None:
    # No KUBE-SERVICES rule matches web:81 (iptables: the packet follows the default route
    # and is lost; nftables rejects it). The ClusterIP is not a host on the internet.
    body = trace(cluster.api, cluster.ws, "pod/default/client", "web:81")
    assert body["verdict"] in ("dropped", "unreachable", "refused"), (
        body["verdict"],
        body["reason"],
        body["endpoint"],
    )


# --- 5. from outside --------------------------------------------------------------------------


def test_external_to_nodeport_is_delivered_and_snatted(cluster: Cluster) -> None:
    node = cluster.node_ip("worker-1")
    body = trace(cluster.api, cluster.ws, "external", f"http://{node}:30080/")
    assert body["verdict"] == "delivered"
    assert body["endpoint"]["name"].startswith("web-")
    seen = ip_of(body["hops"][-1]["packet"]["src"])
    assert seen != CLIENT_IP  # externalTrafficPolicy: Cluster masquerades
    assert any(h["action"] == "snat" for h in request_hops(body))
    assert body["reply"][-1]["packet"]["src"] == f"{node}:30080"
    assert body["reply"][-1]["packet"]["dst"].startswith(CLIENT_IP + ":")


def test_local_traffic_policy_on_a_node_without_a_pod_drops_and_times_out(
    cluster: Cluster,
) -> None:
    # serverlocal's only pod runs on worker-2.
    body = trace(
        cluster.api, cluster.ws, "external", f"http://{cluster.node_ip('worker-1')}:30081/"
    )
    assert body["verdict"] == "dropped"
    assert "times out" in body["reason"]
    kept = trace(
        cluster.api, cluster.ws, "external", f"http://{cluster.node_ip('worker-2')}:30081/"
    )
    assert kept["verdict"] == "delivered" and kept["endpoint"]["name"] == "server"
    assert ip_of(kept["hops"][-1]["packet"]["src"]) == CLIENT_IP  # client IP preserved


def test_external_to_load_balancer_ip_goes_through_the_cloud_load_balancer(
    cluster: Cluster,
) -> None:
    lb = cluster.lb_ip("weblb")
    assert ipaddress.IPv4Address(lb) in ipaddress.IPv4Network("203.0.113.0/24")
    body = trace(cluster.api, cluster.ws, "external", f"http://{lb}/")
    assert body["verdict"] == "delivered"
    assert any("cloud load balancer" in h["where"].lower() for h in body["hops"])
    assert body["endpoint"]["name"].startswith("web-")
    assert body["reply"][-1]["packet"]["src"] == f"{lb}:80"


def test_external_to_ingress_host_is_proxied_by_ingress_nginx_to_an_api_pod(
    cluster: Cluster,
) -> None:
    body = trace(cluster.api, cluster.ws, "external", "http://shop.example.com/api")
    assert body["verdict"] == "delivered"
    assert body["endpoint"]["name"].startswith("api-")
    proxy = next(h for h in body["hops"] if h["action"] == "proxy")
    assert "ingress-nginx" in proxy["where"]
    assert "X-Forwarded-For" in proxy["packet"]["http"]["headers"]
    assert proxy["packet"]["dst"] == f"{body['endpoint']['ip']}:{body['endpoint']['port']}"
    assert (
        body["reply"][-1]["packet"]["src"]
        == f"{cluster.lb_ip('ingress-nginx-controller', 'ingress-nginx')}:80"
    )


@pytest.mark.parametrize(
    ("path", "backend"),
    [("/", "web-"), ("/api", "api-"), ("/api/v1", "api-"), ("/apiary", "web-")],
)
def test_ingress_prefix_matches_whole_path_elements(
    cluster: Cluster, path: str, backend: str
) -> None:
    # Kubernetes docs: Prefix /aaa/bbb matches /aaa/bbb/ccc but not /aaa/bbbxyz.
    body = trace(cluster.api, cluster.ws, "external", f"http://shop.example.com{path}")
    assert body["verdict"] == "delivered"
    assert body["endpoint"]["name"].startswith(backend)


def test_pod_to_external_name_follows_the_cname_and_masquerades(cluster: Cluster) -> None:
    body = trace(cluster.api, cluster.ws, "pod/default/client", "http://ext/")
    assert body["verdict"] == "delivered"
    types = [a["type"] for a in body["dns"]["answers"]]
    assert types[0] == "CNAME" and "A" in types
    assert body["dns"]["answers"][0]["data"] == "example.com."
    snat = next(h for h in request_hops(body) if h["action"] == "snat")
    assert ip_of(snat["packet"]["src"]) == cluster.node_ip("worker-1")
    assert body["endpoint"]["kind"] == "external"


# --- 6. traffic -------------------------------------------------------------------------------


def test_traffic_spreads_over_all_three_endpoints(cluster: Cluster) -> None:
    result = traffic(cluster.api, cluster.ws, "pod/default/client", "http://web/", 100)
    assert result["count"] == 100
    hits = {e["ip"]: e["requests"] for e in result["endpoints"]}
    assert set(hits) == cluster.web_ips()
    assert all(n > 0 for n in hits.values()), hits
    assert sum(hits.values()) == 100
    assert all(
        e["pod"].startswith("default/web-") and e["port"] == 8080 for e in result["endpoints"]
    )
    assert (result["refused"], result["dropped"], result["unreachable"], result["nxdomain"]) == (
        0,
        0,
        0,
        0,
    )


def test_traffic_with_client_ip_affinity_lands_on_one_endpoint(cluster: Cluster) -> None:
    result = traffic(cluster.api, cluster.ws, "pod/default/client", "http://sticky/", 100)
    assert [e["requests"] for e in result["endpoints"] if e["requests"]] == [100]


def test_traffic_to_a_service_without_endpoints_is_all_refused(cluster: Cluster) -> None:
    result = traffic(cluster.api, cluster.ws, "pod/default/client", "http://empty/", 100)
    assert result["refused"] == 100
    assert sum(e["requests"] for e in result["endpoints"]) == 0


def test_traffic_counts_add_up_for_every_outcome(cluster: Cluster) -> None:
    lb = cluster.lb_ip("weblb")
    for source, to in [
        ("pod/default/client", "http://cart/"),
        ("external", f"http://{lb}/"),
        ("external", "http://shop.example.com/api"),
        ("external", f"http://{cluster.node_ip('worker-1')}:30081/"),
    ]:
        result = traffic(cluster.api, cluster.ws, source, to, 99)
        total = sum(e["requests"] for e in result["endpoints"]) + sum(
            result[k] for k in ("refused", "dropped", "unreachable", "nxdomain")
        )
        assert total == 99, (to, result)


def test_traffic_accepts_the_maximum_count(cluster: Cluster) -> None:
    result = traffic(cluster.api, cluster.ws, "pod/default/client", "http://web/", 10_000)
    assert sum(e["requests"] for e in result["endpoints"]) == 10_000


@pytest.mark.parametrize("count", [0, -1, 10_001])
def test_traffic_count_out_of_range_is_422_on_count(cluster: Cluster, count: int) -> None:
    response = cluster.api.post(
        f"{WS}/{cluster.ws}/traffic",
        json={"from": "pod/default/client", "to": "http://web/", "count": count},
    )
    assert response.status_code == 422
    assert error_fields(response) == ["count"]


# --- 7. DNS -----------------------------------------------------------------------------------


def test_dns_short_name_from_a_pod_walks_the_search_list(cluster: Cluster) -> None:
    answer = dns(cluster.api, cluster.ws, "from=pod/default/client&name=web&type=A")
    assert answer["tried"][0]["name"] == "web.default.svc.cluster.local."
    assert answer["rcode"] == "NOERROR"
    assert [a["data"] for a in answer["answers"]] == [cluster.service("web")["spec"]["clusterIP"]]


def test_dns_srv_for_a_named_port(cluster: Cluster) -> None:
    answer = dns(
        cluster.api,
        cluster.ws,
        "from=pod/default/client&name=_http._tcp.web.default.svc.cluster.local&type=SRV",
    )
    assert answer["rcode"] == "NOERROR"
    assert [(a["type"], a["data"]) for a in answer["answers"]] == [
        ("SRV", "0 100 80 web.default.svc.cluster.local.")
    ]


def test_dns_no_srv_for_an_unnamed_port(cluster: Cluster) -> None:
    answer = dns(
        cluster.api,
        cluster.ws,
        "from=pod/default/client&name=_http._tcp.wrongport.default.svc.cluster.local&type=SRV",
    )
    assert answer["answers"] == []


def test_dns_cluster_names_do_not_resolve_from_a_node(cluster: Cluster) -> None:
    answer = dns(cluster.api, cluster.ws, "from=node/worker-1&name=web.default.svc.cluster.local")
    assert answer["rcode"] == "NXDOMAIN"
    assert answer["answers"] == []


def test_dns_ingress_host_from_outside_is_the_controllers_lb_ip(cluster: Cluster) -> None:
    answer = dns(cluster.api, cluster.ws, "from=external&name=shop.example.com")
    assert answer["rcode"] == "NOERROR"
    expected = cluster.lb_ip("ingress-nginx-controller", "ingress-nginx")
    assert [a["data"] for a in answer["answers"] if a["type"] == "A"] == [expected]


def test_dns_external_name_is_a_cname(cluster: Cluster) -> None:
    answer = dns(cluster.api, cluster.ws, "from=pod/default/client&name=ext&type=CNAME")
    assert [(a["type"], a["data"]) for a in answer["answers"]] == [("CNAME", "example.com.")]


def test_dns_bad_type_is_422_on_type(cluster: Cluster) -> None:
    response = cluster.api.get(f"{WS}/{cluster.ws}/dns?from=pod/default/client&name=web&type=MX")
    assert response.status_code == 422
    assert error_fields(response) == ["type"]


def test_dns_from_a_missing_pod_is_404(cluster: Cluster) -> None:
    response = cluster.api.get(f"{WS}/{cluster.ws}/dns?from=pod/default/nobody&name=web")
    assert response.status_code == 404


# --- 8. rules ---------------------------------------------------------------------------------


def test_iptables_rules_hold_the_probability_cascade_for_web(cluster: Cluster) -> None:
    answer = rules(cluster.api, cluster.ws, "node=worker-1&mode=iptables")
    assert (answer["node"], answer["mode"]) == ("worker-1", "iptables")
    text = answer["text"]
    assert text.startswith(("*nat", "*filter"))
    assert ":KUBE-SERVICES" in text
    assert "COMMIT" in text
    chain = svc_chain("default/web:http")
    lines = [line for line in text.splitlines() if line.startswith(f"-A {chain} ")]
    # As iptables-save prints them (libxt_statistic.c: %.11f of the 2^31 fixed-point value).
    assert any("--probability 0.33333333349 " in line for line in lines), lines
    assert any("--probability 0.50000000000 " in line for line in lines), lines
    seps = [line for line in lines if "-j KUBE-SEP-" in line]
    assert len(seps) == 3
    for ip in cluster.web_ips():
        assert f"-j {sep_chain('default/web:http', f'{ip}:8080')}" in text
    assert chain in {c["chain"] for c in answer["chains"]}


def test_kubernetes_service_chain_is_the_one_every_cluster_has(cluster: Cluster) -> None:
    answer = rules(cluster.api, cluster.ws, "node=worker-1&mode=iptables")
    assert svc_chain("default/kubernetes:https") == "KUBE-SVC-NPX46M4PTMTKRN6Y"
    assert ":KUBE-SVC-NPX46M4PTMTKRN6Y" in answer["text"]
    assert "KUBE-SVC-NPX46M4PTMTKRN6Y" in {c["chain"] for c in answer["chains"]}


def test_nftables_rules_are_the_kube_proxy_table(cluster: Cluster) -> None:
    answer = rules(cluster.api, cluster.ws, "node=worker-1&mode=nftables")
    assert answer["mode"] == "nftables"
    assert "table ip kube-proxy" in answer["text"]


def test_ipvs_rules_list_the_cluster_ip_round_robin(cluster: Cluster) -> None:
    answer = rules(cluster.api, cluster.ws, "node=worker-1&mode=ipvs")
    cluster_ip = cluster.service("web")["spec"]["clusterIP"]
    assert re.search(rf"TCP\s+{re.escape(cluster_ip)}:80\s+rr", answer["text"]), answer["text"]


def test_rules_default_to_the_clusters_proxy_mode(api: Api) -> None:
    ws = new_workspace(api, proxyMode="ipvs")
    assert rules(api, ws, "node=worker-2")["mode"] == "ipvs"


def test_rules_for_an_unknown_node_is_404(cluster: Cluster) -> None:
    response = cluster.api.get(f"{WS}/{cluster.ws}/rules?node=worker-9&mode=iptables")
    assert response.status_code == 404


def test_rules_bad_mode_is_422_on_mode(cluster: Cluster) -> None:
    response = cluster.api.get(f"{WS}/{cluster.ws}/rules?node=worker-1&mode=userspace")
    assert response.status_code == 422
    assert error_fields(response) == ["mode"]


# --- 9. determinism and purity ----------------------------------------------------------------


def test_same_seed_gives_the_same_trace(cluster: Cluster) -> None:
    for seed in (0, 3, 12345):
        first = post_trace(cluster.api, cluster.ws, "pod/default/client", "http://web/", seed)
        second = post_trace(cluster.api, cluster.ws, "pod/default/client", "http://web/", seed)
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()


def test_seeds_choose_different_endpoints(cluster: Cluster) -> None:
    chosen = {
        trace(cluster.api, cluster.ws, "pod/default/client", "http://web/", seed)["endpoint"]["ip"]
        for seed in range(20)
    }
    assert chosen == cluster.web_ips()


def test_trace_traffic_dns_and_rules_leave_the_workspace_unchanged(cluster: Cluster) -> None:
    api, ws = cluster.api, cluster.ws

    def snapshot() -> tuple[str, str]:
        objects = api.get(f"{WS}/{ws}/objects")
        summary = api.get(f"{WS}/{ws}")
        assert objects.status_code == summary.status_code == 200
        return json.dumps(objects.json(), sort_keys=True), json.dumps(
            summary.json(), sort_keys=True
        )

    before = snapshot()
    for source, to in INVARIANT_CASES:
        trace(api, ws, source, to)
    traffic(api, ws, "pod/default/client", "http://sticky/", 50)
    traffic(api, ws, "external", "http://shop.example.com/", 50)
    dns(api, ws, "from=pod/default/client&name=web")
    rules(api, ws, "node=worker-1&mode=nftables")
    assert snapshot() == before


def test_unknown_workspace_is_404_on_every_network_call(api: Api) -> None:
    body = {"from": "external", "to": "http://shop.example.com/"}
    assert api.post(f"{WS}/nope/trace", json=body).status_code == 404
    assert api.post(f"{WS}/nope/traffic", json={**body, "count": 1}).status_code == 404
    assert api.get(f"{WS}/nope/dns?name=web").status_code == 404
    assert api.get(f"{WS}/nope/rules?node=worker-1").status_code == 404


@pytest.mark.parametrize(
    ("source", "status"),
    [("pod/default/nobody", 404), ("pod/nowhere/client", 404), ("node/worker-9", 404)],
)
def test_trace_from_a_missing_pod_or_node_is_404(
    cluster: Cluster, source: str, status: int
) -> None:
    assert post_trace(cluster.api, cluster.ws, source, "http://web/").status_code == status


# --- 10. never a 500 --------------------------------------------------------------------------

ODD = [
    "",
    " ",
    "\t\n",
    "pod/x",
    "pod/",
    "pod//",
    "pod/default/",
    "node/",
    "external/",
    "external/999.1.1.1",
    "external/::1",
    "ftp://a",
    "http://",
    "https://",
    "http://:80/",
    "a:99999",
    "a:",
    ":80",
    "http://a:99999/",
    "http://a:0/",
    "http://[/",
    "http://[::1/",
    "web:٣",  # an Arabic-Indic digit: not a port
    "web:-1",
    "a b:80",
    "/udp",
    "x" * 5000,
    "http://" + "a" * 5000 + "/",
    "ünïcödé/☃",
    "pod/default/client\x00",
]


def post_no_raise(api: Api, url: str, body: dict[str, Any]) -> httpx.Response:
    """POST without re-raising the app's exception, so a 500 shows as a status."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.post(url, json=body)

    return asyncio.run(call())


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("field", ["from", "to"])
@pytest.mark.parametrize("call", ["trace", "traffic"])
def test_odd_from_or_to_is_a_4xx_never_a_500(
    cluster: Cluster, call: str, field: str, value: str
) -> None:
    body: dict[str, Any] = {"from": "pod/default/client", "to": "http://web/", field: value}
    if call == "traffic":
        body["count"] = 3
    response = post_no_raise(cluster.api, f"{WS}/{cluster.ws}/{call}", body)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if field == "from" and response.status_code == 422:
        assert error_fields(response) == ["from"]


@pytest.mark.parametrize(
    "value",
    ["pod/x", ":80", "/udp", "ünïcödé/☃", "a b:80", "ftp://a", "a:99999", "http://", "x" * 5000],
)
@pytest.mark.parametrize("call", ["trace", "traffic"])
def test_to_that_is_neither_url_nor_host_port_is_422_naming_to(
    cluster: Cluster, call: str, value: str
) -> None:
    body: dict[str, Any] = {"from": "pod/default/client", "to": value, "count": 3}
    if call == "trace":
        del body["count"]
    response = post_no_raise(cluster.api, f"{WS}/{cluster.ws}/{call}", body)
    assert response.status_code == 422, response.text[:300]
    assert error_fields(response) == ["to"], response.text[:300]
