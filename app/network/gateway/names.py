"""The public DNS names of Gateways: every hostname a listener or an attached HTTPRoute names
points at its Gateway's address (``status.addresses``, the Envoy Service's load balancer IP).

A wildcard (``*.example.com``) answers for any name under it, at any depth, as Gateway API
hostnames match. A listener without a hostname and a route without hostnames name nothing.
"""

from __future__ import annotations

from typing import Any

from app.cluster.controllers.gateway import attachment as att
from app.cluster.controllers.gateway import hostnames
from app.network.gateway.decide import attachment


def _table(cluster: Any) -> tuple[dict[str, str], list[tuple[str, str]]]:
    exact: dict[str, str] = {}
    wildcards: list[tuple[str, str]] = []
    found = attachment(cluster)
    for gateway in att.controlled_gateways(cluster.state):
        addresses = (gateway.get("status") or {}).get("addresses") or []
        ip = next((a.get("value") for a in addresses if a.get("value")), None)
        if not ip:
            continue
        for listener in att.listeners_of(gateway):
            names = [listener.hostname] if listener.hostname else []
            names += [h for a in found.routes_on(listener) for h in a.hostnames]
            for name in names:
                if not name or name == "*":
                    continue
                if name.startswith("*."):
                    wildcards.append((name, ip))
                else:
                    exact.setdefault(name, ip)
    wildcards.sort(key=lambda w: hostnames.rank(w[0]))  # the longest wildcard answers first
    return exact, wildcards


def gateway_address(cluster: Any, name: str) -> str | None:
    """The address public DNS gives ``name`` for a Gateway, or None.

    >>> from app.cluster.cluster import Cluster
    >>> gateway_address(Cluster.create(seed=1), "shop.example.com") is None
    True
    """
    exact, wildcards = cluster.state.memoised("gateway-names", lambda: _table(cluster))
    name = name.lower().rstrip(".")
    if name in exact:
        return exact[name]
    return next((ip for host, ip in wildcards if hostnames.matches(host, name)), None)
