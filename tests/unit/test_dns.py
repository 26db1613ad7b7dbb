"""DNS as a pod sees it: resolv.conf, the search-list walk, CoreDNS's records, the public DNS.

Each test names the rule it pins, from the Kubernetes DNS specification
(kubernetes/dns docs/specification.md), the "DNS for Services and Pods" page, CoreDNS's
kubernetes plugin with kubeadm's Corefile, and resolv.conf(5).
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from app.cluster import constants as c
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import InvalidObjects
from app.network.dns import (
    UPSTREAM_RESOLVER,
    Record,
    coredns_answer,
    public_answer,
    resolv_conf,
    resolve,
)

SCENARIO = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: metrics, port: 9090, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: default, labels: {app: db}}
spec:
  hostname: db-0
  subdomain: db
  containers: [{name: pg, image: postgres, ports: [{containerPort: 5432}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: default, labels: {app: db}}
spec:
  containers: [{name: pg, image: postgres, ports: [{containerPort: 5432}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-2, namespace: default, labels: {app: db}}
spec:
  hostname: db-2
  subdomain: elsewhere
  containers: [{name: pg, image: postgres, ports: [{containerPort: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: default}
spec:
  clusterIP: None
  selector: {app: nothing-has-this-label}
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: default}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: legacy-1
  namespace: default
  labels: {kubernetes.io/service-name: legacy}
addressType: IPv4
endpoints:
- addresses: [192.0.2.50]
  conditions: {ready: false}
ports: [{name: pg, port: 5432, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec: {type: ExternalName, externalName: db.example.com}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: default}
spec:
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
  - host: "*.apps.example.com"
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
"""

SEARCH = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    made = Cluster.create(ClusterConfig(cni="flannel"), seed=1)
    apply_text(made, SCENARIO)
    return made


def pod(namespace: str = "default", **spec: object) -> dict:
    """A client pod: resolve() reads only its namespace and DNS settings."""
    return {"metadata": {"namespace": namespace, "name": "client"}, "spec": dict(spec)}


def cluster_ip(cluster: Cluster, name: str, namespace: str = "default") -> str:
    return cluster.get("Service", namespace, name)["spec"]["clusterIP"]


def pod_ip(cluster: Cluster, name: str) -> str:
    return cluster.get("Pod", "default", name)["status"]["podIP"]


def tried(result) -> list[tuple[str, str, str]]:
    return [(a.name, a.rcode, a.server) for a in result.tried]


# --- the resolver: resolv.conf(5) search list and ndots ------------------------------------------
def test_short_name_walks_the_search_list_and_first_match_wins(cluster):
    result = resolve(cluster, pod(), "web")
    assert tried(result) == [("web.default.svc.cluster.local.", "NOERROR", "coredns")]
    assert result.rcode == "NOERROR"
    assert result.addresses() == [cluster_ip(cluster, "web")]
    assert result.nameserver == c.KUBE_DNS_IP and result.search == SEARCH and result.ndots == 5


def test_name_found_nowhere_tries_every_search_domain_then_the_name_as_given(cluster):
    result = resolve(cluster, pod(), "api")
    assert tried(result) == [
        ("api.default.svc.cluster.local.", "NXDOMAIN", "coredns"),
        ("api.svc.cluster.local.", "NXDOMAIN", "coredns"),
        ("api.cluster.local.", "NXDOMAIN", "coredns"),
        ("api.", "NXDOMAIN", "upstream"),
    ]
    assert (result.rcode, result.answers) == ("NXDOMAIN", [])


def test_service_in_another_namespace_needs_its_namespace_in_the_name(cluster):
    assert resolve(cluster, pod(), "api").rcode == "NXDOMAIN"
    result = resolve(cluster, pod(), "api.shop")
    assert tried(result) == [
        ("api.shop.default.svc.cluster.local.", "NXDOMAIN", "coredns"),
        ("api.shop.svc.cluster.local.", "NOERROR", "coredns"),
    ]
    assert result.addresses() == [cluster_ip(cluster, "api", "shop")]
    # From inside shop, the short name is enough: the first search domain is the pod's own.
    assert resolve(cluster, pod("shop"), "api").tried[0].name == "api.shop.svc.cluster.local."


def test_name_with_five_dots_is_tried_as_given_first(cluster):
    result = resolve(cluster, pod(), "a.b.c.d.example.com")
    assert tried(result) == [("a.b.c.d.example.com.", "NOERROR", "upstream")]


