"""Why a hop sent the packet on: the table entry a real node would show for it.

Each hop of a trace carries a ``why``: ``{"table", "entry", "note"}`` (and optionally
``also``, more entries of other tables that took part). ``entry`` is one line as the tool
named by ``table`` prints it on a real node:

- ``ip route``: ``10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink`` (flannel's route to
  another node's /24), ``192.168.1.64/26 via 10.0.0.12 dev eth0 proto bird`` (a route Calico's
  BIRD learned over BGP; ``dev tunl0 proto bird onlink`` with IP-in-IP), ``10.244.1.0/24 dev
  cni0 proto kernel scope link src 10.244.1.1`` (the node's own pods), ``192.168.1.5 dev
  cali0123456789a scope link`` (Calico's host route to one pod's veth), the default route.
- ``bridge fdb`` and ``ip neigh``: the VXLAN peer's VTEP MAC and the node it lives on, the
  pod MAC the bridge learned on a veth port.
- ``conntrack``: one connection as ``conntrack -L`` prints it, original tuple then reply tuple.
- ``iptables nat`` / ``iptables filter`` / ``nftables`` / ``ipvsadm``: kube-proxy's rule (from
  the hop's ``rule``, see :meth:`app.network.model.Hop.__post_init__`).

MAC addresses and veth names are fake but deterministic: derived from the node or pod name, so
the same cluster always shows the same entries.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from app.cluster import constants as c
from app.network.model import Packet
from app.network.topology import NetworkIndex, parse_ip
from app.network.why_ip6 import node_route6

# kube-proxy sets nf_conntrack_tcp_timeout_established to 24h (conntrack.tcpEstablishedTimeout).
TCP_ESTABLISHED_TIMEOUT = 86400
UDP_TIMEOUT = 30  # nf_conntrack_udp_timeout
NODE_GATEWAY = str(c.NODE_NETWORK.network_address + 1)
CALICO_GATEWAY = "169.254.1.1"  # every Calico pod's default gateway, answered by proxy ARP
CLIENT_DEVICE = "eth0"


def why(
    table: str, entry: str, note: str = "", also: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A hop's ``why``.

    >>> why("ip route", "default via 10.0.0.1 dev eth0")["table"]
    'ip route'
    """
    data: dict[str, Any] = {"table": table, "entry": entry}
    if note:
        data["note"] = note
    if also:
        data["also"] = also
    return data


# --- names and addresses --------------------------------------------------------------------------


def fake_mac(*parts: str) -> str:
    """A stable, locally administered unicast MAC for a device.

    >>> fake_mac("flannel.1", "worker-2") == fake_mac("flannel.1", "worker-2")
    True
    >>> int(fake_mac("eth0", "worker-1")[:2], 16) & 0b11
    2
    """
    digest = hashlib.sha1("/".join(parts).encode()).digest()
    octets = [(digest[0] & 0xFC) | 0x02, *digest[1:6]]
    return ":".join(f"{o:02x}" for o in octets)


def pod_mac(cni: str, pod: dict[str, Any]) -> str:
    """The pod's eth0 MAC: the bridge plugin's ``0a:58`` + the IPv4 address under flannel."""
    ip = (pod.get("status") or {}).get("podIP", "0.0.0.0")
    if cni == "flannel" and ":" not in ip:  # an IPv6-only pod's MAC is not made from it
        return "0a:58:" + ":".join(f"{int(o):02x}" for o in ip.split("."))
    return fake_mac("pod", pod["metadata"]["namespace"], pod["metadata"]["name"])


def host_veth(cni: str, pod: dict[str, Any]) -> str:
    """The host end of the pod's veth.

    Calico names it ``cali`` + the first 11 hex digits of the SHA-1 of ``<namespace>.<pod>``
    (libcalico-go ``VethNameForWorkload``); the CNI bridge plugin ``veth`` + 8 random hex
    digits; Weave's CNI plugin ``vethwepl`` + 7.

    >>> host_veth("calico", {"metadata": {"namespace": "default", "name": "web"}})
    'cali68caf03a5f4'
    """
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    digest = hashlib.sha1(f"{namespace}.{name}".encode()).hexdigest()
    if cni == "calico":
        return "cali" + digest[:11]
    if cni == "weave":
        return "vethwepl" + digest[:7]
    if cni == "cilium":
        from app.network.cilium.datapath import host_veth as lxc

        return lxc(pod)
    return "veth" + digest[:8]


