"""nslookup in a pod of a dual-stack or IPv6 cluster.

Source: BusyBox networking/nslookup.c with FEATURE_NSLOOKUP_BIG (the busybox image's
nslookup): with no ``-type`` it asks PTR for an address and, for a name, an A query then an
AAAA query ("we issue A+AAAA queries"), printing each reply in turn, each followed by an empty
line; A and AAAA answers have the same ``Name:`` / ``Address:`` lines; a reply with no records
is ``*** Can't find NAME: No answer``; only an error rcode sets the exit code.
"""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.scenarios import build
from app.cluster.state import ClusterConfig
from app.terminal import Session, run

CLIENT = Session("pod/default/client")
OBJECTS = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: client}\n"
    "spec: {containers: [{name: c, image: busybox}]}\n---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    "spec: {ipFamilyPolicy: PreferDualStack, selector: {app: web}, ports: [{port: 80}]}\n"
)


def cluster_of(mode: str) -> Cluster:
    cluster = Cluster.create(ClusterConfig(ip_family=mode), seed=1)
    apply_text(cluster, OBJECTS)
    return cluster


def cluster_ips(cluster: Cluster) -> list[str]:
    return cluster.get("Service", "default", "web")["spec"]["clusterIPs"]


def test_a_dual_stack_name_prints_the_a_reply_then_the_aaaa_reply() -> None:
    cluster = cluster_of("dual")
    ip4, ip6 = cluster_ips(cluster)
    reply = run(cluster, "nslookup web", CLIENT)
    assert reply.status == 0
    assert reply.output == (
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n"
        f"Name:\tweb.default.svc.cluster.local\nAddress: {ip4}\n\n"
        f"Name:\tweb.default.svc.cluster.local\nAddress: {ip6}\n\n"
    )
    assert [lookup[2] for lookup in reply.lookups] == ["A", "AAAA"]


def test_a_single_stack_service_on_dual_stack_has_no_aaaa_answer_and_still_succeeds() -> None:
    cluster = cluster_of("dual")
    reply = run(cluster, "nslookup kubernetes.default", CLIENT)
    assert reply.status == 0
    assert reply.output.endswith(
        "Address: 10.96.0.1\n\n*** Can't find kubernetes.default.svc.cluster.local: No answer\n\n"
    )


def test_an_ipv6_cluster_answers_the_aaaa_query_only() -> None:
    cluster = cluster_of("ipv6")
    (ip6,) = cluster_ips(cluster)
    reply = run(cluster, "nslookup web", CLIENT)
    assert reply.status == 0
    assert reply.output == (
        "Server:\t\tfd00:10:96::a\nAddress:\tfd00:10:96::a#53\n\n"
        "*** Can't find web.default.svc.cluster.local: No answer\n\n"
        f"Name:\tweb.default.svc.cluster.local\nAddress: {ip6}\n\n"
    )


def test_a_type_asks_that_one_query_and_an_address_a_ptr() -> None:
    cluster = cluster_of("dual")
    ip6 = cluster_ips(cluster)[1]
    only = run(cluster, "nslookup -type=AAAA web", CLIENT).output
    assert only.count("Name:\t") == 1 and ip6 in only
    assert [lookup[2] for lookup in run(cluster, f"nslookup {ip6}", CLIENT).lookups] == ["PTR"]


def test_an_unknown_name_fails_with_nxdomain_for_each_query() -> None:
    reply = run(cluster_of("dual"), "nslookup nope", CLIENT)
    assert reply.status == 1
    assert reply.output.count("** server can't find nope: NXDOMAIN\n\n") == 2


def test_an_ipv4_cluster_keeps_the_single_a_reply() -> None:
    reply = run(build("web-service"), "nslookup web", CLIENT)
    assert reply.output.count("Name:\t") == 1 and "No answer" not in reply.output