def test_full_service_name_without_trailing_dot_still_walks_the_search_list_first(cluster):
    # Four dots < ndots:5, so the search domains come first: the classic ndots:5 overhead.
    result = resolve(cluster, pod(), "web.default.svc.cluster.local")
    assert [a.name for a in result.tried] == [
        "web.default.svc.cluster.local.default.svc.cluster.local.",
        "web.default.svc.cluster.local.svc.cluster.local.",
        "web.default.svc.cluster.local.cluster.local.",
        "web.default.svc.cluster.local.",
    ]
    assert result.addresses() == [cluster_ip(cluster, "web")]


def test_trailing_dot_makes_the_name_absolute(cluster):
    result = resolve(cluster, pod(), "web.default.svc.cluster.local.")
    assert tried(result) == [("web.default.svc.cluster.local.", "NOERROR", "coredns")]
    assert tried(resolve(cluster, pod(), "web.")) == [("web.", "NXDOMAIN", "upstream")]


def test_public_name_goes_through_the_search_list_then_upstream(cluster):
    result = resolve(cluster, pod(), "example.com")
    assert tried(result) == [
        ("example.com.default.svc.cluster.local.", "NXDOMAIN", "coredns"),
        ("example.com.svc.cluster.local.", "NXDOMAIN", "coredns"),
        ("example.com.cluster.local.", "NXDOMAIN", "coredns"),
        ("example.com.", "NOERROR", "upstream"),
    ]
    assert ipaddress.ip_address(result.addresses()[0]) in c.PUBLIC_HOSTS


def test_dns_config_ndots_option_changes_the_order(cluster):
    client = pod(dnsConfig={"options": [{"name": "ndots", "value": "1"}]})
    result = resolve(cluster, client, "example.com")
    assert result.ndots == 1
    assert tried(result) == [("example.com.", "NOERROR", "upstream")]


def test_nodata_ends_the_walk(cluster):
    # `default.svc.cluster.local` exists (a namespace) but has no A record: NOERROR, no answers.
    result = resolve(cluster, pod(), "default")
    assert tried(result) == [
        ("default.default.svc.cluster.local.", "NXDOMAIN", "coredns"),
        ("default.svc.cluster.local.", "NOERROR", "coredns"),
    ]
    assert (result.rcode, result.answers) == ("NOERROR", [])


# --- resolv.conf from the DNS policy ------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, (c.KUBE_DNS_IP, ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], 5)),
        ({"dnsPolicy": "Default"}, (UPSTREAM_RESOLVER, [], 1)),
        # hostNetwork with ClusterFirst falls back to Default ...
        ({"hostNetwork": True}, (UPSTREAM_RESOLVER, [], 1)),
        # ... unless it asks for ClusterFirstWithHostNet.
        (
            {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"},
            (c.KUBE_DNS_IP, ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], 5),
        ),
        (
            {
                "dnsPolicy": "None",
                "dnsConfig": {
                    "nameservers": ["1.1.1.1"],
                    "searches": ["corp.example.com"],
                    "options": [{"name": "ndots", "value": "2"}],
                },
            },
            ("1.1.1.1", ["corp.example.com"], 2),
        ),
        (
            {"dnsConfig": {"searches": ["corp.example.com"]}},
            (
                c.KUBE_DNS_IP,
                [
                    "shop.svc.cluster.local",
                    "svc.cluster.local",
                    "cluster.local",
                    "corp.example.com",
                ],
                5,
            ),
        ),
    ],
)
def test_resolv_conf_follows_the_pods_dns_policy(cluster, spec, expected):
    conf = resolv_conf(cluster, pod("shop", **spec))
    assert (conf["nameserver"], conf["search"], conf["ndots"]) == expected


# --- CoreDNS records -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "rcode", "data"),
    [
        ("kubernetes.default.svc.cluster.local", "NOERROR", ["10.96.0.1"]),
        ("kube-dns.kube-system.svc.cluster.local", "NOERROR", ["10.96.0.10"]),
        ("nothing.default.svc.cluster.local", "NXDOMAIN", []),
        ("web.no-such-namespace.svc.cluster.local", "NXDOMAIN", []),
        ("no-such-namespace.svc.cluster.local", "NXDOMAIN", []),
        ("default.svc.cluster.local", "NOERROR", []),  # an existing namespace: NODATA
        ("svc.cluster.local", "NOERROR", []),
        ("cluster.local", "NOERROR", []),
        ("web.default.cluster.local", "NXDOMAIN", []),  # neither svc nor pod
        ("a.b.c.web.default.svc.cluster.local", "NXDOMAIN", []),  # too long
    ],
)
def test_cluster_names_that_do_not_exist_are_nxdomain(cluster, name, rcode, data):
    got_rcode, records = coredns_answer(cluster, name, "A")
    assert (got_rcode, [r.data for r in records]) == (rcode, data)


