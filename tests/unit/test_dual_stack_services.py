"""Services on dual-stack and IPv6 clusters: families defaulted, checked and allocated as the
API server does, and their EndpointSlices one set per family.

Sources: kubernetes ``pkg/registry/core/service/storage/alloc.go`` ``initIPFamilyFields`` and
``allocClusterIPs`` (and its tests in ``storage_test.go``, ``TestCreateInitIPFields``);
``pkg/apis/core/validation/validation.go`` ``ValidateServiceClusterIPsRelatedFields``;
``pkg/controller/endpointslice`` (one slice set per address family of the Service).
"""

from __future__ import annotations

import ipaddress

import pytest

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.errors import InvalidObjects

WORKLOAD = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  %s
  selector: {app: web}
  ports: [{port: 80}]
"""


def cluster_of(mode: str) -> Cluster:
    return Cluster.create(ClusterConfig(ip_family=mode), seed=1)


def service(cluster: Cluster, fields: str = "type: ClusterIP") -> dict:
    apply_text(cluster, WORKLOAD % fields)
    return cluster.get("Service", "default", "web")["spec"]


def refused(cluster: Cluster, fields: str) -> str:
    with pytest.raises(InvalidObjects) as caught:
        apply_text(cluster, WORKLOAD % fields)
    assert cluster.get("Service", "default", "web") is None
    return caught.value.message


def family(ip: str) -> int:
    return ipaddress.ip_address(ip).version


@pytest.mark.parametrize(
    ("fields", "families"),
    [
        ("type: ClusterIP", ["IPv4"]),  # no policy: SingleStack, the primary family
        ("ipFamilyPolicy: PreferDualStack", ["IPv4", "IPv6"]),
        ("ipFamilyPolicy: RequireDualStack", ["IPv4", "IPv6"]),
        ("ipFamilies: [IPv6]", ["IPv6"]),
        ("ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv6]", ["IPv6", "IPv4"]),
    ],
)
def test_alloc_go_defaults_families_from_the_policy_on_a_dual_stack_cluster(fields, families):
    """initIPFamilyFields: no policy is SingleStack; a policy other than SingleStack on a
    cluster with two families appends the other family; clusterIPs follow ipFamilies."""
    spec = service(cluster_of("dual"), fields)
    assert spec["ipFamilies"] == families
    assert [family(ip) for ip in spec["clusterIPs"]] == [int(f[-1]) for f in families]
    assert spec["clusterIP"] == spec["clusterIPs"][0]
    assert spec["ipFamilyPolicy"] in fields or spec["ipFamilyPolicy"] == "SingleStack"


def test_ipv6_cluster_ips_come_from_the_ipv6_service_range():
    """kind's IPv6 service subnet fd00:10:96::/112 (its Cluster config docs)."""
    spec = service(cluster_of("dual"), "ipFamilyPolicy: PreferDualStack")
    assert ipaddress.ip_address(spec["clusterIPs"][1]) in ipaddress.ip_network("fd00:10:96::/112")
    assert ipaddress.ip_address(spec["clusterIPs"][0]) in ipaddress.ip_network("10.96.0.0/12")


def test_an_ipv6_only_cluster_gives_every_service_an_ipv6_address():
    spec = service(cluster_of("ipv6"))
    assert spec["ipFamilies"] == ["IPv6"] and family(spec["clusterIP"]) == 6
    system = cluster_of("ipv6")
    assert system.get("Service", "default", "kubernetes")["spec"]["clusterIP"] == "fd00:10:96::1"
    assert system.get("Service", "kube-system", "kube-dns")["spec"]["clusterIP"] == "fd00:10:96::a"


def test_clusterips_infer_their_families():
    """initIPFamilyFields: ipFamilies left out are read off the given clusterIPs."""
    spec = service(
        cluster_of("dual"),
        "ipFamilyPolicy: RequireDualStack\n  clusterIP: fd00:10:96::1234\n"
        "  clusterIPs: [fd00:10:96::1234, 10.96.200.7]",
    )
    assert spec["ipFamilies"] == ["IPv6", "IPv4"]
    assert spec["clusterIPs"] == ["fd00:10:96::1234", "10.96.200.7"]


