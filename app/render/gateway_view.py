"""View models of the Gateway API kinds for the Objects tab and the details drawer: each
Gateway with its address, conditions and listeners (attached routes), each route with what
each parent Gateway said of it (the conditions' reasons and messages), the classes and the
ReferenceGrants. Everything is read from the objects' status, as ``kubectl get -o yaml``
would show it; nothing here decides anything."""

from __future__ import annotations

from typing import Any

_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")


def _conditions(status: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "type": c.get("type", ""),
            "status": c.get("status", "Unknown"),
            "reason": c.get("reason", ""),
            "message": c.get("message", ""),
            "ok": c.get("status") == "True",
        }
        for c in status.get("conditions") or []
    ]


def condition_status(obj: dict[str, Any], kind: str) -> str:
    """The status of one condition (``True``, ``False``, ``Unknown``), or ``""`` when the
    controller has not written it.

    >>> condition_status({"status": {"conditions": [{"type": "Programmed",
    ...     "status": "True"}]}}, "Programmed")
    'True'
    >>> condition_status({}, "Accepted")
    ''
    """
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("status", "")
    return ""


def gateway_address(gateway: dict[str, Any]) -> str:
    """The Gateway's addresses from its status, comma-separated (``""`` before one is given).

    >>> gateway_address({"status": {"addresses": [{"value": "203.0.113.20"}]}})
    '203.0.113.20'
    """
    return ",".join(
        a.get("value", "") for a in (gateway.get("status") or {}).get("addresses") or []
    )


def listener_rows(gateway: dict[str, Any]) -> list[dict[str, Any]]:
    """Each listener of a Gateway: spec beside status (attached routes, conditions).

    >>> gw = {"spec": {"listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
    ...     "allowedRoutes": {"namespaces": {"from": "Same"}}}]},
    ...     "status": {"listeners": [{"name": "http", "attachedRoutes": 2}]}}
    >>> row = listener_rows(gw)[0]
    >>> row["where"], row["hostname"], row["attached"], row["from"]
    ('80/HTTP', '*', 2, 'Same')
    """
    by_name = {s.get("name"): s for s in (gateway.get("status") or {}).get("listeners") or []}
    rows = []
    for listener in (gateway.get("spec") or {}).get("listeners") or []:
        status = by_name.get(listener.get("name"), {})
        namespaces = (listener.get("allowedRoutes") or {}).get("namespaces") or {}
        rows.append(
            {
                "name": listener.get("name", ""),
                "where": f"{listener.get('port', '')}/{listener.get('protocol', '')}",
                "hostname": listener.get("hostname") or "*",
                "from": namespaces.get("from", "Same"),
                "attached": status.get("attachedRoutes", 0),
                "conditions": _conditions(status),
            }
        )
    return rows


def parent_rows(route: dict[str, Any]) -> list[dict[str, Any]]:
    """What each parent said of a route (``status.parents``), with the parent named as the
    route's ``parentRefs`` name it (namespace and section included when set).

    >>> route = {"metadata": {"namespace": "default"}, "status": {"parents": [
    ...     {"parentRef": {"name": "eg", "sectionName": "http"}, "conditions": [
    ...         {"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners",
    ...          "message": "No listeners included by this parent ref allowed this attachment."}
    ...     ]}]}}
    >>> row = parent_rows(route)[0]
    >>> row["parent"], row["conditions"][0]["reason"]
    ('Gateway default/eg (listener http)', 'NotAllowedByListeners')
    """
    rows = []
    namespace = (route.get("metadata") or {}).get("namespace", "")
    for parent in (route.get("status") or {}).get("parents") or []:
        ref = parent.get("parentRef") or {}
        where = f"{ref.get('kind', 'Gateway')} {ref.get('namespace') or namespace}/{ref.get('name', '')}"
        if ref.get("sectionName"):
            where += f" (listener {ref['sectionName']})"
        rows.append({"parent": where, "conditions": _conditions(parent)})
    return rows


def _route_hostnames(route: dict[str, Any]) -> str:
    return ", ".join((route.get("spec") or {}).get("hostnames") or []) or "*"


def _route_parents(route: dict[str, Any]) -> str:
    """``eg ✓`` or ``eg ✗ NotAllowedByListeners`` per parent: Accepted, then ResolvedRefs."""
    parts = []
    for row in parent_rows(route):
        name = row["parent"].split(" ", 1)[1]
        bad = [c for c in row["conditions"] if not c["ok"]]
        parts.append(f"{name} " + ("✓" if not bad else "✗ " + ", ".join(c["reason"] for c in bad)))
    refs = (route.get("spec") or {}).get("parentRefs") or []
    if not parts and refs:
        return ", ".join(f"{r.get('name', '')} (no answer yet)" for r in refs)
    return ", ".join(parts) or "none"


