"""Name formats, as k8s.io/apimachinery/pkg/util/validation checks them."""

from __future__ import annotations

import pytest

from app.cluster import names


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("my-name", True),
        ("123-abc", True),
        ("a", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("My-Name", False),
        ("-web", False),
        ("web-", False),
        ("web.example", False),
        ("", False),
    ],
)
def test_dns1123_label_is_lowercase_alnum_and_dash_at_most_63(value, ok):
    assert (names.dns1123_label(value) == []) is ok


def test_dns1123_label_message_is_apimachinery_wording():
    msgs = names.dns1123_label("My_Name")
    assert msgs == [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    ]
    assert names.dns1123_label("a" * 64) == ["must be no more than 63 characters"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("example.com", True),
        ("web-1.default.svc", True),
        ("a" * 253, True),
        ("a" * 254, False),
        ("Example.com", False),
        ("web..svc", False),
        (".web", False),
        ("web_1", False),
    ],
)
def test_dns1123_subdomain_allows_dots_and_at_most_253(value, ok):
    assert (names.dns1123_subdomain(value) == []) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("web", True), ("abc-123", True), ("1web", False), ("web.api", False), ("a" * 64, False)],
)
def test_dns1035_label_must_start_with_a_letter(value, ok):
    assert (names.dns1035_label(value) == []) is ok


def test_dns1035_label_message_names_rfc1035():
    assert names.dns1035_label("1web")[0].startswith(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http", []),
        ("web-8080", []),
        ("a" * 15, []),
        ("a" * 16, ["must be no more than 15 characters"]),
        ("8080", ["must contain at least one letter (a-z)"]),
        ("my--port", ["must contain consecutive hyphens".replace("must", "must not")]),
        ("-http", ["must not begin or end with a hyphen"]),
        (
            "HTTP",
            [
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "must contain at least one letter (a-z)",
            ],
        ),
    ],
)
def test_iana_svc_name_rules_for_port_names(value, expected):
    assert names.iana_svc_name(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("app", None),
        ("app.kubernetes.io/name", None),
        ("MyName", None),
        ("my_name.x", None),
        ("/name", "prefix part must be non-empty"),
        ("Example.com/name", "prefix part a lowercase RFC 1123 subdomain"),
        ("example.com/", "name part must be non-empty"),
        ("a/b/c", "a qualified name must consist of"),
        ("x" * 64, "name part must be no more than 63 characters"),
        ("-app", "name part must consist of alphanumeric characters"),
    ],
)
def test_qualified_name_for_label_keys(value, fragment):
    msgs = names.qualified_name(value)
    if fragment is None:
        assert msgs == []
    else:
        assert any(m.startswith(fragment) for m in msgs), msgs


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("web", True),
        ("v1.2_3-x", True),
        ("-web", False),
        ("a b", False),
        ("a" * 64, False),
    ],
)
def test_label_value_may_be_empty_or_qualified_name_chars(value, ok):
    assert (names.label_value(value) == []) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("*.example.com", True),
        ("*.a", True),
        ("example.com", False),
        ("foo.*.com", False),
        ("*", False),
        ("**.example.com", False),
    ],
)
def test_wildcard_subdomain_only_as_whole_first_label(value, ok):
    assert (names.wildcard_dns1123_subdomain(value) == []) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.0.0.1", True),
        ("2001:db8::1", True),
        ("10.0.0", False),
        ("300.1.1.1", False),
        ("fe80::1%eth0", False),
        (" 10.0.0.1", False),
        ("web", False),
        ("", False),
    ],
)
def test_ip_address(value, ok):
    assert (names.ip_address(value) == []) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.244.0.0/16", True),
        ("10.244.1.7/24", True),
        ("2001:db8::/64", True),
        ("10.244.0.0", False),
        ("10.244.0.0/33", False),
        ("10.244.0.0/abc", False),
        ("/8", False),
    ],
)
def test_cidr_allows_host_bits_like_go_parse_cidr(value, ok):
    assert (names.cidr(value) == []) is ok


def test_field_error_builders_word_like_apimachinery():
    from app.cluster.validation import semantic_meta as fe

    assert fe.not_supported("spec.type", "Foo", ["A", "B"]).message == (
        'Unsupported value: "Foo": supported values: "A", "B"'
    )
    assert fe.duplicate("x", "http").message == 'Duplicate value: "http"'
    assert fe.too_long("x", 63).message == "Too long: may not be more than 63 bytes"
    assert fe.invalid("x", 80, "bad").message == "Invalid value: 80: bad"
    assert fe.required("x").message == "Required value"
    assert fe.forbidden("x", "no").message == "Forbidden: no"
