"""Cilium's agent CLI on a node (``cilium-dbg``, formerly ``cilium``), as its commands print:
``service list`` and ``bpf lb list`` (see :mod:`app.network.cilium.rules`), ``bpf ipcache
list`` (see :mod:`app.network.cilium.ipcache`; ``bpf tunnel list`` went with the tunnel map
in Cilium 1.18)."""

from __future__ import annotations

from typing import Any

from app.network.cilium import ipcache, rules
from app.terminal.output import Output, failed, printed

USAGE = (
    "Podpath: this node's Cilium agent answers cilium-dbg service list, cilium-dbg bpf lb list "
    "and cilium-dbg bpf ipcache list\n"
)


def cilium(cluster: Any, node: str, args: list[str], name: str = "cilium-dbg") -> Output:
    """``cilium-dbg service list`` / ``cilium-dbg bpf lb list`` (``ls`` is an alias of
    ``list``); not found on a node of another plugin."""
    if cluster.config.cni != "cilium":
        return failed(f"sh: {name}: not found\n", 127)
    words = ["list" if a == "ls" else a for a in args if not a.startswith("-")]
    if words == ["service", "list"]:
        return printed(rules.service_list(cluster, node))
    if words == ["bpf", "lb", "list"]:
        return printed(rules.bpf_lb_list(cluster, node))
    if words == ["bpf", "ipcache", "list"]:
        return printed(ipcache.ipcache_list(cluster, node))
    return failed(USAGE, 1)


def cilium_dbg(cluster: Any, node: str, args: list[str]) -> Output:
    return cilium(cluster, node, args, "cilium-dbg")


def cilium_old(cluster: Any, node: str, args: list[str]) -> Output:
    return cilium(cluster, node, args, "cilium")
