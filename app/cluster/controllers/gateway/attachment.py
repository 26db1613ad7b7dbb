"""Which HTTPRoutes attach to which Gateway listeners, and why the others do not.

Envoy Gateway's controller reads every Gateway of a GatewayClass it controls and every
HTTPRoute naming one as a parent, and decides per ``parentRefs`` entry (the Gateway API's
``apis/v1`` rules, with Envoy Gateway's messages):

1. The parentRef picks listeners: its ``sectionName`` (a listener's name) and ``port``
   narrow them; when none is left the route is not Accepted, reason ``NoMatchingParent``.
2. Each listener's ``allowedRoutes`` must admit the route: ``namespaces.from`` ``Same``
   (the default), ``All`` or ``Selector`` (a label selector on the route's Namespace) and
   ``kinds`` (an HTTP or HTTPS listener supports HTTPRoute and GRPCRoute). None admits it:
   ``NotAllowedByListeners``.
3. The listener's hostname and the route's hostnames must intersect
   (:func:`~.hostnames.intersect`); none does: ``NoMatchingListenerHostname``.

Backends are checked apart (``ResolvedRefs``): a ``backendRef`` to another kind than
Service is ``InvalidKind``, to another namespace without a ReferenceGrant there
``RefNotPermitted``, to a Service that does not exist ``BackendNotFound``. A route with bad
backends still attaches; requests its rule sends to them get HTTP 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.cluster.controllers.gateway import hostnames
from app.cluster.controllers.gateway.backends import GROUP, BackendProblem, backend_problems
from app.cluster.selectors import matches as matches_selector

CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
#: Route kinds a listener supports, by protocol (Envoy Gateway's ``supportedKinds``).
ROUTE_KINDS = {
    "HTTP": ("HTTPRoute", "GRPCRoute"),
    "HTTPS": ("HTTPRoute", "GRPCRoute"),
    "TLS": ("TLSRoute", "TCPRoute"),
    "TCP": ("TCPRoute",),
    "UDP": ("UDPRoute",),
}

MSG_NOT_ALLOWED = "No listeners included by this parent ref allowed this attachment."
MSG_NO_HOSTNAME = (
    "There were no hostname intersections between the HTTPRoute and this parent ref's Listener(s)."
)
MSG_ACCEPTED = "Route is accepted"
MSG_RESOLVED = "Resolved all the Object references for the Route"


@dataclass(frozen=True)
class Listener:
    """One listener of one Gateway, as written (``hostname`` None when it names none)."""

    gateway: tuple[str, str]  # (namespace, name)
    name: str
    port: int
    protocol: str
    hostname: str | None
    index: int
    allowed: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Condition:
    type: str
    status: bool
    reason: str
    message: str


@dataclass
class ParentStatus:
    """One entry of an HTTPRoute's ``status.parents``."""

    ref: dict[str, Any]  # the parentRef, with group and kind filled in
    accepted: Condition
    resolved: Condition
    listeners: list[Listener] = field(default_factory=list)  # where it attached


@dataclass(frozen=True)
class Attached:
    """A route attached to a listener, with the hostnames it serves there."""

    route: dict[str, Any] = field(compare=False, hash=False)
    key: tuple[str, str]  # (namespace, name)
    hostnames: tuple[str, ...]


@dataclass
class Attachment:
    """Everything the controller decided, for status and for routing requests."""

    parents: dict[tuple[str, str], list[ParentStatus]] = field(default_factory=dict)
    attached: dict[Listener, list[Attached]] = field(default_factory=dict)
    problems: dict[tuple[str, str], list[BackendProblem]] = field(default_factory=dict)

    def routes_on(self, listener: Listener) -> list[Attached]:
        return self.attached.get(listener, [])


def controlled_gateways(state: Any) -> list[dict[str, Any]]:
    """The Gateways whose GatewayClass names Envoy Gateway's controller, by namespace/name.

    >>> controlled_gateways(_Objects([]))
    []
    """
    classes = {
        gc["metadata"]["name"]
        for gc in state.of_kind("GatewayClass")
        if (gc.get("spec") or {}).get("controllerName") == CONTROLLER_NAME
    }
    gateways = [
        gw
        for gw in state.of_kind("Gateway")
        if (gw.get("spec") or {}).get("gatewayClassName") in classes
    ]
    return sorted(gateways, key=lambda g: (g["metadata"]["namespace"], g["metadata"]["name"]))


