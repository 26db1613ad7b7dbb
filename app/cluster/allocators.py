"""The API server's allocators: ClusterIPs, NodePorts, and the simulated cloud's LoadBalancer IPs.

ClusterIPs and NodePorts are picked at random, as kube-apiserver picks them, from the upper
part of their range first: the lower "static band" is kept for addresses and ports that users
ask for explicitly (KEP-3070 for Service IPs, KEP-3668 for NodePorts), so an explicit choice
rarely collides with a dynamic one.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

from app.cluster import constants as c
from app.cluster.families import LOAD_BALANCER_POOL6
from app.errors import Forbidden


def static_band_size(range_size: int, divisor: int, low: int, high: int) -> int:
    """The size of the static band: ``min(max(low, size // divisor), high)``.

    >>> static_band_size(2 ** 20, 16, 16, 256)  # a /12 service range
    256
    >>> static_band_size(2768, 32, 16, 128)  # NodePorts 30000-32767
    86
    """
    return min(max(low, range_size // divisor), high)


@dataclass
class ServiceAllocator:
    """Which ClusterIPs, NodePorts and LoadBalancer IPs are taken, and by whom.

    Examples
    --------
    >>> alloc = ServiceAllocator()
    >>> alloc.cluster_ip_problem("10.96.0.10") is None
    True
    >>> alloc.take_cluster_ip("10.96.0.10", "kube-system/kube-dns")
    >>> alloc.cluster_ip_problem("10.96.0.10")
    'provided IP is already allocated'
    >>> alloc.cluster_ip_problem("10.200.0.1")
    'provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12'
    """

    cluster_ips: dict[str, str] = field(default_factory=dict)
    node_ports: dict[str, str] = field(default_factory=dict)  # "30080/TCP" -> owner
    lb_ips: dict[str, str] = field(default_factory=dict)

    # --- ClusterIPs -------------------------------------------------------------------------
    def cluster_ip_problem(self, ip: str) -> str | None:
        """Why ``ip`` cannot be given to a new Service, or None when it can (or when it is no
        IP address at all: that is the validation's to report)."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        net = c.SERVICE_CIDR6 if address.version == 6 else c.SERVICE_CIDR
        if address not in net or address in (net.network_address, net.broadcast_address):
            return f"provided IP is not in the valid range. The range of valid IPs is {net}"
        if ip in self.cluster_ips:
            return "provided IP is already allocated"
        return None

    def take_cluster_ip(self, ip: str, owner: str) -> None:
        self.cluster_ips[ip] = owner

    def allocate_cluster_ip(self, owner: str, rng: random.Random, family: str = "IPv4") -> str:
        """A free ClusterIP of ``family``'s range (10.96.0.0/12, or fd00:10:96::/112)."""
        net = c.SERVICE_CIDR6 if family == "IPv6" else c.SERVICE_CIDR
        size = net.num_addresses - 2
        band = static_band_size(net.num_addresses, 16, 16, 256)
        base = int(net.network_address) + 1
        # Dynamic allocations try the upper band at random, then anything free.
        for _ in range(64):
            ip = str(ipaddress.ip_address(base + rng.randrange(band, size)))
            if ip not in self.cluster_ips:
                self.cluster_ips[ip] = owner
                return ip
        for offset in range(size):
            ip = str(ipaddress.ip_address(base + offset))
            if ip not in self.cluster_ips:
                self.cluster_ips[ip] = owner
                return ip
        raise RuntimeError("the service IP range is full")  # quotas keep far below 65534

    def release_cluster_ip(self, ip: str | None) -> None:
        if ip:
            self.cluster_ips.pop(ip, None)

    # --- NodePorts --------------------------------------------------------------------------
    def node_port_problem(self, port: int, protocol: str, owner: str) -> str | None:
        """Why ``port`` cannot be a NodePort of ``owner``, or None when it can."""
        if not c.NODE_PORT_MIN <= port <= c.NODE_PORT_MAX:
            return (
                "provided port is not in the valid range. The range of valid ports is "
                f"{c.NODE_PORT_MIN}-{c.NODE_PORT_MAX}"
            )
        holder = self.node_ports.get(f"{port}/{protocol}")
        if holder is not None and holder != owner:
            return "provided port is already allocated"
        return None

    def take_node_port(self, port: int, protocol: str, owner: str) -> None:
        self.node_ports[f"{port}/{protocol}"] = owner

    def allocate_node_port(self, protocol: str, owner: str, rng: random.Random) -> int:
        size = c.NODE_PORT_MAX - c.NODE_PORT_MIN + 1
        band = static_band_size(size, 32, 16, 128)
        for _ in range(64):
            port = c.NODE_PORT_MIN + rng.randrange(band, size)
            if f"{port}/{protocol}" not in self.node_ports:
                self.node_ports[f"{port}/{protocol}"] = owner
                return port
        for port in range(c.NODE_PORT_MIN, c.NODE_PORT_MAX + 1):
            if f"{port}/{protocol}" not in self.node_ports:
                self.node_ports[f"{port}/{protocol}"] = owner
                return port
        raise NodePortsExhausted()

    def release_node_ports_of(self, owner: str) -> None:
        for key in [k for k, v in self.node_ports.items() if v == owner]:
            del self.node_ports[key]

    # --- LoadBalancer IPs -------------------------------------------------------------------
    def allocate_lb_ip(self, owner: str, family: str = "IPv4") -> str | None:
        """The next free address of the cloud's pool of ``family``, or None when the pool is
        used up.

        >>> ServiceAllocator().allocate_lb_ip("default/web", "IPv6")
        '2001:db8:203::a'
        """
        pool = LOAD_BALANCER_POOL6 if family == "IPv6" else c.LOAD_BALANCER_POOL
        for offset in range(c.LOAD_BALANCER_FIRST_HOST, pool.num_addresses - 1):
            ip = str(pool.network_address + offset)
            if ip not in self.lb_ips:
                self.lb_ips[ip] = owner
                return ip
        return None

    def release_lb_ips_of(self, owner: str) -> None:
        for ip in [k for k, v in self.lb_ips.items() if v == owner]:
            del self.lb_ips[ip]


class NodePortsExhausted(Forbidden):
    """Every port of the NodePort range is taken."""

    def __init__(self) -> None:
        super().__init__(
            f"range of valid NodePorts {c.NODE_PORT_MIN}-{c.NODE_PORT_MAX} is full: "
            "delete a NodePort or LoadBalancer Service first"
        )
