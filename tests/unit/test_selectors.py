"""Label selectors: metav1.LabelSelector semantics, validation and kubectl's string form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cluster.selectors import (
    describe,
    matches,
    service_selector_matches,
    validate_annotations,
    validate_label_selector,
    validate_labels,
)

WEB = {"app": "web", "tier": "frontend"}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, WEB, True),
        ({}, {}, True),
        (None, WEB, False),
        ({"matchLabels": {}}, WEB, True),
        ({"matchLabels": {"app": "web"}}, WEB, True),
        ({"matchLabels": {"app": "api"}}, WEB, False),
        ({"matchLabels": {"app": "web", "env": "prod"}}, WEB, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]},
            WEB,
            True,
        ),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]},
            WEB,
            False,
        ),
        ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["x"]}]}, WEB, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]},
            WEB,
            False,
        ),
        (
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]},
            WEB,
            True,
        ),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, WEB, True),
        ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, WEB, False),
        ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, WEB, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, WEB, False),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}],
            },
            WEB,
            False,
        ),
        ({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, WEB, False),
    ],
)
def test_label_selector_matches_is_matchlabels_and_all_expressions(selector, labels, expected):
    assert matches(selector, labels) is expected


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({"app": "web"}, {"app": "web", "pod-template-hash": "abc"}, True),
        ({"app": "web", "tier": "fe"}, {"app": "web"}, False),
        ({"app": "web"}, {"app": "api"}, False),
        ({}, {"app": "web"}, True),
        (None, {"app": "web"}, False),
    ],
)
def test_service_selector_every_pair_must_be_present(selector, labels, expected):
    assert service_selector_matches(selector, labels) is expected


@pytest.mark.parametrize(
    ("selector", "field", "fragment"),
    [
        ({"matchLabels": {"app": "web"}}, None, None),
        (
            {"matchLabels": {"-app": "web"}},
            "spec.selector.matchLabels",
            'Invalid value: "-app": name part must consist',
        ),
        (
            {"matchLabels": {"app": "web!"}},
            "spec.selector.matchLabels",
            'Invalid value: "web!": a valid label must be',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "spec.selector.matchExpressions[0].values",
            "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]},
            "spec.selector.matchExpressions[0].values",
            "Required value",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            "spec.selector.matchExpressions[0].values",
            "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]},
            "spec.selector.matchExpressions[0].operator",
            'Invalid value: "Equals": not a valid selector operator',
        ),
        (
            {"matchExpressions": [{"key": "a b", "operator": "Exists"}]},
            "spec.selector.matchExpressions[0].key",
            'Invalid value: "a b"',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": ["ok", "-bad"]}]},
            "spec.selector.matchExpressions[0].values[1]",
            'Invalid value: "-bad"',
        ),
    ],
)
def test_validate_label_selector_rules(selector, field, fragment):
    errs = validate_label_selector(selector, "spec.selector")
    if field is None:
        assert errs == []
    else:
        assert any(e.field == field and e.message.startswith(fragment) for e in errs), errs


def test_labels_keys_and_values_are_reported_on_the_labels_path():
    errs = validate_labels({"Bad Key": "ok", "good": "x" * 64}, "metadata.labels")
    assert {e.field for e in errs} == {"metadata.labels"}
    assert any(e.message.startswith('Invalid value: "Bad Key"') for e in errs)
    assert any(e.message.endswith("must be no more than 63 characters") for e in errs)


def test_annotations_keys_are_checked_lowercased_and_total_size_limited_to_256k():
    assert validate_annotations({"Example.COM/Key": "v"}, "metadata.annotations") == []
    errs = validate_annotations({"a": "x" * (256 * 1024)}, "metadata.annotations")
    assert [(e.field, e.message) for e in errs] == [
        ("metadata.annotations", "Too long: may not be more than 262144 bytes")
    ]
    assert validate_annotations({"a": "x" * (256 * 1024 - 1)}, "metadata.annotations") == []


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"app": "web"}}, "app=web"),
        ({"matchLabels": {"tier": "fe", "app": "web"}}, "app=web,tier=fe"),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["b", "a"]},
                    {"key": "legacy", "operator": "DoesNotExist"},
                ],
            },
            "app=web,!legacy,tier in (a,b)",
        ),
        (
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]},
            "env notin (dev)",
        ),
        ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, "env"),
        ({}, ""),
        (None, "<none>"),
    ],
)
def test_describe_is_kubectls_selector_string_sorted_by_key(selector, expected):
    assert describe(selector) == expected


# --- property: matches agrees with a straightforward reference ------------------------------

KEYS = st.sampled_from(["app", "tier", "env"])
VALUES = st.sampled_from(["web", "api", "x"])
EXPR = st.one_of(
    st.fixed_dictionaries(
        {
            "key": KEYS,
            "operator": st.sampled_from(["In", "NotIn"]),
            "values": st.lists(VALUES, min_size=1, max_size=3),
        }
    ),
    st.fixed_dictionaries({"key": KEYS, "operator": st.sampled_from(["Exists", "DoesNotExist"])}),
)
SELECTOR = st.fixed_dictionaries(
    {},
    optional={
        "matchLabels": st.dictionaries(KEYS, VALUES, max_size=3),
        "matchExpressions": st.lists(EXPR, max_size=3),
    },
)


def reference(selector, labels):
    for k, v in selector.get("matchLabels", {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions", []):
        k, op = e["key"], e["operator"]
        if op == "In" and not (k in labels and labels[k] in e["values"]):
            return False
        if op == "NotIn" and k in labels and labels[k] in e["values"]:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(SELECTOR, st.dictionaries(KEYS, VALUES, max_size=3))
def test_matches_agrees_with_reference_implementation(selector, labels):
    assert matches(selector, labels) is reference(selector, labels)