def listeners_of(gateway: dict[str, Any]) -> list[Listener]:
    """A Gateway's listeners in the order written.

    >>> gw = {"metadata": {"namespace": "n", "name": "g"},
    ...       "spec": {"listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}
    >>> [(x.name, x.port, x.hostname) for x in listeners_of(gw)]
    [('http', 80, None)]
    """
    key = (gateway["metadata"]["namespace"], gateway["metadata"]["name"])
    return [
        Listener(
            key,
            str(item.get("name", "")),
            int(item.get("port", 0)),
            str(item.get("protocol", "")),
            str(item["hostname"]).lower() if item.get("hostname") else None,
            i,
            item.get("allowedRoutes") or {},
        )
        for i, item in enumerate((gateway.get("spec") or {}).get("listeners") or [])
    ]


def conflicted(listeners: list[Listener]) -> dict[str, str]:
    """Listener name → ``ProtocolConflict`` or ``HostnameConflict`` for those that clash
    (same port with another protocol; same port, protocol and hostname).

    >>> a = Listener(("n", "g"), "a", 80, "HTTP", None, 0)
    >>> b = Listener(("n", "g"), "b", 80, "HTTP", None, 1)
    >>> c = Listener(("n", "g"), "c", 80, "TCP", None, 2)
    >>> conflicted([a, b]), conflicted([a, c])["c"]
    ({'a': 'HostnameConflict', 'b': 'HostnameConflict'}, 'ProtocolConflict')
    """
    found: dict[str, str] = {}
    for one in listeners:
        for other in listeners:
            if other is one or other.port != one.port:
                continue
            if one.protocol != other.protocol:
                found.setdefault(one.name, "ProtocolConflict")
            elif one.protocol == other.protocol and one.hostname == other.hostname:
                found.setdefault(one.name, "HostnameConflict")
    return found


def supported_kinds(listener: Listener) -> list[str]:
    """The route kinds a listener takes: its protocol's, narrowed by ``allowedRoutes.kinds``."""
    kinds = list(ROUTE_KINDS.get(listener.protocol, ()))
    wanted = listener.allowed.get("kinds")
    if wanted:
        names = {k.get("kind") for k in wanted if k.get("group", GROUP) == GROUP}
        kinds = [k for k in kinds if k in names]
    return kinds


def namespace_allowed(listener: Listener, route_ns: str, state: Any) -> bool:
    """``allowedRoutes.namespaces``: Same (default), All or Selector on the route's Namespace."""
    rule = listener.allowed.get("namespaces") or {}
    source = rule.get("from", "Same")
    if source == "All":
        return True
    if source == "Selector":
        namespace = state.get("Namespace", "", route_ns)
        labels = dict(((namespace or {}).get("metadata") or {}).get("labels") or {})
        labels.setdefault("kubernetes.io/metadata.name", route_ns)  # set by the API server
        return matches_selector(rule.get("selector") or {}, labels)
    return route_ns == listener.gateway[0]


