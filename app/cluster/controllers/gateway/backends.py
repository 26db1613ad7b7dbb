"""Which backendRefs of an HTTPRoute Envoy Gateway cannot use (its ResolvedRefs condition).

Per the Gateway API (``apis/v1`` ``BackendRef`` and ``ReferenceGrant``) with Envoy Gateway's
messages: a ref to another group or kind than a core Service is ``InvalidKind``; a ref to a
Service in another namespace needs a ReferenceGrant in that namespace letting HTTPRoutes of
the route's namespace name it, else ``RefNotPermitted``; a Service (or port) that does not
exist is ``BackendNotFound``. Requests a rule sends to such a ref get HTTP 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GROUP = "gateway.networking.k8s.io"


@dataclass(frozen=True)
class BackendProblem:
    """A backendRef Envoy Gateway cannot use: its rule's requests to it get HTTP 500."""

    rule: int
    ref: int
    reason: str  # InvalidKind, RefNotPermitted or BackendNotFound
    message: str


def backend_problems(state: Any, route: dict[str, Any]) -> list[BackendProblem]:
    """The backendRefs of a route Envoy Gateway cannot resolve, in rule order.

    >>> rt = {"metadata": {"namespace": "a", "name": "r"}, "spec": {"rules": [
    ...     {"backendRefs": [{"name": "s", "namespace": "b", "port": 80}]}]}}
    >>> from app.cluster.controllers.gateway.attachment import _Objects
    >>> backend_problems(_Objects([]), rt)[0].reason
    'RefNotPermitted'
    """
    namespace = route["metadata"]["namespace"]
    found = []
    for i, rule in enumerate((route.get("spec") or {}).get("rules") or []):
        for j, ref in enumerate(rule.get("backendRefs") or []):
            problem = _backend_problem(state, namespace, ref)
            if problem:
                found.append(BackendProblem(i, j, *problem))
    return found


def _backend_problem(state: Any, namespace: str, ref: dict[str, Any]) -> tuple[str, str] | None:
    group, kind = ref.get("group", ""), ref.get("kind", "Service")
    if group not in ("", "core"):
        return (
            "InvalidKind",
            "Group is invalid, only the core API group (specified by omitting the group field "
            "or setting it to an empty string) is supported",
        )
    if kind != "Service":
        return ("InvalidKind", "Kind is invalid, only Service is supported")
    target_ns = ref.get("namespace") or namespace
    name = ref.get("name", "")
    if target_ns != namespace and not reference_granted(state, namespace, target_ns, name):
        return (
            "RefNotPermitted",
            f"Backend ref to Service {target_ns}/{name} not permitted by any ReferenceGrant.",
        )
    service = state.get("Service", target_ns, name)
    if service is None:
        return ("BackendNotFound", f"service {target_ns}/{name} not found")
    port = ref.get("port")
    ports = [p.get("port") for p in (service.get("spec") or {}).get("ports") or []]
    if port is not None and port not in ports:
        return ("BackendNotFound", f"TCP Port {port} not found on Service {target_ns}/{name}")
    return None


def reference_granted(state: Any, from_ns: str, to_ns: str, name: str) -> bool:
    """Whether a ReferenceGrant in ``to_ns`` lets HTTPRoutes of ``from_ns`` name Service
    ``name`` (``spec.from`` group/kind/namespace, ``spec.to`` group ``""``, kind Service and
    an optional name).

    >>> grant = {"kind": "ReferenceGrant", "metadata": {"namespace": "b", "name": "g"},
    ...          "spec": {"from": [{"group": GROUP, "kind": "HTTPRoute", "namespace": "a"}],
    ...                   "to": [{"group": "", "kind": "Service"}]}}
    >>> from app.cluster.controllers.gateway.attachment import _Objects
    >>> state = _Objects([grant])
    >>> reference_granted(state, "a", "b", "s"), reference_granted(state, "c", "b", "s")
    (True, False)
    """
    for grant in state.of_kind("ReferenceGrant"):
        if grant["metadata"]["namespace"] != to_ns:
            continue
        spec = grant.get("spec") or {}
        sources = any(
            f.get("group") == GROUP
            and f.get("kind") == "HTTPRoute"
            and f.get("namespace") == from_ns
            for f in spec.get("from") or []
        )
        targets = any(
            t.get("group", "") in ("", "core")
            and t.get("kind") == "Service"
            and t.get("name") in (None, "", name)
            for t in spec.get("to") or []
        )
        if sources and targets:
            return True
    return False
