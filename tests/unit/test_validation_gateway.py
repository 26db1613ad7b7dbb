"""Gateway API kinds validated like the API server validates their CRDs.

The expectations follow the CRDs of gateway-api v1.6.1 (``config/crd/standard``) and the
upstream CEL tests that pin their messages (``tests/cel/gateway_test.go``,
``tests/cel/httproute_test.go``, ``tests/cel/grpcroute_test.go``,
``tests/cel/gatewayclass_test.go``); each test names the rule it checks.
"""

from __future__ import annotations

import json
import re

import pytest

from app.cluster.apply import apply_text
from app.cluster.defaulting import apply_defaults
from app.cluster.validation import validate_manifest, validate_update
from app.cluster.validation.crd_schema import CRD_FILES, crd
from app.cluster.validation.semantic_gateway import GATEWAY_CLASS_RULES, GATEWAY_RULES
from app.cluster.validation.semantic_routes import GRPC_ROUTE_RULES, HTTP_ROUTE_RULES
from app.errors import InvalidObjects
from tests.unit.scenarios import cluster

GW = "gateway.networking.k8s.io/v1"


def gateway(*listeners, **spec):
    return {
        "apiVersion": GW,
        "kind": "Gateway",
        "metadata": {"name": "eg"},
        "spec": {"gatewayClassName": "eg", "listeners": list(listeners), **spec},
    }


def listener(name="http", port=80, protocol="HTTP", **more):
    return {"name": name, "port": port, "protocol": protocol, **more}


def route(*rules, **spec):
    body = {"parentRefs": [{"name": "eg"}], **spec}
    if rules:
        body["rules"] = list(rules)
    return {"apiVersion": GW, "kind": "HTTPRoute", "metadata": {"name": "web"}, "spec": body}


def backend(name="web", port=80, **more):
    return {"name": name, "port": port, **more}


def messages(doc):
    return [e.describe() for e in validate_manifest(doc)]


def has_error(doc, field, fragment):
    return any(e.field == field and fragment in e.message for e in validate_manifest(doc))


# -- every CEL rule of the stored CRDs has its Python twin ------------------------------

RULES_OF = {
    "Gateway": GATEWAY_RULES,
    "HTTPRoute": HTTP_ROUTE_RULES,
    "GRPCRoute": GRPC_ROUTE_RULES,
    "GatewayClass": GATEWAY_CLASS_RULES,
    "ReferenceGrant": [],
}
TRANSITION_RULES = {("GatewayClass", "spec.controllerName", "Value is immutable")}


def _cel_rules(node, path, out):
    for rule in node.get("x-kubernetes-validations", []):
        out.add((path, rule["message"]))
    for key, sub in (node.get("properties") or {}).items():
        _cel_rules(sub, f"{path}.{key}" if path else key, out)
    if isinstance(node.get("items"), dict):
        _cel_rules(node["items"], f"{path}[*]", out)


@pytest.mark.parametrize("kind", sorted(CRD_FILES))
def test_every_spec_cel_rule_of_the_crd_is_written_in_python(kind):
    upstream: set[tuple[str, str]] = set()
    _cel_rules(crd(kind)["schema"]["properties"]["spec"], "spec", upstream)
    upstream -= {(p, m) for k, p, m in TRANSITION_RULES if k == kind}
    ours = {(r.path, r.message) for r in RULES_OF[kind]}
    assert upstream == ours


def test_the_crd_patterns_compile_in_python():
    """The CRDs' regexes are RE2; the ones they use mean the same in Python's re."""
    text = "".join(json.dumps(crd(k)["schema"]) for k in CRD_FILES)
    patterns = re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', text)
    assert len(patterns) > 50
    for pattern in patterns:
        re.compile(json.loads(f'"{pattern}"'))


# -- Gateway: tests/cel/gateway_test.go ---------------------------------------------


def test_a_valid_gateway_passes():
    assert messages(gateway(listener(hostname="*.example.com"))) == []


def test_listener_name_must_be_unique_within_the_gateway():
    doc = gateway(listener(), listener(port=8080))
    assert (
        'spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway'
        in messages(doc)
    )


def test_combination_of_port_protocol_and_hostname_must_be_unique():
    doc = gateway(listener(name="a", hostname="foo.com"), listener(name="b", hostname="foo.com"))
    assert has_error(
        doc,
        "spec.listeners",
        "Combination of port, protocol and hostname must be unique for each listener",
    )
    other_host = gateway(
        listener(name="a", hostname="foo.com"), listener(name="b", hostname="bar.com")
    )
    assert messages(other_host) == []