def attach(state: Any) -> Attachment:
    """Decide attachment and backend problems for every HTTPRoute (see the module docstring).

    Parameters
    ----------
    state : ClusterState
        Anything with ``of_kind(kind)`` and ``get(kind, namespace, name)``.

    Returns
    -------
    Attachment
        ``parents`` per route (only parentRefs to Gateways Envoy Gateway controls),
        ``attached`` routes per listener, ``problems`` (bad backendRefs) per route.

    Examples
    --------
    >>> gw = {"kind": "Gateway", "metadata": {"namespace": "default", "name": "eg"},
    ...       "spec": {"gatewayClassName": "eg", "listeners": [
    ...           {"name": "http", "port": 80, "protocol": "HTTP"}]}}
    >>> gc = {"kind": "GatewayClass", "metadata": {"name": "eg"},
    ...       "spec": {"controllerName": CONTROLLER_NAME}}
    >>> rt = {"kind": "HTTPRoute", "metadata": {"namespace": "default", "name": "web"},
    ...       "spec": {"parentRefs": [{"name": "eg"}],
    ...                "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}}
    >>> found = attach(_Objects([gw, gc, rt]))
    >>> status = found.parents[("default", "web")][0]
    >>> status.accepted.reason, status.resolved.reason
    ('Accepted', 'BackendNotFound')
    >>> [len(v) for v in found.attached.values()]
    [1]
    """
    result = Attachment()
    gateways = {
        (g["metadata"]["namespace"], g["metadata"]["name"]): g for g in controlled_gateways(state)
    }
    usable: dict[tuple[str, str], list[Listener]] = {}
    for key, gateway in gateways.items():
        listeners = listeners_of(gateway)
        clashes = conflicted(listeners)
        usable[key] = [x for x in listeners if x.name not in clashes and supported_kinds(x)]
        for listener in listeners:
            result.attached.setdefault(listener, [])
    routes = sorted(
        state.of_kind("HTTPRoute"),
        key=lambda r: (r["metadata"]["namespace"], r["metadata"]["name"]),
    )
    for route in routes:
        key = (route["metadata"]["namespace"], route["metadata"]["name"])
        problems = backend_problems(state, route)
        result.problems[key] = problems
        resolved = (
            Condition("ResolvedRefs", False, problems[0].reason, problems[0].message)
            if problems
            else Condition("ResolvedRefs", True, "ResolvedRefs", MSG_RESOLVED)
        )
        for ref in (route.get("spec") or {}).get("parentRefs") or []:
            ref = _full_ref(ref)
            if ref["group"] != GROUP or ref["kind"] != "Gateway":
                continue
            gateway_key = (ref.get("namespace") or key[0], ref["name"])
            if gateway_key not in gateways:
                continue  # not a Gateway Envoy Gateway controls: it writes no status for it
            status = _parent_status(state, route, key, ref, usable[gateway_key], resolved)
            result.parents.setdefault(key, []).append(status)
            for listener in status.listeners:
                names = hostnames.intersect(listener.hostname, _route_hostnames(route))
                entries = result.attached[listener]
                if all(a.key != key for a in entries):
                    entries.append(Attached(route, key, tuple(names)))
    return result


def _full_ref(ref: dict[str, Any]) -> dict[str, Any]:
    full = {"group": ref.get("group", GROUP), "kind": ref.get("kind", "Gateway")}
    full.update({k: v for k, v in ref.items() if k not in ("group", "kind")})
    return full


def _route_hostnames(route: dict[str, Any]) -> list[str]:
    return [str(h).lower() for h in (route.get("spec") or {}).get("hostnames") or []]


def _parent_status(
    state: Any,
    route: dict[str, Any],
    key: tuple[str, str],
    ref: dict[str, Any],
    listeners: list[Listener],
    resolved: Condition,
) -> ParentStatus:
    def refused(reason: str, message: str) -> ParentStatus:
        return ParentStatus(ref, Condition("Accepted", False, reason, message), resolved)

    picked = listeners
    if ref.get("sectionName"):
        picked = [x for x in picked if x.name == ref["sectionName"]]
    if ref.get("port"):
        picked = [x for x in picked if x.port == ref["port"]]
    if not picked:
        wanted = " and ".join(
            f"{what} {ref[field_]}"
            for what, field_ in (("sectionName", "sectionName"), ("port", "port"))
            if ref.get(field_)
        )
        return refused(
            "NoMatchingParent",
            f"No listeners match this parent ref ({wanted or 'the Gateway has no usable listener'}).",
        )
    picked = [
        x
        for x in picked
        if "HTTPRoute" in supported_kinds(x) and namespace_allowed(x, key[0], state)
    ]
    if not picked:
        return refused("NotAllowedByListeners", MSG_NOT_ALLOWED)
    picked = [x for x in picked if hostnames.intersect(x.hostname, _route_hostnames(route))]
    if not picked:
        return refused("NoMatchingListenerHostname", MSG_NO_HOSTNAME)
    status = ParentStatus(ref, Condition("Accepted", True, "Accepted", MSG_ACCEPTED), resolved)
    status.listeners = picked
    return status


class _Objects:
    """A few objects read like a cluster state (for the examples here and unit tests)."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects

    def of_kind(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return [
            o
            for o in self.objects
            if o.get("kind") == kind
            and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return next(
            (
                o
                for o in self.of_kind(kind)
                if o["metadata"]["name"] == name
                and o["metadata"].get("namespace", "") in (namespace, "")
            ),
            None,
        )
