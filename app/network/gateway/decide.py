"""What Envoy does with one request on a Gateway, decided without drawing hops: the rule it
matches, the filters it applies and the backend it picks, or the answer it gives itself.

Shared by the trace (:mod:`.proxy`, which draws the hops) and by many-request traffic
(:mod:`.traffic`), so both decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.cluster.controllers.gateway import attachment as att
from app.cluster.controllers.gateway import infra
from app.network.explain import Reason, field_cause
from app.network.gateway import filters
from app.network.gateway.matching import Choice, Request, choose, listener_for


@dataclass
class Decision:
    """Envoy's answer (``status`` set) or the backend it sends the request to."""

    gateway: tuple[str, str]
    listener: att.Listener | None = None
    choice: Choice | None = None
    status: int | None = None  # Envoy answers by itself: 301/302, 404, 500, 503
    reason: Reason = field(default_factory=lambda: Reason(""))
    location: str | None = None
    service: tuple[str, str, int] | None = None  # (namespace, name, port) of the backendRef
    ref_index: int = -1
    share: str = ""
    endpoints: list[tuple[str, int]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    host: str = ""
    path: str = "/"
    changes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"Gateway {self.gateway[0]}/{self.gateway[1]}"


def attachment(cluster: Any) -> att.Attachment:
    """The controller's decisions for the cluster's current state (computed once per state)."""
    return cluster.state.memoised("gateway-attachment", lambda: att.attach(cluster.state))


def decide(
    cluster: Any,
    gateway_key: tuple[str, str],
    envoy_port: int,
    request: Request,
    scheme: str,
    seed: int,
) -> Decision:
    """Route one request that reached Envoy port ``envoy_port`` of a Gateway's proxy.

    Parameters
    ----------
    cluster : Cluster
    gateway_key : (namespace, name)
    envoy_port : int
        The port Envoy listens on (a listener's port, shifted when privileged).
    request : Request
    scheme : str
        ``http`` or ``https``, for a redirect's Location.
    seed : int
        Picks the weighted backendRef and the endpoint.

    Returns
    -------
    Decision

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> d = decide(Cluster.create(seed=1), ("default", "none"), 10080, Request("a.test"), "http", 0)
    >>> d.status
    404
    """
    found = attachment(cluster)
    gateway = cluster.get("Gateway", *gateway_key)
    decision = Decision(gateway_key, host=request.host, path=request.path)
    listeners = att.listeners_of(gateway) if gateway else []
    clashes = att.conflicted(listeners)
    on_port = [
        x for x in listeners if infra.container_port(x.port) == envoy_port and x.name not in clashes
    ]
    listener = decision.listener = listener_for(on_port, request.host)
    if listener is None:
        names = ", ".join(x.hostname or "any host" for x in on_port) or "none"
        return _answer(
            decision,
            404,
            f"{decision.label} has no listener for host {request.host} on this port (its "
            f"listeners there serve: {names}), so Envoy answers 404 Not Found.",
            field_cause("Gateway", *gateway_key, "spec.listeners"),
        )
    routes = found.routes_on(listener)
    choice = decision.choice = choose(routes, request)
    if choice is None:
        return _no_route(decision, listener, routes, request)
    route_key = choice.attached.key
    rule = choice.route_rule
    decision.headers = {"Host": request.host, **request.headers}
    prefix = _matched_prefix(choice)
    for item in rule.get("filters") or []:
        kind = item.get("type")
        if kind == "RequestHeaderModifier":
            spec = item.get("requestHeaderModifier") or {}
            decision.headers = filters.modify_headers(decision.headers, spec)
            decision.changes.append("modifies the request headers (RequestHeaderModifier)")
        elif kind == "RequestRedirect":
            status, location = filters.redirect_location(
                item.get("requestRedirect") or {},
                scheme,
                request.host,
                listener.port,
                request.path,
                request.query,
                prefix,
            )
            decision.location = location
            return _answer(
                decision,
                status,
                f"{choice.describe()} matches, and its RequestRedirect filter makes Envoy "
                f"answer {status} with Location: {location}. The client sends a new request "
                "there.",
                field_cause("HTTPRoute", *route_key, f"spec.rules[{choice.rule}].filters"),
            )
        elif kind == "URLRewrite":
            spec = item.get("urlRewrite") or {}
            if spec.get("hostname"):
                decision.host = str(spec["hostname"])
                decision.headers = filters.modify_headers(
                    decision.headers, {"set": [{"name": "Host", "value": decision.host}]}
                )
            if spec.get("path"):
                decision.path = filters.new_path(request.path, spec["path"], prefix)
            decision.changes.append(
                f"rewrites the request to {decision.host}{decision.path} (URLRewrite)"
            )
    return _backend(cluster, decision, found, rule, seed)


def _backend(
    cluster: Any, decision: Decision, found: att.Attachment, rule: dict[str, Any], seed: int
) -> Decision:
    choice = decision.choice
    assert choice is not None
    route_key = choice.attached.key
    route_label = f"HTTPRoute {route_key[0]}/{route_key[1]}"
    refs = rule.get("backendRefs") or []
    pick = filters.pick_backend(refs, seed)
    field_path = f"spec.rules[{choice.rule}].backendRefs"
    if pick.index < 0:
        why = "has no backendRefs" if not refs else "gives every backendRef weight 0"
        return _answer(
            decision,
            500,
            f"{choice.describe()} matches, but the rule {why}, so Envoy answers 500 Internal "
            "Server Error.",
            field_cause("HTTPRoute", *route_key, field_path),
        )
    ref = refs[pick.index]
    decision.ref_index, decision.share = pick.index, pick.share
    ref_field = f"{field_path}[{pick.index}]"
    problem = next(
        (
            p
            for p in found.problems.get(route_key, [])
            if (p.rule, p.ref) == (choice.rule, pick.index)
        ),
        None,
    )
    if problem is not None:
        grant = (
            " A ReferenceGrant in that namespace must allow HTTPRoutes from this one."
            if problem.reason == "RefNotPermitted"
            else ""
        )
        return _answer(
            decision,
            500,
            f"{route_label}: backendRef {ref.get('name')} is unresolved (ResolvedRefs False, "
            f"{problem.reason}: {problem.message}), so Envoy answers 500 Internal Server Error "
            f"to the requests its rule {choice.rule} sends there ({pick.share} by weight).{grant}",
            field_cause("HTTPRoute", *route_key, ref_field),
        )
    namespace = ref.get("namespace") or route_key[0]
    decision.service = (namespace, str(ref.get("name", "")), int(ref.get("port") or 0))
    decision.endpoints = endpoints(cluster, *decision.service)
    if not decision.endpoints:
        return _answer(
            decision,
            503,
            f"{choice.describe()} sends it to Service {namespace}/{ref.get('name')}, which has "
            "no ready endpoint: Envoy answers 503 Service Unavailable (no healthy upstream).",
            field_cause("HTTPRoute", *route_key, ref_field),
        )
    return decision


def _answer(decision: Decision, status: int, text: str, cause: dict[str, str]) -> Decision:
    decision.status = status
    decision.reason = Reason(text, cause)
    return decision


def _matched_prefix(choice: Choice) -> str | None:
    path = choice.spec.get("path") or {"type": "PathPrefix", "value": "/"}
    return str(path.get("value", "/")) if path.get("type", "PathPrefix") == "PathPrefix" else None


def _no_route(
    decision: Decision, listener: att.Listener, routes: list[att.Attached], request: Request
) -> Decision:
    if not routes:
        return _answer(
            decision,
            404,
            f"{decision.label}'s listener {listener.name} has no HTTPRoute attached "
            "(attachedRoutes 0), so Envoy answers 404 Not Found. Attach one with parentRefs "
            "naming the Gateway; an HTTPRoute's status.parents says why it was not accepted.",
            field_cause("Gateway", *listener.gateway, "spec.listeners"),
        )
    hosts = sorted({h for r in routes for h in r.hostnames})
    what = f"{request.method} {request.host}{request.path}"
    what += f"?{request.query}" if request.query else ""
    names = ", ".join(f"{k[0]}/{k[1]}" for k in sorted(r.key for r in routes))
    first = min(r.key for r in routes)
    return _answer(
        decision,
        404,
        f"No rule of the HTTPRoutes on {decision.label}'s listener {listener.name} ({names}; "
        f"hostnames {', '.join(hosts)}) matches {what}, so Envoy answers 404 Not Found.",
        field_cause("HTTPRoute", first[0], first[1], "spec.rules"),
    )


def endpoints(cluster: Any, namespace: str, name: str, port: int) -> list[tuple[str, int]]:
    """The ready ``(ip, targetPort)`` behind Service port ``port``, from its EndpointSlices:
    what Envoy Gateway gives Envoy as the backend's endpoints."""
    from app.network.outside import ready_endpoints

    service = cluster.get("Service", namespace, name)
    if service is None:
        return []
    ports = (service.get("spec") or {}).get("ports") or []
    service_port = next((p for p in ports if p.get("port") == port), None)
    if service_port is None:
        return []
    return [
        (ip, target) for ip, target, _pod in ready_endpoints(cluster, namespace, name, service_port)
    ]
