"""The reachability matrix, held to the Kubernetes NetworkPolicy concept page
(https://kubernetes.io/docs/concepts/services-networking/network-policies/) and to traces:
every cell is what a trace of the same request says."""

from __future__ import annotations

import pytest

from app.cluster.apply import apply_text
from app.network.reachability import OUTSIDE, matrix, through_service
from app.network.trace import trace
from tests.unit.scenarios import cluster

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: {app}}}}}\n"
    "spec: {{containers: [{{name: c, image: nginx{ports}}}]}}\n---\n"
)


def pod(name: str, app: str | None = None, ns: str = "default", ports: str = "") -> str:
    return POD.format(name=name, app=app or name, ns=ns, ports=ports)


def policy(name: str, body: str, ns: str = "default") -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: {name}, namespace: {ns}}}\nspec:\n{body}---\n"
    )


NAMESPACE = (
    "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{team: {team}}}}}\n---\n"
)
DB_PORTS = ", ports: [{name: pg, containerPort: 5432}, {name: metrics, containerPort: 9187}]"


def shop(cni: str = "calico"):
    """db (5432 pg, 9187 metrics) and api in default; cart and other in namespace shop."""
    c = cluster(cni=cni)
    apply_text(
        c,
        NAMESPACE.format(name="shop", team="shop")
        + pod("db", ports=DB_PORTS)
        + pod("api")
        + pod("cart", ns="shop")
        + pod("other", ns="shop")
        + pod("cart", ns="default").replace("name: cart,", "name: cart2,"),
    )
    return c


def ports_of(m, src: str, dst: str) -> dict[int, bool]:
    return {p.port: p.allowed for p in m.cell(src, dst).ports}


DENY_DB = policy("db-deny", "  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n")


@pytest.mark.parametrize(
    ("cni", "enforced"),
    [("flannel", False), ("calico", True), ("weave", True), ("cilium", True)],
)
def test_isolated_for_ingress_only_where_the_cni_plugin_enforces_policy(cni, enforced):
    """Concept page, prerequisites: "Network policies are implemented by the network plugin";
    flannel stores them and enforces nothing, Calico and Weave Net enforce them."""
    c = shop(cni)
    apply_text(c, DENY_DB)
    m = matrix(c)
    cell = m.cell("pod/default/api", "pod/default/db")
    assert m.enforced is enforced
    assert cell.state == ("denied" if enforced else "allowed")
    assert cell.ports[0].decided_by == "default/db-deny"
    if not enforced:
        assert "does not enforce" in cell.ports[0].reason


def test_default_deny_ingress_isolates_every_pod_of_the_namespace_and_nothing_else():
    """Concept page, "Default deny all ingress traffic": podSelector {} with Ingress isolates
    every pod of its namespace for ingress; their egress, and other namespaces, stay open."""
    c = shop()
    apply_text(c, policy("default-deny-ingress", "  podSelector: {}\n  policyTypes: [Ingress]\n"))
    m = matrix(c)
    assert m.cell("pod/shop/cart", "pod/default/api").state == "denied"
    assert m.cell("pod/default/db", "pod/default/api").state == "denied"
    assert m.cell("pod/default/api", "pod/shop/cart").state == "allowed"  # egress untouched
    party = next(p for p in m.destinations if p.key == "pod/default/api")
    assert party.ingress == ["default/default-deny-ingress"] and party.egress == []


def test_default_deny_egress_blocks_dns_to_kube_dns_too():
    """Concept page, "Default deny all egress traffic": once isolated for egress a pod may
    send nothing a rule does not allow, and that includes its DNS queries to kube-dns."""
    c = shop()
    apply_text(c, policy("default-deny-egress", "  podSelector: {}\n  policyTypes: [Egress]\n"))
    m = matrix(c)
    dns = next(
        p for p in m.destinations if p.namespace == "kube-system" and 53 in [x[0] for x in p.ports]
    )
    udp53 = next(p for p in m.cell("pod/default/api", dns.key).ports if p.protocol == "UDP")
    assert not udp53.allowed and udp53.decided_by == "default/default-deny-egress"
    # ... and the trace of a request by name stops at the lookup
    t = trace(c, "pod/default/api", "http://db.default.svc.cluster.local/")
    assert t.verdict == "dropped" and "kube-dns" in t.reason
    # a pod of another namespace still resolves
    assert m.cell("pod/shop/cart", dns.key).state == "allowed"