def test_service_a_record_is_the_cluster_ip_with_the_corefile_ttl(cluster):
    rcode, records = coredns_answer(cluster, "web.default.svc.cluster.local.", "A")
    assert (rcode, records) == (
        "NOERROR",
        [Record("web.default.svc.cluster.local.", "A", cluster_ip(cluster, "web"), 30)],
    )


def test_headless_service_answers_one_a_record_per_ready_endpoint(cluster):
    result = resolve(cluster, pod(), "db")
    assert sorted(result.addresses()) == sorted(
        pod_ip(cluster, name) for name in ("db-0", "db-1", "db-2")
    )
    assert {r.name for r in result.answers} == {"db.default.svc.cluster.local."}


@pytest.mark.parametrize("service", ["nobody", "legacy"])
def test_headless_service_without_ready_endpoints_is_nxdomain(cluster, service):
    # nobody: its selector matches no pod; legacy: its only endpoint is not ready.
    assert cluster.get("EndpointSlice", "default", "legacy-1")["endpoints"][0]["conditions"] == {
        "ready": False
    }
    rcode, records = coredns_answer(cluster, f"{service}.default.svc.cluster.local", "A")
    assert (rcode, records) == ("NXDOMAIN", [])


def test_srv_records_exist_only_for_named_ports(cluster):
    web = "web.default.svc.cluster.local."
    table = {
        # _<port>._<proto>.<svc>: the Service port and the Service's name.
        f"_http._tcp.{web}": ("NOERROR", [f"0 100 80 {web}"]),
        f"_metrics._udp.{web}": ("NOERROR", [f"0 100 9090 {web}"]),
        f"_http._udp.{web}": ("NXDOMAIN", []),  # the protocol must match too
        f"_grpc._tcp.{web}": ("NXDOMAIN", []),
        # api's only port has no name, so it has no _<port>._<proto> record at all.
        "_http._tcp.api.shop.svc.cluster.local.": ("NXDOMAIN", []),
        # Headless: one per ready endpoint, the endpoint's port, its hostname (or dashed IP).
        "_pg._tcp.db.default.svc.cluster.local.": (
            "NOERROR",
            sorted(
                [
                    "0 33 5432 db-0.db.default.svc.cluster.local.",
                    f"0 33 5432 {pod_ip(cluster, 'db-1').replace('.', '-')}.db.default.svc.cluster.local.",
                    f"0 33 5432 {pod_ip(cluster, 'db-2').replace('.', '-')}.db.default.svc.cluster.local.",
                ]
            ),
        ),
    }
    for name, expected in table.items():
        rcode, records = coredns_answer(cluster, name, "SRV")
        assert (rcode, sorted(r.data for r in records)) == expected, name


def test_srv_query_for_the_service_name_itself_lists_every_port(cluster):
    # CoreDNS treats the missing _port._proto labels as "any" (matchPortAndProtocol).
    rcode, records = coredns_answer(cluster, "web.default.svc.cluster.local", "SRV")
    assert rcode == "NOERROR"
    assert [r.data for r in records] == [
        "0 50 80 web.default.svc.cluster.local.",
        "0 50 9090 web.default.svc.cluster.local.",
    ]


def test_external_name_is_a_cname_followed_upstream(cluster):
    result = resolve(cluster, pod(), "ext")
    target_ip = public_answer(cluster, "db.example.com", "A")[1][0].data
    assert tried(result) == [("ext.default.svc.cluster.local.", "NOERROR", "coredns")]
    assert result.answers == [
        Record("ext.default.svc.cluster.local.", "CNAME", "db.example.com."),
        Record("db.example.com.", "A", target_ip),
    ]
    assert result.addresses() == [target_ip]
    # A CNAME query gets the CNAME alone; the public target has no AAAA.
    assert coredns_answer(cluster, "ext.default.svc.cluster.local", "CNAME")[1] == [
        Record("ext.default.svc.cluster.local.", "CNAME", "db.example.com.")
    ]
    assert [r.type for r in resolve(cluster, pod(), "ext", "AAAA").answers] == ["CNAME"]


