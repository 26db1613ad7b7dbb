"""The Rules tab on a cluster where Cilium replaces kube-proxy: what Cilium's agent shows on
the node (``cilium-dbg service list``, ``cilium-dbg bpf lb list``) or its ``iptables-save``,
with the lines a trace used marked."""

from __future__ import annotations

from typing import Any

from app.errors import PodpathError
from app.network.cilium import rules as cilium_rules
from app.network.trace import trace
from app.render.sandbox import rules_view

#: The views in the order the Mode select offers them, with their labels.
MODES = [(view, command) for view, command in cilium_rules.VIEWS.items()]


def rules_extra(
    cluster: Any, node: str | None, mode: str | None, source: str | None, to: str | None, seed: int
) -> dict[str, Any]:
    """The Rules tab's context for a Cilium node without kube-proxy."""
    nodes = [n["metadata"]["name"] for n in cluster.list("Node")]
    chosen = node if node in nodes else (nodes[1] if len(nodes) > 1 else nodes[0])
    ruleset = cilium_rules.ruleset(cluster, chosen, mode)
    highlight: list[str] = []
    if source and to:
        try:
            result = trace(cluster, source, to, seed)
        except PodpathError:
            result = None
        entries = [
            h.why["entry"]
            for h in (result.hops if result else [])
            if h.why and h.why.get("table") == "cilium-dbg bpf lb list" and h.node == chosen
        ]
        highlight = cilium_rules.lines_for(ruleset.text, entries)
    view = rules_view(ruleset, highlight) | {
        "modes": MODES,
        "cilium": True,
        "command": cilium_rules.VIEWS[ruleset.mode],
    }
    return {"rules": view, "rules_query": {"from": source, "to": to, "seed": seed}}