def test_singlestack_with_two_families_is_refused_naming_the_policy():
    """alloc.go: SingleStack with two families."""
    message = refused(cluster_of("dual"), "ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4, IPv6]")
    assert message == (
        'Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "SingleStack": must be '
        "'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"
    )


def test_validation_a_clusterip_of_the_wrong_family_for_its_index():
    """ValidateServiceClusterIPsRelatedFields: "expected an IPv6 value as indicated by
    `ipFamilies[1]`" on spec.clusterIPs[1]."""
    message = refused(
        cluster_of("dual"),
        "ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n  clusterIP: 10.96.200.7\n"
        "  clusterIPs: [10.96.200.7, 10.96.200.8]",
    )
    assert "spec.clusterIPs: Invalid value: " in message
    assert "may specify no more than one IP for each IP family" in message
    message = refused(
        cluster_of("dual"),
        "ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv6, IPv4]\n  clusterIP: 10.96.200.7\n"
        "  clusterIPs: [10.96.200.7, fd00:10:96::7]",
    )
    assert (
        'spec.clusterIPs[0]: Invalid value: "10.96.200.7": expected an IPv6 value as indicated '
        "by `ipFamilies[0]`" in message
    )


def test_validation_a_second_clusterip_that_is_no_address():
    """ValidateServiceClusterIPsRelatedFields: each clusterIPs entry is checked by IsValidIP,
    and the family checks are skipped when one is malformed."""
    message = refused(
        cluster_of("dual"),
        "ipFamilyPolicy: RequireDualStack\n  clusterIP: 10.96.200.7\n"
        "  clusterIPs: [10.96.200.7, 'fd00:10:96::zz']",
    )
    assert message.startswith(
        'Service "web" is invalid: spec.clusterIPs[1]: Invalid value: "fd00:10:96::zz": '
        "must be a valid IP address"
    )
    assert "expected an" not in message


def test_an_ipv6_clusterip_on_an_ipv4_cluster_names_the_family():
    """alloc.go: a clusterIPs entry whose family the cluster lacks: "IPv6 is not configured
    on this cluster" (the IPv4-only refusal stays)."""
    message = refused(cluster_of("ipv4"), "clusterIP: fd00:10:96::1234")
    assert message == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["fd00:10:96::1234"]: '
        "IPv6 is not configured on this cluster"
    )


def test_an_ipv6_clusterip_outside_the_range_and_a_taken_one():
    cluster = cluster_of("dual")
    message = refused(cluster, "ipFamilies: [IPv6]\n  clusterIP: 'fd00:10:97::1'")
    assert "The range of valid IPs is fd00:10:96::/112" in message
    # On an IPv6 cluster the kubernetes Service holds the range's first address.
    message = refused(cluster_of("ipv6"), "clusterIP: 'fd00:10:96::1'")
    assert message.endswith('"fd00:10:96::1": provided IP is already allocated')


def test_upgrade_to_prefer_dual_stack_keeps_the_first_address_and_adds_one():
    """An update to PreferDualStack allocates the secondary family's address; the primary
    ClusterIP never changes (validateUpgradeDowngradeClusterIPs)."""
    cluster = cluster_of("dual")
    before = service(cluster)["clusterIP"]
    after = service(cluster, "ipFamilyPolicy: PreferDualStack")
    assert after["clusterIPs"][0] == before and family(after["clusterIPs"][1]) == 6
    back = service(cluster, "ipFamilyPolicy: SingleStack")
    assert back["clusterIPs"] == [before] and back["ipFamilies"] == ["IPv4"]
    # The released IPv6 address can be asked for again.
    apply_text(
        cluster,
        "apiVersion: v1\nkind: Service\nmetadata: {name: other}\n"
        f"spec: {{ipFamilies: [IPv6], clusterIP: '{after['clusterIPs'][1]}', ports: [{{port: 80}}]}}\n",
    )


def test_the_primary_family_may_not_change():
    cluster = cluster_of("dual")
    service(cluster)
    with pytest.raises(InvalidObjects) as caught:
        apply_text(cluster, WORKLOAD % "ipFamilies: [IPv6]")
    assert "spec.ipFamilies[0]" in caught.value.message


