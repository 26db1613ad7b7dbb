"""NetworkPolicy under Cilium (app/network/cilium/hubble.py): Cilium enforces standard
NetworkPolicy, and each decision is shown as Hubble's flow log prints it. The lines follow
Cilium's "Inspecting Network Flows with the CLI" guide and Hubble's printer tests
(hubble/pkg/printer/printer_test.go, "compact"): ``policy-verdict:none INGRESS DENIED`` then
``Policy denied DROPPED (TCP Flags: SYN)``, and ``to-endpoint FORWARDED`` for a delivered flow."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network import cilium
from app.network.trace import trace
from tests.unit.scenarios import deployment, pods_of, service

CLIENT = (
    "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: {name}}}}}\n"
    "spec: {{nodeName: worker-1, containers: [{{name: shell, image: busybox}}]}}\n"
)
ONLY_FRONTEND = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-frontend}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: frontend}}}]
    ports: [{port: 8080}]
"""


def cluster_with_policy() -> Cluster:
    c_ = Cluster.create(ClusterConfig(cni="cilium"), seed=7)
    apply_text(
        c_,
        "---\n".join(
            [
                CLIENT.format(name="frontend"),
                CLIENT.format(name="other"),
                deployment("web", 2),
                service("web"),
                ONLY_FRONTEND,
            ]
        ),
    )
    return c_


def test_a_denied_connection_is_dropped_with_hubbles_policy_denied_verdict():
    c_ = cluster_with_policy()
    t = trace(c_, "pod/default/other", "http://web/")
    assert t.verdict == "dropped"
    drop = t.hops[-1]
    assert drop.action == "drop" and drop.where == "policy (ingress)"
    other = c_.get("Pod", "default", "other")
    assert drop.why["table"] == "hubble observe"
    assert drop.why["entry"].startswith(f"default/other:{drop.packet.src_port} ")
    assert f"(ID:{cilium.identity(other)}) <> default/web-" in drop.why["entry"]
    assert drop.why["entry"].endswith("Policy denied DROPPED (TCP Flags: SYN)")
    verdict = drop.why["also"][0]["entry"]
    assert verdict.endswith("policy-verdict:none INGRESS DENIED (TCP Flags: SYN)")
    assert "default/web-from-frontend" in drop.why["note"]


def test_an_allowed_connection_is_forwarded_with_the_l3_l4_verdict():
    c_ = cluster_with_policy()
    t = trace(c_, "pod/default/frontend", "http://web/")
    assert t.verdict == "delivered"
    deliver = t.hops[-1]
    lines = [entry["entry"] for entry in deliver.why["also"]]
    assert lines[0].endswith("policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: SYN)")
    assert lines[1].endswith("to-endpoint FORWARDED (TCP Flags: SYN)")
    assert lines[1].startswith("default/frontend:")


def test_with_no_policy_a_delivered_flow_is_just_forwarded():
    c_ = Cluster.create(ClusterConfig(cni="cilium"), seed=7)
    apply_text(c_, CLIENT.format(name="client") + "---\n" + deployment("web", 1))
    target = pods_of(c_, "web-")[0]
    t = trace(c_, "pod/default/client", f"{target['status']['podIP']}:8080")
    lines = [entry["entry"] for entry in t.hops[-1].why["also"]]
    assert lines == [
        f"default/client:{t.hops[-1].packet.src_port} (ID:{cilium.identity(c_.get('Pod', 'default', 'client'))})"
        f" -> default/{target['metadata']['name']}:8080 (ID:{cilium.identity(target)})"
        " to-endpoint FORWARDED (TCP Flags: SYN)"
    ]


def test_pods_of_one_deployment_share_a_security_identity():
    c_ = cluster_with_policy()
    web = pods_of(c_, "web-")
    assert len({cilium.identity(p) for p in web}) == 1
    assert cilium.identity(web[0]) != cilium.identity(c_.get("Pod", "default", "other"))


