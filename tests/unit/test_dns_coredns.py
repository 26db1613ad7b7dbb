"""CoreDNS's answers where they go beyond a Service's A record: letter case, the zone's SOA,
NS and ``dns-version`` TXT, and ExternalName names with extra labels.

Each test names the case of CoreDNS's own test tables it mirrors (coredns/coredns
``plugin/kubernetes/handler_test.go`` ``commonDnsTestCases``, ``handler_case_test.go``
``dnsPreserveCaseCases``, ``kubernetes_apex_test.go`` ``kubeApexCases``) or the Kubernetes DNS
specification (kubernetes/dns ``docs/specification.md``). CoreDNS's tests run with ``ttl 5``
and a fixed serial; kubeadm's Corefile says ``ttl 30``, and the serial is the time of the last
change, so those two numbers differ here and nothing else does.
"""

from __future__ import annotations

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.scenarios import build
from app.cluster.state import ClusterConfig
from app.network.coredns import apex
from app.network.dns import Record, ask, coredns_answer, resolve
from app.terminal.dns_tools import dig, nslookup
from app.terminal.session import Session

SCENARIO = """
apiVersion: v1
kind: Namespace
metadata: {name: testns}
---
apiVersion: v1
kind: Service
metadata: {name: svc1, namespace: testns}
spec:
  selector: {app: svc1}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: testns}
spec: {type: ExternalName, externalName: ext.interwebs.example.com}
"""


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    made = Cluster.create(ClusterConfig(cni="flannel"), seed=1)
    apply_text(made, SCENARIO)
    return made


def svc1_ip(cluster: Cluster) -> str:
    return cluster.get("Service", "testns", "svc1")["spec"]["clusterIP"]


def soa(zone: str, cluster: Cluster) -> Record:
    """The SOA CoreDNS writes: ``<zone> SOA ns.dns.<zone> hostmaster.<zone> <serial> 7200 1800
    86400 <ttl>``, as every case of its test tables spells it."""
    serial = apex.serial(cluster)
    return Record(zone, "SOA", f"ns.dns.{zone} hostmaster.{zone} {serial} 7200 1800 86400 30")


# --- handler_case_test.go: dnsPreserveCaseCases -------------------------------------------------
def test_preserve_case_a_service_is_answered_under_the_name_as_asked(cluster):
    """dnsPreserveCaseCases "A Service": SvC1.TeStNs.SvC.cLuStEr.LoCaL. A."""
    name = "SvC1.TeStNs.SvC.cLuStEr.LoCaL."
    assert coredns_answer(cluster, name, "A") == ("NOERROR", [Record(name, "A", svc1_ip(cluster))])


def test_preserve_case_srv_target_keeps_the_zone_as_asked(cluster):
    """dnsPreserveCaseCases "SRV Service": the owner as asked; the target is the Service's own
    name, lower case, under the question's spelling of the zone."""
    name = "_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL."
    rcode, records = coredns_answer(cluster, name, "SRV")
    assert (rcode, records) == (
        "NOERROR",
        [Record(name, "SRV", "0 100 80 svc1.testns.svc.cLuStEr.LoCaL.")],
    )


def test_preserve_case_negative_answer_carries_the_soa_in_the_asked_case(cluster):
    """dnsPreserveCaseCases "Negative response": not-a-service...ClUsTeR.lOcAl. is NXDOMAIN with
    ClUsTeR.lOcAl.'s SOA in the authority section."""
    answer = ask(cluster, "not-a-service.testns.svc.ClUsTeR.lOcAl.", "A")
    assert (answer.rcode, answer.answers) == ("NXDOMAIN", [])
    assert answer.authority == [soa("ClUsTeR.lOcAl.", cluster)]


def test_preserve_case_soa_of_the_apex(cluster):
    """dnsPreserveCaseCases: Cluster.local. SOA is answered as Cluster.local."""
    assert coredns_answer(cluster, "Cluster.local.", "SOA") == (
        "NOERROR",
        [soa("Cluster.local.", cluster)],
    )


