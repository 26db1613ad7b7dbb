"""apply_defaults: the API server's SetDefaults_* (no allocations)."""

from __future__ import annotations

import copy

import pytest

from app.cluster.defaulting import apply_defaults, pull_policy


def test_defaults_return_a_copy_and_leave_the_input_alone():
    doc = {"kind": "Service", "spec": {"ports": [{"port": 80}]}}
    before = copy.deepcopy(doc)
    out = apply_defaults(doc)
    assert doc == before and out is not doc


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("localhost:5000/app", "Always"),
        ("localhost:5000/app:v2", "IfNotPresent"),
        ("app@sha256:abcd", "IfNotPresent"),
    ],
)
def test_image_pull_policy_default_depends_on_the_tag(image, policy):
    assert pull_policy(image) == policy


def test_pod_defaults():
    out = apply_defaults(
        {
            "kind": "Pod",
            "spec": {
                "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]
            },
        }
    )
    spec = out["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == (
        "Always",
        "ClusterFirst",
        "default-scheduler",
    )
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["enableServiceLinks"] is True
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "Always"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


def test_host_network_pod_ports_default_host_port_to_container_port():
    out = apply_defaults(
        {
            "kind": "Pod",
            "spec": {
                "hostNetwork": True,
                "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}],
            },
        }
    )
    assert out["spec"]["containers"][0]["ports"][0]["hostPort"] == 80


def test_explicit_values_are_kept():
    out = apply_defaults({"kind": "Pod", "spec": {"restartPolicy": "Never", "containers": []}})
    assert out["spec"]["restartPolicy"] == "Never"


def test_deployment_defaults_include_the_pod_template():
    out = apply_defaults(
        {
            "kind": "Deployment",
            "spec": {
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}
            },
        }
    )
    spec = out["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    assert spec["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"


def test_recreate_deployment_gets_no_rolling_update():
    out = apply_defaults({"kind": "Deployment", "spec": {"strategy": {"type": "Recreate"}}})
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_daemonset_defaults():
    out = apply_defaults({"kind": "DaemonSet", "spec": {}})
    assert out["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert out["spec"]["revisionHistoryLimit"] == 10


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"ports": [{"port": 80}]},
            {
                "type": "ClusterIP",
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster",
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            },
        ),
        (
            {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http", "protocol": "UDP"}]},
            {
                "type": "NodePort",
                "externalTrafficPolicy": "Cluster",
                "ports": [{"port": 80, "targetPort": "http", "protocol": "UDP"}],
            },
        ),
        (
            {"type": "LoadBalancer"},
            {"externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": True},
        ),
        (
            {"type": "ExternalName", "externalName": "a.b"},
            {"type": "ExternalName", "sessionAffinity": "None"},
        ),
        (
            {"sessionAffinity": "ClientIP"},
            {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}},
        ),
        (
            {"ports": [{"port": 80, "targetPort": 0}]},
            {"ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]},
        ),
    ],
)
def test_service_defaults(spec, expected):
    out = apply_defaults({"kind": "Service", "spec": spec})["spec"]
    for key, value in expected.items():
        assert out[key] == value, key


def test_external_name_service_gets_no_ip_families_or_traffic_policies():
    out = apply_defaults({"kind": "Service", "spec": {"type": "ExternalName"}})["spec"]
    assert not {
        "ipFamilies",
        "ipFamilyPolicy",
        "internalTrafficPolicy",
        "externalTrafficPolicy",
    } & set(out)


@pytest.mark.parametrize(
    ("spec", "types"),
    [
        ({}, ["Ingress"]),
        ({"egress": [{}]}, ["Ingress", "Egress"]),
        ({"egress": []}, ["Ingress"]),
        ({"policyTypes": ["Egress"]}, ["Egress"]),
    ],
)
def test_network_policy_policy_types_default(spec, types):
    assert apply_defaults({"kind": "NetworkPolicy", "spec": spec})["spec"]["policyTypes"] == types


def test_network_policy_ports_default_to_tcp_and_pod_selector_to_empty():
    out = apply_defaults(
        {"kind": "NetworkPolicy", "spec": {"ingress": [{"ports": [{"port": 80}]}]}}
    )
    assert out["spec"]["ingress"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    assert out["spec"]["podSelector"] == {}


def test_namespace_gets_its_metadata_name_label_and_cluster_scoped_namespace_is_cleared():
    out = apply_defaults({"kind": "Namespace", "metadata": {"name": "team-a", "namespace": "x"}})
    assert out["metadata"] == {
        "name": "team-a",
        "labels": {"kubernetes.io/metadata.name": "team-a"},
    }


def test_endpoint_slice_ports_default_protocol_tcp():
    out = apply_defaults({"kind": "EndpointSlice", "ports": [{"port": 80}]})
    assert out["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]


def test_ingress_class_parameters_scope_defaults_to_cluster():
    out = apply_defaults(
        {"kind": "IngressClass", "spec": {"parameters": {"kind": "K", "name": "n"}}}
    )
    assert out["spec"]["parameters"]["scope"] == "Cluster"
