"""The cluster map's view model (app/render/map.py) and its SVG partial (templates/_map.html)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.cluster.apply import apply_text
from app.network.topology import network_index
from app.render.map import MapView, build_map
from app.render.map_layout import Rect, dom_id
from app.render.map_model import is_traffic_pod
from app.web.rendering import template_environment
from tests.unit.scenarios import cluster, deployment, endpoint_ips, service

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SVG = "{http://www.w3.org/2000/svg}"
INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: default}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
"""


def shop(cni: str = "flannel"):
    """The default cluster with ``web`` (LoadBalancer) and ``api`` (NodePort), 3 replicas each,
    a Service ``orphan`` whose selector matches nothing, and an Ingress."""
    c = cluster(cni=cni, seed=1)
    apply_text(
        c,
        "---\n".join(
            [
                deployment("web", 3),
                service("web", type_="LoadBalancer"),
                deployment("api", 3),
                service("api", type_="NodePort"),
                service("orphan", selector={"app": "nope"}),
                INGRESS,
            ]
        ),
    )
    return c


def render(view: MapView) -> ET.Element:
    env = template_environment(TEMPLATES)
    return ET.fromstring(env.get_template("_map.html").render(map=view))


def rect(obj) -> Rect:
    return Rect(obj.x, obj.y, obj.w, obj.h)


@pytest.mark.parametrize("cni", ["flannel", "calico", "weave", "cilium"])
def test_every_device_of_the_network_graph_has_an_anchor(cni):
    c = shop(cni)
    view = build_map(c)
    devices = set(network_index(c).graph.nodes)
    assert devices <= set(view.anchors)
    bridge = {"flannel": "cni0", "calico": "routes", "weave": "weave", "cilium": "routes"}[cni]
    tunnel = {
        "flannel": "flannel.1",
        "calico": "tunl0",
        "weave": "vxlan-6784",
        "cilium": "cilium_vxlan",
    }[cni]
    for node in ("control-plane", "worker-1", "worker-2"):
        for anchor in (f"node/{node}", f"node/{node}/{bridge}", f"node/{node}/{tunnel}"):
            assert anchor in view.anchors
    for anchor in ("net/internet", "cloud/lb", "net/nodes"):
        assert anchor in view.anchors


def test_cilium_native_routing_draws_no_tunnel_device():
    # docs.cilium.io network/concepts/routing, "Native-Routing": no encapsulation, so no
    # cilium_vxlan device on the nodes; the map and the network graph show none.
    c = cluster(cni="cilium", routing_mode="native")
    view = build_map(c)
    assert all(node.tunnel is None for node in view.nodes)
    assert not [a for a in view.anchors if a.endswith("/cilium_vxlan")]
    assert set(network_index(c).graph.nodes) <= set(view.anchors)
    svg = ET.tostring(render(view), encoding="unicode")
    assert "cilium_vxlan" not in svg and "cilium_host" in svg
    assert "there is no kube-proxy" in svg and "kube-proxy's rules" not in svg
    tunnel = build_map(cluster(cni="cilium"))  # the default: VXLAN through cilium_vxlan
    assert all(node.tunnel is not None for node in tunnel.nodes)


@pytest.mark.parametrize("show_system", [False, True])
def test_every_pod_has_an_anchor(show_system):
    c = shop()
    view = build_map(c, show_system=show_system)
    for pod in c.list("Pod"):
        meta = pod["metadata"]
        assert f"pod/{meta['namespace']}/{meta['name']}" in view.anchors


def test_pods_lie_inside_their_node_and_nodes_do_not_overlap():
    view = build_map(shop(), show_system=True)
    for node in view.nodes:
        for pod in node.pods:
            assert rect(node).contains(rect(pod)), pod.name
            assert view.anchors[pod.anchor] == (pod.x + pod.w / 2, pod.y + pod.h / 2)
        for device in (node.gateway, node.host, node.tunnel):
            assert rect(node).contains(rect(device))
    boxes = [rect(n) for n in view.nodes]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    for n in view.nodes:
        for s in view.services:
            assert not rect(n).overlaps(rect(s))


