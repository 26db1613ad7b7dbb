"""A shell inside a pod (``kubectl exec -it POD -- sh``): the files the kubelet writes for it,
its network namespace (``ip addr``, ``ip route``), its name, and ``ping``.

What the pod sees comes from the same places as the map: its IP and node from the cluster,
its routes and MACs from :mod:`app.network.why` (which the trace's "Why this hop?" quotes).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from app.cluster import constants as c
from app.errors import PodpathError
from app.network import dns
from app.network.compare import CILIUM_DEVICE_MTU, POD_MTU
from app.network.datapath import calico_mode
from app.network.topology import network_index
from app.network.why import CALICO_GATEWAY, host_veth, pod_mac
from app.terminal.ip_family import CALICO_VETH_MAC, INET, INET6, Device, link_local, render
from app.terminal.output import Output, failed
from app.terminal.session import Session, pod_of

LOOPBACK = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
"""


def resolv_conf_text(cluster: Any, pod: dict[str, Any] | None) -> str:
    """``/etc/resolv.conf`` as the kubelet writes it (a node's: its DHCP resolver).

    >>> from app.cluster.scenarios import build
    >>> cluster = build("web-service")
    >>> print(resolv_conf_text(cluster, cluster.get("Pod", "default", "client")), end="")
    search default.svc.cluster.local svc.cluster.local cluster.local
    nameserver 10.96.0.10
    options ndots:5
    """
    conf = dns.resolv_conf(cluster, pod)
    lines = [f"search {' '.join(conf['search'])}"] if conf["search"] else []
    lines.append(f"nameserver {conf['nameserver']}")
    if conf["ndots"] != dns.DEFAULT_NDOTS:
        lines.append(f"options ndots:{conf['ndots']}")
    return "".join(f"{line}\n" for line in lines)


def hosts_text(pod: dict[str, Any]) -> str:
    """``/etc/hosts`` as the kubelet writes it for a pod (``hostname``/``subdomain`` give the
    FQDN line of a headless Service's pod)."""
    ip = (pod.get("status") or {}).get("podIP", "")
    spec = pod.get("spec") or {}
    name = spec.get("hostname") or pod["metadata"]["name"]
    entry = name
    if spec.get("subdomain"):
        namespace = pod["metadata"]["namespace"]
        entry = f"{name}.{spec['subdomain']}.{namespace}.svc.{c.CLUSTER_DOMAIN}\t{name}"
    lines = [
        "# Kubernetes-managed hosts file.",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "fe00::0\tip6-mcastprefix",
        "fe00::1\tip6-allnodes",
        "fe00::2\tip6-allrouters",
        f"{ip}\t{entry}",
    ]
    return "".join(f"{line}\n" for line in lines)


def _pod_prefix(cluster: Any, pod: dict[str, Any]) -> tuple[str, int]:
    """The pod's eth0 network: its node's /24 (flannel), /32 (Calico, Cilium), Weave's whole
    range."""
    index = network_index(cluster)
    ip = pod["status"]["podIP"]
    if index.cni in ("calico", "cilium"):
        return f"{ip}/32", 32
    if index.cni == "weave":
        network = index.pod_network()
        return f"{ip}/{network.prefixlen}", network.prefixlen
    node = pod["spec"].get("nodeName", "")
    for block in index.pod_ranges.get(node, []):
        if ipaddress.ip_address(ip) in block:
            return f"{ip}/{block.prefixlen}", block.prefixlen
    return f"{ip}/24", 24


def _mtu(cluster: Any) -> int:
    """The MTU a pod packet gets: eth0's, or with Cilium its routes' (RouteMTU)."""
    cni = cluster.config.cni
    if cni == "calico":
        return POD_MTU["calico-ipip" if calico_mode(cluster) == "ipip" else "calico"]
    if cni == "cilium" and cluster.config.routing_mode == "native":
        return POD_MTU["cilium-native"]
    return POD_MTU[cni]


def _link_mtu(cluster: Any) -> int:
    """eth0's own MTU. Cilium's CNI plugin makes both ends of the veth with DeviceMTU (the
    node device's 1500) and puts the tunnel's lower RouteMTU on the pod's routes instead
    (plugins/cilium-cni: connector.SetupVeth with conf.DeviceMTU, prepareIP with
    conf.RouteMTU; pkg/mtu GetDeviceMTU / GetRouteMTU)."""
    if cluster.config.cni == "cilium":
        return CILIUM_DEVICE_MTU
    return _mtu(cluster)


