"""Reading manifests: YAML and JSON, many documents, Lists, and hostile input."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cluster.manifests import dump_manifests, parse_manifests
from app.errors import ManifestSyntaxError


def test_multi_document_yaml_skips_empty_documents_like_kubectl():
    docs = parse_manifests("---\nkind: A\n---\n\n---\nkind: B\n...\n")
    assert [d.body["kind"] for d in docs] == ["A", "B"]
    assert [d.number for d in docs] == [1, 2]


def test_a_list_is_unrolled_into_its_items():
    text = "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: Service\n  metadata: {name: b}\n"
    docs = parse_manifests(text)
    assert [d.body["kind"] for d in docs] == ["Pod", "Service"]
    assert docs[1].line == 6 and docs[1].lines["metadata"] == 7


def test_json_object_array_and_list_kinds_are_read():
    assert parse_manifests(json.dumps({"kind": "Pod"}))[0].body == {"kind": "Pod"}
    assert len(parse_manifests(json.dumps([{"kind": "Pod"}, {"kind": "Service"}]))) == 2
    assert len(parse_manifests(json.dumps({"kind": "PodList", "items": [{"kind": "Pod"}]}))) == 1


def test_yaml_flow_style_that_is_not_json_is_still_yaml():
    assert parse_manifests("{kind: Pod, metadata: {name: 'a'}}")[0].body["metadata"]["name"] == "a"


def test_lines_point_at_each_field():
    docs = parse_manifests("kind: Service\nspec:\n  ports:\n  - port: 80\n    targetPort: web\n")
    assert docs[0].lines["spec.ports[0].targetPort"] == 5
    assert docs[0].line_of("spec.ports[0].nodePort") == 4  # falls back to the nearest parent


def test_yaml_1_1_scalars_resolve_as_kubernetes_reads_them():
    body = parse_manifests("a: yes\nb: 010\nc: 1.5\nd: null\ne: '80'\nf: 2024-01-01\n")[0].body
    assert body == {"a": True, "b": 8, "c": 1.5, "d": None, "e": "80", "f": "2024-01-01"}


def test_anchors_and_merge_keys_work():
    body = parse_manifests("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n")[0].body
    assert body["derived"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    "text,fragment",
    [
        (
            "a: !!python/object/apply:os.system ['ls']\n",
            "tag:yaml.org,2002:python/object/apply:os.system",
        ),
        ("a: !custom x\n", "!custom"),
        ("a: 1\na: 2\n", 'mapping key "a" already defined'),
        ("a: [1, 2\n", "invalid YAML"),
        ("a:\n\tb: 1\n", "invalid YAML"),
        ("[" * 10_000, "nests deeper than 64"),
        ("- " * 10_000 + "x\n", "nests deeper than 64"),
        ("{" * 100 + "}" * 100, "nests deeper than 64"),
        ("? [a, b]\n: c\n", "plain value"),
    ],
)
def test_hostile_or_broken_yaml_is_refused_with_a_clear_reason(text, fragment):
    with pytest.raises(ManifestSyntaxError) as raised:
        parse_manifests(text)
    assert fragment in raised.value.message
    assert raised.value.errors[0].document == 1 and raised.value.errors[0].line >= 1


def test_a_billion_laughs_alias_bomb_is_stopped_quickly():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    start = time.perf_counter()
    with pytest.raises(ManifestSyntaxError) as raised:
        parse_manifests("\n".join(lines) + "\n")
    assert "alias" in raised.value.message
    assert time.perf_counter() - start < 5  # a sanity bound on a hang, not a benchmark


def test_deep_json_is_refused():
    with pytest.raises(ManifestSyntaxError):
        parse_manifests("[" * 100_000 + "]" * 100_000)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_either_parses_or_raises_a_syntax_error(text):
    with contextlib.suppress(ManifestSyntaxError):
        parse_manifests(text)


def test_dump_then_parse_round_trips():
    objs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"kind": "X", "y": [1, "2", None, True]},
    ]
    assert [d.body for d in parse_manifests(dump_manifests(objs))] == objs
