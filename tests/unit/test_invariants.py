"""Invariants that hold after any sequence of changes (hypothesis drives the sequences).

- pod IPs are unique and inside their node's pod range;
- every EndpointSlice holds exactly the pods its Service's selector matches (per port);
- NodePorts are unique and inside 30000-32767, ClusterIPs unique and inside 10.96.0.0/12;
- saving and loading gives back the same cluster; export-then-apply gives back the same
  user objects at the same addresses.
"""

from __future__ import annotations

import ipaddress
import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.cluster import nodes
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.controllers.endpoints import find_port
from app.cluster.export import export_yaml
from app.errors import PodpathError
from tests.unit.scenarios import cluster, deployment, service

APPS = ["web", "api", "db"]

operations = st.one_of(
    st.tuples(
        st.just("deploy"), st.sampled_from(APPS), st.integers(0, 5), st.sampled_from([8080, 9090])
    ),
    st.tuples(
        st.just("service"),
        st.sampled_from(APPS),
        st.sampled_from(APPS),
        st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer"]),
    ),
    st.tuples(st.just("delete-pod"), st.integers(0, 50)),
    st.tuples(st.just("delete-service"), st.sampled_from(APPS)),
    st.tuples(st.just("scale"), st.sampled_from(APPS), st.integers(0, 6)),
    st.tuples(st.just("node-ready"), st.sampled_from(["worker-1", "worker-2"]), st.booleans()),
    st.tuples(st.just("add-node")),
    st.tuples(
        st.just("bare-pod"),
        st.sampled_from(APPS),
        st.sampled_from(["worker-1", "worker-2"]),
        st.integers(0, 9),
    ),
)


def run(c: Cluster, op: tuple) -> None:
    kind = op[0]
    try:
        if kind == "deploy":
            _, app, replicas, port = op
            apply_text(
                c, deployment(app, replicas, ports=[{"name": "http", "containerPort": port}])
            )
        elif kind == "service":
            _, name, app, type_ = op
            apply_text(c, service(name, selector={"app": app}, type_=type_))
        elif kind == "delete-pod":
            pods = [p for p in c.list("Pod", "default")]
            if pods:
                c.delete("Pod", "default", pods[op[1] % len(pods)]["metadata"]["name"])
        elif kind == "delete-service":
            if c.get("Service", "default", op[1]):
                c.delete("Service", "default", op[1])
        elif kind == "scale":
            if c.get("Deployment", "default", op[1]):
                nodes.scale(c, "default", op[1], op[2])
        elif kind == "node-ready":
            nodes.set_node_ready(c, op[1], op[2])
        elif kind == "bare-pod":
            _, app, node, number = op
            apply_text(
                c,
                f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {app}-solo-{number}, labels: {{app: {app}}}}}\n"
                f"spec: {{nodeName: {node}, containers: [{{name: c, image: nginx, ports: [{{name: http, containerPort: 8080}}]}}]}}\n",
            )
        elif kind == "add-node" and len(c.list("Node")) < 6:
            nodes.add_node(c)
    except PodpathError:
        pass  # refused changes are fine; the invariants must still hold


def check_invariants(c: Cluster) -> None:
    ips = {}
    for pod in c.list("Pod"):
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or pod["spec"].get("hostNetwork"):
            continue
        assert ip not in ips, f"{ip} given to {ips.get(ip)} and {pod['metadata']['name']}"
        ips[ip] = pod["metadata"]["name"]
        node = c.node_summary(c.get("Node", "", pod["spec"]["nodeName"]))
        assert any(ipaddress.ip_address(ip) in ipaddress.ip_network(r) for r in node["podCIDRs"])
    ports, cluster_ips = set(), set()
    for svc in c.list("Service"):
        spec = svc["spec"]
        if spec.get("clusterIP") not in (None, "None"):
            assert ipaddress.ip_address(spec["clusterIP"]) in ipaddress.ip_network("10.96.0.0/12")
            assert spec["clusterIP"] not in cluster_ips
            cluster_ips.add(spec["clusterIP"])
        for port in spec.get("ports") or []:
            if "nodePort" in port:
                assert spec["type"] in ("NodePort", "LoadBalancer")
                assert 30000 <= port["nodePort"] <= 32767
                assert port["nodePort"] not in ports
                ports.add(port["nodePort"])
        check_slices(c, svc)