def test_a_pod_resolver_keeps_the_case_through_the_search_list(cluster):
    """The resolver sends the name as typed plus each search domain; CoreDNS answers in kind."""
    client = {"metadata": {"namespace": "testns", "name": "c"}, "spec": {}}
    result = resolve(cluster, client, "SvC1")
    assert result.answers == [Record("SvC1.testns.svc.cluster.local.", "A", svc1_ip(cluster))]


# --- handler_test.go: commonDnsTestCases --------------------------------------------------------
def test_txt_schema_dns_version(cluster):
    """commonDnsTestCases "TXT Schema": dns-version.cluster.local. 28800 IN TXT "1.1.0"
    (specification 2.2, the schema version)."""
    assert coredns_answer(cluster, "dns-version.cluster.local.", "TXT") == (
        "NOERROR",
        [Record("dns-version.cluster.local.", "TXT", '"1.1.0"', 28800)],
    )


def test_txt_for_an_existing_name_is_nodata_and_for_a_missing_one_nxdomain(cluster):
    """commonDnsTestCases: "A TXT record does not exist but another record for the same FQDN
    does" (NOERROR + SOA) and "...neither does another record" (NXDOMAIN + SOA)."""
    existing = ask(cluster, "svc1.testns.svc.cluster.local.", "TXT")
    missing = ask(cluster, "svc0.svc-nons.svc.cluster.local.", "TXT")
    assert (existing.rcode, existing.answers) == ("NOERROR", [])
    assert (missing.rcode, missing.answers) == ("NXDOMAIN", [])
    assert existing.authority == missing.authority == [soa("cluster.local.", cluster)]


def test_soa_query_below_the_apex_is_nodata_with_the_soa(cluster):
    """commonDnsTestCases: svc1.testns.svc.cluster.local. SOA is NOERROR, the SOA in authority."""
    answer = ask(cluster, "svc1.testns.svc.cluster.local.", "SOA")
    assert (answer.rcode, answer.answers) == ("NOERROR", [])
    assert answer.authority == [soa("cluster.local.", cluster)]


@pytest.mark.parametrize(
    ("name", "rcode"),
    [
        ("svc.cluster.local.", "NOERROR"),  # "NS query for qname != zone (existing domain)"
        ("testns.svc.cluster.local.", "NOERROR"),
        ("foo.cluster.local.", "NXDOMAIN"),  # "NS query for qname != zone (non existing ...)"
        ("foo.svc.cluster.local.", "NXDOMAIN"),
    ],
)
def test_ns_query_below_the_apex_answers_as_an_a_query_would_decide(cluster, name, rcode):
    """commonDnsTestCases, the four "NS query for qname != zone" cases."""
    answer = ask(cluster, name, "NS")
    assert (answer.rcode, answer.answers) == (rcode, [])
    assert answer.authority == [soa("cluster.local.", cluster)]


@pytest.mark.parametrize(
    "name",
    [
        "endpoint.external.testns.svc.cluster.local.",  # "A query for a subdomain of an external"
        "subdomain.subdomain.external.testns.svc.cluster.local.",  # "...of a subdomain..."
        "_http._tcp.external.testns.svc.cluster.local.",  # findServices: no port/protocol labels
    ],
)
@pytest.mark.parametrize("qtype", ["CNAME", "A", "SRV"])
def test_external_name_with_extra_labels_is_nxdomain_not_a_cname(cluster, name, qtype):
    """commonDnsTestCases "A query for a subdomain of an external service should not resolve to
    the external service"; CoreDNS findServices skips an ExternalName whenever the query has an
    endpoint, port or protocol label."""
    answer = ask(cluster, name, qtype)
    assert (answer.rcode, answer.answers) == ("NXDOMAIN", [])
    assert answer.authority == [soa("cluster.local.", cluster)]


