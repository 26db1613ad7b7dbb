"""The API server's wording of a refused object, and the IP-family checks of its allocator.

Sources: k8s.io/apimachinery ``pkg/api/errors`` ``NewInvalid`` (``<GroupKind> "<name>" is
invalid: <aggregate>``, where ``GroupKind.String()`` is ``Kind.group`` for a named group) and
``pkg/util/errors`` ``aggregate.Error`` (one error alone, several as ``[a, b]``, each distinct
text once); kubernetes ``pkg/registry/core/service/storage/alloc.go`` ``initIPFamilyFields``
(RequireDualStack on a single-stack cluster, a family with no service range).
"""

from __future__ import annotations

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.errors import InvalidObjects

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  replicas: %s
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx}]}
"""

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


def refused(text: str) -> InvalidObjects:
    cluster = Cluster.create(seed=1)
    with pytest.raises(InvalidObjects) as caught:
        apply_text(cluster, text)
    assert cluster.get("Service", "default", "web") is None  # nothing half-applied
    return caught.value


def test_new_invalid_names_the_group_after_the_kind_for_a_named_group():
    """NewInvalid prints qualifiedKind.String(): Deployment.apps, the core group bare."""
    deployment = refused(DEPLOYMENT % ("web", -1)).message
    assert deployment == (
        'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )
    service = refused(SERVICE.replace("port: 80", "port: 70000")).message
    assert service.startswith('Service "web" is invalid: spec.ports[0].port: Invalid value: 70000')


def test_aggregate_lists_several_errors_of_one_object_in_brackets():
    """aggregate.Error: more than one error is printed as [a, b], joined by ", "."""
    error = refused(DEPLOYMENT % ("Foo", -1))
    assert error.message.startswith('Deployment.apps "Foo" is invalid: [metadata.name: ')
    assert error.message.endswith(
        ", spec.replicas: Invalid value: -1: must be greater than or equal to 0]"
    )
    assert [e.field for e in error.errors] == ["metadata.name", "spec.replicas"]


def test_a_second_invalid_object_is_counted_after_the_first_objects_message():
    """The API server answers one object per request; kubectl prints one line per object.
    The apply's one message is the first object's, then how many others failed."""
    error = refused(DEPLOYMENT % ("web", -1) + "---" + SERVICE.replace("80", "70000"))
    assert error.message.startswith('Deployment.apps "web" is invalid: spec.replicas: ')
    assert error.message.endswith(" (and 1 more invalid object)")
    assert {e.kind for e in error.errors} == {"Deployment", "Service"}


def test_require_dual_stack_on_this_single_stack_cluster_is_refused():
    """alloc.go initIPFamilyFields: "this cluster is not configured for dual-stack services"."""
    text = SERVICE.replace("selector:", "ipFamilyPolicy: RequireDualStack\n  selector:")
    assert refused(text).message == (
        'Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": '
        "this cluster is not configured for dual-stack services"
    )


def test_an_ipv6_family_has_no_range_on_this_cluster():
    """alloc.go initIPFamilyFields: each requested family must be configured on the cluster;
    both errors come in one aggregate."""
    text = SERVICE.replace(
        "selector:", "ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n  selector:"
    )
    assert refused(text).message == (
        'Service "web" is invalid: [spec.ipFamilyPolicy: Invalid value: "RequireDualStack": '
        "this cluster is not configured for dual-stack services, "
        'spec.ipFamilies[1]: Invalid value: "IPv6": not configured on this cluster]'
    )


@pytest.mark.parametrize("policy", ["PreferDualStack", "SingleStack"])
def test_other_policies_fall_back_to_the_one_family(policy):
    """PreferDualStack on a single-stack cluster gets the one family, as SingleStack does."""
    cluster = Cluster.create(seed=1)
    apply_text(cluster, SERVICE.replace("selector:", f"ipFamilyPolicy: {policy}\n  selector:"))
    spec = cluster.get("Service", "default", "web")["spec"]
    assert (spec["ipFamilyPolicy"], spec["ipFamilies"]) == (policy, ["IPv4"])


def test_a_selectorless_headless_service_may_ask_for_dual_stack():
    """alloc.go: a headless Service without a selector is exempt (it gets no ClusterIP)."""
    cluster = Cluster.create(seed=1)
    apply_text(
        cluster,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {clusterIP: None, ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]}\n",
    )
    assert cluster.get("Service", "default", "web")["spec"]["clusterIP"] == "None"
