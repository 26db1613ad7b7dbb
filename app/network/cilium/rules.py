"""What a Cilium node shows instead of kube-proxy's rules (kube-proxy replacement on).

- ``cilium-dbg service list`` (``cilium service list`` in older releases; its format is
  cilium/cilium ``cilium-dbg/cmd/service_list.go``): one line per frontend, with ID,
  Frontend, Service Type and its backends (``1 => 10.1.2.5:8080/TCP (active)``), aligned by
  Go's tabwriter (minwidth 5, padding 3).
- ``cilium-dbg bpf lb list`` (``cilium-dbg/cmd/bpf_lb_list.go``): the node's Service BPF map,
  one line per slot: ``SERVICE ADDRESS`` (the frontend and its slot) and ``BACKEND ADDRESS
  (REVNAT_ID) (SLOT)``; slot 0 is the frontend itself, with the Service's flags
  (``[ClusterIP, non-routable]``, ``[NodePort, Local, two-scopes]``...). A Service with
  ``externalTrafficPolicy: Local`` has a second, internal-scope key (``/i``) holding every
  backend, for clients inside the cluster.
- ``iptables-save``: the CILIUM_* chains Cilium installs (pkg/datapath/iptables), and no
  KUBE-SERVICES: there is no kube-proxy.

Frontend IDs are numbered as Cilium's agent numbers services it learns (here: Services by
name, each port's ClusterIP, external IPs, NodePorts and LoadBalancer IPs in that order;
on a dual-stack cluster the IPv4 frontends, then the IPv6 ones).

IPv6 frontends and backends print as ``[addr]:port`` (pkg/loadbalancer ``L3n4Addr``'s
String: an IPv6 address in brackets), NodePort's surrogate frontend as ``[::]:port``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from app.cluster import families
from app.network.cilium.datapath import masquerade_rule, masquerade_rule6
from app.network.cilium.family import router
from app.network.cilium.lb import addr
from app.network.kubeproxy import view as kv
from app.network.kubeproxy.firewall import source_ranges
from app.network.kubeproxy.model import Endpoint, ServicePort
from app.network.topology import network_index


@dataclass(frozen=True)
class Frontend:
    id: int
    address: str  # "10.96.0.10:53/UDP"
    type: str  # ClusterIP, NodePort, LoadBalancer, ExternalIPs
    service: ServicePort
    backends: tuple[Endpoint, ...]
    flags: str
    internal: bool = False  # the internal-scope key of a Service with two scopes


def go_table(rows: list[list[str]], minwidth: int = 5, padding: int = 3) -> str:
    """Rows of cells, each cell ended by a tab, as Go's ``text/tabwriter`` aligns them with
    ``NewWriter(w, minwidth, 0, padding, ' ', 0)``: every column as wide as its widest cell
    plus the padding (at least ``minwidth``); terminated cells are padded, so a line keeps
    the spaces after its last cell.

    >>> go_table([["ID", "Frontend"], ["1", "10.96.0.1:443/TCP"]]).splitlines()[1]
    '1    10.96.0.1:443/TCP   '
    """
    widths = [
        max(minwidth, max(len(r[j]) for r in rows if j < len(r)) + padding)
        for j in range(max(len(r) for r in rows))
    ]
    return "".join("".join(cell.ljust(widths[j]) for j, cell in enumerate(r)) + "\n" for r in rows)


def _flags(kind: str, sp: ServicePort, local: bool, two_scopes: bool) -> str:
    """loadbalancer.ServiceFlags.String(): the type, then Local, two-scopes, sessionAffinity,
    non-routable, check source-range."""
    flags = [kind]
    if local:
        flags.append("Local")
    if two_scopes:
        flags.append("two-scopes")
    if sp.affinity_timeout:
        flags.append("sessionAffinity")
    if kind == "ClusterIP":
        flags.append("non-routable")
    if kind == "LoadBalancer" and source_ranges(sp):
        flags.append("check source-range")
    return ", ".join(flags)


def frontends(cluster: Any, node: str, family: str | None = None) -> list[Frontend]:
    """Every frontend Cilium's load balancer holds on ``node``, with the backends it may pick
    for traffic from outside (``internal`` keys: for traffic from inside the cluster); only
    those of ``family`` when given."""
    every = cluster.state.memoised(f"cilium.frontends.{node}", lambda: _frontends(cluster, node))
    if family is None:
        return every
    return [f for f in every if f.address.startswith("[") == (family == "IPv6")]


def _frontends(cluster: Any, node: str) -> list[Frontend]:
    out: list[Frontend] = []
    for family in families.of(cluster.config):
        _family_frontends(out, kv.view(cluster, family), node, family)
    return out


def _family_frontends(out: list[Frontend], view: Any, node: str, family: str) -> None:
    node_ip = view.nodes[node][0] if node in view.nodes else ""
    anywhere = "::" if family == "IPv6" else "0.0.0.0"
    for sp in view.table:
        proto = sp.protocol
        ready = tuple(sp.endpoints)
        local = tuple(e for e in ready if e.node == node)
        internal_pool = local if sp.internal_policy == "Local" else ready
        out.append(
            _fe(out, f"{addr(sp.cluster_ip, sp.port)}/{proto}", "ClusterIP", sp, internal_pool)
        )
        ext_local = sp.external_policy == "Local"
        ext_pool = local if ext_local else ready
        addresses = [(ip, sp.port, "ExternalIPs") for ip in sp.external_ips]
        if sp.node_port:
            addresses += [
                (node_ip, sp.node_port, "NodePort"),
                (anywhere, sp.node_port, "NodePort"),
            ]
        addresses += [(ip, sp.port, "LoadBalancer") for ip in sp.load_balancer_ips]
        for ip, port, kind in addresses:
            address = f"{addr(ip, port)}/{proto}"
            out.append(_fe(out, address, kind, sp, ext_pool, ext_local))
            if ext_local:
                out.append(_fe(out, address, kind, sp, ready, True, internal=True))


def _fe(out, address, kind, sp, pool, local=False, internal=False) -> Frontend:
    two = local and kind != "ClusterIP"
    return Frontend(len(out) + 1, address, kind, sp, pool, _flags(kind, sp, local, two), internal)


def rev_nat_id(cluster: Any, node: str, address: str) -> int:
    """The frontend's ID on ``node`` (its RevNAT ID in the BPF maps), 0 when unknown."""
    return next((f.id for f in frontends(cluster, node) if f.address == address), 0)


