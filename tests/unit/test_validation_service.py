"""Service rules (pkg/apis/core/validation ValidateService)."""

from __future__ import annotations

import pytest

from app.cluster.validation import validate_manifest


def svc(name="web", **spec):
    s = {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": s}


def check(doc, field, fragment):
    errs = validate_manifest(doc)
    if field is None:
        assert errs == [], errs
    else:
        assert any(e.field == field and fragment in e.message for e in errs), errs


def test_service_name_must_be_dns1035_label_so_it_cannot_start_with_a_digit():
    check(svc("1web"), "metadata.name", "a DNS-1035 label must consist")
    check(svc("web.api"), "metadata.name", "DNS-1035")
    check(svc("web-1"), None, None)


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({"type": "NodePort"}, None, None),
        ({"type": "LoadBalancer"}, None, None),
        (
            {"type": "Foo"},
            "spec.type",
            'Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", '
            '"LoadBalancer", "NodePort"',
        ),
        ({"ports": []}, "spec.ports", "Required value"),
        ({"ports": None}, "spec.ports", "Required value"),
        ({"ports": [], "clusterIP": "None"}, None, None),
        (
            {"ports": [{"port": 0}]},
            "spec.ports[0].port",
            "Invalid value: 0: must be between 1 and 65535, inclusive",
        ),
        ({"ports": [{"port": 65536}]}, "spec.ports[0].port", "must be between 1 and 65535"),
        ({"ports": [{"port": 80}, {"port": 443}]}, "spec.ports[0].name", "Required value"),
        ({"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}, None, None),
        ({"ports": [{"port": 80, "name": "HTTP"}]}, "spec.ports[0].name", "RFC 1123 label"),
        (
            {"ports": [{"port": 80, "name": "http"}, {"port": 81, "name": "http"}]},
            "spec.ports[1].name",
            'Duplicate value: "http"',
        ),
        (
            {
                "ports": [
                    {"port": 53, "name": "a", "protocol": "UDP"},
                    {"port": 53, "name": "b", "protocol": "TCP"},
                ]
            },
            None,
            None,
        ),
        (
            {"ports": [{"port": 53, "name": "a"}, {"port": 53, "name": "b", "protocol": "TCP"}]},
            "spec.ports[1]",
            "Duplicate value",
        ),
        (
            {"ports": [{"port": 80, "protocol": "HTTP"}]},
            "spec.ports[0].protocol",
            'supported values: "SCTP", "TCP", "UDP"',
        ),
        ({"ports": [{"port": 80, "targetPort": "http"}]}, None, None),
        ({"ports": [{"port": 80, "targetPort": 0}]}, None, None),
        (
            {"ports": [{"port": 80, "targetPort": 70000}]},
            "spec.ports[0].targetPort",
            "must be between 1 and 65535",
        ),
        (
            {"ports": [{"port": 80, "targetPort": "web_http"}]},
            "spec.ports[0].targetPort",
            "alpha-numeric",
        ),
        (
            {"ports": [{"port": 80, "targetPort": "8080"}]},
            "spec.ports[0].targetPort",
            "must contain at least one letter",
        ),
    ],
)
def test_service_type_and_ports(spec, field, fragment):
    check(svc(**spec), field, fragment)


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        (
            {"ports": [{"port": 80, "nodePort": 30080}]},
            "spec.ports[0].nodePort",
            "Forbidden: may not be used when `type` is 'ClusterIP'",
        ),
        ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}, None, None),
        ({"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 99}]}, None, None),
        ({"clusterIP": "10.96.0.20"}, None, None),
        ({"clusterIP": ""}, None, None),
        (
            {"clusterIP": "10.96.0"},
            "spec.clusterIPs[0]",
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ),
        (
            {"type": "NodePort", "clusterIP": "None"},
            "spec.clusterIPs[0]",
            "may not be set to 'None' for NodePort services",
        ),
        (
            {"type": "LoadBalancer", "clusterIP": "None"},
            "spec.clusterIPs[0]",
            "may not be set to 'None' for LoadBalancer services",
        ),
        (
            {"type": "LoadBalancer", "ports": [{"port": 10250}]},
            "spec.ports[0]",
            "may not expose port 10250 externally",
        ),
    ],
)
def test_service_node_port_and_cluster_ip(spec, field, fragment):
    check(svc(**spec), field, fragment)


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({"externalName": "db.example.com"}, None, None),
        ({"externalName": "db.example.com."}, None, None),
        ({"externalName": "db", "ports": []}, None, None),
        ({}, "spec.externalName", "Required value"),
        ({"externalName": "DB.example.com"}, "spec.externalName", "RFC 1123 subdomain"),
        (
            {"externalName": "db.example.com", "clusterIP": "10.96.0.9"},
            "spec.clusterIPs",
            "Forbidden: may not be set for ExternalName services",
        ),
        (
            {"externalName": "db.example.com", "clusterIP": "None"},
            "spec.clusterIPs",
            "may not be set for ExternalName services",
        ),
        (
            {"externalName": "db.example.com", "ipFamilies": ["IPv4"]},
            "spec.ipFamilies",
            "may not be set for ExternalName services",
        ),
    ],
)
def test_external_name_services(spec, field, fragment):
    check(svc(type="ExternalName", **spec), field, fragment)


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({"type": "NodePort", "externalTrafficPolicy": "Local"}, None, None),
        (
            {"externalTrafficPolicy": "Local"},
            "spec.externalTrafficPolicy",
            "may only be set for externally-accessible services",
        ),
        (
            {"type": "NodePort", "externalTrafficPolicy": "Node"},
            "spec.externalTrafficPolicy",
            'supported values: "Cluster", "Local"',
        ),
        ({"internalTrafficPolicy": "Local"}, None, None),
        (
            {"internalTrafficPolicy": "Node"},
            "spec.internalTrafficPolicy",
            'supported values: "Cluster", "Local"',
        ),
        (
            {
                "type": "LoadBalancer",
                "externalTrafficPolicy": "Local",
                "healthCheckNodePort": 32000,
            },
            None,
            None,
        ),
        (
            {"type": "NodePort", "healthCheckNodePort": 32000},
            "spec.healthCheckNodePort",
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
        ({"sessionAffinity": "ClientIP"}, None, None),
        (
            {"sessionAffinity": "Sticky"},
            "spec.sessionAffinity",
            'supported values: "ClientIP", "None"',
        ),
        (
            {
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 86400}},
            },
            None,
            None,
        ),
        (
            {
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 86401}},
            },
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
            "must be greater than 0 and less than 86400",
        ),
        (
            {
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}},
            },
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
            "must be greater than 0",
        ),
        (
            {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}},
            "spec.sessionAffinityConfig",
            "must not be set when session affinity is None",
        ),
        ({"selector": {"app": "web server"}}, "spec.selector", 'Invalid value: "web server"'),
        ({"type": "LoadBalancer", "loadBalancerSourceRanges": ["198.51.100.0/24"]}, None, None),
        (
            {"type": "LoadBalancer", "loadBalancerSourceRanges": ["198.51.100.0"]},
            "spec.LoadBalancerSourceRanges[0]",
            "must be a valid CIDR value",
        ),
        (
            {"loadBalancerSourceRanges": ["198.51.100.0/24"]},
            "spec.LoadBalancerSourceRanges",
            "may only be used when `type` is 'LoadBalancer'",
        ),
        ({"ipFamilies": ["IPv5"]}, "spec.ipFamilies[0]", 'supported values: "IPv4", "IPv6"'),
        (
            {"ipFamilyPolicy": "DualStack"},
            "spec.ipFamilyPolicy",
            'supported values: "PreferDualStack", "RequireDualStack", "SingleStack"',
        ),
        ({"externalIPs": ["203.0.113.9"]}, None, None),
        ({"externalIPs": ["203.0.113"]}, "spec.externalIPs[0]", "must be a valid IP address"),
    ],
)
def test_service_traffic_policies_affinity_selector_and_source_ranges(spec, field, fragment):
    check(svc(**spec), field, fragment)
