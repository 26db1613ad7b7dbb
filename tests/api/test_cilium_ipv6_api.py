"""Cilium on a dual-stack cluster through the JSON API: the workspace is made (Helm
``ipv6.enabled: true``), a trace by name goes over IPv6 through the ``cgroup connect6`` socket
LB, and the rules endpoint's ``family=IPv6`` lists the IPv6 frontends.

Sources: Cilium's Helm chart values (``ipv6.enabled``; cluster-pool
``clusterPoolIPv6PodCIDRList: ["fd00::/104"]``, ``clusterPoolIPv6MaskSize: 120``);
bpf/bpf_sock.c (``cil_sock6_connect`` on cgroup/connect6); pkg/loadbalancer ``L3n4Addr``'s
String (``[IPv6]:port``); curl (IPv6 first for a name with both records).
"""

from __future__ import annotations

import ipaddress

from tests.api.conftest import apply_ok, deployment, list_items, new_workspace

WEB = (
    deployment("web", 2)
    + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    + "spec: {ipFamilyPolicy: PreferDualStack, selector: {app: web}, "
    + "ports: [{port: 80, targetPort: http}]}\n"
    + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: client}\n"
    + "spec: {nodeName: worker-1, containers: [{name: c, image: busybox}]}\n"
)


def test_a_dual_stack_cilium_workspace_is_created_with_an_ipv6_pool(api):
    """Helm values: ipv6.enabled with the chart's cluster-pool IPv6 defaults."""
    answer = api.post("/api/v1/workspaces", json={"cni": "cilium", "ipFamily": "dual"})
    assert answer.status_code == 201, answer.text
    settings = answer.json()["settings"]
    assert (settings["cni"], settings["ipFamily"]) == ("cilium", "dual")
    assert settings["podCIDR"] == "10.1.0.0/16,fd00::/104"


def test_a_trace_by_name_goes_over_ipv6_through_the_connect6_socket_lb(api):
    """bpf_sock.c's cil_sock6_connect: the IPv6 ClusterIP is swapped for a backend at
    connect(), so the packet on the wire carries the backend's IPv6 address."""
    workspace = new_workspace(api, cni="cilium", ipFamily="dual")
    apply_ok(api, workspace, WEB)
    answer = api.post(
        f"/api/v1/workspaces/{workspace}/trace",
        json={"from": "pod/default/client", "to": "http://web/"},
    )
    assert answer.status_code == 200, answer.text
    t = answer.json()
    assert t["verdict"] == "delivered"
    request = [h for h in t["hops"] if h["phase"] == "request"]
    lb = next(h for h in request if h["where"] == "socket LB (cgroup connect6)")
    backend = lb["packet"]["dst"]
    assert backend.startswith("[") and ipaddress.ip_address(backend[1:].split("]")[0]) in (
        ipaddress.ip_network("fd00::/104")
    )
    assert not any(
        h["action"] == "dnat" and h["node"] and "socket" not in h["where"] for h in request
    )


def test_rules_with_family_ipv6_list_the_ipv6_frontends_in_brackets(api):
    """cilium-dbg service list: an IPv6 frontend prints as [addr]:port/TCP."""
    workspace = new_workspace(api, cni="cilium", ipFamily="dual")
    apply_ok(api, workspace, WEB)
    url = f"/api/v1/workspaces/{workspace}/rules"
    six = api.get(url, params={"node": "worker-1", "family": "IPv6"})
    assert six.status_code == 200, six.text
    text = six.json()["text"]
    services = list_items(api, workspace, "kind=Service&namespace=default")
    v4, v6 = next(s for s in services if s["metadata"]["name"] == "web")["spec"]["clusterIPs"]
    assert f"[{v6}]:80/TCP" in text and f"{v4}:80" not in text
    four = api.get(url, params={"node": "worker-1", "family": "IPv4"}).json()["text"]
    assert f"{v4}:80/TCP" in four and "[fd00" not in four
    bogus = api.get(url, params={"node": "worker-1", "family": "IPv5"})
    assert bogus.status_code == 422 and bogus.json()["errors"][0]["field"] == "family"