def test_hostname_must_not_be_specified_for_tcp_and_udp():
    doc = gateway(listener(protocol="TCP", hostname="foo.com"))
    assert has_error(doc, "spec.listeners", "hostname must not be specified for protocols")


def test_tls_must_not_be_specified_for_http():
    doc = gateway(listener(tls={"certificateRefs": [{"name": "cert"}]}))
    assert has_error(
        doc, "spec.listeners", "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"
    )


def test_tls_terminate_needs_certificate_refs_or_options():
    """mode defaults to Terminate, so an empty tls block breaks the rule."""
    doc = gateway(listener(name="https", port=443, protocol="HTTPS", tls={}))
    assert has_error(
        doc,
        "spec.listeners[0].tls",
        "certificateRefs or options must be specified when mode is Terminate",
    )


def test_listener_hostname_follows_the_crd_pattern_and_port_its_range():
    doc = gateway(listener(hostname="Foo.Example.com", port=70000))
    errs = messages(doc)
    assert any(
        e.startswith('spec.listeners[0].hostname: Invalid value: "Foo.Example.com"')
        and "in body should match" in e
        for e in errs
    )
    assert (
        "spec.listeners[0].port: Invalid value: 70000: spec.listeners[0].port in body should "
        "be less than or equal to 65535" in errs
    )


def test_at_most_64_listeners():
    doc = gateway(*[listener(name=f"l{i}", port=1000 + i) for i in range(65)])
    assert "spec.listeners: Too many: 65: must have at most 64 items" in messages(doc)


def test_an_ip_address_must_be_an_ip():
    doc = gateway(listener(), addresses=[{"value": "1.2.3.4:8080"}])
    assert has_error(
        doc, "spec.addresses[0].value", "spec.addresses[0].value in body must be of type ipv4"
    )


def test_ip_and_hostname_addresses_must_be_unique():
    doc = gateway(
        listener(),
        addresses=[
            {"type": "IPAddress", "value": "1.2.3.4"},
            {"type": "IPAddress", "value": "1.2.3.4"},
            {"type": "Hostname", "value": "foo.com"},
            {"type": "Hostname", "value": "foo.com"},
        ],
    )
    assert has_error(doc, "spec.addresses", "IPAddress values must be unique")
    assert has_error(doc, "spec.addresses", "Hostname values must be unique")


def test_a_gateway_without_class_or_listeners_is_refused():
    doc = {"apiVersion": GW, "kind": "Gateway", "metadata": {"name": "eg"}, "spec": {}}
    assert set(messages(doc)) == {
        "spec.gatewayClassName: Required value",
        "spec.listeners: Required value",
    }


def test_an_unknown_field_is_named_with_a_hint():
    doc = gateway(listener(hostnames=["a.com"]))
    assert (
        'spec.listeners[0].hostnames: unknown field "spec.listeners[0].hostnames" '
        '(did you mean "hostname"?)' in messages(doc)
    )


def test_a_wrong_type_blocks_the_cel_rules():
    """apiextensions-apiserver skips CEL rules after a blocking (type) error."""
    doc = gateway(listener(port="80"), listener(port="80"))
    errs = messages(doc)
    assert (
        'spec.listeners[0].port: Invalid value: "string": spec.listeners[0].port in body '
        'must be of type integer: "string"' in errs
    )
    assert not any("must be unique" in e for e in errs)


def test_listener_defaults_allow_routes_from_the_same_namespace():
    gw = apply_defaults(gateway(listener()))
    assert gw["spec"]["listeners"][0]["allowedRoutes"] == {"namespaces": {"from": "Same"}}


# -- HTTPRoute: tests/cel/httproute_test.go -------------------------------------------


