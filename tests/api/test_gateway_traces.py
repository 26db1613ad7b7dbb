"""The Gateway API through the JSON API: apply Gateways and HTTPRoutes as YAML, read the
status Envoy Gateway writes, and trace requests with a method and headers. Each test names
the Gateway API conformance test (kubernetes-sigs/gateway-api ``conformance/tests``) or the
Envoy Gateway behaviour it follows."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api, apply_ok, deployment, list_items, new_workspace

SETUP = (
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: store}\n---\n"
    + deployment("cart", 2, "shop")
    + "---\n"
    + deployment("cart-v2", 1, "shop")
    + "---\n"
    + deployment("catalog", 1, "store")
    + """---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart-v2, namespace: shop}
spec: {selector: {app: cart-v2}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: store}
spec: {selector: {app: catalog}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: shop}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cart, namespace: shop}
spec:
  parentRefs: [{name: eg}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /cart}, headers: [{name: env, value: canary}]}]
    backendRefs: [{name: cart-v2, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /cart}, method: POST}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Writer, value: "yes"}], remove: [X-Debug]}
    backendRefs: [{name: cart, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /cart}}]
    backendRefs: [{name: cart, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /cart}, statusCode: 301}}]
  - matches: [{path: {type: PathPrefix, value: /catalog}}]
    backendRefs: [{name: catalog, namespace: store, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /broken}}]
    backendRefs: [{name: cart-v3, port: 80}]
