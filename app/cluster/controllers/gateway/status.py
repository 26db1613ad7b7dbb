"""The status Envoy Gateway writes on GatewayClasses, Gateways and HTTPRoutes.

Condition types and reasons are the Gateway API's (``apis/v1``); the messages are Envoy
Gateway's (``internal/gatewayapi/status``). A condition keeps its ``lastTransitionTime``
while its status stays the same, as ``meta.SetStatusCondition`` does.
"""

from __future__ import annotations

from typing import Any

from app.cluster.controllers.gateway import attachment as att
from app.cluster.controllers.gateway.attachment import Attachment, Listener

MSG_CLASS = "Valid GatewayClass"
MSG_SCHEDULED = "The Gateway has been scheduled by Envoy Gateway"
MSG_NO_ADDRESS = "No addresses have been assigned to the Gateway"
MSG_NO_REPLICAS = "Envoy replicas unavailable"
MSG_PROGRAMMED = "Address assigned to the Gateway, {}/{} envoy replicas available"
MSG_LISTENER_ACCEPTED = "Listener has been successfully translated"
MSG_LISTENER_RESOLVED = "Listener references have been resolved"
MSG_LISTENER_PROGRAMMED = "Sending translated listener configuration to the data plane"


def condition(
    kind: str, ok: bool, reason: str, message: str, generation: int, now: str
) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": now,
    }