def test_a_valid_httproute_passes():
    doc = route(
        {
            "matches": [{"path": {"type": "PathPrefix", "value": "/shop"}}],
            "backendRefs": [backend()],
        },
        hostnames=["shop.example.com", "*.example.org"],
    )
    assert messages(doc) == []


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("shop", "value must be an absolute path and start with '/'"),
        ("/a//b", "must not contain '//'"),
        ("/a/./b", "must not contain '/./'"),
        ("/a/.", "must not end with '/.'"),
        ("/a%2fb", "must not contain '%2f'"),
        ("/a b", "must only contain valid characters"),
    ],
)
def test_httppathmatch_value_rules(value, rule):
    """TestHTTPPathMatch: the path value rules for Exact and PathPrefix."""
    doc = route({"matches": [{"path": {"type": "Exact", "value": value}}]})
    assert has_error(doc, "spec.rules[0].matches[0].path", rule)


def test_a_regular_expression_path_is_not_held_to_the_prefix_rules():
    doc = route({"matches": [{"path": {"type": "RegularExpression", "value": "shop.*"}}]})
    assert messages(doc) == []


def test_unknown_path_match_type_lists_the_supported_values():
    doc = route({"matches": [{"path": {"type": "Prefix", "value": "/"}}]})
    assert has_error(
        doc,
        "spec.rules[0].matches[0].path.type",
        'supported values: "Exact", "PathPrefix", "RegularExpression"',
    )


def test_backend_weight_is_between_0_and_1000000_and_port_between_1_and_65535():
    doc = route({"backendRefs": [backend(weight=1000001), backend(name="api", port=0)]})
    errs = messages(doc)
    assert (
        "spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: "
        "spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000"
    ) in errs
    assert (
        "spec.rules[0].backendRefs[1].port: Invalid value: 0: "
        "spec.rules[0].backendRefs[1].port in body should be greater than or equal to 1"
    ) in errs


def test_a_service_backend_must_have_a_port():
    """TestBackendObjectReference: Must have port for Service reference."""
    doc = route({"backendRefs": [{"name": "web"}]})
    assert (
        'spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port for Service '
        "reference" in messages(doc)
    )