def service_list(cluster: Any, node: str, family: str | None = None) -> str:
    r"""``cilium-dbg service list`` on ``node``.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> text = service_list(Cluster.create(ClusterConfig(cni="cilium"), seed=1), "worker-1")
    >>> import re
    >>> re.split(r"\s{3,}", text.splitlines()[0].strip())
    ['ID', 'Frontend', 'Service Type', 'Backend']
    >>> re.split(r"\s{3,}", text.splitlines()[1].strip())
    ['1', '10.96.0.1:443/TCP', 'ClusterIP', '1 => 10.0.0.10:6443/TCP (active)']
    """
    rows = [["ID", "Frontend", "Service Type", "Backend"]]
    for fe in frontends(cluster, node, family):
        if fe.internal:
            continue
        backends = [
            f"{i} => {addr(e.ip, e.port)}/{fe.service.protocol} (active)"
            for i, e in enumerate(fe.service.endpoints, 1)
        ]
        rows.append([str(fe.id), fe.address, fe.type, backends[0] if backends else ""])
        rows.extend(["", "", "", b] for b in backends[1:])
    return go_table([[*r, ""][:4] for r in rows])


def bpf_lb_list(cluster: Any, node: str, family: str | None = None) -> str:
    """``cilium-dbg bpf lb list`` on ``node``: each frontend's slot 0 (its flags) and one line
    per backend slot.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> lines = bpf_lb_list(Cluster.create(ClusterConfig(cni="cilium"), seed=1), "worker-1")
    >>> [line.split("   ")[0] for line in lines.splitlines()[:2]]
    ['SERVICE ADDRESS', '0.0.0.0:31031/TCP (0)']
    """
    rows = [["SERVICE ADDRESS", "BACKEND ADDRESS (REVNAT_ID) (SLOT)"]]
    entries = []
    for fe in frontends(cluster, node, family):
        key = fe.address + ("/i" if fe.internal else "")
        # Slot 0's backend is the zero address of the frontend's family.
        empty = "[::]:0" if fe.address.startswith("[") else "0.0.0.0:0"
        entries.append((key, 0, f"{empty} ({fe.id}) (0) [{fe.flags}] "))
        for slot, e in enumerate(fe.backends, 1):
            backend = f"{addr(e.ip, e.port)}/{fe.service.protocol}"
            entries.append((key, slot, f"{backend} ({fe.id}) ({slot})"))
    # The map is dumped in hash order; sorted here so the same cluster prints the same text.
    entries.sort(key=lambda x: (_address_key(x[0]), x[1]))
    rows += [[f"{key} ({slot})", value] for key, slot, value in entries]
    return go_table(rows)