def test_headless_services_get_families_but_no_address():
    spec = service(cluster_of("dual"), "clusterIP: None\n  ipFamilyPolicy: PreferDualStack")
    assert spec["clusterIPs"] == ["None"] and spec["ipFamilies"] == ["IPv4", "IPv6"]


def test_a_selectorless_headless_service_defaults_to_require_dual_stack():
    """alloc.go: headless + selectorless with no policy is RequireDualStack, both families."""
    cluster = cluster_of("dual")
    apply_text(
        cluster,
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\n"
        "spec: {clusterIP: None, ports: [{port: 5432}]}\n",
    )
    spec = cluster.get("Service", "default", "db")["spec"]
    assert (spec["ipFamilyPolicy"], spec["ipFamilies"]) == ("RequireDualStack", ["IPv4", "IPv6"])


def test_deleting_a_dual_stack_service_frees_both_addresses():
    cluster = cluster_of("dual")
    ips = service(cluster, "ipFamilyPolicy: PreferDualStack")["clusterIPs"]
    cluster.delete("Service", "default", "web")
    assert not set(ips) & set(cluster.state.allocator.cluster_ips)


# --- EndpointSlices ------------------------------------------------------------------------
def slices(cluster: Cluster, name: str = "web") -> dict[str, list[list[str]]]:
    found = {}
    for item in cluster.list("EndpointSlice", "default"):
        if item["metadata"]["labels"].get("kubernetes.io/service-name") == name:
            found[item["addressType"]] = sorted(e["addresses"] for e in item["endpoints"])
    return found


def test_one_endpointslice_per_family_of_the_service():
    """The EndpointSlice controller keeps slices per address family the Service has; each
    endpoint lists the pod's address of that family."""
    cluster = cluster_of("dual")
    service(cluster, "ipFamilyPolicy: PreferDualStack")
    found = slices(cluster)
    assert set(found) == {"IPv4", "IPv6"}
    pods = cluster.list("Pod", "default")
    assert found["IPv4"] == sorted([p["status"]["podIPs"][0]["ip"]] for p in pods)
    assert found["IPv6"] == sorted([p["status"]["podIPs"][1]["ip"]] for p in pods)


def test_a_single_stack_service_on_a_dual_stack_cluster_has_one_slice():
    cluster = cluster_of("dual")
    service(cluster)
    assert set(slices(cluster)) == {"IPv4"}
    service(cluster, "ipFamilyPolicy: PreferDualStack")
    assert set(slices(cluster)) == {"IPv4", "IPv6"}
    service(cluster, "ipFamilyPolicy: SingleStack")
    assert set(slices(cluster)) == {"IPv4"}  # the IPv6 slice goes with the family


def test_an_ipv6_only_cluster_has_ipv6_slices():
    cluster = cluster_of("ipv6")
    service(cluster)
    assert set(slices(cluster)) == {"IPv6"}
    kubernetes = cluster.get("EndpointSlice", "default", "kubernetes")
    assert kubernetes["addressType"] == "IPv6"
    assert kubernetes["endpoints"][0]["addresses"] == ["fc00:f853:ccd:e793::a"]


def test_the_endpoints_object_lists_the_primary_family_only():
    """The endpoints controller keeps one address per pod, of the Service's primary family
    (spec.ipFamilies[0]); the EndpointSlices carry both. kubectl describe joins an IPv6
    address and its port as net.JoinHostPort does: [addr]:port."""
    from app.terminal.interpreter import run
    from app.terminal.session import Session

    cluster = cluster_of("dual")
    service(cluster, "ipFamilyPolicy: PreferDualStack")
    text = run(cluster, "kubectl describe svc web", Session("cluster")).output
    line = next(x for x in text.splitlines() if x.startswith("Endpoints:"))
    assert ":80" in line and "fd00" not in line
    v6 = cluster_of("ipv6")
    service(v6)
    text = run(v6, "kubectl describe svc web", Session("cluster")).output
    line = next(x for x in text.splitlines() if x.startswith("Endpoints:"))
    assert "[fd00:10:244:" in line and "]:80" in line
