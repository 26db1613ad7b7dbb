"""Rendering kube-proxy's programs as the text a node would show.

``iptables-save`` for the iptables mode, ``nft list table ip kube-proxy`` for nftables, and
``ipvsadm -Ln`` (plus the ipset-based iptables rules) for ipvs. The rule lines themselves are
built here too, so the text and the JSON (``RuleSet.chains``) come from one place.

Rule lines follow ``iptables-save``'s normal form (``-s``/``-d``/``-p`` first, then the matches
in the order kube-proxy wrote them, then ``-j``); targets keep kube-proxy's own spelling
(``--or-mark 0x4000``). Probabilities are printed as iptables-save prints them, not as
kube-proxy writes them (see :func:`probability`), and ``--nfacct-name`` with the two spaces
iptables-save puts before the counter's name (libxt_nfacct prints the option with a trailing
space and ``xtables_save_string`` adds its own).
"""

from __future__ import annotations

import math

from app.cluster.families import bracketed, host_prefix
from app.network.kubeproxy.chains import Program

MASQ_MARK = "0x4000"
# kube-proxy's nfacct counters (metrics.LocalhostNodePortAcceptedNFAcctCounter and
# metrics.IPTablesCTStateInvalidDroppedNFAcctCounter)
LOCALHOST_NODEPORT_COUNTER = "localhost_nps_accepted_pkts"
INVALID_DROPPED_COUNTER = "ct_state_invalid_dropped_pkts"
NFT_MASQ_MARK = "0x00004000"

# The built-in chains iptables-save lists first, with their policy.
BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}


def probability(n: int) -> str:
    """The statistic match's probability for the rule with ``n`` endpoints left, as
    ``iptables-save`` prints it.

    kube-proxy writes ``fmt.Sprintf("%0.10f", 1.0/float64(n))`` (``computeProbability`` in
    pkg/proxy/iptables/proxier.go); iptables stores that as a 32-bit fixed-point fraction,
    ``lround(0x80000000 * p)``, and iptables-save prints it back with ``%.11f`` of
    ``value / 0x80000000`` (extensions/libxt_statistic.c), so 1/3 comes back as 0.33333333349.

    >>> probability(3), probability(2), probability(5)
    ('0.33333333349', '0.50000000000', '0.20000000019')
    """
    written = float(f"{1.0 / n:0.10f}")
    fixed = math.floor(0x80000000 * written + 0.5)  # lround: halves away from zero
    return f"{fixed / 0x80000000:.11f}"


def nfacct(counter: str) -> str:
    """The nfacct match as iptables-save prints it: two spaces before the counter's name.

    >>> nfacct("localhost_nps_accepted_pkts")
    '-m nfacct --nfacct-name  localhost_nps_accepted_pkts'
    """
    return f"-m nfacct --nfacct-name  {counter}"


def ipt(
    chain: str,
    target: str,
    *,
    src: str | None = None,
    not_src: str | None = None,
    dst: str | None = None,
    proto: str | None = None,
    comment: str | None = None,
    matches: str = "",
    dport: int | None = None,
    l4: bool = False,
    after: str = "",
    target_args: str = "",
) -> str:
    """One ``-A`` line in iptables-save's normal form; ``matches`` come before the protocol's
    own match (``-m tcp --dport``), ``after`` after it, as kube-proxy wrote them.

    >>> ipt("KUBE-SERVICES", "KUBE-SVC-X", dst="10.96.0.5", proto="tcp",
    ...     comment="default/web:http cluster IP", dport=80)
    '-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-X'
    """
    parts = ["-A", chain]
    if not_src:
        parts += ["!", "-s", not_src]
    if src:
        parts += ["-s", src if "/" in src else host_prefix(src)]
    if dst:
        parts += ["-d", dst if "/" in dst else host_prefix(dst)]
    if proto:
        parts += ["-p", proto]
    if comment:
        parts += ["-m", "comment", "--comment", f'"{comment}"']
    if matches:
        parts.append(matches)
    if proto and (dport is not None or l4):
        parts += ["-m", proto]
        if dport is not None:
            parts += ["--dport", str(dport)]
    if after:
        parts.append(after)
    if target:
        parts += ["-j", target]
    if target_args:
        parts.append(target_args)
    return " ".join(parts)


