"""HTTPRoute matching, precedence and filters, pinned to the Gateway API conformance suite
(kubernetes-sigs/gateway-api ``conformance/tests/httproute-*.go`` and their YAML): each test
names the upstream test whose routes and expectations it restates."""

from __future__ import annotations

import yaml

from app.cluster.controllers.gateway.attachment import Attached, _Objects, attach
from app.network.gateway.filters import modify_headers, new_path, pick_backend, redirect_location
from app.network.gateway.matching import Request, choose

GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: same-namespace, namespace: infra}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
"""


def _routes(text: str) -> list[Attached]:
    objects = list(yaml.safe_load_all(GATEWAY + "---\n" + text))
    for i, obj in enumerate(objects):
        obj["metadata"].setdefault("creationTimestamp", f"2026-01-01T00:00:{i:02d}Z")
    found = attach(_Objects(objects))
    (routes,) = [v for v in found.attached.values()]
    return routes


def _backend(routes: list[Attached], **request) -> str | int:
    choice = choose(routes, Request(**request))
    if choice is None:
        return 404
    return choice.route_rule["backendRefs"][0]["name"]


def test_matching_across_routes_httproute_matching_across_routes():
    """conformance/tests/httproute-matching-across-routes: two routes, hostnames and path
    prefixes, header matches breaking a tie on path."""
    routes = _routes("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching-part1, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: [example.com, example.net]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching-part2, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: [example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
""")
    assert _backend(routes, host="example.com", path="/") == "infra-backend-v1"
    assert _backend(routes, host="example.net", path="/example") == "infra-backend-v1"
    assert (
        _backend(routes, host="example.com", path="/example", headers={"Version": "one"})
        == "infra-backend-v1"
    )
    assert _backend(routes, host="example.com", path="/v2") == "infra-backend-v2"
    assert _backend(routes, host="example.net", path="/v2") == "infra-backend-v1"
    assert _backend(routes, host="example.com", path="/v2/example") == "infra-backend-v2"
    assert (
        _backend(routes, host="example.com", path="/", headers={"Version": "two"})
        == "infra-backend-v2"
    )
    assert _backend(routes, host="other.test", path="/") == 404


HEADER_ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: header-matching, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{headers: [{name: version, value: one}]}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [{name: v2, port: 8080}]
  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]
    backendRefs: [{name: v2, port: 8080}]
"""


def test_header_matching_httproute_header_matching():
    """conformance/tests/httproute-header-matching: ANDed headers in a match, ORed matches in
    a rule, the most header matches first, then rule order; no match is a 404."""
    routes = _routes(HEADER_ROUTE)
    cases = [
        ({"Version": "one"}, "v1"),
        ({"Version": "two"}, "v2"),
        ({"Version": "two", "Color": "orange"}, "v1"),
        ({"Version": "two", "Color": "blue"}, "v2"),
        ({"Color": "orange"}, 404),
        ({"Some-Other-Header": "one"}, 404),
        ({"Color": "blue"}, "v1"),
        ({"Color": "green"}, "v1"),
        ({"Color": "red"}, "v2"),
        ({"Color": "yellow"}, "v2"),
        ({"Color": "purple"}, 404),
    ]
    for headers, backend in cases:
        assert _backend(routes, host="a.test", path="/", headers=headers) == backend, headers


def test_query_param_matching_httproute_query_param_matching():
    """conformance/tests/httproute-query-param-matching: names are case-sensitive; the most
    query matches win."""
    routes = _routes("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: query-param-matching, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{queryParams: [{name: animal, value: whale}]}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{queryParams: [{name: animal, value: dolphin}]}]
    backendRefs: [{name: v2, port: 8080}]
  - matches: [{queryParams: [{name: animal, value: dolphin}, {name: color, value: blue}]}]
    backendRefs: [{name: v3, port: 8080}]
""")
    assert _backend(routes, host="a.test", query="animal=whale") == "v1"
    assert _backend(routes, host="a.test", query="animal=dolphin") == "v2"
    assert _backend(routes, host="a.test", query="animal=dolphin&color=blue") == "v3"
    assert _backend(routes, host="a.test", query="ANIMAL=Whale") == 404
    assert _backend(routes, host="a.test", query="animal=shark") == 404


def test_method_matching_httproute_method_matching():
    """conformance/tests/httproute-method-matching: a method match beats a path-only match
    of the same path; a method no rule names falls through."""
    routes = _routes("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: method-matching, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{method: POST}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{method: GET}]
    backendRefs: [{name: v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path1}, method: GET}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path2}}]
    backendRefs: [{name: v3, port: 8080}]
""")
    assert _backend(routes, host="a.test", method="POST") == "v1"
    assert _backend(routes, host="a.test", method="GET") == "v2"
    assert _backend(routes, host="a.test", path="/path1", method="GET") == "v1"
    assert _backend(routes, host="a.test", path="/path2", method="GET") == "v3"
    assert _backend(routes, host="a.test", method="HEAD") == 404


def test_path_matching_by_elements_httproute_matching():
    """conformance/tests/httproute-matching (and exact-path-matching): Exact beats a prefix,
    a prefix matches whole path elements only."""
    routes = _routes("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{path: {type: Exact, value: /v2}}]
    backendRefs: [{name: v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: v3, port: 8080}]
""")
    assert _backend(routes, host="a.test", path="/v2") == "v2"
    assert _backend(routes, host="a.test", path="/v2/x") == "v3"
    assert _backend(routes, host="a.test", path="/v2example") == "v1"


