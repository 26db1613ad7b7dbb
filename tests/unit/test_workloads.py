"""Deployments, ReplicaSets, pods and the scheduler, as Kubernetes runs them."""

from __future__ import annotations

import ipaddress
import re

import pytest

from app.cluster import nodes
from app.cluster.apply import apply_text
from app.errors import Forbidden, InvalidObjects
from tests.unit.scenarios import cluster, deployment, pods_of

POD_NAME = re.compile(
    r"^web-(?P<hash>[bcdfghjklmnpqrstvwxz2456789]{6,10})-[bcdfghjklmnpqrstvwxz2456789]{5}$"
)


def test_deployment_pods_are_named_deployment_hash_suffix_like_kubernetes():
    c = cluster()
    apply_text(c, deployment("web", 3))
    pods = pods_of(c, "web-")
    assert len(pods) == 3
    hashes = set()
    for pod in pods:
        match = POD_NAME.match(pod["metadata"]["name"])
        assert match, pod["metadata"]["name"]
        hashes.add(match["hash"])
        assert pod["metadata"]["labels"]["pod-template-hash"] == match["hash"]
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    assert len(hashes) == 1
    rs = c.list("ReplicaSet", "default")
    assert [r["metadata"]["name"] for r in rs] == [f"web-{hashes.pop()}"]


def test_pods_spread_over_workers_and_never_land_on_the_tainted_control_plane():
    c = cluster()
    apply_text(c, deployment("web", 4))
    spread = sorted(p["spec"]["nodeName"] for p in pods_of(c, "web-"))
    assert spread == ["worker-1", "worker-1", "worker-2", "worker-2"]


def test_pod_ips_come_from_their_nodes_range_and_are_unique():
    c = cluster()
    apply_text(c, deployment("web", 10))
    seen = set()
    for pod in pods_of(c, "web-"):
        ip = pod["status"]["podIP"]
        node = c.node_summary(c.get("Node", "", pod["spec"]["nodeName"]))
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(node["podCIDRs"][0])
        assert ip != node["gateway"]["ip"]
        assert pod["status"]["hostIP"] == node["internalIP"]
        seen.add(ip)
    assert len(seen) == 10


def test_scaling_up_and_down_changes_the_pod_count_and_leaves_events():
    c = cluster()
    apply_text(c, deployment("web", 2))
    change = nodes.scale(c, "default", "web", 5)
    assert len(pods_of(c, "web-")) == 5
    assert any(
        "Scaled up replica set" in e.message and "from 2 to 5" in e.message for e in change.events
    )
    change = nodes.scale(c, "default", "web", 1)
    assert len(pods_of(c, "web-")) == 1
    assert sum(1 for e in change.events if e.reason == "SuccessfulDelete") == 4
    assert c.get("Deployment", "default", "web")["status"]["readyReplicas"] == 1


def test_scaling_to_a_negative_count_is_refused():
    c = cluster()
    apply_text(c, deployment("web", 2))
    with pytest.raises(InvalidObjects) as raised:
        nodes.scale(c, "default", "web", -1)
    assert raised.value.errors[0].field == "spec.replicas"


def test_a_deleted_deployment_pod_comes_back_with_a_new_name_and_a_new_ip():
    c = cluster()
    apply_text(c, deployment("web", 2))
    before = {p["metadata"]["name"] for p in pods_of(c, "web-")}
    victim = pods_of(c, "web-")[0]
    change = c.delete("Pod", "default", victim["metadata"]["name"])
    after = pods_of(c, "web-")
    assert len(after) == 2
    new = [p for p in after if p["metadata"]["name"] not in before]
    assert len(new) == 1
    assert new[0]["status"]["podIP"] != victim["status"]["podIP"]
    assert any(k.kind == "Pod" and k.name == new[0]["metadata"]["name"] for k in change.created)
    assert any(e.reason == "SuccessfulCreate" for e in change.events)


def test_a_deleted_bare_pod_does_not_come_back():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec: {containers: [{name: c, image: busybox}]}\n",
    )
    c.delete("Pod", "default", "solo")
    assert c.get("Pod", "default", "solo") is None


