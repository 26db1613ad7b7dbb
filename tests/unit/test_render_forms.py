"""The Build forms' manifests: each applies cleanly and makes the object the form described;
what a form cannot say (labels without ``=``, a port that is not a number) is a clear 422."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.constants import SERVICE_CIDR
from app.errors import InvalidObjects
from app.render.forms import (
    deployment_manifest,
    forms_view,
    ingress_manifest,
    manifest_yaml,
    parse_labels,
    pod_manifest,
    selector_preview,
    service_manifest,
)


def applied(cluster: Cluster, manifest: dict) -> list[tuple[str, str, str]]:
    result = apply_text(cluster, manifest_yaml(manifest))
    return [(o.kind, o.name, o.action) for o in result.objects]


@pytest.fixture
def cluster() -> Cluster:
    return Cluster.create(seed=7)


WEB = {
    "name": "web",
    "namespace": "default",
    "replicas": "3",
    "labels": "app=web, tier=front",
    "image": "nginx:1.27",
    "port": "8080",
    "port_name": "http",
}


def test_a_deployment_selects_exactly_its_labels(cluster: Cluster) -> None:
    assert applied(cluster, deployment_manifest(WEB)) == [("Deployment", "web", "created")]
    deployment = cluster.get("Deployment", "default", "web")
    labels = {"app": "web", "tier": "front"}
    assert deployment["spec"]["selector"] == {"matchLabels": labels}
    assert deployment["spec"]["template"]["metadata"]["labels"] == labels
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27"
    assert container["ports"][0]["name"] == "http"
    assert container["ports"][0]["containerPort"] == 8080
    pods = [p for p in cluster.list("Pod", "default") if p["metadata"]["name"].startswith("web-")]
    assert len(pods) == 3


def test_a_deployment_without_labels_gets_app_equals_its_name() -> None:
    manifest = deployment_manifest({"name": "api", "image": "nginx"})
    assert manifest["spec"]["selector"]["matchLabels"] == {"app": "api"}
    assert manifest["spec"]["replicas"] == 1
    assert "ports" not in manifest["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    ("kind", "extra", "check"),
    [
        ("ClusterIP", {}, lambda s: ip_address(s["spec"]["clusterIP"]) in SERVICE_CIDR),
        ("headless", {}, lambda s: s["spec"]["clusterIP"] == "None"),
        (
            "NodePort",
            {"node_port": "30080", "external_traffic_policy": "Local"},
            lambda s: (
                s["spec"]["ports"][0]["nodePort"] == 30080
                and s["spec"]["externalTrafficPolicy"] == "Local"
            ),
        ),
        ("LoadBalancer", {}, lambda s: s["spec"]["type"] == "LoadBalancer"),
        (
            "ExternalName",
            {"external_name": "db.example.com"},
            lambda s: s["spec"]["externalName"] == "db.example.com",
        ),
    ],
)
def test_every_service_type_applies(cluster: Cluster, kind: str, extra: dict, check) -> None:
    applied(cluster, deployment_manifest(WEB))
    fields = {
        "name": "web",
        "type": kind,
        "selector": "app=web",
        "port": "80",
        "target_port": "http",
        "session_affinity": "ClientIP",
        **extra,
    }
    assert applied(cluster, service_manifest(fields)) == [("Service", "web", "created")]
    service = cluster.get("Service", "default", "web")
    assert check(service)
    if kind == "ExternalName":  # no selector, ports or affinity: the form's are ignored
        assert {"selector", "ports"}.isdisjoint(service["spec"])
        assert service["spec"]["sessionAffinity"] == "None"  # the API server's default
    else:
        assert service["spec"]["sessionAffinity"] == "ClientIP"
        assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_a_numeric_target_port_is_a_number() -> None:
    spec = service_manifest({"name": "web", "port": "80", "target_port": "8080"})["spec"]
    assert spec["ports"] == [{"port": 80, "targetPort": 8080}]
    assert "selector" not in spec and "type" not in spec


def test_a_pod_lands_on_the_node_picked(cluster: Cluster) -> None:
    fields = {"name": "client", "labels": "app=client", "image": "busybox", "node": "worker-2"}
    assert applied(cluster, pod_manifest(fields)) == [("Pod", "client", "created")]
    pod = cluster.get("Pod", "default", "client")
    assert pod["spec"]["nodeName"] == "worker-2"
    assert pod["metadata"]["labels"] == {"app": "client"}
    assert pod["status"]["podIP"]


def test_an_ingress_with_tls_routes_to_its_service(cluster: Cluster) -> None:
    applied(cluster, deployment_manifest(WEB))
    applied(cluster, service_manifest({"name": "web", "selector": "app=web", "port": "80"}))
    fields = {
        "name": "shop",
        "host": "shop.example.com",
        "path": "/cart",
        "path_type": "Exact",
        "service": "web",
        "service_port": "80",
        "tls": "on",
    }
    assert applied(cluster, ingress_manifest(fields)) == [("Ingress", "shop", "created")]
    spec = cluster.get("Ingress", "default", "shop")["spec"]
    rule = spec["rules"][0]
    assert rule["host"] == "shop.example.com"
    assert rule["http"]["paths"][0]["path"] == "/cart"
    assert rule["http"]["paths"][0]["pathType"] == "Exact"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "web", "port": {"number": 80}}
    assert spec["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]


def test_a_named_backend_port_is_a_name() -> None:
    backend = ingress_manifest({"name": "i", "service": "web", "service_port": "http"})
    path = backend["spec"]["rules"][0]["http"]["paths"][0]
    assert path["backend"]["service"]["port"] == {"name": "http"}
    assert "host" not in backend["spec"]["rules"][0] and "tls" not in backend["spec"]


def test_labels_parse_and_explain_what_is_wrong() -> None:
    assert parse_labels("app=web,tier=front") == {"app": "web", "tier": "front"}
    assert parse_labels(" app=web  tier=front ") == {"app": "web", "tier": "front"}
    assert parse_labels("") == {}
    with pytest.raises(InvalidObjects) as caught:
        parse_labels("app=web,front,=x,app=api", "metadata.labels")
    messages = [e.describe() for e in caught.value.errors]
    assert caught.value.status == 422
    assert messages[0].startswith('metadata.labels: Invalid value: "front": write each label')
    assert "key=value" in messages[1]
    assert messages[2] == 'metadata.labels: Duplicate value: "app": a key may appear only once'


def test_form_problems_name_the_field_and_the_object() -> None:
    with pytest.raises(InvalidObjects) as caught:
        deployment_manifest({"name": "web", "labels": "app", "replicas": "two", "port": "x"})
    fields = [e.field for e in caught.value.errors]
    assert fields == [
        "spec.template.metadata.labels",
        "spec.replicas",
        "spec.template.spec.containers[0].ports[0].containerPort",
    ]
    assert all(e.kind == "Deployment" and e.name == "web" for e in caught.value.errors)
    assert 'Invalid value: "two": must be a whole number' in caught.value.errors[1].message


def test_the_api_rules_still_apply_to_what_a_form_makes(cluster: Cluster) -> None:
    bad = deployment_manifest({**WEB, "name": "Web", "port": "0"})
    with pytest.raises(InvalidObjects) as caught:
        apply_text(cluster, manifest_yaml(bad))
    fields = {e.field for e in caught.value.errors}
    assert "metadata.name" in fields
    assert "spec.template.spec.containers[0].ports[0].containerPort" in fields
    assert cluster.get("Deployment", "default", "Web") is None


def test_selector_preview_counts_the_pods_it_picks(cluster: Cluster) -> None:
    applied(cluster, deployment_manifest({**WEB, "replicas": "2"}))
    applied(cluster, pod_manifest({"name": "client", "labels": "app=client", "image": "busybox"}))
    hit = selector_preview(cluster, "default", "app=web")
    assert hit["matches"] == 2 and all(p.startswith("web-") for p in hit["pods"])
    assert selector_preview(cluster, "default", "app=web,tier=front")["matches"] == 2
    miss = selector_preview(cluster, "default", "app=api")
    assert miss["matches"] == 0 and miss["pods"] == []
    # What is there to pick from, without the labels the controllers add.
    assert miss["labels_seen"] == ["app=client", "app=web", "tier=front"]
    assert selector_preview(cluster, "default", "")["matches"] == 0
    assert selector_preview(cluster, "kube-system", "app=web")["matches"] == 0
    broken = selector_preview(cluster, "default", "app")
    assert broken["matches"] == 0 and "key=value" in broken["error"]


def test_forms_view_lists_what_the_forms_pick_from(cluster: Cluster) -> None:
    applied(cluster, deployment_manifest(WEB))
    applied(cluster, service_manifest({"name": "web", "selector": "app=web", "port": "80"}))
    view = forms_view(cluster)
    assert view["namespaces"] == ["default"]
    assert [n["name"] for n in view["nodes"]] == ["control-plane", "worker-1", "worker-2"]
    assert view["nodes"][0]["roles"] == "control-plane"
    assert view["deployments"] == [
        {"namespace": "default", "name": "web", "replicas": 3, "ready": 3}
    ]
    assert {"namespace": "default", "name": "web", "ports": [80]} in view["services"]
    assert "app=web" in view["labels"] and not any(
        label.startswith("pod-template-hash") for label in view["labels"]
    )


@pytest.mark.parametrize(
    ("kind", "spec"),
    [
        ("ClusterIP", {"selector": {"app": "web"}, "ports": [{"port": 80}]}),
        (
            "NodePort",
            {
                "type": "NodePort",
                "selector": {"app": "web"},
                "ports": [{"port": 80, "nodePort": 30080}],
                "externalTrafficPolicy": "Local",
            },
        ),
        (
            "LoadBalancer",
            {
                "type": "LoadBalancer",
                "selector": {"app": "web"},
                "ports": [{"port": 80, "nodePort": 30080}],
                "externalTrafficPolicy": "Local",
                "healthCheckNodePort": 30099,
            },
        ),
        ("ExternalName", {"type": "ExternalName", "externalName": "db.example.com"}),
    ],
)
def test_the_service_form_ignores_fields_its_type_does_not_use(kind: str, spec: dict) -> None:
    # A form shown whole (no JavaScript) sends every field; only the type's own count.
    every_field = {
        "name": "web",
        "type": kind,
        "headless": "",
        "selector": "app=web",
        "port": "80",
        "node_port": "30080",
        "external_traffic_policy": "Local",
        "health_check_node_port": "30099",
        "external_name": "db.example.com",
        "session_affinity": "None",
    }
    assert service_manifest(every_field)["spec"] == spec


def test_headless_is_a_choice_of_clusterip_only() -> None:
    fields = {"name": "web", "selector": "app=web", "port": "80", "headless": "on"}
    assert service_manifest({**fields, "type": "ClusterIP"})["spec"]["clusterIP"] == "None"
    assert "clusterIP" not in service_manifest({**fields, "type": "NodePort"})["spec"]


def test_an_ingress_with_several_paths_skips_the_empty_rows(cluster: Cluster) -> None:
    applied(cluster, deployment_manifest(WEB))
    applied(cluster, service_manifest({"name": "web", "selector": "app=web", "port": "80"}))
    applied(cluster, service_manifest({"name": "api", "selector": "app=web", "port": "8080"}))
    fields = {
        "name": "shop",
        "host": "shop.example.com",
        **{"path_0": "/", "path_type_0": "Prefix", "service_0": "web", "service_port_0": "80"},
        **{"path_1": "", "path_type_1": "Prefix", "service_1": "", "service_port_1": ""},
        **{"path_2": "/api", "path_type_2": "Exact", "service_2": "api", "service_port_2": "8080"},
    }
    assert applied(cluster, ingress_manifest(fields)) == [("Ingress", "shop", "created")]
    paths = cluster.get("Ingress", "default", "shop")["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"], p["backend"]["service"]) for p in paths] == [
        ("/", "Prefix", {"name": "web", "port": {"number": 80}}),
        ("/api", "Exact", {"name": "api", "port": {"number": 8080}}),
    ]