def _range_of(index: NetworkIndex, node: str, ip: str) -> ipaddress.IPv4Network | None:
    address = parse_ip(ip)
    return next((r for r in index.pod_ranges.get(node, []) if address in r), None)


def _pod_network(index: NetworkIndex) -> ipaddress.IPv4Network:
    return index.pod_network()


# --- routes ---------------------------------------------------------------------------------------


def default_route(index: NetworkIndex, node: str) -> str:
    return f"default via {NODE_GATEWAY} dev eth0 proto dhcp src {index.node_ip[node]} metric 100"


def local_route(device: str, ip: str) -> str:
    """A line of ``ip route show table local``: an address the host owns."""
    if ip.startswith("127."):
        return "local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1"
    return f"local {ip} dev {device} proto kernel scope host src {ip}"


def local_addresses(index: NetworkIndex, node: str) -> dict[str, str]:
    """The node's own addresses and the device each is on."""
    found = {index.node_ip[node]: "eth0"} if node in index.node_ip else {}
    if node in index.gateway:
        device, ip = index.gateway[node]
        found[ip] = device
        if index.cni == "flannel" and index.pod_ranges.get(node):
            found[str(index.pod_ranges[node][0].network_address)] = "flannel.1"
    return found


def node_route(cluster: Any, index: NetworkIndex, node: str, dst: str) -> str:
    """The route ``node``'s main table uses for ``dst``, as ``ip route`` prints it."""
    from app.network.datapath import calico_mode

    if ":" in dst:  # an IPv6 packet: the node's IPv6 table
        router6 = "cilium_host" if index.cni == "cilium" else "cni0"
        local6 = {index.node_ip6.get(node): "eth0", index.gateway6.get(node): router6}
        if dst in local6:
            return local_route(local6[dst] or "lo", dst)
        if index.cni == "cilium" and index.is_pod_ip(dst):
            from app.network.cilium.datapath import node_route as cilium_route

            found = cilium_route(cluster, index, node, dst)
            if found:
                return found
        return node_route6(index, node, dst, lambda pod: host_veth(index.cni, pod))
    local = local_addresses(index, node)
    if dst in local or dst.startswith("127."):
        return local_route(local.get(dst, "lo"), dst)
    address = parse_ip(dst)
    cni = index.cni
    if index.is_pod_ip(dst):
        owner = index.node_for_pod_ip(dst)
        gateway = index.gateway.get(node, ("", ""))[1]
        if cni == "cilium":
            from app.network.cilium.datapath import node_route as cilium_route

            return cilium_route(cluster, index, node, dst) or default_route(index, node)
        if cni == "weave":
            return f"{_pod_network(index)} dev weave proto kernel scope link src {gateway}"
        block = _range_of(index, owner, dst) if owner else None
        if owner is None or block is None:
            return default_route(index, node)
        if owner == node:
            if cni == "flannel":
                return f"{block} dev cni0 proto kernel scope link src {gateway}"
            pod = index.pod_by_ip.get(dst)
            if pod is None:
                return f"blackhole {block} proto bird"
            return f"{dst} dev {host_veth(cni, pod)} scope link"
        if cni == "flannel":
            return f"{block} via {block.network_address} dev flannel.1 onlink"
        if calico_mode(cluster) == "ipip":
            return f"{block} via {index.node_ip[owner]} dev tunl0 proto bird onlink"
        return f"{block} via {index.node_ip[owner]} dev eth0 proto bird"
    if address in c.NODE_NETWORK:
        return f"{c.NODE_NETWORK} dev eth0 proto kernel scope link src {index.node_ip[node]}"
    return default_route(index, node)


def route_why(cluster: Any, index: NetworkIndex, node: str, dst: str, note: str = "") -> dict:
    entry = node_route(cluster, index, node, dst)
    table = "ip route show table local" if entry.startswith("local ") else "ip route"
    return why(table, entry, note)


