"""The real kubectl with the Gateway API kinds (custom resources) at /k/<id>.

A real cluster with the Gateway API CRDs installed lists them in discovery under
gateway.networking.k8s.io (v1 preferred, v1beta1 also served), takes them as JSON only,
and prints the CRDs' additionalPrinterColumns: Gateway CLASS ADDRESS PROGRAMMED AGE,
HTTPRoute HOSTNAMES AGE, GatewayClass CONTROLLER ACCEPTED AGE (DESCRIPTION when wide).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_kubeapi_kubectl import Kubectl, lines, server  # noqa: F401 (fixture)
from tests.conftest import ServerHandle

pytestmark = pytest.mark.slow

MANIFESTS = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web-gw}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: web-gw}]
  hostnames: [shop.example.com]
  rules:
  - backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow-routes}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
  to: [{group: "", kind: Service}]
"""


@pytest.fixture
def kubectl(server: ServerHandle, tmp_path: Path) -> Iterator[Kubectl]:  # noqa: F811
    made = Kubectl(server, tmp_path, "web-service")
    yield made
    made.http.close()


def cells(row: str) -> list[str]:
    return re.split(r" {2,}", row.strip())


def test_api_resources_lists_the_gateway_api_kinds_with_their_short_names(kubectl):
    out = kubectl.ok("api-resources", "--api-group=gateway.networking.k8s.io")
    rows = {cells(r)[0]: cells(r) for r in lines(out)[1:]}
    assert rows["gateways"][1:] == ["gtw", "gateway.networking.k8s.io/v1", "true", "Gateway"]
    assert rows["gatewayclasses"][1:] == [
        "gc",
        "gateway.networking.k8s.io/v1",
        "false",
        "GatewayClass",
    ]
    assert rows["httproutes"][1:] == ["gateway.networking.k8s.io/v1", "true", "HTTPRoute"]
    assert rows["referencegrants"][1] == "refgrant"


def test_apply_then_get_prints_the_crds_printer_columns(kubectl):
    out = kubectl.ok("apply", "-f", "-", stdin=MANIFESTS)
    assert lines(out) == [
        "gateway.gateway.networking.k8s.io/web-gw created",
        "httproute.gateway.networking.k8s.io/shop created",
        "referencegrant.gateway.networking.k8s.io/allow-routes created",
    ]
    header, *rows = lines(kubectl.ok("get", "httproutes"))
    assert cells(header) == ["NAME", "HOSTNAMES", "AGE"]
    assert cells(rows[0])[:2] == ["shop", '["shop.example.com"]']
    header, *rows = lines(kubectl.ok("get", "gtw"))
    assert cells(header) == ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"]
    assert cells(rows[0])[:2] == ["web-gw", "eg"]
    # Applying the same file again works; the v1beta1 ReferenceGrant is unchanged. (The
    # Gateway and the route say "configured": kubectl's JSON merge patch for a custom
    # resource replaces whole lists, and their live list items carry the CRD defaults.)
    again = lines(kubectl.ok("apply", "-f", "-", stdin=MANIFESTS))
    assert again[2] == "referencegrant.gateway.networking.k8s.io/allow-routes unchanged"


def test_get_several_gateway_kinds_at_once(kubectl):
    kubectl.ok("apply", "-f", "-", stdin=MANIFESTS)
    out = kubectl.ok("get", "gateways,httproutes,referencegrants")
    assert "gateway.gateway.networking.k8s.io/web-gw" in out
    assert "httproute.gateway.networking.k8s.io/shop" in out
    assert "referencegrant.gateway.networking.k8s.io/allow-routes" in out


def test_get_gatewayclasses_wide_adds_the_description_column(kubectl):
    """The CRD's DESCRIPTION column (priority 1, spec.description) shows only with -o wide."""
    kubectl.ok(
        "apply",
        "-f",
        "-",
        stdin="""
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec:
  controllerName: example.com/gateway-controller
  description: a class no controller serves
""",
    )
    header, *rows = lines(kubectl.ok("get", "gatewayclasses"))
    assert cells(header) == ["NAME", "CONTROLLER", "ACCEPTED", "AGE"]
    header, *rows = lines(kubectl.ok("get", "gatewayclasses", "-o", "wide"))
    assert cells(header) == ["NAME", "CONTROLLER", "ACCEPTED", "AGE", "DESCRIPTION"]
    other = next(cells(r) for r in rows if r.startswith("other "))
    assert other[:2] == ["other", "example.com/gateway-controller"]
    assert other[-1] == "a class no controller serves"


def test_an_invalid_gateway_is_refused_with_the_crd_rule(kubectl):
    err = kubectl.error(
        "apply",
        "-f",
        "-",
        stdin="""
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bad}
spec:
  gatewayClassName: eg
  listeners:
  - {name: tcp, port: 9000, protocol: TCP, hostname: a.example.com}
""",
    )
    assert "hostname must not be specified for protocols ['TCP', 'UDP']" in err


def test_explain_reads_the_crd_schema_with_its_descriptions(kubectl):
    out = kubectl.ok("explain", "httproute.spec.rules.backendRefs.weight")
    assert "KIND:       HTTPRoute" in out
    assert "FIELD: weight <integer>" in out
    assert "Weight specifies the proportion of requests" in out
