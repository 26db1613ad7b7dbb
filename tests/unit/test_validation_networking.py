"""Ingress, IngressClass, NetworkPolicy, Namespace, Node and EndpointSlice rules."""

from __future__ import annotations

import pytest

from app.cluster.validation import validate_manifest

BACKEND = {"service": {"name": "web", "port": {"number": 80}}}


def ingress(**spec):
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": spec,
    }


def rule(host=None, path="/", path_type="Prefix", backend=None):
    r = {
        "http": {
            "paths": [
                {
                    "path": path,
                    "pathType": path_type,
                    "backend": backend if backend is not None else BACKEND,
                }
            ]
        }
    }
    if host is not None:
        r["host"] = host
    return r


def check(doc, field, fragment):
    errs = validate_manifest(doc)
    if field is None:
        assert errs == [], errs
    else:
        assert any(e.field == field and fragment in e.message for e in errs), errs


PATH = "spec.rules[0].http.paths[0]"


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({"rules": [rule()]}, None, None),
        ({"defaultBackend": BACKEND}, None, None),
        ({}, "spec", "either `defaultBackend` or `rules` must be specified"),
        ({"rules": [rule("shop.example.com")]}, None, None),
        ({"rules": [rule("*.example.com")]}, None, None),
        ({"rules": [rule("Shop.example.com")]}, "spec.rules[0].host", "RFC 1123 subdomain"),
        (
            {"rules": [rule("foo.*.example.com")]},
            "spec.rules[0].host",
            "a wildcard DNS-1123 subdomain must start with '*.'",
        ),
        (
            {"rules": [rule("10.0.0.1")]},
            "spec.rules[0].host",
            "must be a DNS name, not an IP address",
        ),
        (
            {"rules": [{"host": "a.com", "http": {"paths": []}}]},
            "spec.rules[0].http.paths",
            "Required value",
        ),
        ({"rules": [{"host": "a.com"}]}, None, None),
        (
            {"rules": [rule(path_type="Regex")]},
            f"{PATH}.pathType",
            'supported values: "Exact", "ImplementationSpecific", "Prefix"',
        ),
        (
            {"rules": [{"http": {"paths": [{"path": "/", "backend": BACKEND}]}}]},
            f"{PATH}.pathType",
            "Required value",
        ),
        ({"rules": [rule(path="api")]}, f"{PATH}.path", "must be an absolute path"),
        ({"rules": [rule(path="", path_type="Exact")]}, f"{PATH}.path", "must be an absolute path"),
        ({"rules": [rule(path="", path_type="ImplementationSpecific")]}, None, None),
        (
            {"rules": [rule(path="api", path_type="ImplementationSpecific")]},
            f"{PATH}.path",
            "must be an absolute path",
        ),
        ({"rules": [rule(path="/a//b")]}, f"{PATH}.path", "must not contain '//'"),
        ({"rules": [rule(path="/a/./b")]}, f"{PATH}.path", "must not contain '/./'"),
        ({"rules": [rule(path="/a/../b")]}, f"{PATH}.path", "must not contain '/../'"),
        ({"rules": [rule(path="/a%2fb")]}, f"{PATH}.path", "must not contain '%2f'"),
        (
            {"rules": [rule(path="/a%2Fb", path_type="Exact")]},
            f"{PATH}.path",
            "must not contain '%2F'",
        ),
        ({"rules": [rule(path="/a/..")]}, f"{PATH}.path", "cannot end with '/..'"),
        ({"rules": [rule(path="/a/.")]}, f"{PATH}.path", "cannot end with '/.'"),
        ({"rules": [rule(path="/a//b", path_type="ImplementationSpecific")]}, None, None),
        (
            {"rules": [rule(backend={})]},
            f"{PATH}.backend",
            "resource or service backend is required",
        ),
        (
            {"rules": [rule(backend={**BACKEND, "resource": {"kind": "Bucket", "name": "b"}})]},
            f"{PATH}.backend",
            "cannot set both resource and service backends",
        ),
        (
            {
                "rules": [
                    rule(
                        backend={
                            "resource": {
                                "apiGroup": "k8s.example.com",
                                "kind": "Bucket",
                                "name": "static",
                            }
                        }
                    )
                ]
            },
            None,
            None,
        ),
        (
            {"rules": [rule(backend={"service": {"name": "1web", "port": {"number": 80}}})]},
            f"{PATH}.backend.service.name",
            "DNS-1035",
        ),
        (
            {"rules": [rule(backend={"service": {"name": "web", "port": {"name": "http"}}})]},
            None,
            None,
        ),
        (
            {"rules": [rule(backend={"service": {"name": "web", "port": {}}})]},
            f"{PATH}.backend",
            "Required value: port name or number is required",
        ),
        (
            {
                "rules": [
                    rule(
                        backend={"service": {"name": "web", "port": {"name": "http", "number": 80}}}
                    )
                ]
            },
            f"{PATH}.backend",
            "cannot set both port name & port number",
        ),
        (
            {"rules": [rule(backend={"service": {"name": "web", "port": {"number": 70000}}})]},
            f"{PATH}.backend.service.port.number",
            "must be between 1 and 65535",
        ),
        (
            {"rules": [rule(backend={"service": {"name": "web", "port": {"name": "HTTP"}}})]},
            f"{PATH}.backend.service.port.name",
            "alpha-numeric",
        ),
        (
            {
                "rules": [rule()],
                "tls": [{"hosts": ["*.example.com", "a.example.com"], "secretName": "tls"}],
            },
            None,
            None,
        ),
        (
            {"rules": [rule()], "tls": [{"hosts": ["A.example.com"]}]},
            "spec.tls[0].hosts[0]",
            "RFC 1123 subdomain",
        ),
        ({"rules": [rule()], "ingressClassName": "nginx"}, None, None),
        (
            {"rules": [rule()], "ingressClassName": "NGINX"},
            "spec.ingressClassName",
            "RFC 1123 subdomain",
        ),
    ],
)
def test_ingress_rules(spec, field, fragment):
    check(ingress(**spec), field, fragment)