def test_a_namespace_selector_allows_every_pod_of_the_matching_namespaces():
    """Concept page, "namespaceSelector: selects particular namespaces for which all Pods
    should be allowed"; the pods of the policy's own namespace are not among them."""
    c = shop()
    apply_text(
        c,
        policy(
            "db-from-shop",
            "  podSelector: {matchLabels: {app: db}}\n  ingress:\n"
            "  - from: [{namespaceSelector: {matchLabels: {team: shop}}}]\n",
        ),
    )
    m = matrix(c)
    assert m.cell("pod/shop/cart", "pod/default/db").state == "allowed"
    assert m.cell("pod/shop/other", "pod/default/db").state == "allowed"
    assert m.cell("pod/default/api", "pod/default/db").state == "denied"


AND_PEER = "  - from:\n    - namespaceSelector: {matchLabels: {team: shop}}\n      podSelector: {matchLabels: {app: cart}}\n"
OR_PEERS = "  - from:\n    - namespaceSelector: {matchLabels: {team: shop}}\n    - podSelector: {matchLabels: {app: cart}}\n"


@pytest.mark.parametrize(
    ("rule", "allowed"),
    [
        (AND_PEER, {"shop/cart"}),
        (OR_PEERS, {"shop/cart", "shop/other", "default/cart2"}),
    ],
)
def test_both_selectors_in_one_peer_is_and_two_peers_is_or(rule, allowed):
    """Concept page, "Behavior of to and from selectors": one element with namespaceSelector
    and podSelector allows pods matching both; two elements allow either."""
    c = shop()
    apply_text(
        c, policy("db-peers", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n" + rule)
    )
    m = matrix(c)
    for name in ("shop/cart", "shop/other", "default/cart2", "default/api"):
        state = m.cell(f"pod/{name}", "pod/default/db").state
        assert state == ("allowed" if name in allowed else "denied"), name


def _exposed_db(c, local: bool):
    apply_text(
        c,
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  type: NodePort\n"
        "  selector: {app: db}\n  ports: [{port: 5432, targetPort: pg, nodePort: 30432}]\n"
        + ("  externalTrafficPolicy: Local\n" if local else ""),
    )


@pytest.mark.parametrize(
    ("block", "local", "allowed"),
    [
        ("{cidr: 198.51.100.0/24}", True, True),
        ("{cidr: 198.51.100.0/24, except: [198.51.100.7/32]}", True, False),
    ],
)
def test_ip_block_with_except_judges_the_address_the_pod_sees(block, local, allowed):
    """Concept page, ipBlock: "a CIDR ... except" excludes ranges; and the address is the one
    after NAT ("the cluster ingress ... may rewrite the source IP")."""
    c = shop()
    _exposed_db(c, local)
    apply_text(
        c,
        policy(
            "db-from-clients",
            f"  podSelector: {{matchLabels: {{app: db}}}}\n  ingress:\n  - from: [{{ipBlock: {block}}}]\n",
        ),
    )
    cell = matrix(c).cell(OUTSIDE, "pod/default/db")
    assert cell.ports and cell.ports[0].port == 5432
    assert cell.state == ("allowed" if allowed else "denied")


def test_outside_reaches_only_pods_a_node_port_or_load_balancer_exposes():
    c = shop()
    m = matrix(c)
    assert m.cell(OUTSIDE, "pod/default/db").state == "none"
    assert "No way in from outside" in m.cell(OUTSIDE, "pod/default/db").note


def test_a_named_port_is_the_destination_pods_port_of_that_name():
    """Concept page: ports may name a port ("port: the protocol port, a number or a named
    port on the pod")."""
    c = shop()
    apply_text(
        c,
        policy(
            "db-pg",
            "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: pg}]\n",
        ),
    )
    assert ports_of(matrix(c), "pod/default/api", "pod/default/db") == {5432: True, 9187: False}


def test_end_port_allows_a_range_of_ports():
    """Concept page, "Targeting a range of ports": port with endPort allows port..endPort."""
    c = shop()
    apply_text(
        c,
        policy(
            "db-range",
            "  podSelector: {matchLabels: {app: db}}\n  ingress:\n"
            "  - ports: [{protocol: TCP, port: 5000, endPort: 6000}]\n",
        ),
    )
    assert ports_of(matrix(c), "pod/default/api", "pod/default/db") == {5432: True, 9187: False}


def test_replicas_share_one_row():
    c = shop()
    apply_text(c, pod("db-b", app="db", ports=DB_PORTS))
    m = matrix(c)
    party = next(p for p in m.destinations if "default/db" in p.pods)
    assert party.pods == ["default/db", "default/db-b"] and m.grouped >= 1


def test_a_big_cluster_is_cut_and_says_how_many_groups_are_hidden():
    c = shop()
    m = matrix(c, max_groups=3)
    assert len(m.destinations) == 3 and m.hidden > 0


MIXED = (
    DENY_DB
    + policy(
        "db-from-api",
        "  podSelector: {matchLabels: {app: db}}\n  ingress:\n"
        "  - from: [{podSelector: {matchLabels: {app: api}}}]\n    ports: [{port: pg}]\n",
    )
    + policy(
        "api-egress",
        "  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Egress]\n  egress:\n"
        "  - to: [{namespaceSelector: {matchLabels: {team: shop}}}]\n",
    )
    + policy("shop-deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n", ns="shop")
)


@pytest.mark.parametrize("cni", ["flannel", "calico", "weave"])
@pytest.mark.parametrize("policies", ["", MIXED])
def test_every_cell_is_what_a_trace_of_that_request_says(cni, policies):
    c = shop(cni)
    _exposed_db(c, local=False)
    if policies:
        apply_text(c, policies)
    m = matrix(c)
    pods = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p for p in c.list("Pod")}
    checked = 0
    for src in m.sources:
        if src.key == OUTSIDE:
            continue
        for dst in m.destinations:
            results = {(r.port, r.protocol): r.allowed for r in m.cell(src.key, dst.key).ports}
            for s in src.pods:
                for d in dst.pods:
                    ip = pods[d]["status"]["podIP"]
                    for (port, protocol), allowed in results.items():
                        suffix = "/udp" if protocol == "UDP" else ""
                        t = trace(c, f"pod/{s}", f"{ip}:{port}{suffix}")
                        assert (t.verdict != "dropped") is allowed, (s, d, port, t.reason)
                        checked += 1
    assert checked > 50
    # outside: through each node's NodePort, the verdict of the pod's ingress
    db = pods["default/db"]
    service = c.get("Service", "default", "db")
    per_node = through_service(c, service, db, 5432, "TCP")
    for node, result in per_node.items():
        ip = c.get("Node", "", node)["status"]["addresses"][0]["address"]
        t = trace(c, "external", f"{ip}:30432")
        assert (t.verdict != "dropped") is result.allowed, (node, t.reason)


def test_masqueraded_the_pod_sees_a_node_address_and_only_its_own_node_gets_in():
    """Concept page: an ipBlock judges the address after NAT, and "traffic to and from the node
    where a Pod is running is always allowed, regardless of the IP address of the Pod or the
    node": with externalTrafficPolicy: Cluster the client gets in through the pod's own node
    only."""
    c = shop()
    _exposed_db(c, False)
    apply_text(
        c,
        policy(
            "db-from-clients",
            "  podSelector: {matchLabels: {app: db}}\n  ingress:\n"
            "  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]\n",
        ),
    )
    result = matrix(c).cell(OUTSIDE, "pod/default/db").ports[0]
    assert result.allowed
    assert "Allowed through 1 of 3 entry nodes" in result.reason  # control-plane too
    assert result.decided_by == "the pod's own node (always allowed)"