def pod_route(index: NetworkIndex, pod: dict[str, Any], dst: str) -> dict[str, Any]:
    """The route in the pod's own network namespace that sends ``dst`` out of eth0."""
    node = pod["spec"].get("nodeName", "")
    ip = (pod.get("status") or {}).get("podIP", "")
    if dst.startswith("127."):
        return why("ip route show table local", local_route("lo", dst), "Inside the pod.")
    cni = index.cni
    gateway = index.gateway.get(node, ("", ""))[1]
    address = ipaddress.ip_address(dst)
    note = "In the pod's network namespace."
    if cni == "cilium":
        from app.network.cilium.datapath import pod_route as cilium_pod_route

        return cilium_pod_route(index, pod, dst)
    if cni == "calico":
        return why(
            "ip route",
            f"default via {CALICO_GATEWAY} dev eth0",
            note + f" {CALICO_GATEWAY} is no real host: the cali veth answers ARP for it "
            "(proxy ARP), so everything goes to the node.",
        )
    own = _range_of(index, node, ip) if cni == "flannel" else _pod_network(index)
    if own is not None and address in own:
        return why(
            "ip route",
            f"{own} dev eth0 proto kernel scope link src {ip}",
            note + " The address is on the pod's own link: it is sent straight across the bridge.",
        )
    if cni == "flannel" and address in _pod_network(index):
        return why(
            "ip route",
            f"{_pod_network(index)} via {gateway} dev eth0",
            note + f" The bridge {gateway} (cni0) is the gateway to other nodes' pods.",
        )
    return why(
        "ip route",
        f"default via {gateway} dev eth0",
        note + f" Anything else, a ClusterIP included, goes to the gateway {gateway} on the node.",
    )


def node_neighbour(index: NetworkIndex, target: str) -> str:
    return f"{index.node_ip[target]} dev eth0 lladdr {fake_mac('eth0', target)} REACHABLE"


def underlay_why(index: NetworkIndex, node: str, target: str) -> dict[str, Any]:
    """The node network carries a frame to the next hop's MAC: the sender's ARP entry."""
    return why(
        "ip neigh",
        node_neighbour(index, target),
        f"On {node}: the next hop {index.node_ip[target]} is {target}; the frame goes to its "
        "eth0's MAC.",
    )


def vpc_why(dst: str) -> dict[str, Any]:
    """Off the nodes: the cloud network's own route table."""
    if ipaddress.ip_address(dst) in c.NODE_NETWORK:
        return why(
            "VPC route table",
            f"{c.NODE_NETWORK} → local",
            "The cloud network delivers addresses of the node network itself.",
        )
    return why(
        "VPC route table",
        "0.0.0.0/0 → internet gateway",
        "Anything outside the cloud network goes out through its internet gateway.",
    )


def client_route(ip: str) -> dict[str, Any]:
    """An off-cluster host's own default route."""
    gateway = str(ipaddress.ip_network(f"{ip}/24", strict=False).network_address + 1)
    return why(
        "ip route",
        f"default via {gateway} dev {CLIENT_DEVICE}",
        f"On the host {ip}: everything not on its own link goes to its router.",
    )


def client_local(ip: str) -> dict[str, Any]:
    return why(
        "ip route show table local",
        local_route(CLIENT_DEVICE, ip),
        f"{ip} is the host's own address: the kernel hands the packet to its socket.",
    )


# --- tunnels --------------------------------------------------------------------------------------