"""
)


@pytest.fixture
def shop(api: Api) -> str:
    workspace = new_workspace(api)
    apply_ok(api, workspace, SETUP)
    return workspace


def _trace(api: Api, workspace: str, **body: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/workspaces/{workspace}/trace", json={"from": "external", **body})
    assert response.status_code == 200, response.text
    return response.json()


def _object(api: Api, workspace: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
    items = list_items(api, workspace, f"kind={kind}&namespace={namespace}")
    return next(i for i in items if i["metadata"]["name"] == name)


def test_envoy_gateway_makes_a_proxy_deployment_and_load_balancer_per_gateway(api: Api, shop: str):
    """Envoy Gateway's infrastructure provider: envoy-<ns>-<name>-<hash> in
    envoy-gateway-system, port 80 served on container port 10080, the LB IP in the Gateway's
    status.addresses; deleting the Gateway deletes them."""
    services = list_items(api, shop, "kind=Service&namespace=envoy-gateway-system")
    (envoy,) = [s for s in services if s["metadata"]["name"].startswith("envoy-shop-eg-")]
    assert envoy["spec"]["type"] == "LoadBalancer"
    assert envoy["spec"]["externalTrafficPolicy"] == "Local"
    assert (
        envoy["spec"]["ports"][0]["port"] == 80 and envoy["spec"]["ports"][0]["targetPort"] == 10080
    )
    assert envoy["metadata"]["labels"]["gateway.envoyproxy.io/owning-gateway-name"] == "eg"
    lb = envoy["status"]["loadBalancer"]["ingress"][0]["ip"]
    gateway = _object(api, shop, "Gateway", "shop", "eg")
    assert gateway["status"]["addresses"] == [{"type": "IPAddress", "value": lb}]
    conditions = {c["type"]: c for c in gateway["status"]["conditions"]}
    assert (
        conditions["Accepted"]["status"] == "True" and conditions["Programmed"]["status"] == "True"
    )
    assert gateway["status"]["listeners"][0]["attachedRoutes"] == 1
    pods = list_items(api, shop, "kind=Pod&namespace=envoy-gateway-system")
    assert any(p["metadata"]["name"].startswith(envoy["metadata"]["name"]) for p in pods)
    response = api.delete(f"/api/v1/workspaces/{shop}/objects/Gateway/shop/eg")
    assert response.status_code == 200, response.text
    names = [
        s["metadata"]["name"]
        for s in list_items(api, shop, "kind=Service&namespace=envoy-gateway-system")
    ]
    assert envoy["metadata"]["name"] not in names
    pods = list_items(api, shop, "kind=Pod&namespace=envoy-gateway-system")
    assert not any(p["metadata"]["name"].startswith(envoy["metadata"]["name"]) for p in pods)


def test_route_status_resolvedrefs_false_for_a_missing_and_an_ungranted_backend(
    api: Api, shop: str
):
    """conformance httproute-invalid-nonexistent-backendref and
    httproute-invalid-cross-namespace-backend-ref: Accepted True, ResolvedRefs False (the
    first problem's reason), controllerName Envoy Gateway's."""
    route = _object(api, shop, "HTTPRoute", "shop", "cart")
    (parent,) = route["status"]["parents"]
    assert parent["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert parent["parentRef"]["name"] == "eg"
    conditions = {c["type"]: c for c in parent["conditions"]}
    assert conditions["Accepted"]["reason"] == "Accepted"
    assert conditions["ResolvedRefs"]["status"] == "False"
    assert conditions["ResolvedRefs"]["reason"] == "RefNotPermitted"


def test_external_to_route_host_goes_dns_lb_envoy_then_a_second_connection(api: Api, shop: str):
    """Public DNS gives the route's hostname the Gateway's address; the trace goes through
    the load balancer and kube-proxy to the Envoy pod, which opens its own connection to a
    cart pod with X-Forwarded-For (the client's, kept by externalTrafficPolicy: Local)."""
    trace = _trace(api, shop, to="http://shop.example.com/cart/items?id=7")
    assert trace["verdict"] == "delivered" and trace["http_status"] is None
    assert trace["endpoint"]["name"].startswith("cart-") and not trace["endpoint"][
        "name"
    ].startswith("cart-v2")
    proxy = next(h for h in trace["hops"] if h["action"] == "proxy")
    assert proxy["where"] == "envoy"
    headers = proxy["packet"]["http"]["headers"]
    assert headers["X-Forwarded-For"] == "198.51.100.7"
    assert proxy["packet"]["http"]["path"] == "/cart/items?id=7"
    assert proxy["packet"]["dst"] == f"{trace['endpoint']['ip']}:8080"
    before = trace["hops"][trace["hops"].index(proxy) - 1]
    assert before["packet"]["dst"].endswith(":10080")
    assert "HTTPRoute shop/cart" in trace["reason"]


def test_header_and_method_pick_the_rule_httproute_header_and_method_matching(api: Api, shop: str):
    """conformance httproute-header-matching / httproute-method-matching through the trace
    API's headers and method; the RequestHeaderModifier's set and remove show on the hop."""
    canary = _trace(api, shop, to="http://shop.example.com/cart", headers={"Env": "canary"})
    assert canary["endpoint"]["name"].startswith("cart-v2-")
    post = _trace(
        api, shop, to="http://shop.example.com/cart", method="POST", headers={"X-Debug": "1"}
    )
    proxy = next(h for h in post["hops"] if h["action"] == "proxy")
    headers = proxy["packet"]["http"]["headers"]
    assert headers["X-Writer"] == "yes" and "X-Debug" not in headers
    assert proxy["packet"]["http"]["method"] == "POST"
    get = _trace(api, shop, to="http://shop.example.com/cart", headers={"X-Debug": "1"})
    proxy = next(h for h in get["hops"] if h["action"] == "proxy")
    assert "X-Writer" not in proxy["packet"]["http"]["headers"]


def test_envoy_answers_404_500_and_redirects(api: Api, shop: str):
    """Envoy's own answers: no rule → 404; an unresolved backendRef → 500 naming the route,
    the ref and the reason (httproute-invalid-nonexistent-backendref, -cross-namespace);
    RequestRedirect → its status and Location (httproute-request-redirect-path)."""
    missing = _trace(api, shop, to="http://shop.example.com/nothing")
    assert missing["http_status"] == 404 and "Envoy" in missing["reason"]
    broken = _trace(api, shop, to="http://shop.example.com/broken")
    assert broken["http_status"] == 500
    assert "HTTPRoute shop/cart: backendRef cart-v3" in broken["reason"]
    assert "BackendNotFound" in broken["reason"]
    assert broken["cause"]["field"] == "spec.rules[5].backendRefs[0]"
    ungranted = _trace(api, shop, to="http://shop.example.com/catalog")
    assert ungranted["http_status"] == 500 and "RefNotPermitted" in ungranted["reason"]
    moved = _trace(api, shop, to="http://shop.example.com/old/basket?x=1")
    assert moved["http_status"] == 301
    assert moved["location"] == "http://shop.example.com/cart/basket?x=1"


def test_reference_grant_lets_the_cross_namespace_backend_through_httproute_reference_grant(
    api: Api, shop: str
):
    """conformance httproute-reference-grant: the grant in the backend's namespace resolves
    the ref; the request reaches the catalog pod in namespace store."""
    apply_ok(
        api,
        shop,
        """
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: shop-routes, namespace: store}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service, name: catalog}]
""",
    )
    trace = _trace(api, shop, to="http://shop.example.com/catalog")
    assert trace["http_status"] is None
    assert trace["endpoint"]["namespace"] == "store"
    route = _object(api, shop, "HTTPRoute", "shop", "cart")
    conditions = {c["type"]: c for c in route["status"]["parents"][0]["conditions"]}
    assert conditions["ResolvedRefs"]["reason"] == "BackendNotFound"  # cart-v3 is still missing


def test_weights_split_send_many_requests_httproute_weight(api: Api, shop: str):
    """conformance httproute-weight: a 80/20 split over 200 requests lands near the weights;
    weight 0 never gets a request."""
    apply_ok(
        api,
        shop,
        """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: canary, namespace: shop}
spec:
  parentRefs: [{name: eg}]
  hostnames: [canary.example.com]
  rules:
  - backendRefs: [{name: cart, port: 80, weight: 80}, {name: cart-v2, port: 80, weight: 20}, {name: cart-v3, port: 80, weight: 0}]
""",
    )
    response = api.post(
        f"/api/v1/workspaces/{shop}/traffic",
        json={"from": "external", "to": "http://canary.example.com/", "count": 200},
    )
    assert response.status_code == 200, response.text
    backends = response.json()["backends"]
    assert set(backends) == {"shop/cart", "shop/cart-v2"}
    assert (
        140 <= backends["shop/cart"] <= 180
        and backends["shop/cart"] + backends["shop/cart-v2"] == 200
    )


def test_pod_to_gateway_inside_the_cluster(api: Api, shop: str):
    """A pod reaches the Gateway too: by the public name (CoreDNS forwards it) or the Envoy
    Service's ClusterIP with a Host header."""
    pod = next(p for p in list_items(api, shop, "kind=Pod&namespace=store"))
    source = f"pod/store/{pod['metadata']['name']}"
    trace = _trace(api, shop, **{"from": source}, to="http://shop.example.com/cart")
    assert trace["verdict"] == "delivered" and trace["endpoint"]["name"].startswith("cart-")
    services = list_items(api, shop, "kind=Service&namespace=envoy-gateway-system")
    envoy = next(s for s in services if s["metadata"]["name"].startswith("envoy-shop-eg-"))
    trace = _trace(
        api,
        shop,
        **{"from": source},
        to=f"http://{envoy['spec']['clusterIP']}/cart",
        headers={"Host": "shop.example.com"},
    )
    assert trace["endpoint"]["name"].startswith("cart-")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "GE T"}, "method"),
        ({"method": ""}, "method"),
        ({"headers": {"bad name": "x"}}, "headers.bad name"),
        ({"headers": {"X-A": "line\nbreak"}}, "headers.X-A"),
        ({"headers": {f"h{i}": "v" for i in range(40)}}, "headers"),
        ({"headers": {"X-A": "v" * 2000}}, "headers.X-A"),
    ],
)
def test_bad_method_or_headers_is_a_422_naming_the_field(api: Api, body: dict, field: str):
    """RFC 9110: a method and a header name are tokens; values have no CR/LF; sizes bounded."""
    workspace = new_workspace(api)
    response = api.post(
        f"/api/v1/workspaces/{workspace}/trace",
        json={"from": "external", "to": "http://shop.example.com/", **body},
    )
    assert response.status_code == 422, response.text
    assert field in response.text


def test_ingress_ignores_method_and_headers(api: Api):
    """ingress-nginx matches host and path only: a method or header changes nothing."""
    workspace = new_workspace(api)
    apply_ok(
        api,
        workspace,
        deployment("web", 1)
        + """---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.example.org
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
""",
    )
    plain = _trace(api, workspace, to="http://web.example.org/")
    other = _trace(
        api, workspace, to="http://web.example.org/", method="DELETE", headers={"env": "canary"}
    )
    assert (
        plain["endpoint"] == other["endpoint"]
        and plain["verdict"] == other["verdict"] == "delivered"
    )
