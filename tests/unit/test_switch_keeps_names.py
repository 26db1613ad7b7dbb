"""Copying, forking or switching a cluster keeps every object's name; only addresses change
(issue 9, "Compare and switch keep names").

- a copy (save and load) and a fork (a share link) are the same cluster, names and addresses;
- a CNI switch keeps every name (pods, ReplicaSets with their pod-template-hash, Services,
  EndpointSlices, kube-proxy's pods) and uid; only the CNI agent is replaced; the pods get
  addresses in the new pod network, inside their node's range, and the report says each
  pod's old → new address;
- a kube-proxy mode switch changes no object at all;
- comparing CNI plugins works from one Deployment pod to another.
"""

from __future__ import annotations

import ipaddress
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cluster import constants as c
from app.cluster import nodes, rebuild
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.errors import InvalidObjects
from app.network.compare import compare_plugins
from app.store.backends import MemoryBackend, SqliteBackend
from app.store.workspaces import Workspaces
from tests.unit.scenarios import cluster, deployment, service, web_app
from tests.unit.test_invariants import check_invariants, operations, run

#: Each plugin's own agent: a switch replaces it (and flannel's namespace) by the new one's.
AGENTS = {
    ("DaemonSet", "kube-flannel", "kube-flannel-ds"),
    ("DaemonSet", "kube-system", "calico-node"),
    ("DaemonSet", "kube-system", "weave-net"),
    ("DaemonSet", "kube-system", "cilium"),
    # Cilium replaces kube-proxy by default (kubeProxyReplacement: true): its DaemonSet goes
    # when Cilium comes and comes back when Cilium goes.
    ("DaemonSet", "kube-system", "kube-proxy"),
}


def _agent_part(c_: Cluster, key) -> bool:
    if key.kind == "Namespace" and key.name == "kube-flannel":
        return True
    if (key.kind, key.namespace, key.name) in AGENTS:
        return True
    if key.kind == "Pod":
        refs = c_.state.objects[key]["metadata"].get("ownerReferences") or []
        return any(("DaemonSet", key.namespace, r["name"]) in AGENTS for r in refs)
    return False


def identities(c_: Cluster) -> dict[tuple[str, str, str], str]:
    """Every object but the CNI agent's, by kind/namespace/name, with its uid."""
    return {
        (k.kind, k.namespace, k.name): obj["metadata"]["uid"]
        for k, obj in c_.state.objects.items()
        if not _agent_part(c_, k)
    }


def pod_ips(c_: Cluster) -> dict[tuple[str, str], str]:
    return {
        (p["metadata"]["namespace"], p["metadata"]["name"]): p["status"]["podIP"]
        for p in c_.list("Pod")
        if p["status"].get("podIP") and not p["spec"].get("hostNetwork")
    }


def canonical(c_: Cluster) -> str:
    """The saved state, with the objects in a fixed order (a backend keeps them by id)."""
    state = c_.to_state()
    state["objects"].sort(key=lambda row: json.dumps(row["object"]["metadata"], sort_keys=True))
    return json.dumps(state, sort_keys=True)


def shop() -> Cluster:
    """Two Deployments (one rolled out twice, so it has ReplicaSet history), Services of each
    type, a bare pod, a third worker."""
    c_ = web_app(cluster(), replicas=3, type_="NodePort")
    apply_text(c_, deployment("api", 2) + "---\n" + service("api", type_="LoadBalancer"))
    apply_text(c_, deployment("api", 2, ports=[{"name": "http", "containerPort": 9090}]))
    apply_text(
        c_,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: client}\n"
        "spec: {nodeName: worker-2, containers: [{name: c, image: curl}]}\n",
    )
    nodes.add_node(c_)
    return c_


def assert_in_pod_network(c_: Cluster) -> None:
    network = c.POD_NETWORK[c_.config.cni]
    for (_ns, name), ip in pod_ips(c_).items():
        assert ipaddress.ip_address(ip) in network, f"{name} has {ip}, outside {network}"
    check_invariants(c_)  # unique, inside the node's range, EndpointSlices follow


