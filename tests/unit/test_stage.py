"""Where a trace's hops are drawn (app/render/stage.py), checked against the SVG the page
renders: every hop on an element that is drawn, kube-proxy's rewrites on the node's netfilter,
DNS at CoreDNS, the Service lit while its address is the destination, the Ingress box while
the controller has the request; under every CNI plugin and kube-proxy mode, with system pods
hidden and shown."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network.trace import trace
from app.render.map import build_map
from app.render.stage import hop_marks
from app.web.rendering import template_environment
from tests.unit.scenarios import deployment, service

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EXTRA = """apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
"""
REQUESTS = [
    ("pod/default/client", "http://web/"),
    ("pod/default/client", "http://api:80/"),
    ("pod/default/client", "http://nope/"),
    ("external", "http://shop.example.com/"),
    ("external", "http://10.0.0.12:30080/"),
    ("node/worker-2", "http://web.default.svc.cluster.local/"),
]


WEB_NODEPORT = """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http, nodePort: 30080}]
"""


def shop(cni: str, mode: str) -> Cluster:
    c = Cluster.create(ClusterConfig(cni=cni, proxy_mode=mode), seed=4)
    apply_text(
        c,
        "---\n".join(
            [
                deployment("web", 3),
                WEB_NODEPORT,
                deployment("api", 1),
                service("api", selector={"app": "nobody"}),
                EXTRA,
            ]
        ),
    )
    return c


def drawn_ats(view) -> set[str]:
    env = template_environment(TEMPLATES)
    svg = ET.fromstring(env.get_template("_map.html").render(map=view))
    return {e.get("data-at") for e in svg.iter() if e.get("data-at")}


@pytest.mark.parametrize("show_system", [False, True])
@pytest.mark.parametrize(
    ("cni", "mode"),
    [("flannel", "iptables"), ("calico", "nftables"), ("weave", "ipvs")],
)
def test_every_hop_is_drawn_on_an_element_the_map_has(cni, mode, show_system):
    c = shop(cni, mode)
    view = build_map(c, show_system=show_system)
    ats = drawn_ats(view)
    seen: set[str] = set()
    for source, target in REQUESTS:
        result = trace(c, source, target, 0).to_dict()
        marks = hop_marks(view, result)
        steps = [*result["hops"], *result["reply"]]
        placed = [*marks["hops"], *marks["reply"]]
        assert len(steps) == len(placed)
        for step, mark in zip(steps, placed, strict=True):
            assert mark["at"] in ats, (source, target, step)
            assert set(mark["lit"]) <= ats, (source, target, step, mark)
            assert list(mark["point"]) == list(view.anchors[mark["at"]])
            if step["action"] in ("dnat", "snat", "reject") and step["node"]:
                assert mark["at"] == f"node/{step['node']}/netfilter", step
            if step["action"] == "resolve" and step["where"] == "CoreDNS":
                assert mark["at"].startswith("pod/kube-system/coredns-"), step
            seen.add(step["action"])
    # The requests cover what the rules above are about.
    assert {"dnat", "snat", "resolve", "reject", "proxy"} <= seen


def test_the_service_is_lit_while_its_address_is_the_destination():
    c = shop("flannel", "iptables")
    view = build_map(c)
    result = trace(c, "pod/default/client", "http://web/", 0).to_dict()
    marks = hop_marks(view, result)
    request = [
        (h, m)
        for h, m in zip(result["hops"], marks["hops"], strict=True)
        if h["phase"] == "request"
    ]
    send, dnat = request[0], request[1]
    assert send[0]["action"] == "send" and send[1]["lit"] == ["service/default/web"]
    # The DNAT hop rewrites the address away: the Service it chose is still lit there.
    assert dnat[0]["action"] == "dnat" and dnat[1]["lit"] == ["service/default/web"]
    after = [m["lit"] for h, m in request[2:]]
    assert after and all(lit == [] for lit in after)
    # The reply leaves from the pod to the client: no Service is its destination.
    assert all(m["lit"] == [] for m in marks["reply"])


def test_a_nodeport_lights_its_service_and_the_ingress_box_lights_for_the_controller():
    c = shop("flannel", "iptables")
    view = build_map(c)
    nodeport = hop_marks(view, trace(c, "external", "http://10.0.0.12:30080/", 0).to_dict())
    assert nodeport["hops"][0]["lit"] == ["service/default/web"]
    ingress = trace(c, "external", "http://shop.example.com/", 0).to_dict()
    marks = hop_marks(view, ingress)
    proxy = [
        m for h, m in zip(ingress["hops"], marks["hops"], strict=True) if h["action"] == "proxy"
    ]
    assert proxy and all("ingress" in m["lit"] for m in proxy)
    # The controller's pod is drawn even with system pods hidden: the request passes there.
    assert all(m["at"].startswith("pod/ingress-nginx/") for m in proxy)
    assert any(m["at"] == "cloud/lb" for m in marks["hops"])
