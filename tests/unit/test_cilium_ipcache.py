"""The tunnel map is gone: cilium/cilium PR #38839 "Remove tunnel map" (shipped by v1.18) and
PR #43727 (docs: ``cilium-dbg bpf ipcache list`` instead of ``bpf tunnel list``). PR #38015
("Support tunnel routing in Multi-Pool IPAM mode") put each node's pod CIDR in the ipcache with
the ``reserved:world`` identity and the node's tunnel endpoint. Format:
cilium-dbg/cmd/bpf_ipcache_list.go (columns "IP PREFIX/ADDRESS", "IDENTITY", tabwriter) and
pkg/maps/ipcache/ipcache.go (``identity=%d encryptkey=%d tunnelendpoint=%s flags=%s``, flag
``hastunnel``, ``<none>`` when no flag is set)."""

from __future__ import annotations

import re

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network import cilium
from app.network.cilium import ipcache
from app.network.trace import trace
from app.terminal import Session, run
from tests.unit.scenarios import deployment, pods_of

CLIENT = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: client, labels: {app: client}}\n"
    "spec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}\n"
)


def cluster(**settings) -> Cluster:
    c_ = Cluster.create(ClusterConfig(cni="cilium", **settings), seed=7)
    apply_text(c_, CLIENT + "---\n" + deployment("web", 2))
    return c_


def remote(c_: Cluster) -> dict:
    return next(p for p in pods_of(c_, "web-") if p["spec"]["nodeName"] == "worker-2")


def test_pr_38839_the_vxlan_hops_why_is_an_ipcache_entry_not_the_removed_tunnel_map():
    c_ = cluster()
    target = remote(c_)
    ip = target["status"]["podIP"]
    t = trace(c_, "pod/default/client", f"{ip}:8080")
    wrap = next(h for h in t.hops if h.action == "encapsulate")
    assert wrap.why["table"] == "cilium-dbg bpf ipcache list"
    assert "tunnel list" not in str(t.hops)
    assert re.split(r"\s{3,}", wrap.why["entry"]) == [
        f"{ip}/32",
        f"identity={cilium.identity(target)} encryptkey=0 tunnelendpoint=10.0.0.12 flags=hastunnel",
    ]
    # PR #38015: the pod CIDR's fallback entry has reserved:world (2) and the tunnel endpoint.
    assert re.split(r"\s{3,}", wrap.why["also"][0]["entry"]) == [
        "10.1.2.0/24",
        "identity=2 encryptkey=0 tunnelendpoint=10.0.0.12 flags=hastunnel",
    ]


def test_bpf_ipcache_list_on_a_node_terminal_in_the_clis_two_columns():
    c_ = cluster()
    node = Session("node/worker-1")
    out = run(c_, "cilium-dbg bpf ipcache list", node).output
    assert out == ipcache.ipcache_list(c_, "worker-1")
    assert run(c_, "cilium-dbg bpf ipcache ls", node).output == out
    lines = out.splitlines()
    assert re.split(r"\s{3,}", lines[0]) == ["IP PREFIX/ADDRESS", "IDENTITY"]
    rows = dict(re.split(r"\s{3,}", line) for line in lines[1:])
    local = next(p for p in pods_of(c_, "web-") if p["spec"]["nodeName"] == "worker-1")
    assert rows[f"{local['status']['podIP']}/32"].endswith("tunnelendpoint=0.0.0.0 flags=<none>")
    assert rows["10.0.0.12/32"].startswith(f"identity={cilium.REMOTE_NODE_ID} ")
    assert "10.1.1.0/24" not in rows  # the node's own pod CIDR needs no tunnel
    gone = run(c_, "cilium-dbg bpf tunnel list", node)
    assert gone.status == 1 and "bpf ipcache list" in gone.output


def test_native_routing_has_no_tunnel_endpoints():
    out = ipcache.ipcache_list(cluster(routing_mode="native"), "worker-1")
    assert "hastunnel" not in out and "10.1.2.0/24" not in out
