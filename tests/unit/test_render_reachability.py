"""The Reachability tab's view model and the map's isolation badge: what a learner reads."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.render.map import build_map
from app.render.reachability import isolation_text, marks, reachability_view
from tests.unit.scenarios import cluster

PODS = """apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec: {containers: [{name: db, image: postgres, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, labels: {app: api}}
spec: {containers: [{name: api, image: nginx}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]
"""


def view_of(cni: str):
    c = cluster(cni=cni)
    apply_text(c, PODS)
    return c, reachability_view(c)


def _cell(view, source: str, target: str):
    row = next(r for r in view.rows if r.key == source)
    column = next(i for i, col in enumerate(view.columns) if col.key == target)
    return row.cells[column]


def test_calico_cells_say_the_verdict_in_a_symbol_and_a_word_with_the_deciding_policy():
    _, view = view_of("calico")
    assert view.enforced and "enforces" not in view.note  # the headline says it, the note explains
    denied = _cell(view, "pod/default/db", "pod/default/api")  # db's egress: no rule
    assert (denied.symbol, denied.word, denied.decided_by) == ("✗", "denied", "default/db-from-api")
    assert "TCP 80" in denied.summary and "isolated for egress" in denied.lines[0]
    allowed = _cell(view, "pod/default/api", "pod/default/db")
    assert (allowed.symbol, allowed.word) == ("✓", "allowed")
    outside = _cell(view, "external", "pod/default/db")
    assert outside.word == "no way in" and "NodePort" in outside.summary


def test_flannel_is_said_to_store_the_policy_but_let_everything_through():
    c, view = view_of("flannel")
    assert not view.enforced and "still gets through" in view.note
    assert _cell(view, "pod/default/db", "pod/default/api").word == "allowed"
    assert "flannel does not enforce NetworkPolicy" in isolation_text(
        c, c.get("Pod", "default", "db")
    )


def test_the_policy_lists_the_pods_it_isolates_and_the_peers_its_rules_allow():
    _, view = view_of("calico")
    [policy] = view.policies
    assert policy.targets == ["pod/default/db"] and policy.peers == ["pod/default/api"]
    assert policy.types == "Ingress + Egress"


def test_the_map_badges_each_isolated_pod_with_its_directions():
    c, _ = view_of("calico")
    assert marks(c) == {"pod/default/db": "in+out"}
    drawn = build_map(c)
    assert drawn.isolated == {"pod/default/db": "in+out"} and drawn.policies_enforced
    c2, _ = view_of("flannel")
    assert not build_map(c2).policies_enforced