@pytest.mark.parametrize(
    ("name", "rcode", "data"),
    [
        ("10-244-1-5.default.pod.cluster.local", "NOERROR", ["10.244.1.5"]),
        ("1-2-3-4.shop.pod.cluster.local", "NOERROR", ["1.2.3.4"]),  # pods insecure: any address
        ("10-244-1.default.pod.cluster.local", "NXDOMAIN", []),
        ("10-244-1-300.default.pod.cluster.local", "NXDOMAIN", []),
        ("10-244-1-5.no-such-namespace.pod.cluster.local", "NXDOMAIN", []),
    ],
)
def test_pod_a_records_are_its_dashed_address_under_its_namespace(cluster, name, rcode, data):
    got_rcode, records = coredns_answer(cluster, name, "A")
    assert (got_rcode, [r.data for r in records]) == (rcode, data)


def test_pod_hostname_and_subdomain_give_a_record_under_the_headless_service(cluster):
    result = resolve(cluster, pod(), "db-0.db")
    assert tried(result) == [("db-0.db.default.svc.cluster.local.", "NOERROR", "coredns")]
    assert result.addresses() == [pod_ip(cluster, "db-0")]
    # db-2 has a hostname, but its subdomain names another Service: no hostname record,
    # though its dashed address still names it under db.
    assert coredns_answer(cluster, "db-2.db.default.svc.cluster.local", "A") == ("NXDOMAIN", [])
    dashed = pod_ip(cluster, "db-2").replace(".", "-")
    _, records = coredns_answer(cluster, f"{dashed}.db.default.svc.cluster.local", "A")
    assert [r.data for r in records] == [pod_ip(cluster, "db-2")]


def test_aaaa_for_a_name_that_exists_is_nodata_in_an_ipv4_cluster(cluster):
    result = resolve(cluster, pod(), "web", "AAAA")
    assert tried(result) == [("web.default.svc.cluster.local.", "NOERROR", "coredns")]
    assert (result.rcode, result.answers) == ("NOERROR", [])
    assert coredns_answer(cluster, "nothing.default.svc.cluster.local", "AAAA")[0] == "NXDOMAIN"
    assert public_answer(cluster, "example.org", "AAAA") == ("NOERROR", [])


def test_ptr_for_a_cluster_ip_names_the_service(cluster):
    ip = cluster_ip(cluster, "web")
    result = resolve(cluster, pod(), ip, "PTR")  # an address becomes its reverse name, as dig -x
    reverse = ".".join(reversed(ip.split("."))) + ".in-addr.arpa."
    assert tried(result) == [(reverse, "NOERROR", "coredns")]
    assert result.answers == [Record(reverse, "PTR", "web.default.svc.cluster.local.")]
    assert coredns_answer(cluster, "10.0.96.10.in-addr.arpa", "PTR")[1][0].data == (
        "kube-dns.kube-system.svc.cluster.local."
    )


def test_ptr_for_an_endpoint_names_its_hostname_under_the_service(cluster):
    _, records = coredns_answer(
        cluster, ipaddress.ip_address(pod_ip(cluster, "db-0")).reverse_pointer, "PTR"
    )
    assert [r.data for r in records] == ["db-0.db.default.svc.cluster.local."]
    ip = pod_ip(cluster, "db-1")
    _, records = coredns_answer(cluster, ipaddress.ip_address(ip).reverse_pointer, "PTR")
    assert [r.data for r in records] == [f"{ip.replace('.', '-')}.db.default.svc.cluster.local."]


def test_ptr_that_coredns_does_not_know_falls_through_upstream(cluster):
    result = resolve(cluster, pod(), "10.244.99.99", "PTR")
    assert tried(result) == [("99.99.244.10.in-addr.arpa.", "NXDOMAIN", "upstream")]