def iptables_save(program: Program, tables: tuple[str, ...] = ("filter", "nat")) -> str:
    """The program's iptables part as ``iptables-save`` prints it: per table ``*table``, the
    ``:CHAIN POLICY [0:0]`` lines (built-ins first, then kube-proxy's chains sorted), the
    ``-A`` rules grouped by chain in that order, and ``COMMIT``.

    >>> from app.network.kubeproxy.chains import Program
    >>> print(iptables_save(Program("n", "iptables"), ("nat",)))
    *nat
    :PREROUTING ACCEPT [0:0]
    :INPUT ACCEPT [0:0]
    :OUTPUT ACCEPT [0:0]
    :POSTROUTING ACCEPT [0:0]
    COMMIT
    <BLANKLINE>
    """
    out: list[str] = []
    for table in tables:
        chains = [c for c in program.chains if c.table == table]
        builtins = BUILTIN_CHAINS[table]
        by_name = {c.name: c for c in chains}
        order = list(builtins) + sorted(c.name for c in chains if c.name not in builtins)
        out.append(f"*{table}")
        for name in order:
            out.append(f":{name} ACCEPT [0:0]" if name in builtins else f":{name} - [0:0]")
        for name in order:
            chain = by_name.get(name)
            if chain is not None:
                out.extend(rule.text for rule in chain.rules)
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def nft_list(program: Program) -> str:
    """The program as ``nft list table ip kube-proxy`` prints it (tabs, maps with their
    ``elements``, chains with their hooks).

    >>> from app.network.kubeproxy.chains import Program
    >>> nft_list(Program("n", "nftables")).splitlines()[:2]
    ['table ip kube-proxy {', '\\tcomment "rules for kube-proxy"']
    """
    out = ["table ip kube-proxy {", '\tcomment "rules for kube-proxy"']
    for chain in program.chains:
        out.append("")
        if chain.kind in ("map", "set"):
            out.append(f"\t{chain.kind} {chain.name} {{")
            out.extend(f"\t\t{line}" for line in chain.header)
            if chain.rules:
                elements = [rule.text for rule in chain.rules]
                out.append("\t\telements = { " + elements[0] + ("," if len(elements) > 1 else ""))
                for i, element in enumerate(elements[1:], 1):
                    last = i == len(elements) - 1
                    out.append("\t\t\t     " + element + ("" if last else ","))
                out[-1] += " }"
            out.append("\t}")
            continue
        out.append(f"\tchain {chain.name} {{")
        out.extend(f"\t\t{line}" for line in chain.header)
        out.extend(f"\t\t{rule.text}" for rule in chain.rules)
        out.append("\t}")
    out.append("}")
    return "\n".join(out) + "\n"


def ipvsadm(program: Program) -> str:
    """The ipvs part as ``ipvsadm -Ln`` prints it, then the ipsets and the iptables rules that
    kube-proxy's ipvs mode still writes (``iptables-save -t nat``).

    >>> from app.network.kubeproxy.chains import Program
    >>> print(ipvsadm(Program("n", "ipvs")).splitlines()[0])
    IP Virtual Server version 1.2.1 (size=4096)
    """
    out = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ]
    for chain in program.chains:
        if chain.table != "ipvs":
            continue
        out.append(chain.header[0])
        out.extend(rule.text for rule in chain.rules)
    sets = [c for c in program.chains if c.table == "ipset"]
    if sets:
        out += ["", "# ipset list (members)"]
        for chain in sets:
            out.append(f"Name: {chain.name}  ({chain.header[0]})")
            out.extend(f"  {rule.text}" for rule in chain.rules)
    out += ["", "# iptables-save (the ipvs mode's iptables rules)"]
    return "\n".join(out) + "\n" + iptables_save(program)


def vs_line(proto: str, ip: str, port: int, persistent: int | None) -> str:
    """An ``ipvsadm -Ln`` virtual-server line.

    >>> vs_line("TCP", "10.96.0.10", 53, None)
    'TCP  10.96.0.10:53 rr'
    >>> vs_line("UDP", "10.96.0.10", 53, 10800)
    'UDP  10.96.0.10:53 rr persistent 10800'
    """
    line = f"{proto}  {ip}:{port} rr"
    return f"{line} persistent {persistent}" if persistent else line


def rs_line(ip: str, port: int) -> str:
    """An ``ipvsadm -Ln`` real-server line (masquerading, weight 1, no connections).

    >>> rs_line("10.244.1.5", 8080)
    '  -> 10.244.1.5:8080              Masq    1      0          0'
    """
    return f"  -> {f'{bracketed(ip)}:{port}':<28} Masq    1      0          0"
