"""Route attachment and status reasons, pinned to the Gateway API conformance suite
(kubernetes-sigs/gateway-api ``conformance/tests``): each test names its upstream test."""

from __future__ import annotations

import yaml

from app.cluster.controllers.gateway.attachment import _Objects, attach
from app.cluster.controllers.gateway.hostnames import intersect

BASE = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: v1
kind: Namespace
metadata: {name: infra}
---
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {expose: "true"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: infra}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: shop, port: 8080, protocol: HTTP, hostname: "*.shop.example.com", allowedRoutes: {namespaces: {from: All}}}
  - {name: selected, port: 8081, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {expose: "true"}}}}}
"""


def _route(name, namespace="infra", parent=None, hostnames=None, backend=None):
    parent = parent or {"name": "gw", "namespace": "infra"}
    backend = backend or {"name": "web", "port": 8080}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "parentRefs": [parent],
            **({"hostnames": hostnames} if hostnames else {}),
            "rules": [{"backendRefs": [backend]}],
        },
    }


def _status(*routes, extra=()):
    objects = [*yaml.safe_load_all(BASE), *extra, *routes]
    found = attach(_Objects(objects))
    return found


def _accepted(found, namespace, name):
    (parent,) = found.parents[(namespace, name)]
    return parent.accepted.reason, parent.resolved.reason


def test_simple_same_namespace_accepted_httproute_simple_same_namespace():
    """conformance/tests/httproute-simple-same-namespace: Accepted and ResolvedRefs True."""
    found = _status(_route("r"))
    assert _accepted(found, "infra", "r") == ("Accepted", "ResolvedRefs")


def test_not_allowed_by_listeners_httproute_invalid_cross_namespace_parent_ref():
    """conformance/tests/httproute-invalid-cross-namespace-parent-ref: allowedRoutes Same
    refuses a route of another namespace: Accepted False, NotAllowedByListeners."""
    found = _status(
        _route("r", "other", {"name": "gw", "namespace": "infra", "sectionName": "http"})
    )
    assert _accepted(found, "other", "r")[0] == "NotAllowedByListeners"
    message = found.parents[("other", "r")][0].accepted.message
    assert message == "No listeners included by this parent ref allowed this attachment."


def test_allowed_routes_selector_and_all():
    """apis/v1 AllowedRoutes: from All admits any namespace, from Selector the namespaces
    whose labels match."""
    sel = _status(
        _route("r", "apps", {"name": "gw", "namespace": "infra", "sectionName": "selected"})
    )
    assert _accepted(sel, "apps", "r")[0] == "Accepted"
    refused = _status(
        _route("r", "other", {"name": "gw", "namespace": "infra", "sectionName": "selected"})
    )
    assert _accepted(refused, "other", "r")[0] == "NotAllowedByListeners"
    everyone = _status(
        _route(
            "r",
            "apps",
            {"name": "gw", "namespace": "infra", "sectionName": "shop"},
            ["a.shop.example.com"],
        )
    )
    assert _accepted(everyone, "apps", "r")[0] == "Accepted"


def test_no_matching_listener_hostname_httproute_hostname_intersection():
    """conformance/tests/httproute-hostname-intersection: no intersection between listener
    and route hostnames: Accepted False, NoMatchingListenerHostname."""
    found = _status(
        _route(
            "r",
            parent={"name": "gw", "namespace": "infra", "sectionName": "shop"},
            hostnames=["shop.example.net"],
        )
    )
    assert _accepted(found, "infra", "r")[0] == "NoMatchingListenerHostname"
    assert intersect(
        "*.wildcard.io", ["bar.wildcard.io", "foo.bar.wildcard.io", "wildcard.io"]
    ) == ["bar.wildcard.io", "foo.bar.wildcard.io"]
    assert intersect("very.specific.com", ["non.matching.com", "*.specific.com"]) == [
        "very.specific.com"
    ]


def test_no_matching_parent_section_name_and_port():
    """conformance/tests/httproute-invalid-parentref-not-matching-section-name and
    -listener-port: a sectionName or port no listener has: NoMatchingParent."""
    found = _status(_route("r", parent={"name": "gw", "namespace": "infra", "sectionName": "nope"}))
    assert _accepted(found, "infra", "r")[0] == "NoMatchingParent"
    found = _status(_route("r", parent={"name": "gw", "namespace": "infra", "port": 81}))
    assert _accepted(found, "infra", "r")[0] == "NoMatchingParent"
    found = _status(_route("r", parent={"name": "gw", "namespace": "infra", "port": 80}))
    assert _accepted(found, "infra", "r")[0] == "Accepted"


def test_backend_not_found_httproute_invalid_nonexistent_backendref():
    """conformance/tests/httproute-invalid-nonexistent-backendref: Accepted True, but
    ResolvedRefs False with BackendNotFound."""
    found = _status(_route("r", backend={"name": "nonexistent", "port": 8080}))
    assert _accepted(found, "infra", "r") == ("Accepted", "BackendNotFound")


def test_unknown_kind_httproute_invalid_backendref_unknown_kind():
    """conformance/tests/httproute-invalid-backendref-unknown-kind: InvalidKind."""
    found = _status(_route("r", backend={"name": "web", "kind": "UnknownKind", "port": 8080}))
    assert _accepted(found, "infra", "r")[1] == "InvalidKind"


def test_cross_namespace_backend_needs_reference_grant_httproute_reference_grant():
    """conformance/tests/httproute-invalid-cross-namespace-backend-ref (RefNotPermitted) and
    httproute-reference-grant (the grant in the Service's namespace resolves it)."""
    route = _route("r", backend={"name": "web", "namespace": "apps", "port": 8080})
    assert _accepted(_status(route), "infra", "r")[1] == "RefNotPermitted"
    grant = {
        "kind": "ReferenceGrant",
        "metadata": {"name": "g", "namespace": "apps"},
        "spec": {
            "from": [
                {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "infra"}
            ],
            "to": [{"group": "", "kind": "Service", "name": "web"}],
        },
    }
    assert _accepted(_status(route, extra=[grant]), "infra", "r")[1] == "ResolvedRefs"
    # httproute-invalid-reference-grant: a grant naming another Service does not help.
    grant["spec"]["to"][0]["name"] = "not-web"
    assert _accepted(_status(route, extra=[grant]), "infra", "r")[1] == "RefNotPermitted"


def test_attached_routes_count_per_listener_gateway_with_attached_routes():
    """conformance/tests/gateway-with-attached-routes: attachedRoutes counts the routes
    accepted on each listener (refused ones do not count)."""
    found = _status(
        _route("a"),
        _route("b", parent={"name": "gw", "namespace": "infra", "sectionName": "http"}),
        _route("c", "other"),  # only the shop listener admits namespace other (from All)
    )
    counts = {listener.name: len(routes) for listener, routes in found.attached.items()}
    # a names no sectionName: it attaches to every listener that admits it; b only to http.
    assert counts["http"] == 2
    assert counts["shop"] == 2  # a (Same namespace via All) and c (from All)
    assert counts["selected"] == 0  # infra has no expose label