def tunnel_why(cluster: Any, index: NetworkIndex, node: str, target: str) -> dict[str, Any]:
    """What decides the outer header when ``node`` wraps a packet for ``target``."""
    target_ip = index.node_ip[target]
    cni = index.cni
    if cni == "cilium":
        from app.network.cilium.datapath import tunnel_why as cilium_tunnel_why

        return cilium_tunnel_why(index, target)
    if cni == "flannel":
        vtep_mac = fake_mac("flannel.1", target)
        vtep_ip = str(index.pod_ranges[target][0].network_address)
        return why(
            "bridge fdb",
            f"{vtep_mac} dev flannel.1 dst {target_ip} self permanent",
            f"The route's next hop {vtep_ip} is {target}'s flannel.1; the neighbour entry gives "
            f"its MAC, and this forwarding entry says that MAC lives at {target_ip}: the outer "
            "destination. flanneld writes both when it learns of the node.",
            [
                {
                    "table": "ip neigh",
                    "entry": f"{vtep_ip} dev flannel.1 lladdr {vtep_mac} PERMANENT",
                }
            ],
        )
    if cni == "calico":
        block = index.pod_ranges[target][0]
        return why(
            "ip route",
            f"{block} via {target_ip} dev tunl0 proto bird onlink",
            f"tunl0 has no fixed far end (ipip remote any): the outer destination is the route's "
            f"gateway {target_ip}, {target}.",
        )
    return why(
        "weave status connections",
        f"-> {target_ip}:6783 established fastdp {fake_mac('weave-peer', target)}({target}) "
        "mtu=1376",
        f"Weave's router learned the destination's MAC from peer {target}; with a fastdp "
        "connection the kernel's datapath sends it through vxlan-6784 to "
        f"{target_ip}:6784.",
    )


def decapsulate_why(cluster: Any, index: NetworkIndex, node: str, packet: Packet) -> dict[str, Any]:
    """After the outer header is gone, the inner packet is routed on the receiving node."""
    return route_why(
        cluster,
        index,
        node,
        packet.dst_ip,
        f"The inner packet is routed on {node} like any other: this route takes it on.",
    )


def bridge_why(index: NetworkIndex, node: str, pod: dict[str, Any]) -> dict[str, Any]:
    """The bridge forwards to the port it learned the pod's MAC on (or Calico's host route)."""
    cni = index.cni
    veth = host_veth(cni, pod)
    if cni == "cilium":
        from app.network.cilium.datapath import endpoint_why

        return endpoint_why(pod["spec"].get("nodeName", ""), pod)
    if cni == "calico":
        ip = (pod.get("status") or {}).get("podIP", "")
        return why(
            "ip route",
            f"{ip} dev {veth} scope link",
            f"Calico writes a /32 host route per pod to its cali veth ({veth}).",
        )
    bridge = "cni0" if cni == "flannel" else "weave"
    return why(
        "bridge fdb",
        f"{pod_mac(cni, pod)} dev {veth} master {bridge}",
        f"The {bridge} bridge learned the pod's MAC on port {veth}, the host end of its veth.",
    )


def delivered_why(pod: dict[str, Any], packet: Packet) -> dict[str, Any]:
    return why(
        "ip route show table local",
        local_route("eth0", packet.dst_ip),
        "In the pod: the address is its own, so the kernel hands it to the socket on port "
        f"{packet.dst_port}.",
    )


# --- conntrack ------------------------------------------------------------------------------------


def conntrack_line(original: Packet, reply: Packet) -> str:
    """One entry as ``conntrack -L`` prints it: the original tuple, then the reply tuple
    (the tool pads the protocol name to 8 columns; here fields are one space apart).

    >>> conntrack_line(Packet("10.244.1.4", 40000, "10.96.0.10", 53, "TCP"),
    ...                Packet("10.244.2.2", 53, "10.244.1.4", 40000, "TCP"))
    'tcp 6 86399 ESTABLISHED src=10.244.1.4 dst=10.96.0.10 sport=40000 dport=53 src=10.244.2.2 dst=10.244.1.4 sport=53 dport=40000 [ASSURED] mark=0 use=1'
    """
    tuples = (
        f"src={original.src_ip} dst={original.dst_ip} sport={original.src_port} "
        f"dport={original.dst_port} src={reply.src_ip} dst={reply.dst_ip} "
        f"sport={reply.src_port} dport={reply.dst_port}"
    )
    if original.protocol.upper() == "UDP":
        return f"udp 17 {UDP_TIMEOUT - 1} {tuples} mark=0 use=1"
    return f"tcp 6 {TCP_ESTABLISHED_TIMEOUT - 1} ESTABLISHED {tuples} [ASSURED] mark=0 use=1"


