"""Each failing or surprising trace is explained by its first cause in the learner's objects:
the object, the field and the value, and never an object the packet did not use.

One small cluster per mistake, built in code; each test asserts the verdict, that the reason
names the object, field and value, and that it does not name a wrong cause.
"""

from __future__ import annotations

from app.cluster import nodes
from app.cluster.apply import apply_text
from app.network.trace import trace
from tests.unit.scenarios import cluster, deployment, pods_of, service

CLIENT = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: client, labels: {app: client}}\n"
    "spec: {nodeName: worker-1, containers: [{name: c, image: busybox}]}\n"
)


def ingress(port: str = "{number: 80}", service_name: str = "api", extra: str = "") -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: shop}}
spec:
  ingressClassName: nginx
{extra}  rules:
  - host: shop.example.com
    http:
      paths:
      - {{path: /web, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}
      - {{path: /, pathType: Prefix, backend: {{service: {{name: {service_name}, port: {port}}}}}}}
"""


def api_behind_ingress(port: str, target: int | str = "http", **kw: str):
    c = cluster()
    apply_text(
        c,
        deployment("api", 2)
        + "---\n"
        + service("api", target=target)
        + "---\n"
        + ingress(port, **kw),
    )
    return c


# --- 1. an Ingress backend port the Service does not have -------------------------------------------


def test_an_ingress_backend_port_the_service_lacks_names_the_field_the_value_and_the_ports():
    c = api_behind_ingress("{number: 8080}")
    t = trace(c, "external", "http://shop.example.com/")
    assert t.verdict == "delivered" and t.http_status == 503
    assert "Ingress default/shop" in t.reason
    assert "spec.rules[0].http.paths[1].backend.service.port.number is 8080" in t.reason
    assert "Service default/api has no port 8080 (its ports: 80)" in t.reason
    assert "Set port.number to 80" in t.reason
    # The Service has its 2 endpoints: they are not the cause.
    assert "endpoints" not in t.reason and "selector" not in t.reason


def test_an_ingress_backend_port_name_the_service_lacks_is_named():
    c = api_behind_ingress("{name: grpc}")
    t = trace(c, "external", "http://shop.example.com/")
    assert t.http_status == 503
    assert "backend.service.port.name is grpc" in t.reason
    assert "has no port named grpc" in t.reason and "endpoints" not in t.reason


def test_ingress_nginx_also_matches_a_numeric_target_port_and_the_trace_says_so():
    """ingress-nginx's serviceEndpoints compares the backend port with each Service port's
    port, targetPort and name: 8080 reaches a Service 80 → targetPort 8080, with a note."""
    c = api_behind_ingress("{number: 8080}", target=8080)
    t = trace(c, "external", "http://shop.example.com/")
    assert t.verdict == "delivered" and t.http_status is None, t.reason
    assert t.endpoint["name"].startswith("api-")
    assert (
        "paths[1].backend.service.port.number is 8080, which is not a port of Service default/api but its targetPort"
        in t.reason
    )
    assert "set it to 80" in t.reason


def test_an_ingress_backend_naming_a_missing_service_names_the_field():
    c = api_behind_ingress("{number: 80}", service_name="apii")
    t = trace(c, "external", "http://shop.example.com/")
    assert t.http_status == 503
    assert "spec.rules[0].http.paths[1].backend.service.name is apii" in t.reason
    assert "no Service apii in namespace default" in t.reason


def test_an_ingress_backend_service_without_endpoints_gives_the_selector_cause():
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
    assert "selector app=apiserver (spec.selector)" in t.reason and "app=api" in t.reason


# --- 2. a pod's port, no Service involved -------------------------------------------------------------


def test_a_pod_port_nothing_listens_on_names_the_pod_and_its_ports_and_no_service():
    c = cluster()
    apply_text(c, CLIENT + "---\n" + deployment("web", 1))
    pod = pods_of(c, "web-")[0]
    t = trace(c, "pod/default/client", f"{pod['status']['podIP']}:9090")
    assert t.verdict == "refused"
    assert f"Pod default/{pod['metadata']['name']} does not listen on TCP 9090" in t.reason
    assert "8080/TCP (http)" in t.reason
    assert "Service" not in t.reason and "targetPort" not in t.reason
    assert t.reason.count("does not listen") == 1


def test_a_pod_to_pod_trace_without_a_service_never_mentions_services():
    c = cluster()
    apply_text(c, CLIENT + "---\n" + deployment("web", 1) + "---\n" + service("web"))
    ip = pods_of(c, "web-")[0]["status"]["podIP"]
    for target in (f"{ip}:8080", f"{ip}:80", f"http://{ip}:8080/"):
        t = trace(c, "pod/default/client", target)
        assert "Service" not in t.reason, (target, t.reason)


# --- 3. a selector that matches nothing ---------------------------------------------------------------


def test_a_selector_matching_nothing_names_it_the_labels_and_the_nearest_match():
    c = cluster()
    apply_text(
        c,
        CLIENT
        + "---\n"
        + deployment("web", 2)
        + "---\n"
        + service("web", selector={"app": "frontend"}),
    )
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "refused"
    assert "Service default/web" in t.reason
    assert "selector app=frontend (spec.selector) matches no pod in namespace default" in t.reason
    assert "Pods in default have app=client, app=web" in t.reason
    assert "The nearest match is Pod default/web-" in t.reason
    assert "it has app=web where the selector has app=frontend" in t.reason
    assert "not ready" not in t.reason


def test_a_selector_matching_pods_of_another_namespace_says_services_select_in_their_own():
    c = cluster()
    apply_text(
        c,
        CLIENT
        + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
        + deployment("web", 2, namespace="shop")
        + "---\n"
        + service("web"),
    )
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "refused"
    assert "Pods labelled app=web run in namespace shop" in t.reason
    assert "selects pods only in its own namespace, default" in t.reason


def test_a_selector_key_no_pod_has_is_named():
    c = cluster()
    apply_text(
        c,
        CLIENT
        + "---\n"
        + deployment("web", 1)
        + "---\n"
        + service("web", selector={"app": "web", "tier": "front"}),
    )
    t = trace(c, "pod/default/client", "http://web/")
    assert "it has no label tier=front" in t.reason and "Pod default/web-" in t.reason


# --- 4. a targetPort no container listens on ----------------------------------------------------------


def test_a_numbered_target_port_names_the_service_port_the_target_and_the_pods_ports():
    c = cluster()
    apply_text(c, CLIENT + "---\n" + deployment("web", 1) + "---\n" + service("web", target=9090))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "refused"
    assert (
        "Service default/web sends port 80 to targetPort 9090 (spec.ports[0].targetPort)"
        in t.reason
    )
    assert "does not listen on TCP 9090" in t.reason and "8080/TCP (http)" in t.reason
    assert "Set spec.ports[0].targetPort to 8080 or http" in t.reason


def test_a_named_target_port_no_container_declares_is_named_not_called_not_ready():
    c = cluster()
    apply_text(c, CLIENT + "---\n" + deployment("web", 1) + "---\n" + service("web", target="web"))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "refused"
    assert "targetPort web (spec.ports[0].targetPort) is a port name" in t.reason
    assert "declares a port named web" in t.reason and "8080/TCP (http)" in t.reason
    assert "not ready" not in t.reason and "matches no pod" not in t.reason


# --- 5. NetworkPolicy -----------------------------------------------------------------------------------


def policy(name: str, body: str) -> str:
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{body}"


def web_and_client_on_calico():
    c = cluster(cni="calico")
    apply_text(c, CLIENT + "---\n" + deployment("web", 1) + "---\n" + service("web"))
    return c


def test_an_ingress_policy_names_the_policy_the_direction_and_the_peer_and_port():
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
    assert t.verdict == "dropped" and t.hops[-1].where == "policy (ingress)"
    assert "NetworkPolicy default/web-from-api selects Pod default/web-" in t.reason
    assert "isolated for ingress" in t.reason
    assert "no rule allows TCP 8080 from Pod default/client" in t.reason
    assert "its ingress rule allows from pods app=api on any port" in t.reason
    assert "egress" not in t.reason


def test_a_default_deny_egress_says_it_blocks_dns_and_how_to_allow_it():
    c = web_and_client_on_calico()
    apply_text(c, policy("deny-egress", "  podSelector: {}\n  policyTypes: [Egress]\n"))
    t = trace(c, "pod/default/client", "http://web/")
    assert t.verdict == "dropped" and all(h.phase == "dns" for h in t.hops)
    assert "The DNS lookup of web never gets an answer: the policy blocks DNS egress" in t.reason
    assert "NetworkPolicy default/deny-egress selects Pod default/client" in t.reason
    assert "isolated for egress" in t.reason and "UDP 53" in t.reason
    assert "it has no egress rules" in t.reason
    assert "k8s-app: kube-dns" in t.reason and "port: 53" in t.reason
    assert "isolated for ingress" not in t.reason


def test_a_default_deny_egress_to_an_address_blames_the_egress_of_the_sender():
    c = web_and_client_on_calico()
    apply_text(c, policy("deny-egress", "  podSelector: {}\n  policyTypes: [Egress]\n"))
    ip = c.get("Service", "default", "web")["spec"]["clusterIP"]
    t = trace(c, "pod/default/client", f"http://{ip}/")
    assert t.verdict == "dropped" and t.hops[-1].where == "policy (egress)"
    assert "selects Pod default/client" in t.reason and "isolated for egress" in t.reason
    assert "no rule allows TCP 8080 to Pod default/web-" in t.reason
    assert "DNS" not in t.reason


# --- 6. traffic policy, readiness, ingress class --------------------------------------------------------


def test_external_traffic_policy_local_on_a_node_without_an_endpoint_names_field_and_nodes():
    c = cluster()
    apply_text(c, deployment("web", 1) + "---\n" + service("web", type_="NodePort"))
    apply_text(c, service("web", type_="NodePort") + "  externalTrafficPolicy: Local\n")
    node_port = c.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    here = pods_of(c, "web-")[0]["spec"]["nodeName"]
    other, ip = next(
        (n, a) for n, a in (("worker-1", "10.0.0.11"), ("worker-2", "10.0.0.12")) if n != here
    )
    t = trace(c, "external", f"http://{ip}:{node_port}/")
    assert t.verdict == "dropped"
    assert "Service default/web has spec.externalTrafficPolicy: Local" in t.reason
    assert f"{other} runs none of its ready pods (they run on {here})" in t.reason


def test_a_service_whose_pods_are_on_a_not_ready_node_says_which_node():
    c = cluster()
    apply_text(
        c,
        CLIENT.replace("worker-1", "worker-2")
        + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: solo, labels: {app: solo}}\n"
        "spec: {nodeName: worker-1, containers: [{name: c, image: nginx}]}\n---\n"
        + service("solo", target=80),
    )
    nodes.set_node_ready(c, "worker-1", False)
    t = trace(c, "pod/default/client", "http://solo/")
    assert t.verdict == "refused"
    assert "solo: its node worker-1 is NotReady" in t.reason
    assert "matches no pod" not in t.reason


def test_an_ingress_class_no_controller_serves_is_named():
    c = cluster()
    apply_text(
        c,
        deployment("api", 1)
        + "---\n"
        + service("api")
        + "---\n"
        + ingress().replace("ingressClassName: nginx", "ingressClassName: traefik"),
    )
    t = trace(c, "external", "http://shop.example.com/")
    assert t.endpoint["kind"] == "external"
    assert "Ingress default/shop names host shop.example.com" in t.reason
    assert "spec.ingressClassName is traefik, and no IngressClass traefik exists" in t.reason
    assert "nginx (controller k8s.io/ingress-nginx)" in t.reason


def test_internal_traffic_policy_local_is_blamed_not_external():
    c = cluster()
    apply_text(
        c,
        CLIENT + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: solo, labels: {app: solo}}\n"
        "spec: {nodeName: worker-2, containers: [{name: c, image: nginx}]}\n---\n"
        + service("solo", target=80, type_="NodePort")
        + "  internalTrafficPolicy: Local\n  externalTrafficPolicy: Local\n",
    )
    t = trace(c, "pod/default/client", "http://solo/")
    assert t.verdict == "dropped"
    assert "spec.internalTrafficPolicy: Local" in t.reason and "worker-1" in t.reason
    assert "externalTrafficPolicy" not in t.reason
