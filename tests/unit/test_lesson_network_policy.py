"""The NetworkPolicy lesson (issue 14): its checks refuse the likely wrong policies with a
message naming what still gets through (or what is still dropped), and what it says holds for
real Kubernetes, each fact with its source (kubernetes.io/docs/concepts/services-networking/
network-policies/ unless named) in the test's docstring and the lesson file's comments."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.lessons.actions import run_actions
from app.lessons.model import Action
from app.network.trace import trace
from tests.unit.test_lesson_facts import at_step, cited, learner_traces, outcome, quiz_answer, said

SLUG = "network-policy"


def policy(name: str, namespace: str, spec: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec: {spec}\n"
    )


def test_default_deny_is_a_policy_selecting_every_pod_and_not_one_selecting_only_api():
    """An empty podSelector selects every pod of the namespace; a pod no policy selects
    accepts everything (db keeps its doors open when only api is selected)."""
    cluster, item = at_step(SLUG, "default-deny")
    apply_text(
        cluster, policy("default-deny", "backend", "{podSelector: {matchLabels: {app: api}}}")
    )
    half = outcome(cluster, item, "default-deny", "traces")
    assert not half.passed and ":5432" in half.message and "delivered" in half.message
    apply_text(cluster, policy("default-deny", "backend", "{podSelector: {}}"))
    assert outcome(cluster, item, "default-deny", "traces").passed


def test_allowing_everyone_in_is_not_allowing_a_namespace_in():
    cluster, item = at_step(SLUG, "from-namespace")
    apply_text(
        cluster,
        policy(
            "allow-frontend", "backend", "{podSelector: {matchLabels: {app: api}}, ingress: [{}]}"
        ),
    )
    everyone = outcome(cluster, item, "from-namespace", "traces")
    assert not everyone.passed and "from client" in everyone.message
    assert "this step needs it dropped" in everyone.message


def test_a_rule_naming_the_services_port_lets_nothing_in():
    """A policy sees the packet after kube-proxy's DNAT: the pod's port (8080), not the
    Service's (80)."""
    cluster, item = at_step(SLUG, "from-namespace")
    apply_text(
        cluster,
        policy(
            "allow-frontend",
            "backend",
            "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{namespaceSelector: "
            "{matchLabels: {kubernetes.io/metadata.name: frontend}}}], ports: [{port: 80}]}]}",
        ),
    )
    wrong_port = outcome(cluster, item, "from-namespace", "traces")
    assert not wrong_port.passed and "no rule allows TCP 8080" in wrong_port.message


def test_two_peers_are_or_one_peer_with_both_selectors_is_and():
    """Docs, "Behavior of to and from selectors": two from elements allow either; one element
    with namespaceSelector and podSelector allows pods matching both."""
    cluster, item = at_step(SLUG, "and-or")
    learner_traces(cluster, "frontend/crawler", "http://api.backend/")
    assert outcome(cluster, item, "and-or", "traced").passed
    as_given = outcome(cluster, item, "and-or", "traces")
    assert not as_given.passed and "from frontend/crawler" in as_given.message
    assert "it was delivered" in as_given.message
    apply_text(
        cluster,
        policy(
            "allow-frontend",
            "backend",
            "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{namespaceSelector: "
            "{matchLabels: {kubernetes.io/metadata.name: frontend}}, podSelector: "
            "{matchLabels: {app: ui}}}]}]}",
        ),
    )
    assert outcome(cluster, item, "and-or", "traces").passed
    text = said(SLUG)
    assert "every pod in frontend, or the pods labelled app: ui in backend" in text
    assert "kubectl describe" in cited(SLUG)


def test_a_default_deny_egress_drops_the_dns_query_first():
    """A pod isolated for egress sends only what a rule allows, DNS queries included: the
    lookup of the Service's name (UDP 53 to a CoreDNS pod) is what is dropped first."""
    cluster, item = at_step(SLUG, "dns-egress")
    only_api = policy(
        "allow-api",
        "frontend",
        "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: "
        "{matchLabels: {kubernetes.io/metadata.name: backend}}}], ports: [{port: 8080}]}]}",
    )
    apply_text(cluster, only_api)
    no_dns = outcome(cluster, item, "dns-egress", "traces")
    assert not no_dns.passed and "DNS lookup of api.backend never gets an answer" in no_dns.message
    assert "UDP 53" in no_dns.message
    apply_text(
        cluster,
        policy(
            "allow-all-out", "frontend", "{podSelector: {}, policyTypes: [Egress], egress: [{}]}"
        ),
    )
    everything = outcome(cluster, item, "dns-egress", "traces")
    assert not everything.passed and "192.0.2.10" in everything.message


def test_the_dns_rule_is_taught_on_udp_and_tcp_53_to_kube_dns():
    """RFC 7766: DNS over TCP as well as UDP; kube-dns's pods carry k8s-app: kube-dns."""
    right, _ = quiz_answer(SLUG, "default deny for egress")
    assert "UDP and TCP port 53" in right
    text = said(SLUG)
    assert "k8s-app: kube-dns" in text and "RFC 7766" in cited(SLUG)


def test_isolation_policy_types_and_the_namespace_name_label_are_said_as_kubernetes_defines_them():
    """Isolated for ingress by a selecting policy with Ingress in policyTypes; without
    policyTypes, Ingress is set and Egress only with egress rules; policies are additive;
    kubernetes.io/metadata.name is set on every namespace by the control plane."""
    text = said(SLUG)
    assert "isolated for ingress" in text
    assert (
        "Without policyTypes, Kubernetes sets Ingress, and adds Egress only when the policy has egress rules"
        in text
    )
    assert "Policies only ever allow, and they add up" in text
    assert "The control plane gives every namespace the label kubernetes.io/metadata.name" in text
    right, _ = quiz_answer(SLUG, "policyTypes: [Ingress], with no rules")
    assert "accepts no new connections" in right and "not limited" in right


def test_flannel_accepts_policies_and_enforces_none():
    """Prerequisites: a policy without a controller that implements it has no effect;
    flannel-io/flannel README: flannel does no network policy."""
    cluster, item = at_step(SLUG, "flannel")
    run_actions(cluster, [Action("switch", {"cni": "flannel"}, None)])
    assert cluster.list("NetworkPolicy", "backend"), "the policies stay in the API"
    result = trace(cluster, "pod/default/client", "http://api.backend/")
    assert result.verdict == "delivered"
    assert "flannel does not enforce NetworkPolicy" in result.reason
    learner_traces(cluster, "client", "http://api.backend/")
    assert outcome(cluster, item, "flannel", "traced").passed
    right, why = quiz_answer(SLUG, "flannel")
    assert "stores it" in right and "flannel implements none" in why
    assert "flannel-io/flannel README" in cited(SLUG) and "Prerequisites" in cited(SLUG)
