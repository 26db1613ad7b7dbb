"""The Terminal's kubectl with the Gateway API kinds: ``get`` prints the CRDs'
additionalPrinterColumns (gateway-api v1.6.1 config/crd/standard), ``describe`` writes them
with kubectl's generic describer for custom resources, and ``apply`` takes their manifests."""

from __future__ import annotations

import pytest

from app.cluster.scenarios import build
from app.terminal import Session, run

SHELL = Session()

GATEWAY = """kubectl apply -f - <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web-gw}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: web-gw}]
  hostnames: [shop.example.com, www.example.com]
  rules:
  - backendRefs: [{name: web, port: 80}]
EOF"""


@pytest.fixture
def cluster():
    made = build("web-service")
    reply = run(made, GATEWAY, SHELL)
    assert reply.status == 0, reply.output
    return made


def out(cluster, line: str) -> str:
    return run(cluster, line, SHELL).output


def test_apply_names_the_custom_resources_as_kubectl_does():
    made = build("web-service")
    assert run(made, GATEWAY, SHELL).output == (
        "gateway.gateway.networking.k8s.io/web-gw created\n"
        "httproute.gateway.networking.k8s.io/shop created\n"
    )


def test_get_gateways_prints_class_address_and_programmed(cluster):
    header, row = out(cluster, "kubectl get gtw").splitlines()
    assert header.split() == ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"]
    gateway = cluster.get("Gateway", "default", "web-gw")
    address = (gateway.get("status") or {}).get("addresses", [{}])[0].get("value", "")
    assert row.split()[:2] == ["web-gw", "eg"]
    assert address == "" or row.split()[2] == address


def test_get_httproutes_prints_the_hostnames_as_json(cluster):
    assert out(cluster, "kubectl get httproutes").splitlines() == [
        "NAME   HOSTNAMES                                AGE",
        'shop   ["shop.example.com","www.example.com"]   <unknown>',
    ]


def test_get_by_the_full_resource_name_and_short_names(cluster):
    by_group = out(cluster, "kubectl get httproutes.gateway.networking.k8s.io")
    assert by_group == out(cluster, "kubectl get httproute")
    assert "CONTROLLER" in out(cluster, "kubectl get gc")


def test_describe_httproute_uses_the_generic_describer(cluster):
    text = out(cluster, "kubectl describe httproute shop")
    lines = text.splitlines()
    assert lines[0].split() == ["Name:", "shop"]
    assert "Kind:         HTTPRoute" in lines
    at = lines.index("  Parent Refs:")
    assert [line.split() for line in lines[at + 1 : at + 4]] == [
        ["Group:", "gateway.networking.k8s.io"],
        ["Kind:", "Gateway"],
        ["Name:", "web-gw"],
    ]
    # The CRD's defaults show, as the API server filled them in.
    assert "        Type:   PathPrefix" in lines


def test_an_unknown_gateway_is_not_found_with_its_group():
    made = build("web-service")
    assert out(made, "kubectl get gateway nope") == (
        'Error from server (NotFound): gateways.gateway.networking.k8s.io "nope" not found\n'
    )
