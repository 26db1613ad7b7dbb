"""A trace whose reason blames a field of an object also names it as data: ``trace.cause``
({kind, namespace, name, field}), which the page turns into a link to that line of the
object's YAML. The clusters are test_causes.py's, one mistake each."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.network.trace import trace
from tests.unit.scenarios import cluster, deployment, pods_of, service
from tests.unit.test_causes import (
    CLIENT,
    api_behind_ingress,
    ingress,
    policy,
    web_and_client_on_calico,
)


def cause(kind: str, name: str, field: str, namespace: str = "default") -> dict[str, str]:
    return {"kind": kind, "namespace": namespace, "name": name, "field": field}


def test_an_ingress_backend_port_the_service_lacks_points_at_the_port_number():
    t = trace(api_behind_ingress("{number: 8080}"), "external", "http://shop.example.com/")
    want = cause("Ingress", "shop", "spec.rules[0].http.paths[1].backend.service.port.number")
    assert t.cause == want
    assert t.to_dict()["cause"] == want


def test_an_ingress_backend_port_name_points_at_port_name():
    t = trace(api_behind_ingress("{name: grpc}"), "external", "http://shop.example.com/")
    assert t.cause == cause(
        "Ingress", "shop", "spec.rules[0].http.paths[1].backend.service.port.name"
    )


def test_the_target_port_note_of_ingress_nginx_points_at_the_port_number():
    c = api_behind_ingress("{number: 8080}", target=8080)
    t = trace(c, "external", "http://shop.example.com/")
    assert t.verdict == "delivered" and t.http_status is None
    assert t.cause == cause(
        "Ingress", "shop", "spec.rules[0].http.paths[1].backend.service.port.number"
    )


def test_an_ingress_backend_naming_a_missing_service_points_at_the_name():
    c = api_behind_ingress("{number: 80}", service_name="apii")
    t = trace(c, "external", "http://shop.example.com/")
    assert t.cause == cause("Ingress", "shop", "spec.rules[0].http.paths[1].backend.service.name")


def test_an_ingress_backend_service_without_endpoints_points_at_the_selector():
    c = cluster()
    apply_text(
        c,
        deployment("api", 1)
        + "---\n"
        + service("api", selector={"app": "apiserver"})
        + "---\n"
        + ingress(),
    )
    t = trace(c, "external", "http://shop.example.com/")
    assert t.http_status == 503
    assert t.cause == cause("Service", "api", "spec.selector")


def test_a_selector_matching_nothing_points_at_the_selector():
    c = cluster()
    apply_text(
        c, CLIENT + "---\n" + deployment("web", 2) + "---\n" + service("web", selector={"app": "x"})
    )
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "refused"
    assert t.cause == cause("Service", "web", "spec.selector")
    assert t.to_dict()["cause"] == t.cause


def test_a_numbered_target_port_points_at_the_target_port():
    c = cluster()
    apply_text(c, CLIENT + "---\n" + deployment("web", 1) + "---\n" + service("web", target=9090))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "refused"
    assert t.cause == cause("Service", "web", "spec.ports[0].targetPort")


def test_a_named_target_port_no_container_declares_points_at_the_target_port():
    c = cluster()
    apply_text(c, CLIENT + "---\n" + deployment("web", 1) + "---\n" + service("web", target="web"))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.cause == cause("Service", "web", "spec.ports[0].targetPort")


def test_a_pod_port_without_a_service_blames_no_field():
    c = cluster()
    apply_text(c, CLIENT + "---\n" + deployment("web", 1))
    ip = pods_of(c, "web-")[0]["status"]["podIP"]
    t = trace(c, "pod/default/client", f"{ip}:9090")
    assert t.verdict == "refused" and t.cause is None
    assert t.to_dict()["cause"] is None


def test_a_delivered_trace_has_no_cause():
    c = cluster()
    apply_text(c, CLIENT + "---\n" + deployment("web", 1) + "---\n" + service("web"))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "delivered" and t.cause is None


def test_an_ingress_policy_points_at_its_ingress_rules():
    c = web_and_client_on_calico()
    apply_text(
        c,
        policy(
            "web-from-api",
            "  podSelector: {matchLabels: {app: web}}\n  ingress:\n"
            "  - from: [{podSelector: {matchLabels: {app: api}}}]\n",
        ),
    )
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "dropped"
    assert t.cause == cause("NetworkPolicy", "web-from-api", "spec.ingress")


def test_a_default_deny_egress_that_blocks_dns_points_at_its_policy_types():
    c = web_and_client_on_calico()
    apply_text(c, policy("deny-egress", "  podSelector: {}\n  policyTypes: [Egress]\n"))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "dropped" and "DNS" in t.reason
    assert t.cause == cause("NetworkPolicy", "deny-egress", "spec.policyTypes")


def test_a_local_traffic_policy_drop_points_at_the_policy_field():
    """externalTrafficPolicy: Local on a node without an endpoint, and internalTrafficPolicy:
    Local from a node without one: each drop points at its own field."""
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, labels: {app: solo}}\n"
        "spec: {nodeName: worker-2, containers: [{name: c, image: nginx}]}\n---\n"
        + service("solo", target=80, type_="NodePort")
        + "  externalTrafficPolicy: Local\n",
    )
    node_port = c.get("Service", "default", "solo")["spec"]["ports"][0]["nodePort"]
    t = trace(c, "external", f"http://10.0.0.11:{node_port}/")
    assert t.verdict == "dropped"
    assert t.cause == cause("Service", "solo", "spec.externalTrafficPolicy")
    apply_text(c, CLIENT)
    apply_text(
        c,
        service("solo", target=80, type_="NodePort")
        + "  externalTrafficPolicy: Local\n  internalTrafficPolicy: Local\n",
    )
    t = trace(c, "pod/default/client", "http://solo/")
    assert t.verdict == "dropped"
    assert t.cause == cause("Service", "solo", "spec.internalTrafficPolicy")