def test_the_reachability_matrix_reads_ciliums_verdicts_as_hubble_prints_them():
    from app.network.reachability import matrix

    c_ = cluster_with_policy()
    m = matrix(c_)
    assert m.cni == "cilium" and m.enforced
    web = next(p for p in m.destinations if p.key.startswith("pod/default/web-"))
    denied = m.cell("pod/default/other", web.key)
    allowed = m.cell("pod/default/frontend", web.key)
    assert denied.state == "denied" and allowed.state == "allowed"
    assert "policy-verdict:none INGRESS DENIED" in denied.ports[0].reason
    assert "Policy denied DROPPED (TCP Flags: SYN)" in denied.ports[0].reason
    assert "policy-verdict:L3-L4 INGRESS ALLOWED" in allowed.ports[0].reason
    assert "to-endpoint FORWARDED" in allowed.ports[0].reason


def test_hubble_match_types_follow_the_allowing_rule_in_trace_and_matrix():
    """cilium/cilium pkg/monitor/api PolicyMatchType.String: L3-Only (peers), L3-L4 (peers
    and ports), L4-Only (ports only), all (an empty rule); one function (hubble.match_type)
    for the trace's Hubble lines and the reachability matrix's text."""
    from app.network.cilium import hubble

    assert [
        hubble.match_type(r)
        for r in ({"from": [{}], "ports": [{}]}, {"from": [{}]}, {"ports": [{}]}, {})
    ] == ["L3-L4", "L3-Only", "L4-Only", "all"]
    assert "policy-verdict:L4-Only INGRESS ALLOWED" in hubble.matrix_text(
        "Ingress", True, "TCP", match="L4-Only"
    )
    # A ports-only rule: the trace's Hubble line and the matrix cell say L4-Only alike.
    from app.network.reachability import matrix

    c_ = cluster_with_policy()
    apply_text(
        c_,
        ONLY_FRONTEND.replace(
            "  - from: [{podSelector: {matchLabels: {app: frontend}}}]\n    ports", "  - ports"
        ),
    )
    t = trace(c_, "pod/default/other", "http://web/")
    assert t.verdict == "delivered"
    lines = [e["entry"] for e in t.hops[-1].why.get("also") or []] + [t.hops[-1].why["entry"]]
    assert any("policy-verdict:L4-Only INGRESS ALLOWED" in line for line in lines), lines
    web = next(p for p in matrix(c_).destinations if p.key.startswith("pod/default/web-"))
    cell = matrix(c_).cell("pod/default/other", web.key)
    assert "policy-verdict:L4-Only INGRESS ALLOWED" in cell.ports[0].reason


def test_endpoint_list_shows_policy_enforcement_for_the_direction_a_policy_isolates():
    """cilium-dbg endpoint list: POLICY (ingress) ENFORCEMENT and POLICY (egress)
    ENFORCEMENT; in the default enforcement mode (docs.cilium.io, Policy Enforcement Modes)
    an endpoint enforces a direction once a policy selects it for that direction."""
    c_ = cluster_with_policy()
    t = trace(c_, "pod/default/frontend", "http://web/")
    assert t.verdict == "delivered"
    entry = [h for h in t.hops if h.where == "lxc veth"][-1].why["entry"]  # after DNS
    assert entry.split("   ")[1:3] == ["Enabled", "Disabled"]  # web-from-frontend: Ingress
    back = next(h for h in t.reply if h.where == "lxc veth").why["entry"]
    assert back.split("   ")[1:3] == ["Disabled", "Disabled"]  # frontend: no policy
    apply_text(
        c_,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: fe-out}\n"
        "spec: {podSelector: {matchLabels: {app: frontend}}, policyTypes: [Egress],"
        " egress: [{}]}\n",
    )
    t = trace(c_, "pod/default/frontend", "http://web/")
    back = next(h for h in t.reply if h.where == "lxc veth").why["entry"]
    assert back.split("   ")[1:3] == ["Disabled", "Enabled"]