def test_changing_the_pod_template_rolls_out_a_new_replicaset():
    c = cluster()
    apply_text(c, deployment("web", 2))
    old_rs = c.list("ReplicaSet", "default")[0]["metadata"]["name"]
    apply_text(c, deployment("web", 2).replace("image: nginx", "image: nginx:1.27"))
    replicasets = {r["metadata"]["name"]: r for r in c.list("ReplicaSet", "default")}
    assert len(replicasets) == 2
    assert replicasets[old_rs]["spec"]["replicas"] == 0
    new_rs = next(n for n in replicasets if n != old_rs)
    assert all(p["metadata"]["name"].startswith(new_rs) for p in pods_of(c, "web-"))
    assert (
        replicasets[new_rs]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    )


def test_deleting_a_deployment_removes_its_replicasets_and_pods():
    c = cluster()
    apply_text(c, deployment("web", 3))
    c.delete("Deployment", "default", "web")
    assert pods_of(c, "web-") == [] and c.list("ReplicaSet", "default") == []


def test_node_selector_and_node_name_are_honoured():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: pinned}\n"
        "spec: {nodeName: worker-2, containers: [{name: c, image: busybox}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: picky}\n"
        "spec: {nodeSelector: {kubernetes.io/hostname: worker-1}, containers: [{name: c, image: busybox}]}\n",
    )
    assert c.get("Pod", "default", "pinned")["spec"]["nodeName"] == "worker-2"
    assert c.get("Pod", "default", "picky")["spec"]["nodeName"] == "worker-1"


def test_a_pod_no_node_accepts_stays_pending_with_the_schedulers_reason():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: nowhere}\n"
        "spec: {nodeSelector: {disk: ssd}, containers: [{name: c, image: busybox}]}\n",
    )
    pod = c.get("Pod", "default", "nowhere")
    assert pod["status"]["phase"] == "Pending" and "podIP" not in pod["status"]
    warning = [e for e in c.events() if e.reason == "FailedScheduling"][-1]
    assert warning.type == "Warning"
    assert warning.message.startswith("0/3 nodes are available:")
    assert (
        "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
        in warning.message
    )
    assert "2 node(s) didn't match Pod's node affinity/selector" in warning.message


def test_a_toleration_lets_a_pod_onto_the_control_plane():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: admin}\n"
        "spec:\n  nodeName: control-plane\n  tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]\n"
        "  containers: [{name: c, image: busybox}]\n",
    )
    pod = c.get("Pod", "default", "admin")
    assert pod["status"]["podIP"].startswith("10.244.0.")


def test_host_network_pods_share_the_nodes_address():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: hostnet}\n"
        "spec: {hostNetwork: true, nodeName: worker-1, containers: [{name: c, image: busybox}]}\n",
    )
    assert c.get("Pod", "default", "hostnet")["status"]["podIP"] == "10.0.0.11"


def test_pod_quota_is_enforced_before_anything_changes():
    c = cluster(max_pods=40)
    before = len(c.list("Pod"))
    with pytest.raises(Forbidden) as raised:
        apply_text(c, deployment("big", 100))
    assert "exceeded quota" in raised.value.message
    assert len(c.list("Pod")) == before and c.get("Deployment", "default", "big") is None
    with pytest.raises(Forbidden):
        apply_text(c, deployment("small", 1))
        nodes.scale(c, "default", "small", 500)


def test_freed_pod_ips_are_not_handed_out_again_at_once():
    """host-local IPAM allocates round-robin, so a replacement pod gets a new address."""
    c = cluster()
    apply_text(c, deployment("web", 1))
    first = pods_of(c, "web-")[0]
    for _ in range(5):
        pod = pods_of(c, "web-")[0]
        c.delete("Pod", "default", pod["metadata"]["name"])
    assert pods_of(c, "web-")[0]["status"]["podIP"] != first["status"]["podIP"]


def test_every_change_leaves_events_like_kubectl_get_events():
    c = cluster()
    apply_text(c, deployment("web", 1))
    reasons = [(e.reason, e.object) for e in c.events()]
    assert ("ScalingReplicaSet", "deployment/web") in reasons
    assert any(r == "SuccessfulCreate" and o.startswith("replicaset/web-") for r, o in reasons)
    assert any(r == "Scheduled" and o.startswith("pod/web-") for r, o in reasons)
    assert any(r == "Started" for r, _ in reasons)