def keep_times(new: list[dict[str, Any]], old: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """``new`` with each condition's ``lastTransitionTime`` taken from ``old`` where its
    status did not change.

    >>> old = [{"type": "Accepted", "status": "True", "lastTransitionTime": "then"}]
    >>> keep_times([{"type": "Accepted", "status": "True", "lastTransitionTime": "now"}], old)[0]["lastTransitionTime"]
    'then'
    """
    before = {c.get("type"): c for c in old or []}
    for item in new:
        prior = before.get(item["type"])
        if prior is not None and prior.get("status") == item["status"]:
            item["lastTransitionTime"] = prior.get("lastTransitionTime", item["lastTransitionTime"])
    return new


def class_status(gateway_class: dict[str, Any], now: str) -> dict[str, Any]:
    generation = gateway_class["metadata"].get("generation", 1)
    conditions = [condition("Accepted", True, "Accepted", MSG_CLASS, generation, now)]
    old = (gateway_class.get("status") or {}).get("conditions")
    return {"conditions": keep_times(conditions, old)}


def gateway_status(
    gateway: dict[str, Any],
    found: Attachment,
    address: str | None,
    replicas: tuple[int, int],
    now: str,
) -> dict[str, Any]:
    """A Gateway's status: addresses, Accepted, Programmed and one entry per listener."""
    generation = gateway["metadata"].get("generation", 1)
    listeners = att.listeners_of(gateway)
    clashes = att.conflicted(listeners)
    entries = []
    invalid = []
    old_listeners = {
        item.get("name"): item for item in (gateway.get("status") or {}).get("listeners") or []
    }
    for listener in listeners:
        conditions = _listener_conditions(listener, clashes.get(listener.name), generation, now)
        if conditions[0]["status"] == "False" or listener.name in clashes:
            invalid.append(listener.name)
        old = (old_listeners.get(listener.name) or {}).get("conditions")
        entries.append(
            {
                "name": listener.name,
                "supportedKinds": [
                    {"group": att.GROUP, "kind": kind} for kind in att.supported_kinds(listener)
                ],
                "attachedRoutes": len(found.routes_on(listener)),
                "conditions": keep_times(conditions, old),
            }
        )
    if invalid and len(invalid) == len(listeners):
        accepted = condition(
            "Accepted",
            False,
            "ListenersNotValid",
            f"No listeners are valid: {', '.join(invalid)}",
            generation,
            now,
        )
    elif invalid:
        accepted = condition(
            "Accepted",
            True,
            "ListenersNotValid",
            f"Listeners not valid: {', '.join(invalid)}",
            generation,
            now,
        )
    else:
        accepted = condition("Accepted", True, "Accepted", MSG_SCHEDULED, generation, now)
    available, wanted = replicas
    if not address:
        programmed = condition(
            "Programmed", False, "AddressNotAssigned", MSG_NO_ADDRESS, generation, now
        )
    elif available > 0:
        programmed = condition(
            "Programmed",
            True,
            "Programmed",
            MSG_PROGRAMMED.format(available, wanted),
            generation,
            now,
        )
    else:
        programmed = condition("Programmed", False, "NoResources", MSG_NO_REPLICAS, generation, now)
    old = (gateway.get("status") or {}).get("conditions")
    status: dict[str, Any] = {}
    if address:
        status["addresses"] = [{"type": "IPAddress", "value": address}]
    status["conditions"] = keep_times([accepted, programmed], old)
    status["listeners"] = entries
    return status


def _listener_conditions(
    listener: Listener, clash: str | None, generation: int, now: str
) -> list[dict[str, Any]]:
    if listener.protocol not in att.ROUTE_KINDS:
        message = (
            f"Protocol {listener.protocol} is unsupported, must be HTTP, HTTPS, TCP, UDP or TLS."
        )
        return [
            condition("Accepted", False, "UnsupportedProtocol", message, generation, now),
            condition(
                "Programmed",
                False,
                "Invalid",
                "Listener is invalid, see other Conditions for details.",
                generation,
                now,
            ),
        ]
    out = [condition("Accepted", True, "Accepted", MSG_LISTENER_ACCEPTED, generation, now)]
    if listener.allowed.get("kinds") and not att.supported_kinds(listener):
        out.append(
            condition(
                "ResolvedRefs",
                False,
                "InvalidRouteKinds",
                "None of the allowedRoutes kinds is supported by this listener's protocol.",
                generation,
                now,
            )
        )
    else:
        out.append(
            condition("ResolvedRefs", True, "ResolvedRefs", MSG_LISTENER_RESOLVED, generation, now)
        )
    if clash:
        what = "port and hostname" if clash == "HostnameConflict" else "port"
        out.append(
            condition(
                "Conflicted",
                True,
                clash,
                f"All listeners for a given port must use a compatible protocol and unique hostname; this one shares its {what} with another.",
                generation,
                now,
            )
        )
        out.append(
            condition(
                "Programmed",
                False,
                "Invalid",
                "Listener is invalid, see other Conditions for details.",
                generation,
                now,
            )
        )
    else:
        out.append(
            condition("Programmed", True, "Programmed", MSG_LISTENER_PROGRAMMED, generation, now)
        )
    return out


def route_status(route: dict[str, Any], found: Attachment, now: str) -> dict[str, Any] | None:
    """An HTTPRoute's ``status.parents`` for the Gateways Envoy Gateway controls (None when
    it names none of them)."""
    key = (route["metadata"]["namespace"], route["metadata"]["name"])
    parents = found.parents.get(key)
    if not parents:
        # Its Gateway went (or it names another now): Envoy Gateway drops its own entries.
        kept = [
            p
            for p in (route.get("status") or {}).get("parents") or []
            if p.get("controllerName") != att.CONTROLLER_NAME
        ]
        return {"parents": kept} if (route.get("status") or {}).get("parents") else None
    generation = route["metadata"].get("generation", 1)
    old = {
        repr(sorted((p.get("parentRef") or {}).items())): p.get("conditions")
        for p in (route.get("status") or {}).get("parents") or []
    }
    entries = []
    for parent in parents:
        ref = {
            k: parent.ref[k]
            for k in ("group", "kind", "namespace", "name", "sectionName", "port")
            if k in parent.ref
        }
        conditions = [
            condition(c.type, c.status, c.reason, c.message, generation, now)
            for c in (parent.accepted, parent.resolved)
        ]
        entries.append(
            {
                "parentRef": ref,
                "controllerName": att.CONTROLLER_NAME,
                "conditions": keep_times(conditions, old.get(repr(sorted(ref.items())))),
            }
        )
    return {"parents": entries}
