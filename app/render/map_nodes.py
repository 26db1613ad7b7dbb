"""What the map draws inside a node box: its devices (bridge, eth0, tunnel, the netfilter bar),
its pod tiles, and the note about the pods it does not draw."""

from __future__ import annotations

from typing import Any

from app.network.topology import BRIDGE_DEVICE, TUNNEL_DEVICE
from app.render import map_layout as L
from app.render.map_boxes import plural
from app.render.map_layout import Rect
from app.render.map_model import HIDDEN_LABELS, Device, PodView, is_system

#: What rewrites a Service's packets on a node, by kube-proxy mode: in ipvs mode the kernel's
#: IPVS virtual servers do the DNAT, and iptables only marks and masquerades.
NETFILTER_NOTE = {
    "iptables": "netfilter · kube-proxy iptables rules",
    "nftables": "netfilter · kube-proxy nftables rules",
    "ipvs": "IPVS + iptables · kube-proxy ipvs mode",
    # Cilium's kube-proxy replacement: Services in eBPF (the socket LB, tc on eth0).
    "ebpf": "eBPF · Cilium (socket LB, tc) · no kube-proxy",
}
#: What the pod gateway device shows for the plugins without a bridge.
ROUTED_GATEWAY = {"calico": ("routes", "cali* veths"), "cilium": ("cilium_host", "lxc* veths")}
SIDE_DEVICE_W = 122
HOST_DEVICE_W = 132


def node_devices(
    info: dict[str, Any], box: Rect, cni: str, proxy_mode: str, tunnelled: bool = True
) -> tuple[Device, Device, Device | None, Device]:
    """A node's pod gateway, eth0, tunnel device and netfilter bar, placed in ``box``.

    ``tunnelled``: False where the plugin makes no tunnel device (Cilium's native routing):
    the tunnel is then None, and the map draws none.

    ``info`` is the node's entry of the cluster summary (name, InternalIP, gateway). The
    gateway is the CNI's bridge (``cni0``, ``weave``) or, for Calico, the host's routes to the
    ``cali*`` veths; the netfilter bar spans the node above the devices.

    >>> gw, eth0, tunnel, nf = node_devices(
    ...     {"name": "worker-1", "internalIP": "10.0.0.11", "gateway": {"ip": "10.244.1.1"}},
    ...     Rect(0, 0, 416, 222), "flannel", "iptables")
    >>> gw.anchor, eth0.anchor, tunnel.anchor, nf.anchor
    ('node/worker-1/cni0', 'node/worker-1', 'node/worker-1/flannel.1', 'node/worker-1/netfilter')
    >>> nf.note, nf.y + nf.h < eth0.y
    ('netfilter · kube-proxy iptables rules', True)
    >>> node_devices({"name": "worker-1"}, Rect(0, 0, 416, 222), "cilium", "ebpf", False)[2] is None
    True
    """
    name = info["name"]
    gateway_info = info.get("gateway") or {}
    bridge = BRIDGE_DEVICE[cni]
    tunnel_name = TUNNEL_DEVICE[cni]
    dev_y = box.bottom - L.NODE_PAD - L.DEVICE_H
    label, veths = ROUTED_GATEWAY.get(cni, (bridge or "routes", ""))
    gateway = Device(
        f"node/{name}/{bridge or 'routes'}",
        label,
        gateway_info.get("ip", "") if bridge or cni == "cilium" else "",
        "bridge" if bridge else "routes",
        box.x + L.NODE_PAD,
        dev_y,
        SIDE_DEVICE_W,
        L.DEVICE_H,
        note=veths,
    )
    host = Device(
        f"node/{name}",
        "eth0",
        info.get("internalIP", ""),
        "host",
        box.cx - HOST_DEVICE_W / 2,
        dev_y,
        HOST_DEVICE_W,
        L.DEVICE_H,
    )
    tunnel = (
        None
        if not tunnelled
        else Device(
            f"node/{name}/{tunnel_name}",
            tunnel_name,
            gateway_info.get("ip", "") if cni == "calico" else "",
            "tunnel",
            box.x + box.w - L.NODE_PAD - SIDE_DEVICE_W,
            dev_y,
            SIDE_DEVICE_W,
            L.DEVICE_H,
            note="" if cni == "calico" else "VXLAN",
        )
    )
    netfilter = Device(
        f"node/{name}/netfilter",
        "netfilter",
        "",
        "netfilter",
        box.x + L.NODE_PAD,
        dev_y - 6 - L.NETFILTER_H,
        box.w - 2 * L.NODE_PAD,
        L.NETFILTER_H,
        note=NETFILTER_NOTE.get(proxy_mode, f"netfilter · kube-proxy {proxy_mode} rules"),
    )
    return gateway, host, tunnel, netfilter


