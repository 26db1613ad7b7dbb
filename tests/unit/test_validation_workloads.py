"""Pod, Deployment and DaemonSet rules (core and apps validation)."""

from __future__ import annotations

import copy

import pytest

from app.cluster.validation import validate_manifest

CTR = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80, "name": "http"}]}


def pod(**spec):
    s = {"containers": [copy.deepcopy(CTR)]}
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": s}


def deployment(spec=None, tspec=None, labels=None):
    s = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": labels if labels is not None else {"app": "web"}},
            "spec": {"containers": [copy.deepcopy(CTR)], **(tspec or {})},
        },
    }
    s.update(spec or {})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": s}


def daemonset(spec=None):
    d = deployment(spec)
    d["kind"] = "DaemonSet"
    return d


def check(doc, field, fragment):
    errs = validate_manifest(doc)
    if field is None:
        assert errs == [], errs
    else:
        assert any(e.field == field and fragment in e.message for e in errs), errs


def ctr(**kw):
    c = copy.deepcopy(CTR)
    c.update(kw)
    return c


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        (pod(), None, None),
        ({**pod(), "metadata": {"name": "web.v1"}}, None, None),
        ({**pod(), "metadata": {"name": "Web"}}, "metadata.name", "RFC 1123 subdomain"),
        (
            {**pod(), "metadata": {"name": "web", "namespace": "Team_A"}},
            "metadata.namespace",
            "RFC 1123 label",
        ),
        (
            {**pod(), "metadata": {"name": "web", "labels": {"app": "-x"}}},
            "metadata.labels",
            'Invalid value: "-x"',
        ),
        (pod(containers=[]), "spec.containers", "Required value"),
        (pod(containers=[ctr(name="Web")]), "spec.containers[0].name", "RFC 1123 label"),
        (
            pod(containers=[ctr(), ctr(ports=[])]),
            "spec.containers[1].name",
            'Duplicate value: "web"',
        ),
        (
            pod(initContainers=[ctr(ports=[])]),
            "spec.initContainers[0].name",
            'Duplicate value: "web"',
        ),
        (pod(containers=[ctr(image="")]), "spec.containers[0].image", "Required value"),
        (
            pod(containers=[ctr(image=" nginx")]),
            "spec.containers[0].image",
            "leading or trailing whitespace",
        ),
        (
            pod(containers=[ctr(imagePullPolicy="Sometimes")]),
            "spec.containers[0].imagePullPolicy",
            'supported values: "Always", "IfNotPresent", "Never"',
        ),
    ],
)
def test_pod_names_containers_and_images(doc, field, fragment):
    check(doc, field, fragment)


P = "spec.containers[0].ports"


@pytest.mark.parametrize(
    ("ports", "field", "fragment"),
    [
        ([{"containerPort": 65535}], None, None),
        ([{"containerPort": 0}], f"{P}[0].containerPort", "Required value"),
        (
            [{"containerPort": 65536}],
            f"{P}[0].containerPort",
            "Invalid value: 65536: must be between 1 and 65535, inclusive",
        ),
        ([{"containerPort": -1}], f"{P}[0].containerPort", "must be between 1 and 65535"),
        ([{"containerPort": 80, "hostPort": 0}], None, None),
        ([{"containerPort": 80, "hostPort": 70000}], f"{P}[0].hostPort", "must be between"),
        ([{"containerPort": 80, "protocol": "SCTP"}], None, None),
        (
            [{"containerPort": 80, "protocol": "tcp"}],
            f"{P}[0].protocol",
            'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
        ),
        ([{"containerPort": 80, "name": "HTTP"}], f"{P}[0].name", "alpha-numeric"),
        (
            [{"containerPort": 80, "name": "web-server-http1"}],
            f"{P}[0].name",
            "must be no more than 15 characters",
        ),
        (
            [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}],
            f"{P}[1].name",
            'Duplicate value: "http"',
        ),
        (
            [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 8080}],
            f"{P}[1].hostPort",
            'Duplicate value: "TCP//8080"',
        ),
    ],
)
def test_container_port_rules(ports, field, fragment):
    check(pod(containers=[ctr(ports=ports)]), field, fragment)