def test_request_redirect_and_url_rewrite_may_not_be_used_together():
    doc = route(
        {
            "filters": [
                {"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}},
                {"type": "URLRewrite", "urlRewrite": {"hostname": "example.net"}},
            ]
        }
    )
    assert has_error(
        doc,
        "spec.rules[0].filters",
        "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, "
        "but not both",
    )


def test_request_redirect_filter_must_not_be_used_together_with_backend_refs():
    doc = route(
        {
            "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}}],
            "backendRefs": [backend()],
        }
    )
    assert has_error(
        doc, "spec.rules[0]", "RequestRedirect filter must not be used together with backendRefs"
    )


def test_filter_settings_must_match_the_filter_type():
    """TestHTTPRouteFilter: the type-with-settings rules, both directions."""
    doc = route({"filters": [{"type": "RequestHeaderModifier", "requestMirror": {}}]})
    errs = [e.message for e in validate_manifest(doc)]
    assert any(
        "filter.requestHeaderModifier must be specified for RequestHeaderModifier" in m
        for m in errs
    )
    assert any(
        "filter.requestMirror must be nil if the filter.type is not RequestMirror" in m
        for m in errs
    )


def test_url_rewrite_filter_cannot_be_repeated():
    rewrite = {"type": "URLRewrite", "urlRewrite": {"hostname": "a.example.com"}}
    doc = route({"filters": [rewrite, rewrite], "backendRefs": [backend()]})
    assert has_error(doc, "spec.rules[0].filters", "URLRewrite filter cannot be repeated")


def test_replace_prefix_match_needs_exactly_one_path_prefix_match():
    rewrite = {
        "type": "URLRewrite",
        "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}},
    }
    exact = {"matches": [{"path": {"type": "Exact", "value": "/a"}}], "filters": [rewrite]}
    assert has_error(
        route(exact),
        "spec.rules[0]",
        "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match",
    )
    # With no matches, the default PathPrefix "/" match is filled in first: it passes.
    assert messages(route({"filters": [rewrite], "backendRefs": [backend()]})) == []


def test_path_modifier_type_and_field_must_agree():
    """TestHTTPPathModifier."""
    redirect = {"type": "RequestRedirect", "requestRedirect": {"path": {"type": "ReplaceFullPath"}}}
    assert has_error(
        route({"filters": [redirect]}),
        "spec.rules[0].filters[0].requestRedirect.path",
        "replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
    )


def test_section_name_must_be_specified_for_two_references_to_one_parent():
    doc = route(parentRefs=[{"name": "eg"}, {"name": "eg", "sectionName": "http"}])
    assert has_error(
        doc,
        "spec.parentRefs",
        "sectionName must be specified when parentRefs includes 2 or more references",
    )
    doc = route(parentRefs=[{"name": "eg", "sectionName": "a"}, {"name": "eg", "sectionName": "a"}])
    assert has_error(
        doc, "spec.parentRefs", "sectionName must be unique when parentRefs includes 2 or more"
    )


def test_at_most_16_hostnames():
    doc = route(hostnames=[f"h{i}.example.com" for i in range(17)])
    assert "spec.hostnames: Too many: 17: must have at most 16 items" in messages(doc)


def test_total_matches_across_rules_must_be_at_most_128():
    matches = [{"path": {"type": "Exact", "value": f"/p{i}"}} for i in range(60)]
    doc = route(*[{"matches": matches} for _ in range(3)])
    assert has_error(doc, "spec.rules", "the total number of matches across all rules")


def test_backend_request_timeout_cannot_be_longer_than_request_timeout():
    doc = route({"timeouts": {"request": "10s", "backendRequest": "1m"}})
    assert has_error(
        doc,
        "spec.rules[0].timeouts",
        "backendRequest timeout cannot be longer than request timeout",
    )


def test_httproute_defaults_match_weight_and_parent_kind():
    defaulted = apply_defaults(route({"backendRefs": [backend()]}))
    rule = defaulted["spec"]["rules"][0]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert rule["backendRefs"][0] | {} == {
        "name": "web",
        "port": 80,
        "group": "",
        "kind": "Service",
        "weight": 1,
    }
    assert defaulted["spec"]["parentRefs"][0]["kind"] == "Gateway"


# -- GRPCRoute, ReferenceGrant, GatewayClass ------------------------------------------


def test_grpc_method_match_needs_service_or_method():
    """tests/cel/grpcroute_test.go: One or both of 'service' or 'method' must be specified."""
    doc = {
        "apiVersion": GW,
        "kind": "GRPCRoute",
        "metadata": {"name": "rpc"},
        "spec": {"rules": [{"matches": [{"method": {"type": "Exact"}}]}]},
    }
    assert has_error(
        doc,
        "spec.rules[0].matches[0].method",
        "One or both of 'service' or 'method' must be specified",
    )


def test_a_v1beta1_reference_grant_is_accepted_and_stored_as_v1():
    c = cluster()
    apply_text(
        c,
        """
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow-routes}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
""",
    )
    assert c.get("ReferenceGrant", "default", "allow-routes")["apiVersion"] == GW


def test_a_reference_grant_needs_from_and_to():
    doc = {"apiVersion": GW, "kind": "ReferenceGrant", "metadata": {"name": "x"}, "spec": {}}
    assert set(messages(doc)) == {"spec.from: Required value", "spec.to: Required value"}


def test_grpcroute_is_not_served_at_v1beta1():
    doc = {
        "apiVersion": "gateway.networking.k8s.io/v1beta1",
        "kind": "GRPCRoute",
        "metadata": {"name": "x"},
        "spec": {},
    }
    errs = validate_manifest(doc)
    assert (
        errs[0].field == "apiVersion"
        and 'use apiVersion "gateway.networking.k8s.io/v1"' in errs[0].message
    )


def test_gateway_class_controller_name_is_immutable():
    """tests/cel/gatewayclass_test.go TestValidateGatewayClassUpdate."""
    old = {"kind": "GatewayClass", "spec": {"controllerName": "example.net/a"}}
    new = {"kind": "GatewayClass", "spec": {"controllerName": "example.net/b"}}
    assert [e.describe() for e in validate_update(old, new)] == [
        'spec.controllerName: Invalid value: "string": Value is immutable'
    ]


def test_gateway_class_controller_name_must_be_a_domain_prefixed_path():
    doc = {
        "apiVersion": GW,
        "kind": "GatewayClass",
        "metadata": {"name": "x"},
        "spec": {"controllerName": "envoy"},
    }
    assert has_error(doc, "spec.controllerName", "in body should match")


def test_apply_of_a_broken_gateway_changes_nothing_and_names_every_error():
    c = cluster()
    text = """
apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: web}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: http, port: 81, protocol: TCP, hostname: a.example.com}
"""
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, text)
    fields = {(e.document, e.field) for e in raised.value.errors}
    assert (2, "spec.listeners") in fields
    assert c.get("Namespace", "", "web") is None