def test_a_copy_and_a_fork_are_the_same_cluster_by_name_and_address(tmp_path):
    c_ = shop()
    copy = Cluster.from_state(json.loads(json.dumps(c_.to_state())))
    assert identities(copy) == identities(c_) and pod_ips(copy) == pod_ips(c_)
    for backend in (MemoryBackend(), SqliteBackend(tmp_path / "w.sqlite3")):
        store = Workspaces(backend)
        workspace, _ = store.create_from(shop())
        fork_id, _ = store.fork_shared(store.make_share(workspace).token)
        fork = Workspaces(backend).read(fork_id, lambda x: x)  # loaded back from the backend
        assert fork_id != workspace
        assert identities(fork) == identities(c_) and pod_ips(fork) == pod_ips(c_)


@pytest.mark.parametrize("path", [("calico", "weave", "flannel"), ("weave", "calico")])
def test_switching_cni_keeps_every_name_and_moves_pods_into_the_new_network(path):
    c_ = shop()
    names = identities(c_)
    hashes = {
        rs["metadata"]["name"]: rs["metadata"]["labels"][c.POD_TEMPLATE_HASH_LABEL]
        for rs in c_.list("ReplicaSet")
    }
    assert len([n for n in names if n[0] == "ReplicaSet" and n[2].startswith("api-")]) == 2
    cluster_ips = {s["metadata"]["name"]: s["spec"]["clusterIP"] for s in c_.list("Service")}
    for cni in path:
        before = pod_ips(c_)
        rebuild.switch(c_, cni=cni)
        assert c_.config.cni == cni
        assert identities(c_) == names  # same names and the same objects (uids)
        assert pod_ips(c_).keys() == before.keys()
        assert not set(pod_ips(c_).values()) & set(before.values())
        assert_in_pod_network(c_)
        agent = {"flannel": "kube-flannel-ds", "calico": "calico-node", "weave": "weave-net"}[cni]
        assert [d["metadata"]["name"] for d in c_.list("DaemonSet")] == sorted(
            ["kube-proxy", agent]
        )
        assert (c_.get("Namespace", "", "kube-flannel") is not None) == (cni == "flannel")
    assert {
        rs["metadata"]["name"]: rs["metadata"]["labels"][c.POD_TEMPLATE_HASH_LABEL]
        for rs in c_.list("ReplicaSet")
    } == hashes
    assert {s["metadata"]["name"]: s["spec"]["clusterIP"] for s in c_.list("Service")} == (
        cluster_ips
    )


def test_switching_kube_proxy_mode_changes_no_object():
    c_ = shop()
    objects = json.dumps({str(k): o for k, o in c_.state.objects.items()}, sort_keys=True)
    for mode in ("nftables", "ipvs", "iptables"):
        report = rebuild.switch(c_, proxy_mode=mode)
        assert c_.config.proxy_mode == mode
        assert json.dumps({str(k): o for k, o in c_.state.objects.items()}, sort_keys=True) == (
            objects
        )
        assert report.pods == [] and report.nodes == [] and report.services == []
        assert "No address changed" in " ".join(report.lines())


def test_the_switch_report_lists_each_pods_old_and_new_address():
    c_ = shop()
    before = pod_ips(c_)
    report = rebuild.switch(c_, cni="calico", proxy_mode="nftables")
    after = pod_ips(c_)
    lines = report.lines()
    assert lines[:3] == [
        "CNI plugin: flannel → calico",
        "kube-proxy mode: iptables → nftables",
        "Pod network: 10.244.0.0/16 → 192.168.0.0/16",
    ]
    for (namespace, name), ip in before.items():
        where = "" if namespace == "default" else f"{namespace}/"
        assert f"pod/{where}{name}: {ip} → {after[(namespace, name)]}" in lines
    assert len(report.pods) == len(before)
    assert [e.name for e in report.pods[:6]] == sorted(n for ns, n in before if ns == "default")
    for node in c_.list("Node"):
        summary = c_.node_summary(node)
        assert any(
            line.startswith(f"node/{summary['name']} pod range: ")
            and line.endswith(f" → {summary['podCIDRs'][0]}")
            for line in lines
        )
    assert "CNI agent: daemonset/kube-flannel-ds (kube-flannel) removed" in " ".join(lines)
    assert lines[-2] == "Every object kept its name."
    # ... which a real cluster cannot do, and the report says so.
    assert lines[-1].startswith("In a real cluster a pod keeps its IP for life")
    assert report.to_dict()["pods"][0].keys() == {"kind", "namespace", "name", "old", "new"}