def test_port_names_are_unique_per_container_not_per_pod_as_the_api_server_checks():
    doc = pod(
        containers=[ctr(), ctr(name="sidecar", ports=[{"containerPort": 81, "name": "http"}])]
    )
    check(doc, None, None)


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({"restartPolicy": "OnFailure"}, None, None),
        (
            {"restartPolicy": "Sometimes"},
            "spec.restartPolicy",
            'supported values: "Always", "OnFailure", "Never"',
        ),
        ({"dnsPolicy": "Default"}, None, None),
        ({"dnsPolicy": "ClusterFirstWithHostNet", "hostNetwork": True}, None, None),
        (
            {"dnsPolicy": "Cluster"},
            "spec.dnsPolicy",
            'supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
        ),
        ({"dnsPolicy": "None"}, "spec.dnsConfig", "must provide `dnsConfig`"),
        ({"hostname": "web-0", "subdomain": "web"}, None, None),
        ({"hostname": "web.0"}, "spec.hostname", "RFC 1123 label"),
        ({"subdomain": "Web"}, "spec.subdomain", "RFC 1123 label"),
        ({"nodeSelector": {"kubernetes.io/hostname": "worker-1"}}, None, None),
        ({"nodeSelector": {"bad key": "x"}}, "spec.nodeSelector", 'Invalid value: "bad key"'),
        ({"tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]}, None, None),
        ({"tolerations": [{"operator": "Exists"}]}, None, None),
        (
            {"tolerations": [{"key": "k", "operator": "Is"}]},
            "spec.tolerations[0].operator",
            'supported values: "Equal", "Exists"',
        ),
        (
            {"tolerations": [{"key": "k", "effect": "Never"}]},
            "spec.tolerations[0].effect",
            'supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
        ),
        (
            {"tolerations": [{"value": "x"}]},
            "spec.tolerations[0].operator",
            "operator must be Exists when `key` is empty",
        ),
        (
            {"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]},
            "spec.tolerations[0].operator",
            "value must be empty when `operator` is 'Exists'",
        ),
        (
            {"tolerations": [{"key": "k", "operator": "Exists", "tolerationSeconds": 5}]},
            "spec.tolerations[0].effect",
            "effect must be 'NoExecute'",
        ),
        ({"activeDeadlineSeconds": 0}, "spec.activeDeadlineSeconds", "must be between 1 and"),
    ],
)
def test_pod_spec_policies_hostname_node_selector_and_tolerations(spec, field, fragment):
    check(pod(**spec), field, fragment)


@pytest.mark.parametrize(
    ("hostport", "field"),
    [(0, None), (80, None), (8080, "spec.containers[0].ports[0].containerPort")],
)
def test_host_network_requires_host_port_equal_to_container_port(hostport, field):
    doc = pod(
        hostNetwork=True, containers=[ctr(ports=[{"containerPort": 80, "hostPort": hostport}])]
    )
    check(doc, field, "must match `hostPort` when `hostNetwork` is true")


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        (deployment(), None, None),
        (deployment({"replicas": 0}), None, None),
        (deployment({"replicas": -1}), "spec.replicas", "must be greater than or equal to 0"),
        (deployment({"selector": None}), "spec.selector", "Required value"),
        (deployment({"selector": {}}), "spec.selector", "empty selector is invalid for deployment"),
        (
            deployment(labels={"app": "api"}),
            "spec.template.metadata.labels",
            "`selector` does not match template `labels`",
        ),
        (deployment(labels={}), "spec.template.metadata.labels", "does not match"),
        (
            deployment(
                {
                    "selector": {
                        "matchExpressions": [
                            {"key": "app", "operator": "In", "values": ["web", "api"]}
                        ]
                    }
                }
            ),
            None,
            None,
        ),
        (
            deployment({"selector": {"matchExpressions": [{"key": "app", "operator": "In"}]}}),
            "spec.selector.matchExpressions[0].values",
            "Required value",
        ),
        (
            deployment(tspec={"restartPolicy": "Never"}),
            "spec.template.spec.restartPolicy",
            'Unsupported value: "Never": supported values: "Always"',
        ),
        (deployment(tspec={"containers": []}), "spec.template.spec.containers", "Required value"),
        (deployment({"strategy": {"type": "Recreate"}}), None, None),
        (
            deployment({"strategy": {"type": "BlueGreen"}}),
            "spec.strategy.type",
            'supported values: "Recreate", "RollingUpdate"',
        ),
        (
            deployment({"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}),
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        ),
        (
            deployment({"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}}),
            "spec.strategy.rollingUpdate.maxUnavailable",
            "may not be 0 when `maxSurge` is 0",
        ),
        (
            deployment({"strategy": {"rollingUpdate": {"maxSurge": "0%", "maxUnavailable": 0}}}),
            "spec.strategy.rollingUpdate.maxUnavailable",
            "may not be 0 when `maxSurge` is 0",
        ),
        (deployment({"strategy": {"rollingUpdate": {"maxSurge": 0}}}), None, None),
        (
            deployment({"strategy": {"rollingUpdate": {"maxSurge": "x%"}}}),
            "spec.strategy.rollingUpdate.maxSurge",
            "a valid percent string",
        ),
        (
            deployment({"strategy": {"rollingUpdate": {"maxUnavailable": "150%"}}}),
            "spec.strategy.rollingUpdate.maxUnavailable",
            "must not be greater than 100%",
        ),
        (
            deployment({"strategy": {"rollingUpdate": {"maxSurge": -1}}}),
            "spec.strategy.rollingUpdate.maxSurge",
            "greater than or equal to 0",
        ),
        (
            deployment({"progressDeadlineSeconds": 5, "minReadySeconds": 10}),
            "spec.progressDeadlineSeconds",
            "must be greater than minReadySeconds",
        ),
        (
            deployment({"revisionHistoryLimit": -1}),
            "spec.revisionHistoryLimit",
            ">= 0".replace(">= 0", "greater than or equal to 0"),
        ),
    ],
)
def test_deployment_rules(doc, field, fragment):
    check(doc, field, fragment)


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({}, None, None),
        ({"selector": {}}, "spec.selector", "empty selector is invalid for daemonset"),
        (
            {"selector": {"matchLabels": {"app": "agent"}}},
            "spec.template.metadata.labels",
            "`selector` does not match template `labels`",
        ),
        ({"updateStrategy": {"type": "OnDelete"}}, None, None),
        (
            {"updateStrategy": {"type": "Recreate"}},
            "spec.updateStrategy.type",
            'supported values: "RollingUpdate", "OnDelete"',
        ),
        (
            {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 0}}},
            "spec.updateStrategy.rollingUpdate.maxUnavailable",
            "cannot be 0 when maxSurge is 0",
        ),
        (
            {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}},
            "spec.updateStrategy.rollingUpdate.maxSurge",
            "may not be set when maxUnavailable",
        ),
        (
            {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "10%"}}},
            None,
            None,
        ),
    ],
)
def test_daemonset_rules(spec, field, fragment):
    check(daemonset(spec), field, fragment)
