"""A shell on a node (``kubectl debug node/NAME -it --image=busybox``): the kernel's tables as
the node's tools print them.

The rule text is the Rules tab's (:mod:`app.network.kubeproxy.text`), the routes, neighbours
and forwarding entries are the lines the trace's "Why this hop?" quotes
(:mod:`app.network.why`), and ``conntrack -L`` lists the entries of the last request this
terminal sent: one engine, so what a learner reads here is what the packet met.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.cluster import families
from app.cluster.cilium_config import replaces_kube_proxy
from app.network.cilium import rules as cilium_rules
from app.network.kubeproxy import text as kt
from app.network.kubeproxy.ip6 import table_line
from app.network.kubeproxy.view import program
from app.network.topology import TUNNEL_DEVICE, network_index
from app.network.trace import trace
from app.network.why import fake_mac, host_veth, node_neighbour, pod_mac
from app.terminal.node_ip import _interfaces, local_pods
from app.terminal.output import Output, failed, printed
from app.terminal.session import Session

CONNTRACK_VERSION = "1.4.8"


def iptables_save(cluster: Any, session: Session, args: list[str], family: str = "IPv4") -> Output:
    """``iptables-save [-c] [-t TABLE]``: kube-proxy's tables as the Rules tab shows them (in
    the iptables mode; the nftables mode writes nothing there). With ``-c`` each rule carries
    its counters: the rules the last request this terminal sent matched on this node count
    one packet, the rest none, so the trace and the rules it went through meet here.
    ``family`` ``IPv6`` is ``ip6tables-save``: the IPv6 proxier's tables, empty on a cluster
    without IPv6 (as ``iptables-save`` is on an IPv6-only one)."""
    tool = "ip6tables-save" if family == "IPv6" else "iptables-save"
    tables: tuple[str, ...] = ("filter", "nat")
    if "-t" in args:
        position = args.index("-t")
        table = args[position + 1] if position + 1 < len(args) else ""
        if table not in ("filter", "nat", "mangle", "raw"):
            return failed(f"{tool}: Unable to initialize table '{table}'\n", 1)
        tables = (table,)
    if family not in families.of(cluster.config):
        return printed("")  # kube-proxy runs no proxier of this family here
    if replaces_kube_proxy(cluster.config):  # no kube-proxy: Cilium's own chains only
        text = cilium_rules.iptables_save(cluster, session.name)
        return printed(_only_tables(text, tables) if "-t" in args else text)
    built = program(cluster, session.name, cluster.config.proxy_mode, family)
    text = kt.iptables_save(built, tables)
    if "-c" not in args and "--counters" not in args:
        return printed(text)
    matched = _matched_rules(cluster, session)
    lines = [
        f"[{matched[line]}:{60 * matched[line]}] {line}" if line.startswith("-A ") else line
        for line in text.splitlines()
    ]
    return printed("".join(f"{line}\n" for line in lines))


def ip6tables_save(cluster: Any, session: Session, args: list[str]) -> Output:
    """``ip6tables-save [-c] [-t TABLE]``: the IPv6 proxier's tables (see
    :func:`iptables_save`)."""
    return iptables_save(cluster, session, args, "IPv6")


def _matched_rules(cluster: Any, session: Session) -> Counter[str]:
    """How many of the last request's packets each rule line matched on this node (the lines
    the Rules tab highlights for that trace); a packet counts as 60 bytes."""
    traced = last_trace(cluster, session)
    if traced is None:
        return Counter()
    return Counter(
        m["text"]
        for hop in [*traced.hops, *traced.reply]
        if hop.rule and hop.node == session.name
        for m in hop.rule.get("matched", [hop.rule])
        if m.get("text")
    )


def iptables(cluster: Any, node: str, args: list[str]) -> Output:
    """``iptables [-t TABLE] -S [CHAIN]``: the rules as commands (``-P``, ``-N``, ``-A``), from
    the same text as ``iptables-save``. ``-L`` is answered with where to look instead."""
    table = "filter"
    if "-t" in args:
        position = args.index("-t")
        table = args[position + 1] if position + 1 < len(args) else ""
    words = [
        a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-t")
    ]
    if not any(a.startswith("-S") or a == "--list-rules" for a in args):
        return failed(
            "Podpath: this node lists rules with iptables -t nat -S [CHAIN] or iptables-save -t nat\n",
            2,
        )
    if table not in ("filter", "nat", "mangle", "raw"):
        return failed(f"iptables v1.8.10 (nf_tables): table '{table}' does not exist\n", 3)
    if replaces_kube_proxy(cluster.config):
        text = _only_tables(cilium_rules.iptables_save(cluster, node), (table,))
    else:
        text = kt.iptables_save(program(cluster, node, cluster.config.proxy_mode), (table,))
    lines = []
    for line in text.splitlines():
        if line.startswith(":"):
            name, policy = line[1:].split(" ")[:2]
            lines.append(f"-P {name} {policy}" if policy != "-" else f"-N {name}")
        elif line.startswith("-A "):
            lines.append(line)
    chain = words[0] if words else None
    if chain is not None:
        if not any(line.split(" ")[1] == chain for line in lines):
            return failed("iptables: No chain/target/match by that name.\n", 1)
        lines = [line for line in lines if line.split(" ")[1] == chain]
    return printed("".join(f"{line}\n" for line in lines))


def _only_tables(text: str, tables: tuple[str, ...]) -> str:
    """The ``*table`` … ``COMMIT`` sections of an iptables-save text for ``tables``, in the
    order given (iptables-save's own order: filter before nat)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("*"):
            current = sections.setdefault(line[1:], [])
        if current is not None:
            current.append(line)
    order = ("filter", "nat", "mangle", "raw") if len(tables) > 1 else tables
    return "".join(f"{line}\n" for t in order if t in tables for line in sections.get(t, []))


def ipvsadm(cluster: Any, node: str, args: list[str]) -> Output:
    """``ipvsadm -Ln``: the virtual servers kube-proxy's IPVS mode programs (none otherwise)."""
    mode = cluster.config.proxy_mode
    if mode == "ipvs" and not replaces_kube_proxy(cluster.config):
        return printed(kt.ipvsadm(program(cluster, node, "ipvs")))
    return printed(
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    )


def nft(cluster: Any, node: str, args: list[str]) -> Output:
    """``nft list ruleset`` (or ``nft list table ip kube-proxy``)."""
    if args[:1] != ["list"]:
        return failed("Error: syntax error, unexpected end of file\n", 1)
    if cluster.config.proxy_mode != "nftables" or replaces_kube_proxy(cluster.config):
        return printed("")
    tables = []  # one table per family kube-proxy runs a proxier for: ip, then ip6
    for family in sorted(families.of(cluster.config)):
        text = kt.nft_list(program(cluster, node, "nftables", family))
        tables.append(table_line(text) if family == "IPv6" else text)
    return printed("".join(tables))


def last_trace(cluster: Any, session: Session) -> Any:
    """The last request this terminal sent, traced again on the cluster as it is now."""
    if session.last is None:
        return None
    source, to, seed, *rest = session.last
    host, family = [*rest, "", ""][:2]
    return trace(cluster, source, to, seed, host=host or None, ip_family=family or None)


def conntrack(cluster: Any, session: Session, args: list[str]) -> Output:
    """``conntrack -L``: the NAT entries of the last request on this node (conntrack-tools'
    format, the count on stderr)."""
    if not args or args[0] not in ("-L", "--dump"):
        return failed(
            f"conntrack v{CONNTRACK_VERSION} (conntrack-tools): Operation not supported\n", 1
        )
    traced = last_trace(cluster, session)
    entries: list[str] = []
    for hop in [*(traced.hops if traced else []), *(traced.reply if traced else [])]:
        why = hop.why or {}
        wanted = hop.node == session.name and why.get("table") == "conntrack"
        if wanted and why["entry"] not in entries:
            entries.append(why["entry"])
    output = printed("".join(f"{e}\n" for e in entries))
    output.err(
        f"conntrack v{CONNTRACK_VERSION} (conntrack-tools): {len(entries)} flow entries have "
        "been shown.\n"
    )
    return output


def ip_neigh(cluster: Any, node: str) -> str:
    """``ip neigh``: the other nodes on eth0, flannel's VTEP entries, the local pods."""
    index = network_index(cluster)
    lines = [node_neighbour(index, other) for other in sorted(index.node_ip) if other != node]
    if index.cni == "flannel":
        for other in sorted(index.pod_ranges):
            if other != node and index.pod_ranges[other]:
                vtep = index.pod_ranges[other][0].network_address
                lines.append(
                    f"{vtep} dev flannel.1 lladdr {fake_mac('flannel.1', other)} PERMANENT"
                )
    device = {"flannel": "cni0", "weave": "weave"}.get(index.cni)
    for pod in local_pods(cluster, node):
        dev = device or host_veth(index.cni, pod)
        lines.append(
            f"{pod['status']['podIP']} dev {dev} lladdr {pod_mac(index.cni, pod)} REACHABLE"
        )
    return "".join(f"{line}\n" for line in lines)


def bridge_fdb(cluster: Any, node: str) -> str:
    """``bridge fdb show``: flannel's VXLAN peers, then the pod MACs the bridge learned."""
    index = network_index(cluster)
    lines = []
    if index.cni == "flannel":
        for other in sorted(index.node_ip):
            if other != node and index.pod_ranges.get(other):
                lines.append(
                    f"{fake_mac('flannel.1', other)} dev flannel.1 dst {index.node_ip[other]} self permanent"
                )
    bridge = {"flannel": "cni0", "weave": "weave"}.get(index.cni)
    if bridge:
        for pod in local_pods(cluster, node):
            lines.append(
                f"{pod_mac(index.cni, pod)} dev {host_veth(index.cni, pod)} master {bridge}"
            )
    return "".join(f"{line}\n" for line in lines)


def interface_names(cluster: Any, node: str) -> list[str]:
    return ["lo", *(name for name, *_ in _interfaces(cluster, node)), "any"]


def tunnel_device(cluster: Any) -> str:
    return TUNNEL_DEVICE[cluster.config.cni]
