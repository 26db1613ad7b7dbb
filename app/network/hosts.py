"""What a node's own network stack answers: the ports its daemons and host-network pods hold."""

from __future__ import annotations

from typing import Any

# Every kubeadm node runs sshd, the kubelet and kube-proxy's health endpoint.
NODE_PORTS = {22: "sshd", 10250: "the kubelet", 10256: "kube-proxy's health check"}
# The control plane adds the API server, etcd, the controller manager and the scheduler.
CONTROL_PLANE_PORTS = {
    6443: "kube-apiserver",
    2379: "etcd",
    2380: "etcd (peers)",
    10257: "kube-controller-manager",
    10259: "kube-scheduler",
}


def listener(cluster: Any, node: str, port: int, protocol: str) -> str | None:
    """What listens on ``node``'s own address at ``port``, or None.

    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> listener(cluster, "control-plane", 6443, "TCP"), listener(cluster, "worker-1", 8080, "TCP")
    ('kube-apiserver', None)
    """
    if protocol == "TCP" and port in NODE_PORTS:
        return NODE_PORTS[port]
    labels = ((cluster.get("Node", "", node) or {}).get("metadata") or {}).get("labels") or {}
    control_plane = "node-role.kubernetes.io/control-plane" in labels
    if protocol == "TCP" and control_plane and port in CONTROL_PLANE_PORTS:
        return CONTROL_PLANE_PORTS[port]
    for key in cluster.state.pods_by_node.get(node, ()):
        pod = cluster.state.objects[key]
        if not pod["spec"].get("hostNetwork"):
            continue
        for container in pod["spec"].get("containers") or []:
            for declared in container.get("ports") or []:
                if (
                    declared.get("containerPort") == port
                    and declared.get("protocol", "TCP") == protocol
                ):
                    return (
                        f"host-network Pod {pod['metadata']['namespace']}/{pod['metadata']['name']}"
                    )
    for service in cluster.list("Service"):
        if (service.get("spec") or {}).get("healthCheckNodePort") == port and protocol == "TCP":
            return f"kube-proxy's health check for Service {service['metadata']['namespace']}/{service['metadata']['name']}"
    return None
