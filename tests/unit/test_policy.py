"""NetworkPolicy in traces, as the Kubernetes documentation defines it, enforced by the CNI."""

from __future__ import annotations

import pytest

from app.cluster.apply import apply_text
from app.network.trace import trace
from tests.unit.scenarios import cluster, deployment, service

DB = (
    deployment("db", 1, labels={"app": "db"}, ports=[{"name": "pg", "containerPort": 5432}])
    + "---\n"
    + service("db", selector={"app": "db"}, port=5432, target="pg")
)
CLIENT = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: {app}}}}}\nspec: {{containers: [{{name: c, image: busybox}}]}}\n"


def policy(name: str, body: str) -> str:
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{body}"


DENY_DB = policy(
    "db-only-api", "  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n"
)
ALLOW_API = policy(
    "db-from-api",
    "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: api}}}]\n    ports: [{port: pg}]\n",
)


def scenario(cni: str):
    c = cluster(cni=cni)
    apply_text(
        c,
        DB
        + "---\n"
        + CLIENT.format(name="api", app="api")
        + "---\n"
        + CLIENT.format(name="other", app="other"),
    )
    return c


@pytest.mark.parametrize("cni", ["calico", "weave", "cilium"])
def test_a_pod_selected_by_an_ingress_policy_accepts_only_what_a_rule_allows(cni):
    c = scenario(cni)
    apply_text(c, DENY_DB)
    t = trace(c, "pod/default/api", "db:5432")
    assert t.verdict == "dropped" and "default/db-only-api" in t.reason and "times out" in t.reason
    assert t.hops[-1].action == "drop" and t.hops[-1].where == "policy (ingress)"
    apply_text(c, ALLOW_API)
    assert trace(c, "pod/default/api", "db:5432").verdict == "delivered"
    assert trace(c, "pod/default/other", "db:5432").verdict == "dropped"


def test_flannel_stores_network_policies_but_does_not_enforce_them():
    c = scenario("flannel")
    apply_text(c, DENY_DB)
    t = trace(c, "pod/default/other", "db:5432")
    assert t.verdict == "delivered"
    assert "flannel does not enforce NetworkPolicy" in t.reason


def test_rule_ports_limit_what_is_allowed():
    c = scenario("calico")
    apply_text(
        c,
        policy(
            "db-3306",
            "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: 3306}]\n",
        ),
    )
    assert trace(c, "pod/default/api", "db:5432").verdict == "dropped"


def test_namespace_selector_allows_pods_of_matching_namespaces():
    c = scenario("calico")
    apply_text(
        c,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n---\n"
        + CLIENT.format(name="cart", app="cart").replace(
            "metadata: {", "metadata: {namespace: shop, "
        )
        + "---\n"
        + policy(
            "db-from-shop",
            "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: shop}}}]\n",
        ),
    )
    assert trace(c, "pod/shop/cart", "db.default:5432").verdict == "delivered"
    assert trace(c, "pod/default/api", "db:5432").verdict == "dropped"


def test_an_egress_policy_without_a_dns_rule_breaks_name_lookups():
    c = scenario("calico")
    apply_text(
        c,
        policy(
            "api-egress",
            "  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: db}}}]\n",
        ),
    )
    t = trace(c, "pod/default/api", "db:5432")
    assert t.verdict == "dropped" and "kube-dns" in t.reason
    assert all(h.phase == "dns" for h in t.hops)
    db_ip = c.get("Service", "default", "db")["spec"]["clusterIP"]
    assert trace(c, "pod/default/api", f"{db_ip}:5432").verdict == "delivered"
    apply_text(
        c,
        policy(
            "api-dns",
            "  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Egress]\n  egress:\n"
            "  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n"
            "    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n",
        ),
    )
    assert trace(c, "pod/default/api", "db:5432").verdict == "delivered"


def test_ip_block_sees_the_address_after_snat():
    """With externalTrafficPolicy: Cluster the node masquerades, so an ipBlock for the client's
    range never matches (entering at the other node, the pod sees that node's address); with
    Local the client's address reaches the pod and the rule allows it."""
    c = scenario("calico")
    apply_text(c, service("db", selector={"app": "db"}, port=5432, target="pg", type_="NodePort"))
    apply_text(
        c,
        policy(
            "db-from-outside",
            "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]\n",
        ),
    )
    svc = c.get("Service", "default", "db")
    db_node = next(p for p in c.list("Pod", "default") if p["metadata"]["name"].startswith("db-"))[
        "spec"
    ]["nodeName"]
    other = {"worker-1": "10.0.0.12", "worker-2": "10.0.0.11"}[db_node]
    url = f"{other}:{svc['spec']['ports'][0]['nodePort']}"
    assert trace(c, "external", url).verdict == "dropped"
    ip = {"worker-1": "10.0.0.11", "worker-2": "10.0.0.12"}[db_node]
    url = f"{ip}:{svc['spec']['ports'][0]['nodePort']}"
    apply_text(
        c,
        service("db", selector={"app": "db"}, port=5432, target="pg", type_="NodePort")
        + "  externalTrafficPolicy: Local\n",
    )
    assert trace(c, "external", url).verdict == "delivered"


def test_the_pods_own_node_always_gets_in():
    """Concept page: "traffic to and from the node where a Pod is running is always allowed,
    regardless of the IP address of the Pod or the node" (kubelet's probes come from there);
    another node is judged by the rules like any other address. So a client masqueraded by
    the pod's own node (NodePort, externalTrafficPolicy: Cluster) gets past a default deny."""
    c = scenario("calico")
    apply_text(c, service("db", selector={"app": "db"}, port=5432, target="pg", type_="NodePort"))
    apply_text(c, policy("deny-all", "  podSelector: {}\n"))
    db = next(p for p in c.list("Pod", "default") if p["metadata"]["name"].startswith("db-"))
    own = {"worker-1": "10.0.0.11", "worker-2": "10.0.0.12"}[db["spec"]["nodeName"]]
    other = {"worker-1": "10.0.0.12", "worker-2": "10.0.0.11"}[db["spec"]["nodeName"]]
    port = c.get("Service", "default", "db")["spec"]["ports"][0]["nodePort"]
    assert trace(c, "external", f"{other}:{port}").verdict == "dropped"
    assert trace(c, "external", f"{own}:{port}").verdict == "delivered"
    from_node = trace(c, f"node/{db['spec']['nodeName']}", f"{db['status']['podIP']}:5432")
    assert from_node.verdict == "delivered"
