"""The map of a dual-stack cluster: each pod tile shows both addresses, and a packet to a
Service's IPv6 ClusterIP lights that Service's box."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.render.map import build_map
from app.render.stage import lit_boxes
from tests.unit.scenarios import deployment

# web's two pods, with no container port: the Services' targetPort is their port.
OBJECTS = (
    deployment("web", 2, ports=[])
    + """---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ipFamilyPolicy: PreferDualStack, selector: {app: web}, ports: [{port: 80}]}
"""
)


def test_a_dual_stack_pod_tile_shows_its_ipv6_address_under_its_ipv4_one():
    cluster = Cluster.create(ClusterConfig(ip_family="dual"), seed=1)
    apply_text(cluster, OBJECTS)
    view = build_map(cluster)
    tiles = [p for n in view.nodes for p in n.pods if p.name.startswith("web-")]
    assert tiles
    for tile in tiles:
        pod = cluster.get("Pod", "default", tile.name)
        v4, v6 = (e["ip"] for e in pod["status"]["podIPs"])
        assert (tile.ip, tile.ip6, tile.detail) == (v4, v6, v6)


def test_an_ipv4_pod_tile_keeps_its_labels_line():
    cluster = Cluster.create(seed=1)
    apply_text(cluster, OBJECTS.replace("ipFamilyPolicy: PreferDualStack, ", ""))
    tile = next(p for n in build_map(cluster).nodes for p in n.pods if p.name.startswith("web-"))
    assert tile.ip6 == "" and tile.detail == "app=web"


def test_a_packet_to_the_ipv6_cluster_ip_lights_the_service():
    cluster = Cluster.create(ClusterConfig(ip_family="dual"), seed=1)
    apply_text(cluster, OBJECTS)
    v6 = cluster.get("Service", "default", "web")["spec"]["clusterIPs"][1]
    hop = {"packet": {"dst": f"[{v6}]:80"}}
    assert lit_boxes(hop, None, build_map(cluster)) == ["service/default/web"]


def test_every_hop_of_an_ipv6_cross_node_trace_is_drawn_on_the_map():
    """flannel-v6.1 shares the node's tunnel box on the map (one VXLAN box per node)."""
    from app.network.trace import trace
    from app.render.stage import hop_marks

    cluster = Cluster.create(ClusterConfig(ip_family="dual"), seed=1)
    apply_text(cluster, OBJECTS)
    apply_text(
        cluster,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: client}\n"
        "spec: {nodeName: worker-2, containers: [{name: c, image: curl}]}\n",
    )
    pod = next(
        p
        for p in cluster.list("Pod", "default")
        if p["metadata"]["name"].startswith("web-") and p["spec"]["nodeName"] == "worker-1"
    )
    t = trace(cluster, "pod/default/client", f"http://[{pod['status']['podIPs'][1]['ip']}]/")
    assert any(h.where == "flannel-v6.1" for h in t.hops)
    view = build_map(cluster)
    marks = hop_marks(view, t.to_dict())["hops"]
    wrap = next(i for i, h in enumerate(t.hops) if h.action == "encapsulate")
    assert marks[wrap]["at"] == "node/worker-2/flannel.1"  # drawn there, not on the network
    assert [m["at"] for m in marks] == [h.at for h in t.hops]
