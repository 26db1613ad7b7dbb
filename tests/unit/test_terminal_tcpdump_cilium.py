"""tcpdump on a Cilium node (issue 15): the client pod's packet on its ``lxc`` veth, the
inner packet on ``cilium_vxlan`` and the VXLAN packet on eth0 (UDP 8472, tcpdump decodes it
as OTV; the VNI is the sender's security identity), and the reply back on the lxc veth. With
kube-proxy replacement, Cilium's socket load balancer picked the backend at connect(), so no
captured packet carries the ClusterIP the client dialled.

Sources: docs.cilium.io Concepts → Networking → Routing (Encapsulation: VXLAN 8472/UDP, the
default); Kubernetes Without kube-proxy (socket-LB: sockets assigned to backends at TCP
connect time, before a packet exists); Cilium's routing docs name the host end of a pod's
veth ``lxcXXXXXX``."""

from __future__ import annotations

import pytest

from app.cluster.scenarios import build
from app.cluster.state import ClusterConfig
from app.network.cilium.datapath import host_veth
from app.terminal import Session, run


@pytest.fixture(scope="module")
def cluster():
    return build("web-service", ClusterConfig(cni="cilium"))


def capture(cluster, request: str) -> list[str]:
    """``tcpdump -ni any`` on worker-1 after the client pod (on worker-1) sent ``request``."""
    sent = run(cluster, f"kubectl exec client -- curl -s {request}", Session()).session
    node = run(cluster, "kubectl debug node/worker-1 -it --image=busybox", sent).session
    shown = run(cluster, "tcpdump -ni any", node)
    assert shown.status == 0
    return [line for line in shown.output.splitlines() if line.startswith("00:")]


def test_the_client_pods_packet_leaves_its_lxc_addressed_to_the_backend(cluster) -> None:
    cluster_ip = cluster.get("Service", "default", "web")["spec"]["clusterIP"]
    lines = capture(cluster, f"http://{cluster_ip}/")
    client = cluster.get("Pod", "default", "client")
    client_ip, lxc = client["status"]["podIP"], host_veth(client)
    assert [line.split(" ")[1:3] for line in lines] == [
        [lxc, "In"],  # from the pod, already to the backend
        ["cilium_vxlan", "Out"],
        ["eth0", "Out"],  # the VXLAN packet to worker-2
        ["eth0", "In"],  # the reply, wrapped
        ["cilium_vxlan", "In"],
        [lxc, "Out"],  # back into the pod
    ]
    request = lines[0].split(" IP ", 1)[1]
    source, _, rest = request.partition(" > ")
    backend = rest.split(":", 1)[0].rsplit(".", 1)[0]
    backends = {
        p["status"]["podIP"]
        for p in cluster.list("Pod", "default")
        if "web" in p["metadata"]["name"]
    }
    assert source.rsplit(".", 1)[0] == client_ip and backend in backends
    assert ".8472: OTV, flags [I] (0x08), overlay 0, instance " in lines[2]
    assert not [line for line in lines if cluster_ip in line]


def test_a_cilium_node_has_cilium_host_and_cilium_vxlan_not_flannels_devices(cluster) -> None:
    """Cilium's routing docs: cilium_host holds the node's router address; VXLAN (the default
    tunnel mode) goes through cilium_vxlan; native routing has no tunnel device."""
    node = Session("node/worker-1")
    assert run(cluster, "tcpdump -ni flannel.1", node).status == 1
    assert "listening on cilium_vxlan" in run(cluster, "tcpdump -ni cilium_vxlan", node).output
    router = cluster.get("Node", "", "worker-1")["spec"]["podCIDR"].rsplit(".", 1)[0] + ".1"
    assert f"inet {router}/32 scope global cilium_host" in run(cluster, "ip addr", node).output
    native = build("web-service", ClusterConfig(cni="cilium", routing_mode="native"))
    links = run(native, "ip link", node).output
    assert "cilium_host" in links and "cilium_vxlan" not in links