def _ifindex(name: str) -> int:
    return 4 + sum(name.encode()) % 60


def ip_addr(cluster: Any, pod: dict[str, Any], family: str | None = None) -> str:
    """``ip addr`` in the pod's network namespace: lo and eth0, the veth's peer index after
    the ``@``; ``family`` ``inet`` / ``inet6`` is ``ip -4 addr`` / ``ip -6 addr``. A pod with
    an IPv6 address has it on eth0 (flannel: its node's /64; Calico a /128) beside the
    link-local address the kernel makes from eth0's MAC."""
    ips = _pod_ips(pod)
    mac = pod_mac(cluster.config.cni, pod)
    peer = _ifindex(host_veth(cluster.config.cni, pod))
    lo = Device(*LOOPBACK.splitlines()[:2], [(INET, LOOPBACK.splitlines()[2].strip())])
    eth0 = Device(
        f"2: eth0@if{peer}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {_link_mtu(cluster)} qdisc noqueue "
        "state UP group default",
        f"    link/ether {mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0",
    )
    for ip in ips:
        if ":" in ip:
            eth0.add(INET6, f"inet6 {_prefix6(cluster, pod, ip)} scope global")
            continue
        address, prefix = _pod_prefix(cluster, pod)
        network = ipaddress.ip_network(address, strict=False)
        brd = f" brd {network.broadcast_address}" if prefix < 31 else ""
        eth0.add(INET, f"inet {address}{brd} scope global eth0")
    if any(":" in ip for ip in ips):
        lo.add(INET6, "inet6 ::1/128 scope host")
        eth0.add(INET6, f"inet6 {link_local(mac)} scope link")
    return render([lo, eth0], family)


def _pod_ips(pod: dict[str, Any]) -> list[str]:
    status = pod.get("status") or {}
    return [e["ip"] for e in status.get("podIPs") or ()] or [status.get("podIP", "")]


def _prefix6(cluster: Any, pod: dict[str, Any], ip: str) -> str:
    """The pod's IPv6 address with its prefix: its node's IPv6 block (flannel's bridge plugin
    hands the /64 out, host-local IPAM), a /128 with Calico."""
    if cluster.config.cni != "flannel":
        return f"{ip}/128"
    block = _block6(cluster, pod, ip)
    return f"{ip}/{block.prefixlen if block is not None else 64}"


def _block6(cluster: Any, pod: dict[str, Any], ip: str) -> Any:
    node = pod["spec"].get("nodeName", "")
    address = ipaddress.ip_address(ip)
    ranges = network_index(cluster).pod_ranges.get(node, ())
    return next((r for r in ranges if r.version == 6 and address in r), None)


def ip6_route(cluster: Any, pod: dict[str, Any]) -> str:
    """``ip -6 route`` in the pod: empty without an IPv6 address. flannel's pod has its /64
    on eth0, the IPv6 pod network and the default route through cni0's ``::1``; Calico's
    pod routes everything to the link-local address of its host veth, whose MAC is always
    ee:ee:ee:ee:ee:ee (fe80::ecee:eeff:feee:eeee). Each device has fe80::/64, and the kernel
    lists the default route last."""
    ip6 = next((ip for ip in _pod_ips(pod) if ":" in ip), None)
    if ip6 is None:
        return ""
    lines: list[str] = []
    if cluster.config.cni == "flannel":
        node = pod["spec"].get("nodeName", "")
        gateway = network_index(cluster).gateway6.get(node, "")
        block = _block6(cluster, pod, ip6)
        if block is not None:
            lines.append(f"{block} dev eth0 proto kernel metric 256 pref medium")
        lines.append(f"{c.POD_NETWORK6['flannel']} via {gateway} dev eth0 metric 1024 pref medium")
        lines.append("fe80::/64 dev eth0 proto kernel metric 256 pref medium")
        lines.append(f"default via {gateway} dev eth0 metric 1024 pref medium")
    else:
        lines.append("fe80::/64 dev eth0 proto kernel metric 256 pref medium")
        lines.append(
            f"default via {link_local(CALICO_VETH_MAC)[:-3]} dev eth0 metric 1024 pref medium"
        )
    return "".join(f"{line}\n" for line in lines)


