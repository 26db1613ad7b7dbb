"""Where each hop of a trace is drawn on the cluster map, and which boxes it lights.

A hop's ``at`` is a topology id (:mod:`app.network.topology`): ``node/worker-1`` is the node's
host network stack, where routing and kube-proxy's netfilter rules both run. The map draws
them apart, so a learner sees the rewrite where it happens: DNAT, SNAT, conntrack's reverse
NAT and kube-proxy's REJECT or DROP on the node's netfilter bar, routing on eth0. A Service box
is lit while its virtual IP (or one of its node ports) is the packet's destination, and the
Ingress box while the ingress controller handles the request. A pod the map does not draw is
stood in for by its node's bridge, so a hop never points at an element that is not there.
"""

from __future__ import annotations

from typing import Any

from app.render.map_model import MapView

#: What runs in a node's netfilter (or IPVS) rather than its routing table.
NETFILTER_ACTIONS = frozenset({"dnat", "snat", "reject", "drop"})
NETFILTER_WORDS = ("netfilter", "conntrack", "nftables", "iptables", "kube-ipvs0", "ipvs")


def draw_at(hop: dict[str, Any], view: MapView) -> str:
    """The ``data-at`` of the map element that does what ``hop`` says.

    >>> from app.cluster.cluster import Cluster
    >>> from app.render.map import build_map
    >>> view = build_map(Cluster.create(seed=1))
    >>> draw_at({"at": "node/worker-1", "action": "dnat", "where": "netfilter"}, view)
    'node/worker-1/netfilter'
    >>> draw_at({"at": "node/worker-1", "action": "route", "where": "routing table"}, view)
    'node/worker-1'
    """
    at = hop.get("at") or ""
    where = (hop.get("where") or "").lower()
    on_host = at.startswith("node/") and at.count("/") == 1
    if on_host and (
        hop.get("action") in NETFILTER_ACTIONS or any(w in where for w in NETFILTER_WORDS)
    ):
        at = f"{at}/netfilter"
    at = view.stand_ins.get(at, at)
    if at in view.anchors:
        return at
    node = hop.get("node")
    return f"node/{node}" if node and f"node/{node}" in view.anchors else "net/nodes"


def _host(address: str) -> tuple[str, int | None]:
    """``ip:port`` or ``[ipv6]:port`` split into the address and the port."""
    host, _, port = (address or "").rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else None


def lit_boxes(
    hop: dict[str, Any],
    before: dict[str, Any] | None,
    view: MapView,
    node_ips: set[str] | None = None,
) -> list[str]:
    """The boxes ``hop`` lights: the Service whose address the packet is sent to (before or
    after this hop), the Ingress box while the ingress controller has the request, and a
    Gateway's box while its Envoy proxy has it.

    >>> from app.cluster.cluster import Cluster
    >>> from app.render.map import build_map
    >>> view = build_map(Cluster.create(seed=1), show_system=True)
    >>> lit_boxes({"packet": {"dst": "10.96.0.10:53"}}, None, view)
    ['service/kube-system/kube-dns']
    """
    if node_ips is None:
        node_ips = {n.internal_ip for n in view.nodes}
    destinations = [(hop.get("packet") or {}).get("dst", "")]
    if before is not None and hop.get("action") in ("dnat", "proxy"):
        destinations.append((before.get("packet") or {}).get("dst", ""))
    lit: list[str] = []
    for dst in destinations:
        ip, port = _host(dst)
        for service in view.services:
            addressed = ip in service.virtual_ips or (ip in node_ips and port in service.node_ports)
            if addressed and service.at not in lit:
                lit.append(service.at)
    at = hop.get("at") or ""
    if view.ingresses is not None and (
        (at.startswith("pod/ingress-nginx/") and hop.get("action") in ("deliver", "proxy"))
        or (hop.get("action") == "proxy" and "ingress" in (hop.get("where") or ""))
    ):
        lit.append(view.ingresses.at)
    for gateway in view.gateways:
        # A Gateway's box while one of its Envoy pods has the request.
        if at.startswith(f"pod/{gateway.namespace}/{gateway.name}-") and hop.get("action") in (
            "deliver",
            "proxy",
        ):
            lit.append(gateway.at)
    return lit


def hop_marks(view: MapView, trace: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """For each step of ``trace`` (its ``hops``, then its ``reply``): the element the packet is
    drawn at (``at``), the point on the map (``point``, viewBox units) and the boxes lit.

    >>> from app.cluster.cluster import Cluster
    >>> from app.render.map import build_map
    >>> view = build_map(Cluster.create(seed=1))
    >>> marks = hop_marks(view, {"hops": [{"at": "net/internet", "action": "send"}], "reply": []})
    >>> marks["hops"][0]["at"], marks["hops"][0]["point"] == list(view.anchors["net/internet"])
    ('net/internet', True)
    """
    out: dict[str, list[dict[str, Any]]] = {}
    node_ips = {n.internal_ip for n in view.nodes}
    for part in ("hops", "reply"):
        out[part] = []
        before = None
        for hop in trace.get(part) or []:
            if before is not None and before.get("phase") != hop.get("phase"):
                before = None
            at = draw_at(hop, view)
            x, y = view.anchors[at]
            out[part].append(
                {"at": at, "point": [x, y], "lit": lit_boxes(hop, before, view, node_ips)}
            )
            before = hop
    return out


#: What the trace player (static/js/trace-player.js) reads of a hop; the rules matched, the
#: "why" tables and the changed fields are in the page's markup already.
PLAYER_HOP_FIELDS = ("index", "phase", "node", "where", "at", "action", "summary", "packet")
#: What it reads of the trace itself.
PLAYER_TRACE_FIELDS = ("verdict", "reason", "http_status", "endpoint")


def player_data(trace: dict[str, Any], marks: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON the trace player animates from: each hop's place, action, summary and packet,
    and where on the map each is drawn (:func:`hop_marks`).

    Parameters
    ----------
    trace : dict
        :meth:`app.network.model.Trace.to_dict`.
    marks : dict or None
        :func:`hop_marks` for it (None: no map; no places).

    Returns
    -------
    dict
        ``{"trace": {...}, "marks": {"hops": [...], "reply": [...]}}``.

    Examples
    --------
    >>> hop = {"index": 0, "phase": "request", "node": "worker-1", "where": "eth0",
    ...        "at": "pod/default/a", "action": "send", "summary": "a sends",
    ...        "packet": {"src": "10.244.1.2:40000"}, "rule": {"text": "-A ..."}, "changed": []}
    >>> data = player_data({"verdict": "delivered", "hops": [hop], "reply": [], "dns": {}}, None)
    >>> sorted(data["trace"]), sorted(data["trace"]["hops"][0])
    (['endpoint', 'hops', 'http_status', 'reason', 'reply', 'verdict'], ['action', 'at', 'index', 'node', 'packet', 'phase', 'summary', 'where'])
    """
    slim: dict[str, Any] = {key: trace.get(key) for key in PLAYER_TRACE_FIELDS}
    for phase in ("hops", "reply"):
        slim[phase] = [
            {key: hop.get(key) for key in PLAYER_HOP_FIELDS} for hop in trace.get(phase) or []
        ]
    return {"trace": slim, "marks": marks or {"hops": [], "reply": []}}