def ingress_class(spec):
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": "nginx"},
        "spec": spec,
    }


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({"controller": "k8s.io/ingress-nginx"}, None, None),
        ({}, "spec.controller", "Required value"),
        (
            {"controller": "nginx"},
            "spec.controller",
            'must be a domain-prefixed path (such as "acme.io/foo")',
        ),
        ({"controller": "Example.com/x"}, "spec.controller", "RFC 1123 subdomain"),
        ({"controller": "example.com/a b"}, "spec.controller", "Invalid path"),
        (
            {"controller": "example.com/" + "a" * 250},
            "spec.controller",
            "Too long: may not be more than 250 bytes",
        ),
        ({"controller": "k8s.io/x", "parameters": {"kind": "Cfg", "name": "c"}}, None, None),
        (
            {
                "controller": "k8s.io/x",
                "parameters": {
                    "kind": "Cfg",
                    "name": "c",
                    "scope": "Namespace",
                    "namespace": "ops",
                },
            },
            None,
            None,
        ),
        (
            {"controller": "k8s.io/x", "parameters": {"name": "c"}},
            "spec.parameters.kind",
            "Required value",
        ),
        (
            {
                "controller": "k8s.io/x",
                "parameters": {"kind": "Cfg", "name": "c", "scope": "Namespace"},
            },
            "spec.parameters.namespace",
            "`parameters.scope` is set to 'Namespace'",
        ),
        (
            {
                "controller": "k8s.io/x",
                "parameters": {"kind": "Cfg", "name": "c", "namespace": "ops"},
            },
            "spec.parameters.namespace",
            "Forbidden: `parameters.scope` is set to 'Cluster'",
        ),
        (
            {"controller": "k8s.io/x", "parameters": {"kind": "Cfg", "name": "c", "scope": "Pod"}},
            "spec.parameters.scope",
            'supported values: "Cluster", "Namespace"',
        ),
    ],
)
def test_ingress_class_rules(spec, field, fragment):
    check(ingress_class(spec), field, fragment)


def netpol(**spec):
    s = {"podSelector": {"matchLabels": {"app": "db"}}}
    s.update(spec)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "db"},
        "spec": s,
    }


