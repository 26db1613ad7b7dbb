"""Pod IP address management, one plan per CNI plugin.

- flannel: kube-controller-manager gives each node a /24 of 10.244.0.0/16 in the order
  nodes join (``spec.podCIDR``); the ``cni0`` bridge takes ``.1`` and the host-local IPAM
  plugin hands out the rest round-robin, so a freed address is not handed out again at once.
- Calico: /26 blocks of 192.168.0.0/16, each affine to one node, taken as a node needs
  them; ``tunl0`` takes the first address of the node's first block.
- Weave Net: 10.32.0.0/12 split between the peers; the ``weave`` bridge takes the first
  address of the node's range.
- Cilium (cluster-pool IPAM): the operator gives each node a /24 of its pool (10.1.0.0/16
  here, see ``constants.CILIUM_POOL``); the agent's router address on ``cilium_host`` is the
  first one it hands out. (Cilium's allocator picks free addresses at random; Podpath hands
  them out in order, so traces stay easy to follow.)

IPv6 (an IPv6 or dual-stack cluster; one :class:`Ipam` per family): flannel gives each node a
/64 of fd00:10:244::/56 (``--node-cidr-mask-size-ipv6``), ``cni0`` taking ``::1``; Calico
takes /122 blocks of its IPv6 pool, and no device holds an address of them (its IPv6 routes
point at the ``cali`` veths and need no tunnel address).
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from app.cluster import constants as c
from app.errors import Forbidden


@functools.lru_cache(maxsize=4096)
def _span(block: str) -> tuple[int, int]:
    """The first usable host of a block, as an integer, and how many hosts follow."""
    net = ipaddress.ip_network(block)
    return int(net.network_address) + 1, net.num_addresses - 2


@dataclass
class NodeAddressing:
    """Where a node's pods get their addresses, and the address of its gateway device."""

    ranges: list[str]
    gateway_ip: str
    device: str
    cursor: int = 0

    def to_state(self) -> dict[str, Any]:
        return {
            "ranges": self.ranges,
            "gateway_ip": self.gateway_ip,
            "device": self.device,
            "cursor": self.cursor,
        }


@dataclass
class Ipam:
    """Pod addresses for one cluster.

    Examples
    --------
    >>> ipam = Ipam("flannel")
    >>> ipam.add_node("control-plane").ranges, ipam.add_node("worker-1").gateway_ip
    (['10.244.0.0/24'], '10.244.1.1')
    >>> ipam.allocate("worker-1"), ipam.allocate("worker-1")
    ('10.244.1.2', '10.244.1.3')
    >>> ipam.node_of("10.244.1.3")
    'worker-1'
    >>> v6 = Ipam("flannel", "IPv6")
    >>> v6.add_node("control-plane").ranges, v6.allocate("control-plane")
    (['fd00:10:244::/64'], 'fd00:10:244::2')
    """

    plugin: str
    family: str = "IPv4"
    nodes: dict[str, NodeAddressing] = field(default_factory=dict)
    in_use: dict[str, str] = field(default_factory=dict)  # ip -> node
    next_block: int = 0

    def add_node(self, node: str) -> NodeAddressing:
        """Give a joining node its pod range and gateway address.

        Raises
        ------
        Forbidden
            When the plugin's pool has no room for another node.
        """
        if node in self.nodes:
            return self.nodes[node]
        block = self._take_block(node)
        net = ipaddress.ip_network(block)
        device = {"flannel": "cni0", "calico": "tunl0", "weave": "weave", "cilium": "cilium_host"}[
            self.plugin
        ]
        # flannel's cni0 and weave's bridge take the first host; Calico's tunl0 the block base.
        gateway = str(net.network_address + (0 if self.plugin == "calico" else 1))
        if self.family == "IPv6" and self.plugin == "calico":
            gateway, device = "", "cali"
        addressing = NodeAddressing([block], gateway, device)
        self.nodes[node] = addressing
        if gateway:
            self.in_use[gateway] = node
        return addressing

    def _take_block(self, node: str) -> str:
        pool, prefix = self._pool()
        size = 2 ** (pool.max_prefixlen - prefix)
        used = {block for addressing in self.nodes.values() for block in addressing.ranges}
        # The lowest free range, as kube-controller-manager's allocator reuses released ones.
        for number in range(pool.num_addresses // size):
            block = f"{pool.network_address + number * size}/{prefix}"
            if block not in used:
                self.next_block = max(self.next_block, number + 1)
                return block
        raise Forbidden(
            f"node {node}: the {self.plugin} pod network {pool} has no free /{prefix} left"
        )

    def blocks_left(self) -> int:
        """How many more nodes the pool can give a range to."""
        return self._block_count() - sum(len(a.ranges) for a in self.nodes.values())

    def _block_count(self) -> int:
        pool, prefix = self._pool()
        return pool.num_addresses // 2 ** (pool.max_prefixlen - prefix)

    def _pool(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int]:
        if self.family == "IPv6":
            if self.plugin == "calico":
                return c.CALICO_POOL6, c.CALICO_BLOCK_PREFIX6
            if self.plugin == "cilium":
                return c.CILIUM_POOL6, c.CILIUM_MASK_SIZE6
            return c.POD_NETWORK6[self.plugin], c.FLANNEL_NODE_PREFIX6
        return {
            "flannel": (c.FLANNEL_CIDR, 24),
            "calico": (c.CALICO_POOL, c.CALICO_BLOCK_PREFIX),
            "weave": (c.WEAVE_RANGE, c.WEAVE_PEER_PREFIX),
            "cilium": (c.CILIUM_POOL, c.CILIUM_MASK_SIZE),
        }[self.plugin]

    def remove_node(self, node: str) -> None:
        """Forget a node's ranges and every address it handed out."""
        self.nodes.pop(node, None)
        for ip in [ip for ip, owner in self.in_use.items() if owner == node]:
            del self.in_use[ip]

    def allocate(self, node: str) -> str:
        """Hand out the next free pod address on ``node``, round-robin through its ranges.

        Raises
        ------
        Forbidden
            When the node's range is exhausted (for Calico, a new block is taken instead).
        """
        addressing = self.nodes[node]
        for _attempt in range(2):
            spans = self._host_spans(addressing)
            total = sum(count for _first, count in spans)
            for step in range(total):
                index = (addressing.cursor + step) % total
                ip = self._host_at(spans, index)
                if ip not in self.in_use:
                    addressing.cursor = index + 1
                    self.in_use[ip] = node
                    return ip
            if self.plugin != "calico":
                break
            addressing.ranges.append(self._take_block(node))
        raise Forbidden(f"node {node}: no free pod address left in {addressing.ranges}")

    @staticmethod
    def _host_spans(addressing: NodeAddressing) -> list[tuple[int, int]]:
        return [_span(block) for block in addressing.ranges]

    @staticmethod
    def _host_at(spans: list[tuple[int, int]], index: int) -> str:
        for first, count in spans:
            if index < count:
                return str(ipaddress.ip_address(first + index))
            index -= count
        raise IndexError(index)

    def release(self, ip: str) -> None:
        """Give an address back (it is handed out again only after the others)."""
        addressing = self.nodes.get(self.in_use.get(ip, ""))
        if addressing is not None and ip != addressing.gateway_ip:
            del self.in_use[ip]

    def node_of(self, ip: str) -> str | None:
        """The node whose pod ranges hold ``ip``, if any."""
        address = ipaddress.ip_address(ip)
        for node, addressing in self.nodes.items():
            if any(address in ipaddress.ip_network(r) for r in addressing.ranges):
                return node
        return None
