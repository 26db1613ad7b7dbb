"""The rules kube-proxy programs on one node, for each proxy mode, as data.

A :class:`Program` is a list of chains (iptables chains, nftables chains and maps, ipvs
virtual servers, ipsets), each with numbered rules whose ``text`` is the exact line the node
would show. Every rule also carries a ``key`` naming what it does (``("sep-dnat", chain)``), so
:func:`app.network.kubeproxy.decide` can say which rules a packet matched without parsing text.

The chain names are kube-proxy's hashes (pkg/proxy/iptables/proxier.go and
pkg/proxy/nftables/proxier.go); what each mode writes into a program is in
:mod:`.iptables`, :mod:`.nftables` and :mod:`.ipvs`.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from app.cluster.families import bracketed
from app.network.kubeproxy.model import Endpoint, ServicePort


# --- chain names (pkg/proxy/iptables/proxier.go) ---------------------------------------------
def port_proto_hash(service_port_name: str, protocol: str) -> str:
    """kube-proxy's ``portProtoHash``: base32(sha256(name + protocol))[:16].

    ``protocol`` is lower case, as kube-proxy passes ``strings.ToLower(protocol)``.

    >>> port_proto_hash("default/kubernetes:https", "tcp")
    'NPX46M4PTMTKRN6Y'
    """
    digest = hashlib.sha256((service_port_name + protocol).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def chain_name(prefix: str, service_port_name: str, protocol: str) -> str:
    """``KUBE-SVC-``, ``KUBE-SVL-``, ``KUBE-EXT-`` or ``KUBE-FW-`` plus the port's hash.

    >>> chain_name("KUBE-SVC-", "default/kubernetes:https", "TCP")
    'KUBE-SVC-NPX46M4PTMTKRN6Y'
    """
    return prefix + port_proto_hash(service_port_name, protocol.lower())


def endpoint_chain_name(service_port_name: str, protocol: str, endpoint: str) -> str:
    """kube-proxy's ``servicePortEndpointChainName``: ``KUBE-SEP-`` + base32(sha256(name +
    protocol + "ip:port"))[:16].

    >>> endpoint_chain_name("default/kubernetes:https", "TCP", "10.0.0.10:6443")[:9]
    'KUBE-SEP-'
    """
    text = service_port_name + protocol.lower() + endpoint
    return "KUBE-SEP-" + base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def nft_chain_base(
    namespace: str, service: str, protocol: str, port_name: str, ep: str = ""
) -> str:
    """The nftables proxier's chain-name suffix: ``HASH8-ns/name/proto/port`` (and
    ``__ip/port`` for an endpoint), hashed with base32(sha256(name))[:8].

    >>> nft_chain_base("default", "web", "tcp", "http")[8:]
    '-default/web/tcp/http'
    >>> nft_chain_base("default", "web", "tcp", "", "10.244.1.5:8080")[8:]
    '-default/web/tcp/__10.244.1.5/8080'
    """
    name = f"{namespace}/{service}/{protocol}/{port_name}"
    if ep:
        ip, port = ep.rsplit(":", 1)
        name += f"__{ip.strip('[]').replace(':', '.')}/{port}"  # fd00::1 as fd00..1
    encoded = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    return (encoded[:8] + "-" + name)[:240]


# --- the program ---------------------------------------------------------------------------
@dataclass
class Rule:
    key: tuple[Any, ...]
    text: str
    target: str
    comment: str | None = None
    index: int = 0  # 1-based, as ``iptables -L --line-numbers`` counts


@dataclass
class Chain:
    table: str  # "filter" | "nat" | "kube-proxy" (nftables) | "ipvs" | "ipset"
    name: str
    kind: str = "chain"  # "chain" | "map" | "set" | "virtual-server"
    header: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)

    def add(self, key: tuple[Any, ...], text: str, target: str, comment: str | None = None) -> None:
        self.rules.append(Rule(key, text, target, comment, len(self.rules) + 1))


@dataclass
class Program:
    """A node's kube-proxy rules: chains in the order they are written, ``by_key`` to find a
    rule by what it does.

    >>> p = Program("worker-1", "iptables")
    >>> p.chain("nat", "KUBE-MARK-MASQ").add(("mark-masq",), "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000", "MARK")
    >>> chain, rule = p.index().by_key[("mark-masq",)]
    >>> chain.name, rule.index, rule.target
    ('KUBE-MARK-MASQ', 1, 'MARK')
    """

    node: str
    mode: str
    chains: list[Chain] = field(default_factory=list)
    by_key: dict[tuple[Any, ...], tuple[Chain, Rule]] = field(default_factory=dict)

    def chain(self, table: str, name: str, kind: str = "chain", header: list[str] | None = None):
        for existing in self.chains:
            if existing.table == table and existing.name == name:
                return existing
        made = Chain(table, name, kind, header or [])
        self.chains.append(made)
        return made

    def index(self) -> Program:
        self.by_key = {}
        for chain in self.chains:
            for rule in chain.rules:
                self.by_key.setdefault(rule.key, (chain, rule))
        return self


@dataclass(frozen=True)
class NodeContext:
    """What kube-proxy on one node knows about itself."""

    node: str
    node_ip: str
    cluster_cidr: str  # --cluster-cidr: the local-traffic detector's range


def split_endpoints(sp: ServicePort, node: str) -> tuple[list[Endpoint], list[Endpoint]]:
    """(cluster, local) endpoints as ``CategorizeEndpoints`` sorts them: the ready ones, and
    the ready ones on this node.

    >>> from app.cluster.cluster import Cluster
    >>> from app.network.kubeproxy.view import service_table
    >>> api = service_table(Cluster.create(seed=1))[0]
    >>> [len(x) for x in split_endpoints(api, "control-plane")]  # the API server's slice has no nodeName
    [1, 0]
    """
    ready = list(sp.endpoints)
    return ready, [e for e in ready if e.node == node]


def hostport(e: Endpoint) -> str:
    """An endpoint as kube-proxy's ``String()`` writes it (net.JoinHostPort): ``ip:port``,
    an IPv6 address in brackets, as the rules' keys and comments name it.

    >>> hostport(Endpoint("fd00:10:244:1::5", 8080, "worker-1", None))
    '[fd00:10:244:1::5]:8080'
    """
    return f"{bracketed(e.ip)}:{e.port}"