def _address_key(key: str) -> tuple:
    import ipaddress

    if key.startswith("["):
        ip, _, rest = key[1:].partition("]:")
    else:
        ip, _, rest = key.partition(":")
    port = rest.split("/")[0]
    address = ipaddress.ip_address(ip)
    return (address.version, int(address), int(port), rest)


@functools.lru_cache(maxsize=1)
def _feeders() -> tuple[tuple[str, str, str], ...]:
    # (table, built-in chain, Cilium's chain), in the order Cilium installs its feeders
    return (
        ("raw", "PREROUTING", "CILIUM_PRE_raw"),
        ("raw", "OUTPUT", "CILIUM_OUTPUT_raw"),
        ("mangle", "PREROUTING", "CILIUM_PRE_mangle"),
        ("mangle", "POSTROUTING", "CILIUM_POST_mangle"),
        ("nat", "PREROUTING", "CILIUM_PRE_nat"),
        ("nat", "OUTPUT", "CILIUM_OUTPUT_nat"),
        ("nat", "POSTROUTING", "CILIUM_POST_nat"),
        ("filter", "INPUT", "CILIUM_INPUT"),
        ("filter", "FORWARD", "CILIUM_FORWARD"),
        ("filter", "OUTPUT", "CILIUM_OUTPUT"),
    )


BUILT_IN = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
}


