"""kubectl apply semantics: created, configured, unchanged; all or nothing; every error."""

from __future__ import annotations

import json

import pytest

from app.cluster.apply import apply_documents, apply_text
from app.cluster.manifests import parse_manifests
from app.cluster.objects import ObjectKey
from app.errors import InvalidObjects
from tests.unit.scenarios import cluster, deployment, service


def test_create_then_unchanged_then_configured():
    c = cluster()
    text = deployment("web", 2)
    assert [o.action for o in apply_text(c, text).objects] == ["created"]
    assert [o.action for o in apply_text(c, text).objects] == ["unchanged"]
    assert [o.action for o in apply_text(c, deployment("web", 3)).objects] == ["configured"]


def test_apply_is_all_or_nothing_and_lists_every_error():
    c = cluster()
    before = {k for k in c.state.objects}
    text = (
        deployment("good", 1)
        + "---\n"
        + "apiVersion: v1\nkind: Service\nmetadata: {name: 9bad}\nspec:\n  ports: [{port: 0}]\n"
        + "---\n"
        + "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec:\n  replica: 2\n"
    )
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, text)
    errors = raised.value.errors
    assert {e.document for e in errors} == {2, 3}
    assert set(c.state.objects) == before
    name_error = next(e for e in errors if e.field == "metadata.name")
    assert name_error.kind == "Service" and name_error.name == "9bad"
    line_of = {
        line.split(":")[0]: n
        for n, line in enumerate(text.splitlines(), 1)
        if line.startswith("metadata: {name: 9bad")
    }
    assert name_error.line == line_of["metadata"]
    unknown = next(e for e in errors if e.document == 3 and e.field == "spec.replica")
    assert unknown.field == "spec.replica" and "did you mean" in unknown.message
    assert unknown.line == text.splitlines().index("  replica: 2") + 1


def test_a_missing_namespace_is_an_error_unless_created_in_the_same_apply():
    c = cluster()
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, deployment("web", 1, namespace="shop"))
    assert raised.value.errors[0].field == "metadata.namespace"
    assert 'namespaces "shop" not found' in raised.value.errors[0].message
    ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
    result = apply_text(c, deployment("web", 1, namespace="shop") + "---\n" + ns)
    assert [(o.kind, o.action) for o in result.objects] == [
        ("Deployment", "created"),
        ("Namespace", "created"),
    ]


def test_deleting_a_namespace_deletes_what_is_in_it():
    c = cluster()
    apply_text(
        c,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
        + deployment("web", 2, namespace="shop")
        + "---\n"
        + service("web", namespace="shop"),
    )
    c.delete("Namespace", "", "shop")
    assert not [k for k in c.state.objects if k.namespace == "shop"]


def test_a_manifest_exported_with_server_fields_applies_cleanly():
    """A `kubectl get -o yaml` copy carries uid, resourceVersion and status: they are ignored."""
    c = cluster()
    apply_text(c, deployment("web", 1))
    live = c.get("Deployment", "default", "web")
    from app.cluster.manifests import dump_manifests

    result = apply_text(c, dump_manifests([live]))
    assert result.objects[0].action in ("unchanged", "configured")
    assert c.get("Deployment", "default", "web")["metadata"]["uid"] == live["metadata"]["uid"]


def test_unsupported_kinds_are_refused_naming_what_is_supported():
    c = cluster()
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n")
    assert raised.value.errors[0].kind == "Secret"
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: x}\n")
    assert "networking.k8s.io/v1" in raised.value.errors[0].message


def test_a_document_that_is_not_an_object_is_refused():
    c = cluster()
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, "- 1\n- 2\n")
    assert "must be a mapping" in raised.value.errors[0].message


def test_pod_spec_is_immutable_except_images():
    c = cluster()
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}\n"
    apply_text(c, pod)
    assert (
        apply_text(c, pod.replace("image: nginx", "image: nginx:2")).objects[0].action
        == "configured"
    )
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, pod.replace("containers:", "hostNetwork: true, containers:"))
    assert "pod updates may not change fields" in raised.value.errors[0].message


def test_deployment_selector_is_immutable():
    c = cluster()
    apply_text(c, deployment("web", 1))
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, deployment("web", 1, labels={"app": "web", "v": "two"}))
    assert raised.value.errors[0].field.startswith("spec.selector")
    assert "field is immutable" in raised.value.errors[0].message


def test_a_document_that_breaks_a_rule_still_has_its_clashes_with_the_cluster_reported():
    c = cluster()
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: 9web}\nspec:\n  type: NodePort\n  clusterIP: bogus\n  ports: [{port: 80, nodePort: 80}]\n"
    with pytest.raises(InvalidObjects) as raised:
        apply_text(c, text)
    fields = [(e.field, e.line) for e in raised.value.errors]
    assert ("metadata.name", 3) in fields
    assert ("spec.ports[0].nodePort", 7) in fields
    assert any(f == "spec.clusterIPs[0]" for f, _ in fields)


def test_apply_documents_can_keep_another_manifest_as_the_learners():
    """The Kubernetes-compatible API stores a patched object whole, but keeps as the learner's
    manifest what they wrote with the patch replayed on it; a controller's object stays the
    controller's (None), its owner references kept."""
    c = cluster()
    apply_text(c, deployment("web", 1))
    key = ObjectKey("Deployment", "default", "web")
    stored = c.get("Deployment", "default", "web")
    mine = {**c.state.applied[key], "metadata": {"name": "web", "labels": {"team": "a"}}}
    patched = {**stored, "metadata": {**stored["metadata"], "labels": {"team": "a"}}}
    apply_documents(c, parse_manifests(json.dumps(patched), track_lines=False), written={key: mine})
    assert c.state.applied[key] == mine
    assert c.get("Deployment", "default", "web")["metadata"]["labels"] == {"team": "a"}
    pod = next(p for p in c.list("Pod") if p["metadata"]["name"].startswith("web-"))
    labelled = {
        **pod,
        "metadata": {**pod["metadata"], "labels": {**pod["metadata"]["labels"], "x": "y"}},
    }
    pod_key = ObjectKey("Pod", "default", pod["metadata"]["name"])
    apply_documents(
        c, parse_manifests(json.dumps(labelled), track_lines=False), written={pod_key: None}
    )
    after = c.get("Pod", "default", pod["metadata"]["name"])
    assert after["metadata"]["labels"]["x"] == "y" and after["metadata"]["ownerReferences"]
    assert not c.is_user_made(after)
