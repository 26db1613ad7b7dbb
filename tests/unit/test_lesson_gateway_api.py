"""The Gateway API lesson (issue 14): its checks refuse the likely wrong routes with a message
saying what happened instead, the status and answers it teaches are what Envoy Gateway's
controller writes here, and what it says of ingress-nginx and the API's roles holds, each fact
with its source in the test's docstring and the lesson file's comments."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.network.trace import trace
from tests.unit.test_lesson_facts import at_step, cited, learner_traces, outcome, quiz_answer, said

SLUG = "gateway-api"
ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: shop}}
spec:
  parentRefs: [{{name: shop}}]
  hostnames: [shop.example.com]
  rules:
{rules}
"""
WEB = "    - matches: [{path: {type: PathPrefix, value: /web}}]\n      backendRefs: [{name: web, port: 80}]\n"


def route(rules: str) -> str:
    return ROUTE.format(rules=rules + WEB)


def test_ingress_nginx_retirement_is_said_as_announced():
    """kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/: SIG Network and the Security
    Response Committee; no releases, bug fixes or security patches after March 2026; the
    Ingress concept page: the API is frozen."""
    text = said(SLUG)
    assert "In November 2025, Kubernetes SIG Network and the Security Response Committee" in text
    assert "after March 2026 it gets no releases, no bug fixes and no security patches" in text
    assert "The Ingress API itself is frozen" in text
    assert "ingress-nginx-retirement" in cited(SLUG)
    right, _ = quiz_answer(SLUG, "rather than ingress-nginx")
    assert "March 2026" in right and "frozen" in right


def test_the_roles_are_split_as_the_gateway_api_defines_them():
    """gateway-api.sigs.k8s.io/concepts/roles-and-personas/."""
    text = said(SLUG)
    assert "a GatewayClass (the infrastructure provider)" in text
    assert "a Gateway (the cluster operator)" in text
    assert "an HTTPRoute (an app team)" in text
    assert "roles-and-personas" in cited(SLUG)
    right, _ = quiz_answer(SLUG, "Who usually owns a Gateway")
    assert right.startswith("The cluster operator owns the Gateway")


def test_the_class_the_lesson_names_is_the_one_every_sandbox_has():
    """Envoy Gateway's quickstart: GatewayClass eg, controllerName
    gateway.envoyproxy.io/gatewayclass-controller."""
    cluster, _ = at_step(SLUG, "routes")
    eg = cluster.get("GatewayClass", "", "eg")
    assert eg["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert "controller gateway.envoyproxy.io/gatewayclass-controller" in said(SLUG)


def test_an_even_split_is_not_a_canary():
    """HTTPBackendRef weight: proportional; 50/50 sends about half, not a tenth."""
    cluster, item = at_step(SLUG, "canary")
    even = "    - matches: [{path: {type: PathPrefix, value: /api}}]\n      backendRefs: [{name: api, port: 80}, {name: api-v2, port: 80}]\n"
    apply_text(cluster, route(even))
    split = outcome(cluster, item, "canary", "traffic")
    assert not split.passed and "reached pods matching app=api-v2" in split.message


def test_path_and_header_in_separate_entries_match_either():
    """HTTPRouteRule.matches: entries are ORed, the conditions of one entry ANDed."""
    cluster, item = at_step(SLUG, "header")
    either = (
        "    - matches: [{path: {type: PathPrefix, value: /api}}, {headers: [{name: X-Version, value: v2}]}]\n"
        "      backendRefs: [{name: api-v2, port: 80}]\n"
    )
    apply_text(cluster, route(either))
    wrong = outcome(cluster, item, "header", "traces")
    # The header alone now matches /, which no rule routes: Envoy's 404 became api-v2's 200.
    assert not wrong.passed and "http://shop.example.com/" in wrong.message
    assert "the answer was HTTP 200, not 404" in wrong.message


def test_the_header_rule_wins_over_the_weighted_one_whatever_their_order():
    """HTTPRoute match precedence: same path, then the most header matches wins."""
    cluster, item = at_step(SLUG, "header")
    weighted_first = (
        "    - matches: [{path: {type: PathPrefix, value: /api}}]\n"
        "      backendRefs: [{name: api, port: 80, weight: 90}, {name: api-v2, port: 80, weight: 10}]\n"
        "    - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: X-Version, value: v2}]}]\n"
        "      backendRefs: [{name: api-v2, port: 80}]\n"
    )
    apply_text(cluster, route(weighted_first))
    assert outcome(cluster, item, "header", "traces").passed
    right, why = quiz_answer(SLUG, "Which wins?")
    assert right == "The rule with the header match." and "more header matches" in why


def test_a_grant_in_the_routes_namespace_permits_nothing():
    """ReferenceGrant: created in the referent's namespace; without one, ResolvedRefs False,
    RefNotPermitted, and HTTP 500 for requests to that backend."""
    cluster, item = at_step(SLUG, "cross-namespace")
    blog = (
        "    - matches: [{path: {type: PathPrefix, value: /blog}}]\n"
        "      backendRefs: [{name: blog, namespace: blog, port: 80}]\n"
    )
    apply_text(cluster, route(blog))
    result = trace(cluster, "external", "http://shop.example.com/blog")
    assert result.http_status == 500 and "RefNotPermitted" in result.reason
    conditions = cluster.get("HTTPRoute", "default", "shop")["status"]["parents"][0]["conditions"]
    resolved = next(c for c in conditions if c["type"] == "ResolvedRefs")
    assert (resolved["status"], resolved["reason"]) == ("False", "RefNotPermitted")
    learner_traces(cluster, "outside", "http://shop.example.com/blog")
    assert outcome(cluster, item, "cross-namespace", "traced").passed
    misplaced = """apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: shop-routes, namespace: default}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
  to: [{group: "", kind: Service}]
"""
    apply_text(cluster, misplaced)
    still = outcome(cluster, item, "cross-namespace", "trace")
    assert not still.passed and "HTTP 500" in still.message
    apply_text(cluster, misplaced.replace("namespace: default}\nspec", "namespace: blog}\nspec"))
    assert outcome(cluster, item, "cross-namespace", "trace").passed
    right, _ = quiz_answer(SLUG, "Where must the ReferenceGrant be?")
    assert right.startswith("In namespace `blog`") or right.startswith("In namespace blog")
