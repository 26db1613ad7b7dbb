"""The Gateway API part of the kind replay (:mod:`app.cluster.kind_export`): a kind cluster
has neither the Gateway API CRDs nor a controller, so when the learner made Gateway API
objects, ``replay.sh`` installs both before applying the manifests.

Envoy Gateway's "Install with Kubernetes YAML" page (gateway.envoyproxy.io, checked
2026-12) installs a release with ``kubectl apply --server-side -f …/install.yaml``, which
holds the Gateway API CRDs as well; its quickstart then waits for the ``envoy-gateway``
Deployment. v1.9.0 is built against Gateway API v1.6.1 (its go.mod), the release whose
standard-channel CRDs the sandbox validates with. The GatewayClass ``eg`` the sandbox has
from the start is made as Envoy Gateway's quickstart makes it.
"""

from __future__ import annotations

from typing import Any

from app.cluster.controllers.gateway.infra import ENVOY_GATEWAY_VERSION
from app.cluster.objects import GATEWAY_KINDS

GATEWAY_API_VERSION = "v1.6.1"
INSTALL = (
    "kubectl apply --server-side -f https://github.com/envoyproxy/gateway/releases/download/"
    f"{ENVOY_GATEWAY_VERSION}/install.yaml"
)
WAIT = (
    "kubectl wait --timeout=5m -n envoy-gateway-system deployment/envoy-gateway "
    "--for=condition=Available"
)
GATEWAY_CLASS = """kubectl apply -f - <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: eg
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
EOF"""


def uses_gateway_api(objects: list[dict[str, Any]]) -> bool:
    """Whether any exported object is a Gateway API kind.

    >>> uses_gateway_api([{"kind": "HTTPRoute"}]), uses_gateway_api([{"kind": "Service"}])
    (True, False)
    """
    return any(o.get("kind") in GATEWAY_KINDS for o in objects)


def install_lines() -> list[str]:
    """The replay script's lines that install the Gateway API CRDs and Envoy Gateway.

    >>> install_lines()[1].endswith("/v1.9.0/install.yaml")
    True
    """
    return [
        f"# The Gateway API {GATEWAY_API_VERSION} CRDs and Envoy Gateway {ENVOY_GATEWAY_VERSION} "
        "(kind has neither), and the GatewayClass eg the sandbox has.",
        INSTALL,
        WAIT,
        GATEWAY_CLASS,
    ]


def difference() -> str:
    """What a kind cluster shows differently for Gateways."""
    return (
        f"Gateways need the Gateway API CRDs and a controller: replay.sh installs Envoy Gateway "
        f"{ENVOY_GATEWAY_VERSION} (with the Gateway API {GATEWAY_API_VERSION} CRDs). Each "
        "Gateway's Envoy Service is a LoadBalancer: on kind its address stays empty (and "
        "PROGRAMMED False) until cloud-provider-kind or MetalLB hands one out; "
        "kubectl port-forward to the Envoy Service reaches it meanwhile."
    )


__all__ = [
    "ENVOY_GATEWAY_VERSION",
    "GATEWAY_API_VERSION",
    "difference",
    "install_lines",
    "uses_gateway_api",
]