def check_slices(c: Cluster, svc: dict) -> None:
    namespace, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
    selector = svc["spec"].get("selector")
    if not selector:
        return
    expected = {}
    for pod in c.list("Pod", namespace):
        labels = pod["metadata"].get("labels") or {}
        if all(labels.get(k) == v for k, v in selector.items()) and pod["status"].get("podIP"):
            ready = any(
                x["type"] == "Ready" and x["status"] == "True"
                for x in pod["status"].get("conditions", [])
            )
            wanted_ports = sorted(
                find_port(pod, p) for p in svc["spec"]["ports"] if find_port(pod, p) is not None
            )
            expected[pod["status"]["podIP"]] = (ready, wanted_ports)
    actual = {}
    for slice_ in c.list("EndpointSlice", namespace):
        if slice_["metadata"]["labels"].get("kubernetes.io/service-name") != name:
            continue
        slice_ports = sorted(p["port"] for p in slice_["ports"])
        for endpoint in slice_["endpoints"]:
            actual[endpoint["addresses"][0]] = (endpoint["conditions"]["ready"], slice_ports)
    assert actual == expected, f"slices of {name} disagree with its selector"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    ops=st.lists(operations, max_size=12),
    cni=st.sampled_from(["flannel", "calico", "weave", "cilium"]),
)
def test_invariants_hold_after_any_sequence_of_changes(seed, ops, cni):
    c = cluster(cni=cni, seed=seed)
    for op in ops:
        run(c, op)
        check_invariants(c)
    # Saving and loading gives back the same cluster, and it keeps working the same way.
    restored = Cluster.from_state(json.loads(json.dumps(c.to_state())))
    assert json.dumps(restored.to_state(), sort_keys=True) == json.dumps(
        c.to_state(), sort_keys=True
    )
    apply_text(c, deployment("after", 2))
    apply_text(restored, deployment("after", 2))
    assert [p["status"].get("podIP") for p in c.list("Pod")] == [
        p["status"].get("podIP") for p in restored.list("Pod")
    ]
    check_invariants(restored)


def node_ports(c, user_made: bool) -> set[int]:
    """The node ports held by the user's Services (or by the system's)."""
    return {
        p["nodePort"]
        for s in c.list("Service")
        if c.is_user_made(s) == user_made
        for p in s["spec"].get("ports") or []
        if p.get("nodePort")
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), ops=st.lists(operations, max_size=10))
def test_export_then_apply_gives_back_the_same_objects(seed, ops):
    c = cluster(seed=seed)
    for op in ops:
        run(c, op)
    text = export_yaml(c)
    fresh = cluster(seed=seed + 1)
    # The export keeps each Service's nodePort; where the fresh cluster's own Services (the
    # ingress controller's) hold one of them already, the API server rightly refuses it
    # ("provided port is already allocated"): that is not what this test is about.
    assume(not node_ports(c, user_made=True) & node_ports(fresh, user_made=False))
    if text:
        apply_text(fresh, text)
    for kind in ("Deployment", "Service"):
        mine = {o["metadata"]["name"]: o for o in c.list(kind, "default") if c.is_user_made(o)}
        theirs = {
            o["metadata"]["name"]: o for o in fresh.list(kind, "default") if fresh.is_user_made(o)
        }
        assert mine.keys() == theirs.keys()
        for name, obj in mine.items():
            if kind == "Service":
                assert obj["spec"]["clusterIP"] == theirs[name]["spec"]["clusterIP"]
                assert [p.get("nodePort") for p in obj["spec"]["ports"]] == [
                    p.get("nodePort") for p in theirs[name]["spec"]["ports"]
                ]
            else:
                assert obj["spec"] == theirs[name]["spec"]
    # and applying the export again changes nothing
    if text:
        assert {o.action for o in apply_text(fresh, text).objects} == {"unchanged"}