def test_default_cluster_is_readable_on_the_stage_of_a_1280_screen():
    """The stage gives the map about 840 x 330 px at 1280 x 800; a pod's IP (20 units) must
    render at 12 px or more there (the browser tests measure it too)."""
    view = build_map(cluster(seed=1))
    scale = min(840 / view.width, 330 / view.height)
    assert 20 * scale >= 12, (view.width, view.height)


def test_service_lines_go_exactly_to_its_ready_endpoint_pods():
    c = shop()
    view = build_map(c)
    by_ip = {p["status"]["podIP"]: p["metadata"]["name"] for p in c.list("Pod", "default")}
    for name in ("web", "api"):
        svc = next(s for s in view.services if s.name == name)
        expected = {f"pod/default/{by_ip[ip]}" for ip in endpoint_ips(c, name)}
        assert len(expected) == 3
        assert {line.pod for line in svc.lines} == expected
        assert not svc.empty
        for line in svc.lines:
            assert line.d.startswith(f"M{svc.x + svc.w / 2:g},{svc.y + svc.h:g}")
    web = next(s for s in view.services if s.name == "web")
    assert web.type == "LoadBalancer" and web.external_ip.startswith("203.0.113.")
    assert web.ports.startswith("80:") and web.ports.endswith("→8080/TCP")


def test_a_service_whose_selector_matches_nothing_is_empty():
    view = build_map(shop())
    orphan = next(s for s in view.services if s.name == "orphan")
    assert orphan.empty and orphan.lines == [] and "no endpoints" in orphan.status


def test_a_pod_the_selector_misses_is_not_connected():
    c = shop()
    apply_text(c, deployment("lonely", 1, labels={"app": "lonely"}))
    view = build_map(c)
    connected = {line.pod for s in view.services for line in s.lines}
    lonely = [p for n in view.nodes for p in n.pods if p.app == "lonely"]
    assert len(lonely) == 1 and lonely[0].anchor not in connected


def test_system_pods_are_hidden_by_default_except_those_requests_pass_through():
    """CoreDNS and the ingress controller stay drawn (a trace's DNS and Ingress hops happen
    there); every other system pod is hidden and stood in for by its node's bridge."""
    c = shop()
    view = build_map(c)
    drawn = {p.anchor for n in view.nodes for p in n.pods}
    traffic = {p.anchor for n in view.nodes for p in n.pods if p.namespace != "default"}
    assert {a.split("/")[2].rsplit("-", 2)[0] for a in traffic} == {
        "coredns",
        "ingress-nginx-controller",
    }
    gateway = {n.name: n.gateway for n in view.nodes}
    for pod in c.list("Pod", "kube-system"):
        anchor = f"pod/kube-system/{pod['metadata']['name']}"
        if pod["metadata"]["name"].startswith("coredns-"):
            assert anchor in drawn
            continue
        assert anchor not in drawn
        assert view.anchors[anchor] == gateway[pod["spec"]["nodeName"]].centre
        assert view.stand_ins[anchor] == gateway[pod["spec"]["nodeName"]].anchor
    assert sum(n.hidden_system for n in view.nodes) == len(c.list("Pod")) - 6 - len(traffic)
    assert {s.name for s in view.services} == {"web", "api", "orphan"}
    shown = build_map(c, show_system=True)
    assert sum(len(n.pods) for n in shown.nodes) == len(c.list("Pod"))
    assert "kube-dns" in {s.name for s in shown.services}


def test_ingress_controller_and_rules_are_shown_when_an_ingress_exists():
    view = build_map(shop())
    assert view.ingresses is not None
    assert view.ingresses.rules == [
        "shop.example.com/ → web:80",
        "shop.example.com/api → api:80",
    ]
    assert view.ingresses.name == "ingress-nginx-controller"
    assert build_map(cluster(seed=1)).ingresses is None