def iptables_save(cluster: Any, node: str, family: str | None = None) -> str:
    """``iptables-save`` on a Cilium node without kube-proxy: Cilium's own chains (the
    feeders from the built-in chains, forwarding for its devices, proxy marks and the
    masquerade rule), and nothing of kube-proxy's.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> text = iptables_save(Cluster.create(ClusterConfig(cni="cilium"), seed=1), "worker-1")
    >>> "KUBE-SERVICES" in text, ":CILIUM_POST_nat - [0:0]" in text
    (False, True)

    With ``family="IPv6"``: ``ip6tables-save``, the same chains, masquerading the node's IPv6
    pod range (``enableIPv6Masquerade``). The host-from-loopback SNAT rule is left out
    there: Podpath could not confirm Cilium installs an IPv6 counterpart.
    """
    index = network_index(cluster)
    v6 = (family or families.of(cluster.config)[0]) == "IPv6"
    gateway = router(index, node, "::" if v6 else "0.0.0.0")
    native = cluster.config.routing_mode == "native"
    rules = {
        "raw": [
            '-A CILIUM_OUTPUT_raw -o lxc+ -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: NOTRACK for proxy return traffic" -j CT --notrack',
            '-A CILIUM_PRE_raw -m mark --mark 0x200/0xf00 -m comment --comment "cilium: NOTRACK for proxy traffic" -j CT --notrack',
        ],
        "mangle": [
            '-A CILIUM_PRE_mangle ! -o lo -m socket --transparent -m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0x800/0xf00 -m comment --comment "cilium: any->pod redirect proxied traffic to host proxy" -j MARK --set-xmark 0x200/0xffffffff',
        ],
        "nat": [
            masquerade_rule6(index, node, native) if v6 else masquerade_rule(index, node, native),
            '-A CILIUM_POST_nat -m mark --mark 0xa00/0xe00 -m comment --comment "exclude proxy return traffic from masquerade" -j ACCEPT',
        ]
        + (
            []
            if v6
            else [
                f'-A CILIUM_POST_nat -s 127.0.0.1/32 -o cilium_host -m comment --comment "cilium host->cluster from 127.0.0.1 masquerade" -j SNAT --to-source {gateway}'
            ]
        ),
        "filter": [
            '-A CILIUM_FORWARD -o cilium_host -m comment --comment "cilium: any->cluster on cilium_host forward accept" -j ACCEPT',
            '-A CILIUM_FORWARD -i cilium_host -m comment --comment "cilium: cluster->any on cilium_host forward accept (nodeport)" -j ACCEPT',
            '-A CILIUM_FORWARD -i lxc+ -m comment --comment "cilium: cluster->any on lxc+ forward accept" -j ACCEPT',
            '-A CILIUM_FORWARD -i cilium_net -m comment --comment "cilium: cluster->any on cilium_net forward accept (nodeport)" -j ACCEPT',
            '-A CILIUM_INPUT -m mark --mark 0x200/0xf00 -m comment --comment "cilium: ACCEPT for proxy traffic" -j ACCEPT',
            '-A CILIUM_OUTPUT -m mark --mark 0xa00/0xe00 -m comment --comment "cilium: ACCEPT for proxy traffic" -j ACCEPT',
            '-A CILIUM_OUTPUT -m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0xd00/0xf00 -m mark ! --mark 0xa00/0xe00 -m comment --comment "cilium: host->any mark as from host" -j MARK --set-xmark 0xc00/0xf00',
        ],
    }
    out = []
    for table in ("raw", "mangle", "nat", "filter"):
        out.append(f"*{table}")
        out += [f":{chain} ACCEPT [0:0]" for chain in BUILT_IN[table]]
        own = sorted({c for t, _b, c in _feeders() if t == table})
        out += [f":{chain} - [0:0]" for chain in own]
        out += [
            f'-A {builtin} -m comment --comment "cilium-feeder: {chain}" -j {chain}'
            for t, builtin, chain in _feeders()
            if t == table
        ]
        out += rules[table]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


#: What the Rules tab can show on a node where Cilium replaces kube-proxy, and its command.
VIEWS = {
    "service-list": "cilium-dbg service list",
    "bpf-lb-list": "cilium-dbg bpf lb list",
    "iptables": "iptables-save",
}


def ruleset(cluster: Any, node: str, view: str | None = None, family: str | None = None) -> Any:
    """What ``node`` shows in ``view`` (one of :data:`VIEWS`; ``service-list`` by default),
    as a :class:`app.network.kubeproxy.RuleSet` whose mode is the view; with
    ``family``, only that family's frontends (``ip6tables-save`` for IPv6's iptables view).

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> rs = ruleset(Cluster.create(ClusterConfig(cni="cilium"), seed=1), "worker-1")
    >>> rs.mode, rs.text.split()[:2]
    ('service-list', ['ID', 'Frontend'])
    """
    from app.network.kubeproxy.model import RuleSet

    view = view if view in VIEWS else "service-list"
    if view == "service-list":
        text = service_list(cluster, node, family)
    elif view == "bpf-lb-list":
        text = bpf_lb_list(cluster, node, family)
    else:
        text = iptables_save(cluster, node, family)
    return RuleSet(node, view, text, [])


def lines_for(text: str, entries: list[str]) -> list[str]:
    """The lines of ``text`` a trace's ``cilium-dbg bpf lb list`` entries point at: the same
    bpf lb list lines (spacing aside), and the service list line of each frontend."""
    wanted = {" ".join(e.split()) for e in entries}
    frontends = {e.split()[0] for e in entries if e.split()}
    hits = []
    for line in text.splitlines():
        words = line.split()
        if " ".join(words) in wanted or (len(words) > 1 and words[1] in frontends):
            hits.append(line.strip())
    return hits
