"""``ip``'s address families on a cluster with IPv6: the ``-4`` / ``-6`` / ``-f[amily]``
options, the link-local address the kernel gives each Ethernet device, and ``ip addr``'s
blocks filtered to one family.

iproute2's ip(8): ``-4`` is a shortcut for ``-family inet``, ``-6`` for ``-family inet6``;
``ip route`` without either lists the IPv4 table only. With a family, ``ip addr`` leaves out
the devices without an address of it and their ``link/`` lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INET, INET6 = "inet", "inet6"
#: The MAC of every Calico host-side veth (cali…), whose link-local address
#: fe80::ecee:eeff:feee:eeee is a Calico pod's IPv6 default gateway.
CALICO_VETH_MAC = "ee:ee:ee:ee:ee:ee"
_FAMILY_WORDS = {"inet": INET, "inet6": INET6, "4": INET, "6": INET6}


def parse(args: list[str]) -> tuple[str | None, list[str]]:
    """The family ``ip``'s options ask for (``None``: any) and the words left.

    >>> parse(["-6", "route"]), parse(["-family", "inet", "a"]), parse(["addr"])
    (('inet6', ['route']), ('inet', ['a']), (None, ['addr']))
    """
    family: str | None = None
    words: list[str] = []
    items = iter(args)
    for arg in items:
        if arg in ("-4", "-6"):
            family = INET if arg == "-4" else INET6
        elif arg in ("-f", "-family", "--family"):
            family = _FAMILY_WORDS.get(next(items, ""), family)
        elif not arg.startswith("-"):
            words.append(arg)
    return family, words


def link_local(mac: str) -> str:
    """The fe80::/64 address the kernel makes from a MAC (modified EUI-64, RFC 4291 appendix
    A: flip the universal/local bit, put ff:fe in the middle), as ``ip addr`` prints it.

    >>> link_local("ee:ee:ee:ee:ee:ee")
    'fe80::ecee:eeff:feee:eeee/64'
    >>> link_local("0a:58:0a:f4:01:02")
    'fe80::858:aff:fef4:102/64'
    """
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    groups = [f"{(eui[i] << 8) | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return f"fe80::{':'.join(groups)}/64"


@dataclass
class Device:
    """One block of ``ip addr``: its header line, its ``link/`` line and address lines, each
    address with its family and the ``valid_lft`` line under it."""

    header: str
    link: str
    addresses: list[tuple[str, str]] = field(default_factory=list)

    def add(self, family: str, line: str) -> None:
        self.addresses.append((family, line))


def render(devices: list[Device], family: str | None) -> str:
    """``ip addr``'s text for ``devices``; with a family, only the devices holding an address
    of it, without their ``link/`` lines (ip(8), ``-4`` / ``-6``).

    >>> eth0 = Device("2: eth0: <UP>", "    link/ether x", [(INET6, "inet6 ::2/64 scope global")])
    >>> print(render([eth0], INET), end="")
    >>> print(render([eth0], INET6), end="")
    2: eth0: <UP>
        inet6 ::2/64 scope global
           valid_lft forever preferred_lft forever
    """
    out: list[str] = []
    for device in devices:
        shown = [line for f, line in device.addresses if family in (None, f)]
        if family is not None and not shown:
            continue
        out.append(device.header)
        if family is None:
            out.append(device.link)
        for line in shown:
            out += [f"    {line}", "       valid_lft forever preferred_lft forever"]
    return "".join(f"{line}\n" for line in out)
