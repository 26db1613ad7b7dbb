"""Ingress matching, pinned by the examples table of the Kubernetes Ingress documentation
("Examples" under "Path types", and "Hostname wildcards")."""

from __future__ import annotations

import pytest

from app.cluster.apply import apply_text
from app.network.ingress import host_matches, match, path_matches
from tests.unit.scenarios import cluster

# (path type, rule paths, request path, matches?, which rule path wins)
DOCS_EXAMPLES = [
    ("Prefix", ["/"], "/anything/at/all", "/"),
    ("Exact", ["/foo"], "/foo", "/foo"),
    ("Exact", ["/foo"], "/bar", None),
    ("Exact", ["/foo"], "/foo/", None),
    ("Exact", ["/foo/"], "/foo", None),
    ("Prefix", ["/foo"], "/foo", "/foo"),
    ("Prefix", ["/foo"], "/foo/", "/foo"),
    ("Prefix", ["/foo/"], "/foo", "/foo/"),
    ("Prefix", ["/foo/"], "/foo/", "/foo/"),
    ("Prefix", ["/aaa/bb"], "/aaa/bbb", None),
    ("Prefix", ["/aaa/bbb"], "/aaa/bbb", "/aaa/bbb"),
    ("Prefix", ["/aaa/bbb/"], "/aaa/bbb", "/aaa/bbb/"),
    ("Prefix", ["/aaa/bbb"], "/aaa/bbb/", "/aaa/bbb"),
    ("Prefix", ["/aaa/bbb"], "/aaa/bbb/ccc", "/aaa/bbb"),
    ("Prefix", ["/aaa/bbb"], "/aaa/bbbxyz", None),
    ("Prefix", ["/", "/aaa"], "/aaa/ccc", "/aaa"),
    ("Prefix", ["/", "/aaa", "/aaa/bbb"], "/aaa/bbb", "/aaa/bbb"),
    ("Prefix", ["/", "/aaa", "/aaa/bbb"], "/ccc", "/"),
    ("Prefix", ["/aaa"], "/ccc", None),
]


def ingress_with(paths: list[tuple[str, str]], host: str = "foo.bar.com") -> str:
    items = "\n".join(
        f"      - {{path: '{p}', pathType: {t}, backend: {{service: {{name: svc-{i}, port: {{number: 80}}}}}}}}"
        for i, (p, t) in enumerate(paths)
    )
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: example}}
spec:
  rules:
  - host: {host}
    http:
      paths:
{items}
"""


@pytest.mark.parametrize("path_type,rule_paths,request_path,winner", DOCS_EXAMPLES)
def test_path_matching_follows_the_kubernetes_docs_examples(
    path_type, rule_paths, request_path, winner
):
    c = cluster()
    apply_text(c, ingress_with([(p, path_type) for p in rule_paths]))
    result = match(c, "foo.bar.com", request_path)
    if winner is None:
        assert not result.found, result.explanation
        assert "404" in result.explanation
    else:
        assert result.found and result.route.path == winner


def test_exact_wins_over_prefix_for_the_same_path():
    c = cluster()
    apply_text(c, ingress_with([("/foo", "Prefix"), ("/foo", "Exact")]))
    assert match(c, "foo.bar.com", "/foo").route.path_type == "Exact"
    assert match(c, "foo.bar.com", "/foo/x").route.path_type == "Prefix"


@pytest.mark.parametrize(
    "rule_host,request_host,matches",
    [
        ("*.foo.com", "bar.foo.com", True),  # the docs: matches, based on shared suffix
        ("*.foo.com", "baz.bar.foo.com", False),  # no match: the wildcard covers one label
        ("*.foo.com", "foo.com", False),  # no match: the wildcard needs one label
        ("foo.bar.com", "foo.bar.com", True),
        ("foo.bar.com", "FOO.bar.com", True),  # hosts compare case-insensitively
        ("foo.bar.com", "bar.foo.com", False),
    ],
)
def test_host_wildcards_follow_the_kubernetes_docs(rule_host, request_host, matches):
    assert host_matches(rule_host, request_host) is matches


def test_an_exact_host_beats_a_wildcard_and_a_hostless_rule():
    c = cluster()
    apply_text(c, ingress_with([("/", "Prefix")], host="shop.example.com"))
    apply_text(
        c,
        ingress_with([("/", "Prefix")], host="'*.example.com'")
        .replace("name: example", "name: wild")
        .replace("svc-0", "wild"),
    )
    apply_text(
        c,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: any}\nspec:\n  rules:\n  - http:\n"
        "      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: catchall, port: {number: 80}}}}\n",
    )
    assert match(c, "shop.example.com", "/").service == "svc-0"
    assert match(c, "blog.example.com", "/").service == "wild"
    assert match(c, "other.test", "/").service == "catchall"


def test_default_backend_serves_what_no_rule_matches():
    c = cluster()
    apply_text(
        c,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: d}\n"
        "spec: {defaultBackend: {service: {name: fallback, port: {number: 80}}}}\n",
    )
    result = match(c, "anything.example.com", "/x")
    assert result.default_backend and result.service == "fallback"


def test_an_ingress_default_backend_covers_only_its_own_hosts():
    """ingress-nginx: an Ingress's defaultBackend becomes the root location of the hosts its
    rules name; only an Ingress with no rules backs the catch-all server for other hosts."""
    c = cluster()
    apply_text(
        c,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop}\nspec:\n"
        "  defaultBackend: {service: {name: shop-home, port: {number: 80}}}\n"
        "  rules:\n  - host: shop.example.com\n    http:\n      paths:\n"
        "      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}\n",
    )
    unmatched_path = match(c, "shop.example.com", "/cart")
    assert unmatched_path.default_backend and unmatched_path.service == "shop-home"
    unknown_host = match(c, "blog.example.com", "/")
    assert not unknown_host.found
    assert "404" in unknown_host.explanation
    apply_text(
        c,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: catch-all}\n"
        "spec: {defaultBackend: {service: {name: fallback, port: {number: 80}}}}\n",
    )
    assert match(c, "blog.example.com", "/").service == "fallback"
    assert match(c, "shop.example.com", "/cart").service == "shop-home"


def test_an_ingress_of_another_class_is_not_served_by_nginx():
    c = cluster()
    apply_text(
        c,
        ingress_with([("/", "Prefix")]).replace("spec:\n", "spec:\n  ingressClassName: traefik\n"),
    )
    assert not match(c, "foo.bar.com", "/").found


def test_path_matches_is_element_wise_for_prefix():
    assert path_matches("Prefix", "/foo/bar", "/foo/bar/baz")
    assert not path_matches("Prefix", "/foo/bar", "/foo/barbaz")