def test_external_name_itself_is_still_a_cname(cluster):
    """dnsTestCases "CNAME External": the Service's own name is the CNAME."""
    assert coredns_answer(cluster, "external.testns.svc.cluster.local.", "CNAME")[1] == [
        Record("external.testns.svc.cluster.local.", "CNAME", "ext.interwebs.example.com.")
    ]


# --- kubernetes_apex_test.go: kubeApexCases -----------------------------------------------------
def test_apex_soa(cluster):
    """kubeApexCases: cluster.local. SOA ns.dns.cluster.local. hostmaster.cluster.local. ...;
    the serial is the newest change CoreDNS saw, here a creationTimestamp (no clock)."""
    rcode, records = coredns_answer(cluster, "cluster.local.", "SOA")
    assert (rcode, records) == ("NOERROR", [soa("cluster.local.", cluster)])
    newest = max(
        apex._seconds(o["metadata"]["creationTimestamp"])
        for kind in ("Service", "EndpointSlice", "Namespace")
        for o in cluster.list(kind)
    )
    assert records[0].data.split()[2] == str(newest)


def test_apex_ns_is_the_dns_service_and_its_primary_answers_its_clusterip(cluster):
    """kubeApexCases "cluster.local. NS": the target is the Service in front of the CoreDNS pods
    (ns.go nsAddrs); ns.dns.cluster.local. (the SOA's primary) answers that Service's ClusterIP."""
    dns_ip = cluster.get("Service", "kube-system", "kube-dns")["spec"]["clusterIP"]
    assert coredns_answer(cluster, "cluster.local.", "NS") == (
        "NOERROR",
        [Record("cluster.local.", "NS", "kube-dns.kube-system.svc.cluster.local.")],
    )
    assert coredns_answer(cluster, "ns.dns.cluster.local.", "A")[1] == [
        Record("ns.dns.cluster.local.", "A", dns_ip)
    ]


@pytest.mark.parametrize("qtype", ["A", "AAAA", "SRV", "TXT"])
def test_apex_other_types_are_nodata_with_the_soa(cluster, qtype):
    """kubeApexCases: cluster.local. A, AAAA, SRV (HINFO here: TXT) are NOERROR, SOA in Ns."""
    answer = ask(cluster, "cluster.local.", qtype)
    assert (answer.rcode, answer.answers, answer.authority) == (
        "NOERROR",
        [],
        [soa("cluster.local.", cluster)],
    )


# --- the terminal and the JSON shape ------------------------------------------------------------
def test_dig_prints_the_authority_section_and_the_asked_case():
    """dig shows CoreDNS's SOA under AUTHORITY SECTION on NXDOMAIN, as a real dig does."""
    cluster = build("web-service")
    session = Session("pod/default/client")
    text = dig(cluster, session, ["nope.default.svc.Cluster.Local"]).text
    assert "status: NXDOMAIN" in text and "AUTHORITY: 1" in text
    authority = text.split(";; AUTHORITY SECTION:\n")[1].splitlines()[0]
    assert authority.split("\t")[:4] == ["Cluster.Local.", "30", "IN", "SOA"]
    assert authority.split("\t")[4].startswith("ns.dns.Cluster.Local. hostmaster.Cluster.Local.")
    txt = dig(cluster, session, ["+short", "dns-version.cluster.local", "TXT"]).text
    assert txt == '"1.1.0"\n'


def test_nslookup_prints_txt_and_ns_as_bind_does():
    cluster = build("web-service")
    session = Session("pod/default/client")
    text = nslookup(cluster, session, ["-type=txt", "dns-version.cluster.local."]).text
    assert 'dns-version.cluster.local\ttext = "1.1.0"' in text
    text = nslookup(cluster, session, ["-type=ns", "cluster.local."]).text
    assert "cluster.local\tnameserver = kube-dns.kube-system.svc.cluster.local." in text