def ingress_from(*peers, ports=None):
    r = {"from": list(peers)}
    if ports is not None:
        r["ports"] = ports
    return [r]


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({}, None, None),
        ({"podSelector": {}}, None, None),
        (
            {"podSelector": {"matchLabels": {"app": "-db"}}},
            "spec.podSelector.matchLabels",
            "Invalid value",
        ),
        ({"policyTypes": ["Ingress", "Egress"]}, None, None),
        (
            {"policyTypes": ["Inbound"]},
            "spec.policyTypes[0]",
            'Unsupported value: "Inbound": supported values: "Ingress", "Egress"',
        ),
        (
            {"policyTypes": ["Ingress", "Egress", "Ingress"]},
            "spec.policyTypes",
            "may not specify more than two policyTypes",
        ),
        ({"ingress": ingress_from(ports=[{"port": 5432}])}, None, None),
        ({"ingress": ingress_from(ports=[{"port": "postgres"}])}, None, None),
        (
            {"ingress": ingress_from(ports=[{"port": 70000}])},
            "spec.ingress[0].ports[0].port",
            "must be between 1 and 65535",
        ),
        (
            {"ingress": ingress_from(ports=[{"port": "Postgres"}])},
            "spec.ingress[0].ports[0].port",
            "alpha-numeric",
        ),
        (
            {"ingress": ingress_from(ports=[{"protocol": "ICMP"}])},
            "spec.ingress[0].ports[0].protocol",
            'supported values: "TCP", "UDP", "SCTP"',
        ),
        ({"ingress": ingress_from(ports=[{"port": 32000, "endPort": 32768}])}, None, None),
        (
            {"ingress": ingress_from(ports=[{"port": 32000, "endPort": 31000}])},
            "spec.ingress[0].ports[0].endPort",
            "must be greater than or equal to `port`",
        ),
        (
            {"ingress": ingress_from(ports=[{"port": "http", "endPort": 90}])},
            "spec.ingress[0].ports[0].endPort",
            "may not be specified when `port` is non-numeric",
        ),
        (
            {"ingress": ingress_from(ports=[{"endPort": 90}])},
            "spec.ingress[0].ports[0].endPort",
            "may not be specified when `port` is not specified",
        ),
        ({"ingress": ingress_from({"podSelector": {}, "namespaceSelector": {}})}, None, None),
        (
            {"ingress": ingress_from({})},
            "spec.ingress[0].from[0]",
            "Required value: must specify a peer",
        ),
        (
            {
                "ingress": ingress_from(
                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}
                )
            },
            None,
            None,
        ),
        (
            {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0"}}]}]},
            "spec.egress[0].to[0].ipBlock.cidr",
            "must be a valid CIDR value",
        ),
        (
            {
                "ingress": ingress_from(
                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}
                )
            },
            "spec.ingress[0].from[0].ipBlock.except[0]",
            "must be a strict subset of `cidr`",
        ),
        (
            {
                "ingress": ingress_from(
                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}}
                )
            },
            "spec.ingress[0].from[0].ipBlock.except[0]",
            "must be a strict subset of `cidr`",
        ),
        (
            {"ingress": ingress_from({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}})},
            "spec.ingress[0].from[0]",
            "Forbidden: may not specify both ipBlock and another peer",
        ),
    ],
)
def test_network_policy_rules(spec, field, fragment):
    check(netpol(**spec), field, fragment)


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}, None, None),
        (
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}},
            "metadata.name",
            "RFC 1123 label",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "team-a", "namespace": "default"},
            },
            None,
            None,
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "worker-1.lab"},
                "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
            },
            None,
            None,
        ),
        (
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "Worker"}},
            "metadata.name",
            "RFC 1123 subdomain",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "w"},
                "spec": {"podCIDR": "10.244.1.0"},
            },
            "spec.podCIDR",
            "must be a valid CIDR value",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "w"},
                "spec": {"taints": [{"key": "dedicated", "effect": "NoSchedule"}]},
            },
            None,
            None,
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "w"},
                "spec": {"taints": [{"key": "dedicated", "effect": "Sometimes"}]},
            },
            "spec.taints[0].effect",
            'supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "w"},
                "spec": {
                    "taints": [
                        {"key": "a", "effect": "NoSchedule"},
                        {"key": "a", "effect": "NoSchedule", "value": "x"},
                    ]
                },
            },
            "spec.taints[1]",
            "taints must be unique by key and effect pair",
        ),
    ],
)
def test_namespace_and_node_rules(doc, field, fragment):
    check(doc, field, fragment)


def eps(address_type="IPv4", endpoints=None, ports=None):
    d = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "web-abc12"},
        "addressType": address_type,
        "endpoints": endpoints if endpoints is not None else [{"addresses": ["10.244.1.5"]}],
    }
    if ports is not None:
        d["ports"] = ports
    return d


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        (eps(), None, None),
        (eps("IPv6", [{"addresses": ["fd00::5"]}]), None, None),
        (eps("FQDN", [{"addresses": ["db.example.com"]}]), None, None),
        (eps("IPX"), "addressType", 'supported values: "FQDN", "IPv4", "IPv6"'),
        (
            eps("IPv4", [{"addresses": ["fd00::5"]}]),
            "endpoints[0].addresses[0]",
            "must be a valid IPv4 address",
        ),
        (
            eps("IPv6", [{"addresses": ["10.0.0.1"]}]),
            "endpoints[0].addresses[0]",
            "must be a valid IPv6 address",
        ),
        (
            eps("FQDN", [{"addresses": ["db"]}]),
            "endpoints[0].addresses[0]",
            "at least two segments",
        ),
        (
            eps(endpoints=[{"addresses": []}]),
            "endpoints[0].addresses",
            "Required value: must contain at least 1 address",
        ),
        (
            eps(endpoints=[{"addresses": ["10.0.0.1"] * 101}]),
            "endpoints[0].addresses",
            "Too many: 101: must have at most 100 items",
        ),
        (
            eps(endpoints=[{"addresses": ["10.0.0.1"], "nodeName": "Worker"}]),
            "endpoints[0].nodeName",
            "RFC 1123 subdomain",
        ),
        (eps(ports=[{"name": "http", "port": 80, "protocol": "TCP"}]), None, None),
        (eps(ports=[{"name": "HTTP", "port": 80}]), "ports[0].name", "RFC 1123 label"),
        (
            eps(ports=[{"name": "a", "port": 80}, {"name": "a", "port": 81}]),
            "ports[1].name",
            'Duplicate value: "a"',
        ),
        (eps(ports=[{"port": 80, "protocol": "ICMP"}]), "ports[0].protocol", "supported values"),
        (eps(ports=[{"port": 0}]), "ports[0].port", "must be between 1 and 65535"),
    ],
)
def test_endpoint_slice_rules(doc, field, fragment):
    check(doc, field, fragment)