def gateway_api_view(cluster: Any) -> dict[str, list[dict[str, Any]]]:
    """The Objects tab's Gateway API tables: classes, Gateways, routes and grants.

    >>> from app.cluster.cluster import Cluster
    >>> view = gateway_api_view(Cluster.create(seed=1))
    >>> sorted(view), [c["name"] for c in view["classes"]]
    (['classes', 'gateways', 'grants', 'routes'], ['eg'])
    """
    classes = [
        {
            "name": gc["metadata"]["name"],
            "controller": (gc.get("spec") or {}).get("controllerName", ""),
            "accepted": condition_status(gc, "Accepted") or "Unknown",
        }
        for gc in cluster.list("GatewayClass")
    ]
    gateways = [
        {
            "namespace": gw["metadata"]["namespace"],
            "name": gw["metadata"]["name"],
            "class": (gw.get("spec") or {}).get("gatewayClassName", ""),
            "address": gateway_address(gw) or "<pending>",
            "accepted": condition_status(gw, "Accepted") or "Unknown",
            "programmed": condition_status(gw, "Programmed") or "Unknown",
            "listeners": [
                f"{row['name']} {row['where']} {row['hostname']} · {row['attached']} route"
                + ("" if row["attached"] == 1 else "s")
                for row in listener_rows(gw)
            ],
        }
        for gw in cluster.list("Gateway")
    ]
    routes = [
        {
            "kind": route["kind"],
            "namespace": route["metadata"]["namespace"],
            "name": route["metadata"]["name"],
            "hostnames": _route_hostnames(route),
            "parents": _route_parents(route),
            "ok": all(c["ok"] for row in parent_rows(route) for c in row["conditions"]),
        }
        for kind in _ROUTE_KINDS
        for route in cluster.list(kind)
    ]
    grants = [
        {
            "namespace": grant["metadata"]["namespace"],
            "name": grant["metadata"]["name"],
            "from": ", ".join(
                f"{f.get('kind', '')} in {f.get('namespace', '')}"
                for f in (grant.get("spec") or {}).get("from") or []
            ),
            "to": ", ".join(
                t.get("kind", "") + (f" {t['name']}" if t.get("name") else "")
                for t in (grant.get("spec") or {}).get("to") or []
            ),
        }
        for grant in cluster.list("ReferenceGrant")
    ]
    return {"classes": classes, "gateways": gateways, "routes": routes, "grants": grants}


def gateway_details(obj: dict[str, Any]) -> dict[str, Any]:
    """What the details drawer adds for a Gateway API object: facts, the object's own
    conditions, a Gateway's listeners and a route's parents.

    >>> d = gateway_details({"kind": "Gateway", "metadata": {"name": "eg"},
    ...     "spec": {"gatewayClassName": "eg", "listeners": []}, "status": {}})
    >>> d["facts"]
    [('Class', 'eg'), ('Address', 'none yet')]
    """
    kind, spec = obj["kind"], obj.get("spec") or {}
    facts: list[tuple[str, str]] = []
    listeners: list[dict[str, Any]] = []
    parents: list[dict[str, Any]] = []
    if kind == "Gateway":
        facts += [
            ("Class", spec.get("gatewayClassName", "")),
            ("Address", gateway_address(obj) or "none yet"),
        ]
        listeners = listener_rows(obj)
    elif kind == "GatewayClass":
        facts.append(("Controller", spec.get("controllerName", "")))
    elif kind in _ROUTE_KINDS:
        facts.append(("Hostnames", _route_hostnames(obj)))
        refs = spec.get("parentRefs") or []
        facts.append(("Parent refs", ", ".join(r.get("name", "") for r in refs) or "none"))
        facts.append(("Rules", str(len(spec.get("rules") or []))))
        parents = parent_rows(obj)
    elif kind == "ReferenceGrant":
        facts += [
            (
                "From",
                ", ".join(
                    f"{f.get('kind')} in {f.get('namespace')}" for f in spec.get("from") or []
                ),
            ),
            ("To", ", ".join(t.get("kind", "") for t in spec.get("to") or [])),
        ]
    return {
        "facts": facts,
        "conditions": _conditions(obj.get("status") or {}),
        "listeners": listeners,
        "parents": parents,
    }


__all__ = [
    "condition_status",
    "gateway_address",
    "gateway_api_view",
    "gateway_details",
    "listener_rows",
    "parent_rows",
]
