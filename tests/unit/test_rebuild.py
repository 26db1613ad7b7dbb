"""Switching the CNI plugin or proxy mode re-addresses the cluster; reset starts afresh;
either is saved whole."""

from __future__ import annotations

import ipaddress

from app.cluster import nodes, rebuild
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.store.backends import SqliteBackend
from app.store.workspaces import Workspaces
from tests.unit.scenarios import cluster, pods_of, service, web_app


def test_switching_cni_keeps_the_objects_and_re_addresses_the_pods():
    c = web_app(cluster(), replicas=3, type_="NodePort")
    nodes.add_node(c)
    svc_before = c.get("Service", "default", "web")["spec"]
    rebuild.switch(c, cni="calico")
    assert c.config.cni == "calico"
    assert [n["metadata"]["name"] for n in c.list("Node")] == [
        "control-plane",
        "worker-1",
        "worker-2",
        "worker-3",
    ]
    web = pods_of(c, "web-")
    assert len(web) == 3
    assert all(
        ipaddress.ip_address(p["status"]["podIP"]) in ipaddress.ip_network("192.168.0.0/16")
        for p in web
    )
    svc = c.get("Service", "default", "web")["spec"]
    assert svc["clusterIP"] == svc_before["clusterIP"] and svc["ports"] == svc_before["ports"]


def test_switching_proxy_mode_changes_the_rules_only():
    c = web_app(cluster(), replicas=2)
    rebuild.switch(c, proxy_mode="ipvs")
    assert c.config.proxy_mode == "ipvs" and len(pods_of(c, "web-")) == 2


def test_reset_and_switch_are_saved_whole(tmp_path):
    store = Workspaces(SqliteBackend(tmp_path / "w.sqlite3"))
    workspace, _ = store.create(cluster().config, seed=3)
    store.change(workspace, lambda c: apply_text(c, service("db", selector={"app": "db"})))
    store.change(workspace, lambda c: rebuild.switch(c, cni="weave"))
    fresh = Workspaces(SqliteBackend(tmp_path / "w.sqlite3"))  # as after a restart
    loaded = fresh.read(workspace, lambda c: c)
    assert loaded.config.cni == "weave" and loaded.get("Service", "default", "db") is not None
    assert all(
        ipaddress.ip_address(p["status"]["podIP"]) in ipaddress.ip_network("10.32.0.0/12")
        for p in loaded.list("Pod")
        if not p["spec"].get("hostNetwork") and p["status"].get("podIP")
    )
    store.change(workspace, rebuild.reset)
    again = Workspaces(SqliteBackend(tmp_path / "w.sqlite3")).read(workspace, lambda c: c)
    assert again.get("Service", "default", "db") is None
    assert len(again.list("Node")) == len(Cluster.create(again.config, seed=3).list("Node"))
    assert len(again.events()) == 0