def test_a_switch_to_what_runs_already_or_to_an_unknown_plugin_changes_nothing():
    c_ = shop()
    saved = json.dumps(c_.to_state(), sort_keys=True)
    assert rebuild.switch(c_, cni="flannel").lines()[0].startswith("Nothing to switch")
    with pytest.raises(InvalidObjects):
        rebuild.switch(c_, cni="canal")
    with pytest.raises(InvalidObjects):
        rebuild.switch(c_, cni="calico", proxy_mode="userspace")
    assert json.dumps(c_.to_state(), sort_keys=True) == saved


def test_a_switch_is_saved_and_loads_back_the_same(tmp_path):
    store = Workspaces(SqliteBackend(tmp_path / "w.sqlite3"))
    workspace, live = store.create_from(shop())
    report = store.change(workspace, lambda x: rebuild.switch(x, cni="weave"))
    assert report.pods
    loaded = Workspaces(SqliteBackend(tmp_path / "w.sqlite3")).read(workspace, lambda x: x)
    assert canonical(loaded) == canonical(live)
    # and the restored IPAM goes on from there: a new pod gets a fresh weave address
    apply_text(loaded, deployment("more", 2))
    assert_in_pod_network(loaded)


def test_comparing_from_a_deployment_pod_to_another_deployment_pod():
    c_ = cluster()
    apply_text(
        c_,
        deployment("web", 2, ports=[{"name": "http", "containerPort": 80}])
        + "---\n"
        + deployment("api", 2, ports=[{"name": "http", "containerPort": 80}]),
    )
    web = next(p for p in c_.list("Pod", "default") if p["metadata"]["name"].startswith("web-"))
    api = next(
        p
        for p in c_.list("Pod", "default")
        if p["metadata"]["name"].startswith("api-")
        and p["spec"]["nodeName"] != web["spec"]["nodeName"]
    )
    saved = json.dumps(c_.to_state(), sort_keys=True)
    runs = compare_plugins(
        c_, f"default/{web['metadata']['name']}", f"default/{api['metadata']['name']}", 80
    )
    assert [r.cni for r in runs] == list(c.CNI_PLUGINS)
    for r in runs:
        assert r.trace["verdict"] == "delivered", (r.cni, r.trace.get("reason"))
        assert ipaddress.ip_address(r.source_ip) in c.POD_NETWORK[r.cni]
        assert ipaddress.ip_address(r.target_ip) in c.POD_NETWORK[r.cni]
    assert runs[0].source_ip == web["status"]["podIP"]
    assert json.dumps(c_.to_state(), sort_keys=True) == saved  # the workspace is not changed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    ops=st.lists(operations, max_size=10),
    cnis=st.lists(st.sampled_from(c.CNI_PLUGINS), min_size=1, max_size=3),
)
def test_any_cluster_keeps_its_names_across_switches(seed, ops, cnis):
    c_ = cluster(seed=seed)
    for op in ops:
        run(c_, op)
    names = identities(c_)
    for cni in cnis:
        rebuild.switch(c_, cni=cni)
        assert identities(c_) == names
        assert_in_pod_network(c_)
    # the switched cluster goes on working: ops after it keep the invariants
    for op in ops:
        run(c_, op)
        check_invariants(c_)
