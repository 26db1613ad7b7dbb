"""validate_manifest: kind/apiVersion, name, schema (strict) and the never-raises property."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cluster.defaulting import apply_defaults
from app.cluster.validation import _SEMANTIC, SUPPORTED_KINDS, validate_manifest, validate_update
from app.cluster.validation.schema import validate_schema
from app.errors import NOT_SUPPORTED, REQUIRED, TYPE_INVALID, UNKNOWN_FIELD


def deployment(**spec):
    base = {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}, "creationTimestamp": None},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80, "name": "http"}],
                    }
                ]
            },
        },
    }
    base.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "creationTimestamp": None},
        "spec": base,
    }


def find(errs, field, fragment):
    return [e for e in errs if e.field == field and fragment in e.message]


def test_supported_kinds_and_scopes():
    assert SUPPORTED_KINDS[("v1", "Namespace")] == "cluster"
    assert SUPPORTED_KINDS[("networking.k8s.io/v1", "IngressClass")] == "cluster"
    assert SUPPORTED_KINDS[("apps/v1", "Deployment")] == "namespaced"
    assert SUPPORTED_KINDS[("v1", "ConfigMap")] == "namespaced"
    assert SUPPORTED_KINDS[("gateway.networking.k8s.io/v1", "GatewayClass")] == "cluster"
    assert SUPPORTED_KINDS[("gateway.networking.k8s.io/v1beta1", "ReferenceGrant")] == "namespaced"
    # 11 built-in kinds, 5 Gateway API kinds at v1 and 4 of them also at v1beta1.
    assert len(SUPPORTED_KINDS) == 20


def test_a_valid_deployment_with_null_creation_timestamp_passes():
    assert validate_manifest(deployment()) == []


@pytest.mark.parametrize(
    ("doc", "field", "fragment", "reason"),
    [
        ([1, 2], "", "must be a mapping", TYPE_INVALID),
        ({"kind": "Pod", "metadata": {"name": "a"}}, "apiVersion", "Required value", REQUIRED),
        ({"apiVersion": "v1", "metadata": {"name": "a"}}, "kind", "Required value", REQUIRED),
        ({"apiVersion": 1, "kind": "Pod"}, "apiVersion", "must be a string", TYPE_INVALID),
        (
            {"apiVersion": "extensions/v1beta1", "kind": "Ingress"},
            "apiVersion",
            'no matches for kind "Ingress" in version "extensions/v1beta1"; '
            'use apiVersion "networking.k8s.io/v1"',
            NOT_SUPPORTED,
        ),
        (
            {"apiVersion": "apps/v1beta1", "kind": "Deployment"},
            "apiVersion",
            'use apiVersion "apps/v1"',
            NOT_SUPPORTED,
        ),
        (
            {"apiVersion": "v1", "kind": "Secret"},
            "kind",
            'no matches for kind "Secret" in version "v1"',
            NOT_SUPPORTED,
        ),
        (
            {"apiVersion": "v1", "kind": "service"},
            "kind",
            '(did you mean "Service"?)',
            NOT_SUPPORTED,
        ),
    ],
)
def test_kind_and_api_version_must_name_a_supported_kind(doc, field, fragment, reason):
    errs = validate_manifest(doc)
    assert len(errs) == 1
    assert errs[0].field == field and fragment in errs[0].message and errs[0].reason == reason


def test_metadata_name_is_required():
    doc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {}}
    errs = validate_manifest(doc)
    assert [(e.field, e.message) for e in errs] == [
        ("metadata.name", "Required value: name or generateName is required")
    ]


def test_generate_name_is_not_supported_and_says_so():
    doc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"generateName": "team-"}}
    errs = validate_manifest(doc)
    assert find(errs, "metadata.generateName", "generateName is not supported")


@pytest.mark.parametrize(
    ("mutate", "field", "fragment", "reason"),
    [
        (
            lambda d: d["spec"].update(replica=3),
            "spec.replica",
            'unknown field "spec.replica" (did you mean "replicas"?)',
            UNKNOWN_FIELD,
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0].update(Image="x"),
            "spec.template.spec.containers[0].Image",
            '(did you mean "image"?)',
            UNKNOWN_FIELD,
        ),
        (
            lambda d: d.update(sepc={}),
            "sepc",
            'unknown field "sepc" (did you mean "spec"?)',
            UNKNOWN_FIELD,
        ),
        (lambda d: d["spec"].update(zzz=1), "spec.zzz", 'unknown field "spec.zzz"', UNKNOWN_FIELD),
        (
            lambda d: d["spec"].update(replicas="three"),
            "spec.replicas",
            'Invalid value: "three": must be an integer',
            TYPE_INVALID,
        ),
        (
            lambda d: d["spec"].update(replicas=True),
            "spec.replicas",
            "must be an integer",
            TYPE_INVALID,
        ),
        (lambda d: d["spec"].update(replicas=2**40), "spec.replicas", "32-bit", TYPE_INVALID),
        (
            lambda d: d["spec"]["template"]["spec"].update(containers={}),
            "spec.template.spec.containers",
            "must be an array",
            TYPE_INVALID,
        ),
        (
            lambda d: d["metadata"].update(labels={"app": 1}),
            "metadata.labels[app]",
            "must be a string",
            TYPE_INVALID,
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("name"),
            "spec.template.spec.containers[0].name",
            "Required value",
            REQUIRED,
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(
                containerPort="80"
            ),
            "spec.template.spec.containers[0].ports[0].containerPort",
            'Invalid value: "80": must be an integer',
            TYPE_INVALID,
        ),
        (lambda d: d.pop("spec"), "spec", "Required value", REQUIRED),
        (
            lambda d: d.update(status={"replicas": "x"}),
            "status.replicas",
            "must be an integer",
            TYPE_INVALID,
        ),
    ],
)
def test_schema_is_strict_and_typed(mutate, field, fragment, reason):
    doc = deployment()
    mutate(doc)
    errs = validate_manifest(doc)
    assert any(e.field == field and fragment in e.message and e.reason == reason for e in errs), (
        errs
    )


def test_int_or_string_and_quantity_accept_both_types():
    doc = deployment(strategy={"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "10%"}})
    doc["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"cpu": "100m", "memory": 128}
    }
    assert validate_manifest(doc) == []
    doc["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = [1]
    assert find(
        validate_manifest(doc),
        "spec.strategy.rollingUpdate.maxSurge",
        "must be an integer or a string",
    )


def test_status_is_typed_but_nothing_is_required_there():
    doc = deployment()
    doc["status"] = {"conditions": [{}]}  # DeploymentCondition requires type and status
    assert validate_manifest(doc) == []


def test_semantic_rules_run_only_when_the_schema_passed():
    doc = deployment(replicas=-1, replica=1)
    errs = validate_manifest(doc)
    assert [e.field for e in errs] == ["spec.replica"]


def test_schema_check_of_two_thousand_objects_is_fast():
    docs = [deployment() for _ in range(2000)]
    validate_schema(docs[0])  # load the definitions
    start = time.perf_counter()
    for d in docs:
        assert validate_schema(d) == []
    assert time.perf_counter() - start < 1.0


# --- property: never raises on JSON-like input --------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
PAIRS = st.sampled_from(sorted(SUPPORTED_KINDS))
FIELDS = st.sampled_from(
    [
        "spec",
        "metadata",
        "ports",
        "selector",
        "template",
        "containers",
        "rules",
        "http",
        "paths",
        "backend",
        "service",
        "port",
        "podSelector",
        "ingress",
        "from",
        "ipBlock",
        "endpoints",
        "addresses",
        "addressType",
        "clusterIP",
        "type",
        "name",
        "labels",
        "strategy",
        "rollingUpdate",
        "tolerations",
        "taints",
        "parameters",
        "controller",
        "matchLabels",
        "matchExpressions",
        "key",
        "operator",
        "values",
        "targetPort",
        "nodePort",
        "protocol",
        "pathType",
        "path",
        "host",
        "tls",
        "hosts",
        "except",
        "cidr",
        "endPort",
        "number",
        "scope",
        "namespace",
        "sessionAffinity",
        "sessionAffinityConfig",
        "clientIP",
        "timeoutSeconds",
        "maxSurge",
        "maxUnavailable",
        "updateStrategy",
        "image",
        "hostPort",
        "containerPort",
        "hostNetwork",
        "externalName",
        "clusterIPs",
        "ipFamilies",
    ]
)
SHAPED = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 70000)
    | st.sampled_from(
        [
            "",
            "None",
            "web",
            "TCP",
            "*.a.b",
            "/x",
            "10.0.0.0/8",
            "Exact",
            "In",
            "ClientIP",
            "NodePort",
            "ExternalName",
            "1.2.3.4",
            "25%",
            "x%",
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELDS, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_validate_manifest_never_raises_on_arbitrary_json(doc):
    assert isinstance(validate_manifest(doc), list)


@settings(max_examples=150, deadline=None)
@given(PAIRS, st.dictionaries(FIELDS, SHAPED, max_size=5), JSON)
def test_validate_manifest_never_raises_on_kind_shaped_json(pair, body, extra):
    doc = {"apiVersion": pair[0], "kind": pair[1], "metadata": {"name": "x"}, **body}
    assert isinstance(validate_manifest(doc), list)
    doc["spec"] = extra
    assert isinstance(validate_manifest(doc), list)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(_SEMANTIC)),
    st.dictionaries(FIELDS, SHAPED, max_size=6),
    st.dictionaries(FIELDS, SHAPED, max_size=6),
)
def test_semantic_checks_defaults_and_update_rules_never_raise_on_any_shape(kind, a, b):
    # Stronger than needed (the semantic checks only ever see schema-valid objects).
    assert isinstance(_SEMANTIC[kind](a), list)
    old = apply_defaults({"kind": kind, **a})
    assert isinstance(validate_update(old, apply_defaults({"kind": kind, **b})), list)
    assert validate_update(old, old) == []
