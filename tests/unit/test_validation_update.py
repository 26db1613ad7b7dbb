"""validate_update: the API server's immutable fields between two defaulted objects."""

from __future__ import annotations

import copy

import pytest

from app.cluster.defaulting import apply_defaults
from app.cluster.validation import validate_update


def dep(labels):
    return apply_defaults(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        }
    )


def svc(**spec):
    s = {"ports": [{"port": 80}], "clusterIP": "10.96.0.20"}
    s.update(spec)
    return apply_defaults(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": s}
    )


def pod(**spec):
    s = {"containers": [{"name": "web", "image": "nginx:1.27"}]}
    s.update(spec)
    return apply_defaults(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": s}
    )


def test_deployment_selector_is_immutable():
    errs = validate_update(dep({"app": "web"}), dep({"app": "api"}))
    assert [(e.field, e.message.endswith("field is immutable")) for e in errs] == [
        ("spec.selector", True)
    ]
    assert validate_update(dep({"app": "web"}), dep({"app": "web"})) == []


def test_daemonset_selector_is_immutable():
    old, new = dep({"app": "a"}), dep({"app": "b"})
    old["kind"] = new["kind"] = "DaemonSet"
    assert validate_update(old, new)[0].field == "spec.selector"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (svc(), svc(), None),
        (svc(), svc(clusterIP="10.96.0.21"), "spec.clusterIPs[0]"),
        (svc(), svc(clusterIP=""), None),  # the caller carries the old clusterIP over
        (svc(clusterIP="None"), svc(clusterIP="None"), None),
        (svc(), svc(type="ExternalName", clusterIP="", externalName="a.b"), None),
        (svc(type="ExternalName", clusterIP="", externalName="a.b"), svc(), None),
        (svc(ipFamilies=["IPv4"]), svc(ipFamilies=["IPv6"]), "spec.ipFamilies[0]"),
        (svc(type="ClusterIP"), svc(type="NodePort"), None),
    ],
)
def test_service_cluster_ip_and_ip_families_may_not_change_once_set(old, new, field):
    errs = validate_update(old, new)
    if field is None:
        assert errs == []
    else:
        assert [e.field for e in errs] == [field]
        assert "may not change once set" in errs[0].message


@pytest.mark.parametrize(
    ("new", "field", "fragment"),
    [
        (pod(), None, None),
        (pod(containers=[{"name": "web", "image": "nginx:1.28"}]), None, None),
        (pod(containers=[{"name": "web", "image": "nginx:latest"}]), None, None),
        (pod(activeDeadlineSeconds=30), None, None),
        (pod(tolerations=[{"key": "a", "operator": "Exists"}]), None, None),
        (
            pod(
                containers=[
                    {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
                ]
            ),
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`",
        ),
        (pod(restartPolicy="Never"), "spec", "changed: spec.restartPolicy"),
        (
            pod(containers=[{"name": "web", "image": "nginx"}, {"name": "b", "image": "b"}]),
            "spec.containers",
            "pod updates may not add or remove containers",
        ),
    ],
)
def test_pod_updates_may_only_change_images_deadline_and_add_tolerations(new, field, fragment):
    errs = validate_update(pod(), new)
    if field is None:
        assert errs == []
    else:
        assert any(e.field == field and fragment in e.message for e in errs), errs


def test_pod_tolerations_may_only_be_added():
    old = pod(tolerations=[{"key": "a", "operator": "Exists"}])
    errs = validate_update(old, pod(tolerations=[]))
    assert errs[0].field == "spec.tolerations[0]"
    assert "existing toleration can not be modified" in errs[0].message


def test_pod_active_deadline_may_only_shrink():
    errs = validate_update(pod(activeDeadlineSeconds=30), pod(activeDeadlineSeconds=60))
    assert errs[0].message.endswith("must be less than or equal to previous value")


def test_endpoint_slice_address_type_is_immutable():
    old = {"kind": "EndpointSlice", "addressType": "IPv4"}
    new = copy.deepcopy(old)
    new["addressType"] = "IPv6"
    errs = validate_update(old, new)
    assert [(e.field, e.message) for e in errs] == [
        ("addressType", 'Invalid value: "IPv6": field is immutable')
    ]


@pytest.mark.parametrize("kind", ["Ingress", "NetworkPolicy", "Namespace", "Node"])
def test_other_kinds_have_no_special_update_rules(kind):
    assert validate_update({"kind": kind, "spec": {"a": 1}}, {"kind": kind, "spec": {"a": 2}}) == []
