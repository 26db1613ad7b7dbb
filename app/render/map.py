"""The cluster map's view model: every box, line and device anchor the SVG draws.

:func:`build_map` reads the cluster (never changes it) and places, top to bottom, the internet,
the cloud load balancer, the Services and the ingress controller, then the nodes with their
pods and devices, and the node network bar. ``anchors`` maps every device id a trace hop can
be at (``hop.at``, see :mod:`app.network.topology`) to a point on the map, so the packet
animation moves between them; a pod that is not drawn is anchored at its node's gateway.

>>> from app.cluster.cluster import Cluster
>>> cluster = Cluster.create(seed=1)
>>> view = build_map(cluster)
>>> view.width, len(view.nodes), "node/worker-1/netfilter" in view.anchors
(1296, 3, True)
>>> proxy = next(p for p in cluster.list("Pod", "kube-system") if p["metadata"]["name"].startswith("kube-proxy-"))
>>> hidden = f"pod/kube-system/{proxy['metadata']['name']}"  # system pods are hidden by default
>>> view.anchors[hidden] == view.anchors[f"node/{proxy['spec']['nodeName']}/cni0"]
True
>>> dns = next(p for p in cluster.list("Pod", "kube-system") if p["metadata"]["name"].startswith("coredns-"))
>>> f"pod/kube-system/{dns['metadata']['name']}" in {p.anchor for n in view.nodes for p in n.pods}
True
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from app.cluster import constants as c
from app.cluster.cilium_config import replaces_kube_proxy
from app.network.policy import enforced as policy_enforced
from app.render import map_layout as L
from app.render.map_boxes import ingress_box, lb_ips, plural, service_box
from app.render.map_gateways import gateway_boxes
from app.render.map_layout import Rect, lb_link
from app.render.map_model import (
    Device,
    GatewayView,
    IngressView,
    LineView,
    MapView,
    MoreTile,
    NodeView,
    PodView,
    ServiceView,
    app_of,
    is_system,
    is_traffic_pod,
    natural_key,
    ready_endpoint_pods,
    slices_by_service,
)
from app.render.map_nodes import node_devices, node_note, note_in_head, pod_view
from app.render.reachability import marks as isolation_marks

__all__ = ["MapView", "build_map"]


def build_map(cluster: Any, show_system: bool = False, namespace: str | None = None) -> MapView:
    """The cluster map of ``cluster``.

    ``show_system`` draws the system namespaces' pods and Services too; ``namespace`` draws
    only that namespace's pods, Services and Ingresses (nodes and devices are always drawn).
    """
    return _Builder(cluster, show_system, namespace).build()


class _Builder:
    def __init__(self, cluster: Any, show_system: bool, namespace: str | None) -> None:
        self.cluster = cluster
        self.show_system = show_system
        self.namespace = namespace
        self.cni = cluster.config.cni
        self.anchors: dict[str, tuple[float, float]] = {}
        self.stand_ins: dict[str, str] = {}
        self.slices = slices_by_service(cluster)
        self.drawn: dict[str, PodView] = {}
        self.slot: dict[str, tuple[int, int]] = {}  # pod anchor -> (row, column) in its node
        self.by_node: dict[str, list[dict[str, Any]]] = {}
        self.pod_node: dict[str, Rect] = {}
        self.app_colours: dict[str, int] = {}

    def in_namespace(self, obj: dict[str, Any]) -> bool:
        return self.namespace is None or obj["metadata"].get("namespace") == self.namespace

    def visible(self, obj: dict[str, Any]) -> bool:
        """Drawn: in the namespace shown, and not a system object (unless system objects are
        shown, or it is a pod that requests pass through, such as CoreDNS)."""
        if not self.in_namespace(obj):
            return False
        if self.show_system or not is_system(obj):
            return True
        return obj.get("kind") == "Pod" and is_traffic_pod(obj)

    # --- the whole map ------------------------------------------------------------------
    def build(self) -> MapView:
        cluster_summary = self.cluster.summary()
        settings = cluster_summary.get("settings") or {}
        summary = sorted(cluster_summary["nodes"], key=lambda n: natural_key(n["name"]))
        by_node = self.by_node
        pending = []
        for pod in self.cluster.list("Pod"):
            node = pod["spec"].get("nodeName")
            if node:
                by_node.setdefault(node, []).append(pod)
            else:
                pending.append(pod)
        apps = {id(p): app_of(self.cluster, p) for ps in by_node.values() for p in ps}
        plans = {n["name"]: self._plan(by_node.get(n["name"], []), apps) for n in summary}
        app_names = sorted({apps[id(p)] for plan in plans.values() for p in plan[0]})
        app_colours = {name: i % L.PALETTE_SIZE for i, name in enumerate(app_names)}
        self.app_colours = app_colours

        columns = L.node_columns(len(summary))
        width = L.map_width(columns)
        # The internet over the cloud load balancer at the left; the Services beside them.
        services_y = L.TOP_Y
        internet = Device(
            "net/internet",
            "Internet",
            "",
            "internet",
            L.MARGIN,
            services_y,
            L.OUTSIDE_W,
            L.OUTSIDE_H,
        )
        lb = Device("cloud/lb", "Cloud load balancer", "", "load-balancer", 0, 0, 0, 0)
        lb.x, lb.y = L.MARGIN, services_y + L.OUTSIDE_H + L.OUTSIDE_GAP
        lb.w, lb.h = L.OUTSIDE_W, L.OUTSIDE_H
        services = [s for s in self.cluster.list("Service") if self.visible(s)]
        ingress = ingress_box(
            self.cluster,
            [i for i in self.cluster.list("Ingress") if self.in_namespace(i)],
            self.slices,
        )
        shown = [g for g in self.cluster.list("Gateway") if self.in_namespace(g)]
        gateways = gateway_boxes(self.cluster, shown, self.slices)
        wide: list[IngressView | GatewayView] = [*([ingress] if ingress else []), *gateways]
        service_views, lanes_top = self._place_services(services, wide, width, services_y)
        boxes: list[ServiceView | IngressView | GatewayView] = [*service_views, *wide]
        with_lines = [
            b for b in boxes if ready_endpoint_pods(self.slices.get((b.namespace, b.name), []))
        ]
        lanes = min(len(with_lines), L.MAX_LANES)
        nodes_top = lanes_top + L.LANES_PAD + max(lanes - 1, 0) * L.LANE_GAP + 8

        nodes, bars, net = self._place_nodes(summary, plans, apps, app_colours, width, nodes_top)
        for lane, box in enumerate(with_lines):
            self._connect(box, L.lane_y(lanes_top, lane))
        for view in service_views:
            colours = Counter(line.colour for line in view.lines)
            if colours:
                view.colour = colours.most_common(1)[0][0]
            if not view.lines:
                view.hidden_endpoints = view.endpoints

        lb_links = [
            lb_link(lb.x + lb.w, lb.y + lb.h / 2, box.x + box.w / 2, box.y + box.h)
            for box in boxes
            if (box.type if isinstance(box, ServiceView) else "LoadBalancer") == "LoadBalancer"
            and box.external_ip
            and box.external_ip != "<pending>"
        ]
        for pod in pending:
            meta = pod["metadata"]
            self.anchors[f"pod/{meta['namespace']}/{meta['name']}"] = net.centre
            self.stand_ins[f"pod/{meta['namespace']}/{meta['name']}"] = net.anchor
        for anchor, device in (("net/internet", internet), ("cloud/lb", lb), ("net/nodes", net)):
            self.anchors[anchor] = device.centre
        for box in boxes:
            self.anchors[box.at] = (box.x + box.w / 2, box.y + box.h / 2)

        shown_pods = sum(len(n.pods) + (n.more.count if n.more else 0) for n in nodes)
        hidden = sum(n.hidden_pods - (n.more.count if n.more else 0) for n in nodes)
        desc = ", ".join(
            [
                plural(len(nodes), "node"),
                plural(shown_pods, "pod"),
                plural(len(service_views), "Service"),
            ]
            + ([plural(len(ingress.rules) + ingress.more_rules, "Ingress rule")] if ingress else [])
            + ([plural(len(gateways), "Gateway")] if gateways else [])
        )
        if hidden:
            desc += f"; {plural(hidden, 'pod')} hidden"
        desc += f". CNI: {self.cni}."
        drawn_apps = {p.app for n in nodes for p in n.pods}
        return MapView(
            width=width,
            height=bars[-1].bottom + 30,
            cni=self.cni,
            show_system=self.show_system,
            namespace=self.namespace,
            internet=internet,
            client_ip=c.EXTERNAL_CLIENT_IP,
            lb=lb,
            lb_ips=lb_ips(self.cluster, services, wide),
            lb_links=lb_links,
            node_network=net,
            node_network_cidr=str(c.NODE_NETWORK),
            networks_text=(
                f"pod network {settings.get('podCIDR', '').replace(',', ', ')} · "
                f"Services {settings.get('serviceCIDR', '').replace(',', ', ')}"
            ),
            bars=bars,
            trunk=[10, bars[0].cy, bars[-1].cy] if len(bars) > 1 else None,
            services_y=services_y,
            lanes_top=lanes_top,
            services=service_views,
            ingresses=ingress,
            gateways=gateways,
            nodes=nodes,
            app_colours=app_colours,
            anchors=self.anchors,
            stand_ins=self.stand_ins,
            apps=[(name, colour) for name, colour in app_colours.items() if name in drawn_apps],
            pending=len(pending),
            dense=sum(len(s.lines) for s in service_views) > 40,
            title="Cluster map",
            desc=desc,
            isolated=isolation_marks(self.cluster),
            policies_enforced=policy_enforced(self.cluster),
        )

    # --- nodes and pods -------------------------------------------------------------------
    def _plan(
        self, pods: list[dict[str, Any]], apps: dict[int, str]
    ) -> tuple[list[dict[str, Any]], int, int, int]:
        """(pods drawn, pods collapsed into "+N more", system pods hidden, others hidden)."""
        shown = sorted(
            (p for p in pods if self.visible(p)),
            key=lambda p: (
                is_system(p),
                p["metadata"]["namespace"],
                apps[id(p)],
                p["metadata"]["name"],
            ),
        )
        system = sum(1 for p in pods if self.in_namespace(p) and not self.visible(p))
        other = sum(1 for p in pods if not self.in_namespace(p))
        if len(shown) > L.MAX_SHOWN_PODS:
            keep = L.MAX_SHOWN_PODS - 1
            return shown[:keep], len(shown) - keep, system, other
        return shown, 0, system, other

    def _place_nodes(
        self,
        summary: list[dict[str, Any]],
        plans: dict[str, tuple[list[dict[str, Any]], int, int, int]],
        apps: dict[int, str],
        app_colours: dict[str, int],
        width: float,
        top: float,
    ) -> tuple[list[NodeView], list[Rect], Device]:
        columns = L.node_columns(len(summary))
        nodes: list[NodeView] = []
        bars: list[Rect] = []
        y = top
        for start in range(0, max(len(summary), 1), columns):
            row = summary[start : start + columns]
            heights = []
            for info in row:
                drawn, more, system, other = plans[info["name"]]
                tiles = len(drawn) + (1 if more else 0)
                own_line = tiles and (system or other) and not note_in_head(info)
                heights.append(L.node_height(tiles, bool(own_line)))
            row_h = max(heights, default=L.node_height(0, False))
            row_w = len(row) * L.NODE_W + (len(row) - 1) * L.NODE_GAP
            x = (width - row_w) / 2
            for info in row:
                box = Rect(x, y, L.NODE_W, row_h)
                nodes.append(self._node(info, box, plans[info["name"]], apps, app_colours))
                x += L.NODE_W + L.NODE_GAP
            bar_y = y + row_h + L.BAR_GAP
            bars.append(Rect(8, bar_y, width - 16, L.BAR_H))
            y = bar_y + L.BAR_H + L.BAR_TO_NEXT_ROW
        first = bars[0]
        net = Device("net/nodes", "node network", str(c.NODE_NETWORK), "network", 0, 0, 0, 0)
        net.x, net.y, net.w, net.h = first.x, first.y, first.w, first.h
        return nodes, bars, net

    def _node(
        self,
        info: dict[str, Any],
        box: Rect,
        plan: tuple[list[dict[str, Any]], int, int, int],
        apps: dict[int, str],
        app_colours: dict[str, int],
    ) -> NodeView:
        name = info["name"]
        drawn, more, system, other = plan
        gateway, host, tunnel, netfilter = node_devices(
            info,
            box,
            self.cni,
            "ebpf" if replaces_kube_proxy(self.cluster.config) else self.cluster.config.proxy_mode,
            # Cilium's native routing hands packets to the node network: no cilium_vxlan.
            tunnelled=not (self.cni == "cilium" and self.cluster.config.routing_mode == "native"),
        )
        for device in (gateway, host, tunnel, netfilter):
            if device is not None:
                self.anchors[device.anchor] = device.centre

        pods = []
        for index, pod in enumerate(drawn):
            slot = L.pod_slot(box, index)
            app = apps[id(pod)]
            view = pod_view(pod, name, slot, app, app_colours[app])
            pods.append(view)
            self.drawn[view.anchor] = view
            self.slot[view.anchor] = divmod(index, L.POD_COLUMNS)
            self.pod_node[view.anchor] = box
            self.anchors[view.anchor] = (slot.cx, slot.cy)
        more_tile = None
        if more:
            slot = L.pod_slot(box, len(drawn))
            more_tile = MoreTile(more, slot.x, slot.y, slot.w, slot.h)
        drawn_ids = {id(p) for p in drawn}
        for pod in self.by_node.get(name, []):
            if id(pod) not in drawn_ids:
                meta = pod["metadata"]
                self.anchors[f"pod/{meta['namespace']}/{meta['name']}"] = gateway.centre
                self.stand_ins[f"pod/{meta['namespace']}/{meta['name']}"] = gateway.anchor

        tiles = len(pods) + (1 if more_tile else 0)
        note, note_y, in_head = node_note(info, box, tiles, system, other)
        return NodeView(
            name=name,
            internal_ip=info.get("internalIP", ""),
            pod_cidrs=list(info.get("podCIDRs") or []),
            ready=bool(info.get("ready")),
            role=info.get("roles", "<none>"),
            x=box.x,
            y=box.y,
            w=box.w,
            h=box.h,
            host=host,
            gateway=gateway,
            tunnel=tunnel,
            netfilter=netfilter,
            pods=pods,
            more=more_tile,
            hidden_pods=more + system + other,
            hidden_system=system,
            note=note,
            note_y=note_y,
            note_in_head=in_head,
        )

    # --- Services and the ingress controller -------------------------------------------------
    def _connect(self, view: ServiceView | IngressView | GatewayView, lane: float) -> None:
        """Lines from the box's bottom, along its ``lane``, to each ready endpoint pod drawn."""
        x, y = view.x + view.w / 2, view.y + view.h
        key = (view.namespace, view.name)
        endpoints = ready_endpoint_pods(self.slices.get(key, []))
        for anchor in endpoints:
            pod = self.drawn.get(anchor)
            if pod is None:
                continue
            row, column = self.slot[anchor]
            path = L.route_to_pod(
                x, y, lane, self.pod_node[anchor], Rect(pod.x, pod.y, pod.w, pod.h), row, column
            )
            view.lines.append(LineView(anchor, pod.colour, x, y, pod.x + pod.w / 2, pod.y, path))
        if isinstance(view, ServiceView):
            view.hidden_endpoints = len(endpoints) - len(view.lines)

    def _place_services(
        self,
        services: list[dict[str, Any]],
        wide: list[IngressView | GatewayView],
        width: float,
        top: float,
    ) -> tuple[list[ServiceView], float]:
        """Services in rows; the ingress controller and Gateways after them, or below."""
        left = L.MARGIN + L.OUTSIDE_W + L.OUTSIDE_GAP * 3  # right of the internet and the LB
        wide_w = sum(b.w + L.SERVICE_GAP for b in wide)
        room = width - left - L.MARGIN - (L.SERVICE_W + L.SERVICE_GAP if services else 0)
        beside = wide_w <= room
        extra = wide_w if beside else 0
        avail = width - left - L.MARGIN - extra
        columns = max(1, int((avail + L.SERVICE_GAP) // (L.SERVICE_W + L.SERVICE_GAP)))
        rows = math.ceil(len(services) / columns)
        first = min(len(services), columns)
        group = first * L.SERVICE_W + max(first - 1, 0) * L.SERVICE_GAP
        group += extra if services else (extra - L.SERVICE_GAP if extra else 0)
        x0 = left + (avail + extra - group) / 2 if rows <= 1 else left
        views = []
        for index, service in enumerate(services):
            row, column = divmod(index, columns)
            x = x0 + column * (L.SERVICE_W + L.SERVICE_GAP)
            views.append(
                service_box(
                    service,
                    x,
                    top + row * (L.SERVICE_H + L.SERVICE_GAP),
                    self.slices,
                    self.app_colours,
                )
            )
        height = rows * L.SERVICE_H + max(rows - 1, 0) * L.SERVICE_GAP
        if beside:
            start = (x0 + (first * (L.SERVICE_W + L.SERVICE_GAP) if services else 0), top)
        else:
            start = (left, top + (height + L.SERVICE_GAP if services else 0))
        height = L.place_in_rows(wide, start, left, width - L.MARGIN, top, height)
        return views, top + max(height, 2 * L.OUTSIDE_H + L.OUTSIDE_GAP) + 6