def test_older_route_wins_a_tie_then_name():
    """apis/v1 HTTPRouteRule: on a full tie the oldest route by creationTimestamp wins, then
    namespace/name alphabetically."""
    text = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules: [{{backendRefs: [{{name: {name}, port: 8080}}]}}]
"""
    routes = _routes(text.format(name="zeta") + "---\n" + text.format(name="alpha"))
    # zeta is older (made first): it wins though alpha sorts first.
    assert _backend(routes, host="a.test") == "zeta"
    for r in routes:
        r.route["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    assert _backend(routes, host="a.test") == "alpha"


def test_exact_route_hostname_beats_wildcard_httproute_listener_hostname_matching():
    """apis/v1 HTTPRouteSpec.hostnames: an exact hostname beats a wildcard, and a longer
    wildcard a shorter one; wildcards match any number of labels."""
    routes = _routes("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: wild, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: narrower, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: ["*.shop.example.com"]
  rules: [{matches: [{path: {type: PathPrefix, value: /}}], backendRefs: [{name: narrower, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: exact, namespace: infra}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: [a.shop.example.com]
  rules: [{matches: [{path: {type: Exact, value: /only}}], backendRefs: [{name: exact, port: 8080}]}]
""")
    assert _backend(routes, host="a.shop.example.com", path="/only") == "exact"
    # The exact host's only rule does not match /other: the next hostname down gets it.
    assert _backend(routes, host="a.shop.example.com", path="/other") == "narrower"
    assert _backend(routes, host="b.c.example.com") == "wild"
    assert _backend(routes, host="example.com") == 404


def test_request_header_modifier_httproute_request_header_modifier():
    """conformance/tests/httproute-request-header-modifier: set overwrites, add appends,
    remove drops; names are case-insensitive."""
    spec = {
        "set": [{"name": "X-Header-Set", "value": "set-overwrites-values"}],
        "add": [{"name": "X-Header-Add", "value": "add-appends-values"}],
        "remove": ["X-Header-Remove"],
    }
    out = modify_headers(
        {
            "Some-Other-Header": "val",
            "x-header-set": "some-other-value",
            "X-Header-Add": "some-other-value",
            "X-Header-Remove": "val",
        },
        spec,
    )
    assert out == {
        "Some-Other-Header": "val",
        "X-Header-Set": "set-overwrites-values",
        "X-Header-Add": "some-other-value,add-appends-values",
    }


def test_request_redirect_httproute_request_redirect_hostname_path_port_scheme():
    """conformance/tests/httproute-request-redirect-{hostname,path,port,scheme}: Location and
    status as the suite expects them."""
    assert redirect_location(
        {"hostname": "example.org"},
        "http",
        "h.test",
        80,
        "/hostname-redirect",
        "",
        "/hostname-redirect",
    ) == (302, "http://example.org/hostname-redirect")
    assert redirect_location(
        {"statusCode": 301}, "http", "h.test", 80, "/status-code-301", "", None
    ) == (301, "http://h.test/status-code-301")
    assert redirect_location(
        {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/replacement-prefix"}},
        "http",
        "h.test",
        80,
        "/original-prefix/lemon",
        "",
        "/original-prefix",
    ) == (302, "http://h.test/replacement-prefix/lemon")
    assert redirect_location(
        {"path": {"type": "ReplaceFullPath", "replaceFullPath": "/replacement-full"}},
        "http",
        "h.test",
        80,
        "/full/path/original",
        "",
        "/full",
    ) == (302, "http://h.test/replacement-full")
    assert redirect_location({"port": 8083}, "http", "h.test", 80, "/port", "", None) == (
        302,
        "http://h.test:8083/port",
    )
    assert redirect_location({"scheme": "https"}, "http", "h.test", 80, "/scheme", "", None) == (
        302,
        "https://h.test/scheme",
    )
    assert redirect_location(
        {"scheme": "https", "port": 8443}, "http", "h.test", 80, "/s", "", None
    ) == (302, "https://h.test:8443/s")
    assert redirect_location(
        {"hostname": "example.org"}, "http", "h.test", 8080, "/x", "", None
    ) == (302, "http://example.org:8080/x")


def test_rewrite_path_httproute_rewrite_path():
    """conformance/tests/httproute-rewrite-path: ReplacePrefixMatch and ReplaceFullPath."""
    prefix = {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/one"}
    strip = {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
    assert new_path("/prefix/one/two", prefix, "/prefix/one") == "/one/two"
    assert new_path("/strip-prefix/three", strip, "/strip-prefix") == "/three"
    assert new_path("/strip-prefix", strip, "/strip-prefix") == "/"
    assert (
        new_path(
            "/full/one/two", {"type": "ReplaceFullPath", "replaceFullPath": "/one"}, "/full/one"
        )
        == "/one"
    )


def test_weights_httproute_weight():
    """conformance/tests/httproute-weight: 70/30/0 over many requests lands close to the
    weights, and weight 0 never gets a request."""
    refs = [{"name": "v1", "weight": 70}, {"name": "v2", "weight": 30}, {"name": "v3", "weight": 0}]
    counts = [0, 0, 0]
    for seed in range(1000):
        counts[pick_backend(refs, seed).index] += 1
    assert counts[2] == 0
    assert 620 <= counts[0] <= 780 and 220 <= counts[1] <= 380