# --- the simulated public DNS --------------------------------------------------------------------
def test_ingress_host_resolves_publicly_to_the_controllers_load_balancer(cluster):
    controller = cluster.get("Service", "ingress-nginx", "ingress-nginx-controller")
    lb_ip = controller["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert ipaddress.ip_address(lb_ip) in c.LOAD_BALANCER_POOL
    table = {
        "shop.example.com": lb_ip,
        "cart.apps.example.com": lb_ip,  # the wildcard host covers exactly one label
        "a.cart.apps.example.com": None,
        "apps.example.com": None,
    }
    for name, expected in table.items():
        result = resolve(cluster, None, name)
        assert tried(result) == [(f"{name}.", "NOERROR", "upstream")]
        if expected:
            assert result.addresses() == [expected], name
        else:
            assert ipaddress.ip_address(result.addresses()[0]) in c.PUBLIC_HOSTS, name


def test_reserved_test_zones_get_stable_documentation_addresses(cluster):
    names = [f"host{i}.example.{tld}" for i in range(300) for tld in ("com", "net", "org")]
    first = {n: public_answer(cluster, n, "A")[1][0].data for n in names}
    assert first == {n: public_answer(cluster, n, "A")[1][0].data for n in names}
    hosts = {int(ip.rsplit(".", 1)[1]) for ip in first.values()}
    assert all(ipaddress.ip_address(ip) in c.PUBLIC_HOSTS for ip in first.values())
    assert 0 not in hosts and 255 not in hosts and len(hosts) > 200


@pytest.mark.parametrize(
    "name",
    [
        "printer.local",
        "app.test",
        "nothing.invalid",
        "localhost",
        "db.corp.internal",
        "web.default.svc.cluster.local",
        "web.default",  # no such top-level domain
        "web",
    ],
)
def test_special_use_and_cluster_looking_names_are_nxdomain_publicly(cluster, name):
    assert public_answer(cluster, name, "A") == ("NXDOMAIN", [])


def test_a_node_cannot_resolve_cluster_names(cluster):
    # A kubeadm node's /etc/resolv.conf points at the network's resolver, not at kube-dns.
    result = resolve(cluster, None, "web.default.svc.cluster.local")
    assert (result.nameserver, result.search, result.ndots) == (UPSTREAM_RESOLVER, [], 1)
    assert tried(result) == [("web.default.svc.cluster.local.", "NXDOMAIN", "upstream")]
    assert result.rcode == "NXDOMAIN"
    # A hostNetwork pod with the default policy is in the same place; ClusterFirstWithHostNet fixes it.
    assert (
        resolve(cluster, pod(hostNetwork=True), "web.default.svc.cluster.local").rcode == "NXDOMAIN"
    )
    fixed = resolve(
        cluster,
        pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"),
        "web.default.svc.cluster.local",
    )
    assert fixed.addresses() == [cluster_ip(cluster, "web")]


# --- the contract around it ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "qtype", "field"),
    [
        ("web", "MX", "type"),
        ("web", "", "type"),
        ("web..default", "A", "name"),
        ("", "A", "name"),
        (".", "A", "name"),
        ("web/default", "A", "name"),
        ("a" * 64, "A", "name"),
    ],
)
def test_bad_queries_raise_naming_the_field(cluster, name, qtype, field):
    with pytest.raises(InvalidObjects) as caught:
        resolve(cluster, pod(), name, qtype)
    assert [e.field for e in caught.value.errors] == [field]


def test_query_type_and_name_are_case_insensitive(cluster):
    assert resolve(cluster, pod(), "WEB", "a").addresses() == [cluster_ip(cluster, "web")]


def test_an_address_needs_no_lookup(cluster):
    result = resolve(cluster, pod(), "10.96.0.1")
    assert (result.tried, result.rcode, result.addresses()) == ([], "NOERROR", ["10.96.0.1"])


def test_to_dict_is_json_ready(cluster):
    data = resolve(cluster, pod(), "ext").to_dict()
    assert list(data) == [
        "query",
        "type",
        "nameserver",
        "search",
        "ndots",
        "tried",
        "rcode",
        "answers",
    ]
    assert json.loads(json.dumps(data)) == data
    assert data["query"] == "ext" and data["type"] == "A"
    assert data["tried"][0]["answers"][0] == {
        "name": "ext.default.svc.cluster.local.",
        "type": "CNAME",
        "data": "db.example.com.",
        "ttl": 30,
    }
    assert list(data["tried"][0]) == ["name", "rcode", "answers", "server", "authority"]


def test_resolving_changes_nothing_in_the_cluster(cluster):
    before = (cluster.state.writes, json.dumps(cluster.to_state(), sort_keys=True))
    for name, qtype in [("web", "A"), ("db", "SRV"), ("10.96.0.1", "PTR"), ("example.com", "A")]:
        resolve(cluster, pod(), name, qtype)
    assert (cluster.state.writes, json.dumps(cluster.to_state(), sort_keys=True)) == before
