"""kube-proxy's IPv6 proxier: on a dual-stack node kube-proxy runs one proxier per family,
and the IPv6 one writes the same chains with IPv6 addresses.

What differs from the IPv4 program, as kube-proxy's own tests show it (pkg/proxy/iptables
and pkg/proxy/nftables proxier tests' IPv6 cases): ``ip6tables`` prefixes are ``/128``, an
endpoint is ``[address]:port`` (``--to-destination``, ``dnat to``), the nftables table is
``ip6 kube-proxy`` with ``ip6 daddr``/``ip6 saddr`` matches and ``ipv6_addr`` sets, and an
endpoint chain's name writes the address's colons as dots
(``endpoint-…-ns1/svc1/tcp/p80__fd00.10.180..2.1/80``). Chain names are otherwise the same:
their hashes do not depend on the family.
"""

from __future__ import annotations

import re

from app.network.kubeproxy.chains import Program

_NFT_MATCH = re.compile(r"\bip (daddr|saddr)\b")
# xt_recent's --mask: all ones, in the address's own family.
_MASK4, _MASK6 = "255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"


def nft6(text: str) -> str:
    """An nftables rule or set header of the IPv4 table as the IPv6 table writes it.

    >>> nft6("ip daddr . meta l4proto . th dport vmap @service-ips")
    'ip6 daddr . meta l4proto . th dport vmap @service-ips'
    >>> nft6("type ipv4_addr . inet_proto . inet_service : verdict")
    'type ipv6_addr . inet_proto . inet_service : verdict'
    """
    return _NFT_MATCH.sub(r"ip6 \1", text).replace("ipv4_addr", "ipv6_addr")


def for_ipv6(program: Program, mode: str) -> Program:
    """``program`` (built from the IPv6 Services and endpoints) rewritten in place where the
    IPv6 proxier writes otherwise; returns it.

    Parameters
    ----------
    program : Program
        A node's program built from the IPv6 view.
    mode : str
        ``iptables``, ``nftables`` or ``ipvs``.

    Returns
    -------
    Program
        The same program, its rule texts in the IPv6 proxier's words.

    >>> from app.network.kubeproxy.chains import Program
    >>> p = Program("worker-1", "nftables")
    >>> p.chain("kube-proxy", "services").add(("x",), "ip daddr @cluster-ips reject", "reject")
    >>> for_ipv6(p, "nftables").chains[0].rules[0].text
    'ip6 daddr @cluster-ips reject'
    """
    for chain in program.chains:
        if mode == "nftables":
            chain.header = [nft6(line) for line in chain.header]
        for rule in chain.rules:
            if mode == "nftables":
                rule.text = nft6(rule.text)
            else:
                rule.text = rule.text.replace(f"--mask {_MASK4}", f"--mask {_MASK6}")
    return program


def table_line(text: str) -> str:
    """``nft list table ip kube-proxy`` output as ``nft list table ip6 kube-proxy`` prints it.

    >>> table_line("table ip kube-proxy {\\n")
    'table ip6 kube-proxy {\\n'
    """
    return text.replace("table ip kube-proxy {", "table ip6 kube-proxy {", 1)