def note_in_head(info: dict[str, Any]) -> bool:
    """Whether a node's "system pods hidden" note fits beside its name: a Ready worker's name
    line has nothing on its right.

    >>> note_in_head({"ready": True}), note_in_head({"ready": True, "roles": "control-plane"})
    (True, False)
    """
    return bool(info.get("ready")) and info.get("roles", "<none>") == "<none>"


def node_note(
    info: dict[str, Any], box: Rect, tiles: int, system: int, other: int
) -> tuple[str, float, bool]:
    """The note about the pods a node does not draw: its text, its baseline and whether it
    sits beside the node's name (short there, longer on a line of its own under the pods).

    >>> node_note({"ready": True}, Rect(0, 0, 416, 222), 2, 2, 0)
    ('+2 system', 28, True)
    >>> node_note({"ready": True, "roles": "control-plane"}, Rect(0, 0, 416, 222), 0, 6, 0)
    ('no pods · 6 system pods hidden', 76, False)
    """
    in_head = bool(tiles) and note_in_head(info)
    notes = []
    if system:
        notes.append(f"+{system} system" if in_head else f"{plural(system, 'system pod')} hidden")
    if other:
        notes.append(
            f"+{other} elsewhere" if in_head else f"{plural(other, 'pod')} in other namespaces"
        )
    if not tiles:
        notes.insert(0, "no pods")
        return " · ".join(notes), box.y + L.NODE_HEAD + 20, False
    if in_head:
        return " · ".join(notes), box.y + 28, True
    rows = L.pod_rows(tiles)
    pods_bottom = box.y + L.NODE_HEAD + rows * L.POD_H + (rows - 1) * L.POD_GAP
    return " · ".join(notes), pods_bottom + 19, False


def pod_view(pod: dict[str, Any], node: str, slot: Rect, app: str, colour: int) -> PodView:
    """A pod's tile in ``slot``: its name, IP, labels (or why it is not ready) and colour.

    >>> tile = pod_view(
    ...     {"metadata": {"name": "web-6dbb75cd76-bqgc6", "namespace": "default",
    ...                   "labels": {"app": "web", "pod-template-hash": "6dbb75cd76"}},
    ...      "spec": {}, "status": {"podIP": "10.244.1.5", "phase": "Running"}},
    ...     "worker-1", Rect(12, 68, 190, 70), "web", 1)
    >>> tile.label, tile.labels_text, tile.ready, tile.detail
    ('web-6db…-bqgc6', 'app=web', False, '⚠ not ready · Running')
    """
    meta = pod["metadata"]
    labels = dict(meta.get("labels") or {})
    status = pod.get("status") or {}
    conditions = status.get("conditions") or []
    return PodView(
        name=meta["name"],
        namespace=meta["namespace"],
        node=node,
        ip=status.get("podIP") or "",
        ip6=next((e["ip"] for e in (status.get("podIPs") or ())[1:] if e.get("ip")), ""),
        labels=labels,
        labels_text=", ".join(f"{k}={v}" for k, v in labels.items() if k not in HIDDEN_LABELS),
        app=app,
        colour=colour,
        system=is_system(pod),
        ready=any(x.get("type") == "Ready" and x.get("status") == "True" for x in conditions),
        host_network=bool(pod["spec"].get("hostNetwork")),
        phase=status.get("phase", "Pending"),
        x=slot.x,
        y=slot.y,
        w=slot.w,
        h=slot.h,
    )