def ip_route(cluster: Any, pod: dict[str, Any], family: str | None = None) -> str:
    """``ip route`` in the pod: what :func:`app.network.why.pod_route` quotes line by line;
    the IPv4 table only (ip(8)), ``family`` ``inet6`` :func:`ip6_route`."""
    if family == INET6:
        return ip6_route(cluster, pod)
    index = network_index(cluster)
    ip = next((a for a in _pod_ips(pod) if a and ":" not in a), "")
    if not ip:  # an IPv6-only pod has no IPv4 routes
        return ""
    node = pod["spec"].get("nodeName", "")
    gateway = index.gateway.get(node, ("", ""))[1]
    if index.cni == "calico":
        return f"default via {CALICO_GATEWAY} dev eth0 \n{CALICO_GATEWAY} dev eth0 scope link \n"
    if index.cni == "cilium":  # a /32 on eth0; cilium_host's address is the only neighbour
        return (
            f"default via {gateway} dev eth0 mtu {_mtu(cluster)} \n{gateway} dev eth0 scope link \n"
        )
    address, _ = _pod_prefix(cluster, pod)
    own = ipaddress.ip_network(address, strict=False)
    lines = [f"default via {gateway} dev eth0 "]
    if index.cni == "flannel":
        lines.append(f"{index.pod_network()} via {gateway} dev eth0 ")
    lines.append(f"{own} dev eth0 proto kernel scope link src {ip} ")
    return "".join(f"{line}\n" for line in lines)


def ping(cluster: Any, session: Session, args: list[str]) -> Output:
    """busybox ``ping -c N HOST``: a pod or node address answers; a ClusterIP answers only in
    IPVS mode (kube-ipvs0 holds the address), since iptables and nftables rules only rewrite
    the Service's ports and ICMP has none."""
    count, host = 4, ""
    words = iter(args)
    for arg in words:
        if arg == "-c":
            value = next(words, "")
            if not value.isdigit():
                return failed(f"ping: invalid number '{value}'\n", 1)
            count = min(int(value), 20)
        elif arg.startswith("-c") and arg[2:].isdigit():
            count = min(int(arg[2:]), 20)
        elif not arg.startswith("-"):
            host = arg
    if not host:
        return failed("BusyBox v1.36.1 multi-call binary.\n\nUsage: ping [OPTIONS] HOST\n", 1)
    client = pod_of(cluster, session) if session.kind == "pod" else None
    try:
        resolution = dns.resolve(cluster, client, host, "A")
    except PodpathError:
        return failed(f"ping: bad address '{host}'\n", 1)
    if not resolution.addresses():
        return failed(f"ping: bad address '{host}'\n", 1)
    ip = resolution.addresses()[0]
    ttl = _ping_ttl(cluster, session, ip)
    output = Output().out(f"PING {host} ({ip}): 56 data bytes\n")
    if ttl is not None:
        for seq in range(count):
            output.out(
                f"64 bytes from {ip}: seq={seq} ttl={ttl} time=0.{412 + 37 * seq % 300} ms\n"
            )
    received = count if ttl is not None else 0
    output.out(
        f"\n--- {host} ping statistics ---\n"
        f"{count} packets transmitted, {received} packets received, "
        f"{100 - 100 * received // count if count else 0}% packet loss\n"
    )
    if received:
        output.out("round-trip min/avg/max = 0.412/0.468/0.523 ms\n")
    output.status = 0 if received else 1
    return output


def _ping_ttl(cluster: Any, session: Session, ip: str) -> int | None:
    """The TTL of the echo reply, or None when nothing answers."""
    index = network_index(cluster)
    here = None
    if session.kind == "pod":
        here = (pod_of(cluster, session).get("spec") or {}).get("nodeName")
    elif session.kind == "node":
        here = session.name
    if ip in index.service_by_ip:
        if cluster.config.proxy_mode == "ipvs" and session.kind != "cluster":
            return 64
        return None
    if index.is_pod_ip(ip):
        if session.kind == "cluster" or ip not in index.pod_by_ip:
            return None
        owner = index.node_for_pod_ip(ip)
        return 64 if owner == here and session.kind == "pod" else (63 if owner == here else 62)
    if ip in index.node_by_ip:
        return 64 if index.node_by_ip[ip] == here else 63
    return 55 if session.kind != "cluster" or ip.startswith("192.0.2.") else None