def test_namespace_filter_draws_only_that_namespace():
    c = shop()
    apply_text(c, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    apply_text(
        c, deployment("cart", 2, namespace="shop") + "---\n" + service("cart", namespace="shop")
    )
    view = build_map(c, namespace="shop")
    assert {p.namespace for n in view.nodes for p in n.pods} == {"shop"}
    assert [s.name for s in view.services] == ["cart"]
    assert view.ingresses is None


def test_app_colours_are_stable_and_sorted():
    view = build_map(shop())
    assert view.app_colours == {"api": 0, "coredns": 1, "ingress-nginx": 2, "web": 3}
    for pod in (p for n in view.nodes for p in n.pods):
        assert pod.colour == view.app_colours[pod.app]
        assert pod.label  # colour is never the only signal


def test_a_crowded_node_collapses_into_more():
    c = cluster(workers=1, seed=2)
    apply_text(c, deployment("many", 20))
    view = build_map(c)
    worker = next(n for n in view.nodes if n.name == "worker-1")
    # 20 pods of "many", then the CoreDNS and ingress controller pods on this node (drawn too:
    # requests pass through them): 11 tiles and the rest in "+N more".
    traffic = [
        p for p in c.list("Pod") if is_traffic_pod(p) and p["spec"].get("nodeName") == "worker-1"
    ]
    assert len(worker.pods) == 11 and worker.more is not None
    assert worker.more.count == 9 + len(traffic)
    assert all(p.namespace == "default" for p in worker.pods)
    drawn = {p.anchor for p in worker.pods}
    hidden = [
        f"pod/default/{p['metadata']['name']}"
        for p in c.list("Pod", "default")
        if f"pod/default/{p['metadata']['name']}" not in drawn
    ]
    assert len(hidden) == 9
    assert all(view.anchors[a] == worker.gateway.centre for a in hidden)
    assert rect(worker).contains(rect(worker.more))


def test_fifty_nodes_and_two_hundred_pods_still_lay_out():
    c = cluster(workers=49, seed=3)
    docs = []
    for i in range(10):
        docs += [deployment(f"app{i}", 20), service(f"app{i}")]
    apply_text(c, "---\n".join(docs))
    view = build_map(c)
    assert len(view.nodes) == 50
    # 200 pods of the apps, plus CoreDNS (2) and the ingress controller: requests pass there.
    assert sum(len(n.pods) + (n.more.count if n.more else 0) for n in view.nodes) == 203
    boxes = [rect(n) for n in view.nodes]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert all(b.x >= 0 and b.x + b.w <= view.width and b.bottom <= view.height for b in boxes)
    assert view.height <= 3200 and view.width <= 4000
    assert [n.name for n in view.nodes][:4] == ["control-plane", "worker-1", "worker-2", "worker-3"]
    render(view)  # still valid XML


def test_view_model_is_json_ready():
    data = build_map(shop()).to_dict()
    assert json.loads(json.dumps(data))["anchors"]["net/internet"] == list(
        data["anchors"]["net/internet"]
    )


@pytest.mark.parametrize("cni", ["flannel", "calico"])
def test_rendered_svg_is_valid_xml_with_device_ids(cni):
    view = build_map(shop(cni))
    svg = render(view)
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Cluster map"
    assert svg.find(f"{SVG}desc").text.startswith("3 nodes, 9 pods, 3 Services")
    by_id = {e.get("id"): e for e in svg.iter() if e.get("id")}
    by_at = {e.get("data-at"): e for e in svg.iter() if e.get("data-at")}
    drawn = {p.anchor for n in view.nodes for p in n.pods}
    # Everything a hop can be drawn at is on the map with its data-at: devices, netfilter,
    # pods, Services, the Ingress box; a pod not drawn has a stand-in that is.
    assert set(view.anchors) - set(view.stand_ins) == set(by_at)
    assert set(view.stand_ins.values()) <= set(by_at)
    for anchor in {a for a in view.anchors if a.startswith(("node/", "net/", "cloud/"))} | drawn:
        assert by_id[dom_id(anchor)].get("data-at") == anchor
    assert {"node/worker-1/netfilter", "service/default/web", "ingress"} <= set(by_at)
    assert "dev-node-worker-1-flannel_1" in by_id or cni != "flannel"
    kinds = [e for e in svg.iter() if e.get("data-kind")]
    assert {e.get("data-kind") for e in kinds} >= {"Node", "Pod", "Service"}
    assert all(e.get("tabindex") == "0" and e.get("data-namespace") is not None for e in kinds)
    empty = [e for e in svg.iter() if "empty" in (e.get("class") or "").split()]
    assert [e.get("data-name") for e in empty if e.get("data-kind") == "Service"] == ["orphan"]
    texts = " ".join(svg.itertext())
    for text in ("no endpoints", "198.51.100.7", "shop.example.com/api → api:80", "node network"):
        assert text in texts
