"""Security identities leave out the labels Cilium's default label filter ignores
(cilium/cilium pkg/labelsfilter/filter.go, defaultLabelPrefixCfg: ``!pod-template-hash``,
``!controller-revision-hash``, ``!pod-template-generation`` and the io.kubernetes /
kubernetes.io / k8s.io prefixes), so a Deployment's pods keep one identity, and one VNI on
cilium_vxlan, across a rollout."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network import cilium
from app.network.cilium import datapath
from app.network.trace import trace
from tests.unit.scenarios import deployment, pods_of

CLIENT = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: client, labels: {app: client}}\n"
    "spec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}\n"
)


def vni_to_web(c_: Cluster) -> tuple[int, set[str]]:
    """The web pods' one identity, and their template hashes."""
    web = [p for p in pods_of(c_, "web-") if p["status"].get("podIP")]
    ids = {cilium.identity(p) for p in web}
    assert len(ids) == 1
    hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in web}
    return ids.pop(), hashes


def test_labelsfilter_a_rollout_keeps_the_deployments_identity_and_vni():
    c_ = Cluster.create(ClusterConfig(cni="cilium"), seed=7)
    apply_text(c_, CLIENT + "---\n" + deployment("web", 2))
    before, hashes_before = vni_to_web(c_)
    apply_text(c_, deployment("web", 2).replace("image: nginx", "image: nginx:1.27"))
    after, hashes_after = vni_to_web(c_)
    assert hashes_before != hashes_after  # a new ReplicaSet: the rollout happened
    assert before == after
    # The VNI on cilium_vxlan is the sender's identity: the same before and after.
    web = next(p for p in pods_of(c_, "web-") if p["spec"]["nodeName"] == "worker-2")
    client_ip = c_.get("Pod", "default", "client")["status"]["podIP"]
    t = trace(c_, f"pod/default/{web['metadata']['name']}", f"{client_ip}:80")
    wrap = next(h for h in t.hops if h.action == "encapsulate")
    assert wrap.packet.outer["vni"] == before


def test_endpoint_list_shows_only_the_identity_labels():
    c_ = Cluster.create(ClusterConfig(cni="cilium"), seed=7)
    apply_text(c_, deployment("web", 1))
    pod = pods_of(c_, "web-")[0]
    entry = datapath.endpoint_why("worker-1", pod)["entry"]
    assert "k8s:app=web" in entry and "pod-template-hash" not in entry
    labels = {"app": "x", "controller-revision-hash": "1", "pod-template-generation": "2"}
    assert cilium.identity_labels(labels) == {"app": "x"}
