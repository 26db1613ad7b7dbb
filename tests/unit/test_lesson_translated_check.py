"""The ``translated`` check (issue 15): where the learner's request to a Service had the
ClusterIP it dialled turned into a pod's address. Under kube-proxy the packet leaves the client
pod with the ClusterIP and a DNAT hop on the client's node rewrites it (kube-proxy's iptables
mode: PREROUTING → KUBE-SERVICES → KUBE-SVC → KUBE-SEP, kubernetes.io/docs/reference/
networking/virtual-ips/); under Cilium's socket load balancer the eBPF program at connect()
picks the backend, so the packet leaves the pod already addressed to it (docs.cilium.io,
"Kubernetes Without kube-proxy": sockets are assigned to backends "at TCP connect time",
before "a network packet has been built by the kernel")."""

from __future__ import annotations

import shutil

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.lessons.activity import trace_record
from app.lessons.catalog import BUILT_IN, load_lesson
from app.lessons.checks import evaluate
from app.lessons.model import Check
from app.lessons.outcome import StepState
from app.lessons.source import LessonFileError
from app.network.trace import trace

APPS = """apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: worker-1, containers: [{name: c, image: curl}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {nodeName: worker-2, containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
"""


def cluster_with_apps() -> Cluster:
    cluster = Cluster.create(seed=15)
    apply_text(cluster, APPS)
    return cluster


def traced(cluster: Cluster, source: str, to: str) -> StepState:
    """The step's activity after the learner traced ``source`` → ``to``."""
    record = trace_record(cluster, source, to, trace(cluster, source, to, 0))
    return StepState(activity=[record])


def check(at: str, **subject) -> Check:
    return Check(
        "translated", {"translated": {"from": "client", "to": "web", **subject, "at": at}}, 1
    )


def test_kube_proxys_dnat_on_the_clients_node_is_a_translation_on_the_node():
    cluster = cluster_with_apps()
    state = traced(cluster, "pod/default/client", "http://web/")
    record = state.activity[0]
    cluster_ip = cluster.get("Service", "default", "web")["spec"]["clusterIP"]
    assert record["dialled_ip"] == record["sent_ip"] == cluster_ip
    assert record["dnat_at"] == ["node/worker-1"]
    assert evaluate(cluster, check("node"), state).passed
    socket = evaluate(cluster, check("socket"), state)
    assert not socket.passed
    assert f"addressed to {cluster_ip}, and a DNAT hop on worker-1 rewrote it" in socket.message
    assert "at the socket, in the client pod" in socket.message


def test_a_request_to_the_pods_own_address_was_not_translated_anywhere():
    cluster = cluster_with_apps()
    pod_ip = cluster.get("Pod", "default", "web")["status"]["podIP"]
    state = traced(cluster, "pod/default/client", f"http://{pod_ip}/")
    for at in ("node", "socket"):
        outcome = evaluate(cluster, check(at, to=pod_ip), state)
        assert not outcome.passed
        assert "nothing had to translate it" in outcome.message


def test_it_fails_before_any_trace_and_for_a_trace_from_elsewhere():
    cluster = cluster_with_apps()
    nothing = evaluate(cluster, check("node"), StepState())
    assert not nothing.passed and "Trace a request from client to web first" in nothing.message
    from_node = traced(cluster, "node/worker-1", "http://10.96.0.10:53/")
    assert not evaluate(cluster, check("node"), from_node).passed


@pytest.mark.parametrize("at", ["pod", '""', None])
def test_a_lesson_must_say_socket_or_node_and_is_told_the_line(tmp_path, at):
    folder = tmp_path / "lessons" / "10-extra"
    shutil.copytree(BUILT_IN / "10-cni-plugins", folder)
    yaml_file = folder / "lesson.yaml"
    text = yaml_file.read_text()
    where = text.index('      - answer: {value: "8472"}')
    written = "      - translated: {from: client, to: web" + (f", at: {at}" if at else "") + "}\n"
    yaml_file.write_text(text[:where] + written + text[where:])
    with pytest.raises(LessonFileError) as error:
        load_lesson(folder)
    assert "one of socket, node" in error.value.problem
    assert error.value.line == text[:where].count("\n") + 1


def test_the_cluster_check_reads_ciliums_helm_settings():
    """Cilium's Helm values routingMode (tunnel, its default, or native) and
    kubeProxyReplacement, as a step's ``cluster:`` check names them."""
    from app.cluster import rebuild

    cluster = cluster_with_apps()
    native = Check("cluster", {"cluster": {"cni": "cilium", "routing_mode": "native"}}, 1)
    replaced = Check("cluster", {"cluster": {"cni": "cilium", "kube_proxy_replacement": True}}, 1)
    on_flannel = evaluate(cluster, native, StepState())
    assert not on_flannel.passed and on_flannel.message == (
        "The cluster runs flannel as its CNI plugin; this step needs cilium."
    )
    rebuild.switch(cluster, cni="cilium")
    tunnel = evaluate(cluster, native, StepState())
    assert not tunnel.passed and "routingMode: tunnel; this step needs routingMode: native" in (
        tunnel.message
    )
    assert evaluate(cluster, replaced, StepState()).passed
    rebuild.switch(cluster, routing_mode="native", kube_proxy_replacement=False)
    assert evaluate(cluster, native, StepState()).passed
    kept = evaluate(cluster, replaced, StepState())
    assert not kept.passed and "kube-proxy serves Services on this cluster" in kept.message


def test_it_can_ask_for_the_pods_the_request_must_reach_rather_than_the_name_dialled():
    """A request to web.default.svc.cluster.local or to the ClusterIP is the same request as
    one to web: ``endpoint`` names where it lands, whatever the learner typed."""
    cluster = cluster_with_apps()
    ip = cluster.get("Service", "default", "web")["spec"]["clusterIP"]
    wanted = Check(
        "translated", {"translated": {"from": "client", "endpoint": "app=web", "at": "node"}}, 1
    )
    assert evaluate(cluster, wanted, traced(cluster, "pod/default/client", f"http://{ip}/")).passed
    nothing = evaluate(cluster, wanted, StepState())
    assert "Trace a request from client to a pod matching app=web first" in nothing.message