def conntrack_why(original: Packet, reply: Packet, node: str | None) -> dict[str, Any]:
    return why(
        "conntrack",
        conntrack_line(original, reply),
        f"On {node}: the reply matches the second tuple of the connection's entry, so conntrack "
        "rewrites it back to the first, reversed.",
    )


# --- the cloud load balancer and the ingress controller ---------------------------------------------


def lb_why(
    lb_ip: str, protocol: str, port: int, node_port: int | None, targets: list[tuple[str, str]]
) -> dict[str, Any]:
    pool = ", ".join(f"{name} {ip}:{node_port}" for name, ip in targets) or "no healthy target"
    return why(
        "load balancer forwarding rule",
        f"{protocol} {lb_ip}:{port} → target pool [{pool}]",
        "The cloud load balancer's listener forwards to the NodePort on healthy nodes.",
    )


def lb_flow_why(client: Packet, node_packet: Packet) -> dict[str, Any]:
    return why(
        "load balancer flow",
        f"{client.protocol} {client.src} → {client.dst} ⇒ {node_packet.dst}",
        "The load balancer tracks the flow it forwarded: the answer goes back through it and "
        "leaves from its own address.",
    )


def ingress_why(match: Any, service_port: dict[str, Any] | None, upstream: str) -> dict[str, Any]:
    """ingress-nginx's matched rule: host and path → the upstream (``<ns>-<svc>-<port>``)."""
    route = match.route
    name = (
        f"{match.namespace}-{match.service}-{match.port}"
        if match.found
        else "upstream-default-backend"
    )
    if route is not None:
        rule = f"host {route.host or '*'} path {route.path} ({route.path_type})"
    elif match.found:
        rule = "defaultBackend"
    else:
        rule = "no matching host or path"
    source = f"Ingress {'/'.join(match.ingress)}" if match.ingress else "ingress-nginx"
    field = f", {match.field}" if match.field else ""
    return why(
        "ingress-nginx rule",
        f"{rule} → {name} → {upstream}",
        f"From {source}{field}. ingress-nginx keeps the upstream's endpoints itself and picks "
        "one: the Service's ClusterIP is not used.",
    )


def ingress_answer_why(cluster: Any, packet: Packet, status: int) -> dict[str, Any]:
    from app.network import ingress

    http = packet.http or {}
    match = ingress.match(cluster, http.get("host", ""), http.get("path", "/"))
    answer = {
        308: "308 Permanent Redirect (ssl-redirect)",
        404: "404 from the default backend",
        503: "503: the upstream has no endpoints",
    }.get(status, str(status))
    return ingress_why(match, None, answer)


def netfilter_why(rule: dict[str, Any]) -> dict[str, Any]:
    """kube-proxy's (or the CNI's) rule, in the tool that lists it."""
    text = rule.get("text", "")
    chain = rule.get("chain", "")
    if rule.get("table") == "ipvs":
        return why("ipvsadm -Ln", text, "The IPVS virtual server and the real server it chose.")
    if text.startswith("-A "):
        return why(
            f"iptables {rule.get('table', 'nat')}",
            text,
            f"From iptables-save -t {rule.get('table', 'nat')}: chain {chain}.",
        )
    return why(
        "nftables",
        text,
        f"From nft list table ip {rule.get('table', 'kube-proxy')}: chain {chain}.",
    )


CNI_MASQUERADE = {
    "flannel": '-A FLANNEL-POSTRTG -s {pods} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
    "calico": '-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully',
    "weave": "-A WEAVE -s {pods} ! -d {pods} -j MASQUERADE",
}


def cni_masquerade_why(index: NetworkIndex) -> dict[str, Any]:
    chain = {"flannel": "FLANNEL-POSTRTG", "calico": "cali-nat-outgoing", "weave": "WEAVE"}[
        index.cni
    ]
    return why(
        "iptables nat",
        CNI_MASQUERADE[index.cni].format(pods=_pod_network(index)),
        f"From iptables-save -t nat: the CNI's own chain {chain}, for pod traffic leaving the "
        "pod network.",
    )
