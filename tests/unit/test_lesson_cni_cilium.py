"""The CNI lesson's Cilium step (issue 15): Cilium's default tunnel is VXLAN on UDP 8472
through cilium_vxlan (docs.cilium.io Concepts → Networking → Routing, "Encapsulation": VXLAN
8472/UDP by default, Geneve 6081/UDP; tunnel-port), the same port as flannel's and not IANA's
4789; the side-by-side comparison runs all four plugins; Weave Net stays marked archived."""

from __future__ import annotations

from app.cluster import rebuild
from app.network.trace import trace
from tests.unit.test_lesson_facts import (
    at_step,
    learner_traces,
    lesson,
    outcome,
    quiz_answer,
    said,
)

SLUG = "cni-plugins"


def test_ciliums_vxlan_goes_to_udp_8472_through_cilium_vxlan():
    cluster, item = at_step(SLUG, "cilium")
    assert not outcome(cluster, item, "cilium", "cluster").passed
    rebuild.switch(cluster, cni="cilium")
    web = cluster.get("Pod", "default", "web")["status"]["podIP"]
    assert web.startswith("10.1.")  # Cilium's pool here, not flannel's 10.244
    learner_traces(cluster, "client", f"http://{web}/")
    assert outcome(cluster, item, "cilium", "traced").passed
    result = trace(cluster, "pod/default/client", f"http://{web}/", 0)
    (wrap,) = [h for h in result.hops if h.phase == "request" and h.action == "encapsulate"]
    assert wrap.where == "cilium_vxlan" and wrap.packet.outer["port"] == 8472
    assert outcome(cluster, item, "cilium", "answer", "8472").passed
    for wrong, words in (("4789", "IANA"), ("6081", "Geneve"), ("6784", "Weave Net")):
        told = outcome(cluster, item, "cilium", "answer", wrong)
        assert not told.passed and words in told.message


def test_the_lesson_compares_four_plugins_and_keeps_weave_net_archived():
    text = said(SLUG)
    assert "flannel, Calico, Weave Net and Cilium" in text
    assert "the project is archived" in text and "the four traces appear" in text
    assert "the eBPF lesson looks at" in text  # not "the next lesson": that is troubleshooting
    titles = {step.id: step.title for step in lesson(SLUG).steps}
    assert "(archived)" in titles["weave"] and "Cilium" in titles["cilium"]
    right, why = quiz_answer(SLUG, "lets only UDP port 4789 through")
    assert right.startswith("It is dropped under both") and "8472" in why
