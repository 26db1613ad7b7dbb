"""What a fresh kubeadm cluster holds before the learner adds anything.

The manifests here are the system's own (CoreDNS, kube-proxy, the CNI agent, the ingress
controller). They are installed through the same path as a learner's, but are not the
learner's: exporting a workspace leaves them out.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from app.cluster import constants as c
from app.cluster import families

TOLERATE_EVERYTHING = [{"operator": "Exists"}]
CONTROL_PLANE_TOLERATION = {
    "key": "node-role.kubernetes.io/control-plane",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def worker_name(number: int) -> str:
    return f"worker-{number}"


def node_ip(number: int) -> str:
    """The InternalIP of worker ``number`` (0 is the control plane), skipping the addresses
    that end in .0 or .255, which look like network and broadcast addresses.

    >>> node_ip(0), node_ip(1), node_ip(244), node_ip(245)
    ('10.0.0.10', '10.0.0.11', '10.0.0.254', '10.0.1.1')
    """
    address = ipaddress.ip_address(c.CONTROL_PLANE_IP)
    for _ in range(number):
        address += 1
        while address.packed[-1] in (0, 255):
            address += 1
    return str(address)


def node_manifest(name: str, ip: str, control_plane: bool = False) -> dict[str, Any]:
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    spec: dict[str, Any] = {}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        spec["taints"] = [dict(c.CONTROL_PLANE_TAINT)]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
        "status": node_status(ip, name, ready=True),
    }


def node_status(ip: str | list[str], name: str, ready: bool) -> dict[str, Any]:
    """A node's status: ``ip`` is its InternalIP, or one per family (primary first)."""
    ips = [ip] if isinstance(ip, str) else ip
    condition = (
        {"type": "Ready", "status": "True", "reason": "KubeletReady"}
        | {"message": "kubelet is posting ready status"}
        if ready
        else {
            "type": "Ready",
            "status": "Unknown",
            "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.",
        }
    )
    return {
        "addresses": [
            *({"type": "InternalIP", "address": address} for address in ips),
            {"type": "Hostname", "address": name},
        ],
        "capacity": {"cpu": "2", "memory": "4015360Ki", "pods": "110"},
        "allocatable": {"cpu": "2", "memory": "3912960Ki", "pods": "110"},
        "conditions": [condition],
        "nodeInfo": {
            "architecture": "amd64",
            # Required in core/v1 NodeSystemInfo (no omitempty), so typed clients need them: the
            # node's /etc/machine-id (32 hex digits) and its product and boot UUIDs, made from
            # its name so the same cluster always reports the same ones.
            "machineID": _node_hex(name, "machine-id"),
            "systemUUID": _uuid_text(_node_hex(name, "product_uuid")),
            "bootID": _uuid_text(_node_hex(name, "boot_id")),
            "containerRuntimeVersion": "containerd://1.7.22",
            "kernelVersion": "6.8.0-45-generic",
            "kubeProxyVersion": c.KUBELET_VERSION,
            "kubeletVersion": c.KUBELET_VERSION,
            "operatingSystem": "linux",
            "osImage": "Ubuntu 24.04.1 LTS",
        },
    }


def _node_hex(name: str, what: str) -> str:
    """32 hex digits that stand for one of a node's machine identifiers.

    >>> _node_hex("worker-1", "machine-id") == _node_hex("worker-1", "machine-id")
    True
    """
    return hashlib.sha256(f"{what}/{name}".encode()).hexdigest()[:32]


def _uuid_text(digits: str) -> str:
    """32 hex digits written as a UUID (8-4-4-4-12).

    >>> _uuid_text("0123456789abcdef0123456789abcdef")
    '01234567-89ab-cdef-0123-456789abcdef'
    """
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def namespaces(cni: str) -> list[dict[str, Any]]:
    names = [*c.SYSTEM_NAMESPACES, "ingress-nginx"]
    if cni == "flannel":
        names.append("kube-flannel")
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in names]


def _container(name: str, image: str, ports: list[tuple[str, int, str]]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": image}
    if ports:
        container["ports"] = [
            {"name": port_name, "containerPort": number, "protocol": protocol}
            for port_name, number, protocol in ports
        ]
    return container


def _host_daemonset(namespace: str, name: str, app_label: dict[str, str], image: str):
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(app_label)},
        "spec": {
            "selector": {"matchLabels": dict(app_label)},
            "template": {
                "metadata": {"labels": dict(app_label)},
                "spec": {
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "tolerations": TOLERATE_EVERYTHING,
                    "containers": [_container(name.removesuffix("-ds"), image, [])],
                },
            },
        },
    }


def control_plane_pods() -> list[dict[str, Any]]:
    """The static pods kubeadm writes on the control plane; they share the node's IP."""
    images = {
        "etcd": "registry.k8s.io/etcd:3.5.15-0",
        "kube-apiserver": f"registry.k8s.io/kube-apiserver:{c.KUBELET_VERSION}",
        "kube-controller-manager": f"registry.k8s.io/kube-controller-manager:{c.KUBELET_VERSION}",
        "kube-scheduler": f"registry.k8s.io/kube-scheduler:{c.KUBELET_VERSION}",
    }
    pods = []
    for component, image in images.items():
        ports = [("https", c.API_SERVER_PORT, "TCP")] if component == "kube-apiserver" else []
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{component}-{c.CONTROL_PLANE_NAME}",
                    "namespace": "kube-system",
                    "labels": {"component": component, "tier": "control-plane"},
                },
                "spec": {
                    "nodeName": c.CONTROL_PLANE_NAME,
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "tolerations": TOLERATE_EVERYTHING,
                    "containers": [_container(component, image, ports)],
                },
            }
        )
    return pods


def system_workloads(cni: str, kube_proxy: bool = True) -> list[dict[str, Any]]:
    """kube-proxy (unless Cilium replaces it) and the CNI agent on every node, CoreDNS, and
    the ingress controller."""
    objects = []
    if kube_proxy:
        objects.append(
            _host_daemonset(
                "kube-system",
                "kube-proxy",
                {"k8s-app": "kube-proxy"},
                f"registry.k8s.io/kube-proxy:{c.KUBELET_VERSION}",
            )
        )
    if cni == "flannel":
        objects.append(
            _host_daemonset(
                "kube-flannel",
                "kube-flannel-ds",
                {"app": "flannel", "k8s-app": "flannel"},
                "docker.io/flannel/flannel:v0.25.6",
            )
        )
    elif cni == "calico":
        objects.append(
            _host_daemonset(
                "kube-system",
                "calico-node",
                {"k8s-app": "calico-node"},
                "docker.io/calico/node:v3.28.2",
            )
        )
    elif cni == "cilium":
        objects.append(
            _host_daemonset(
                "kube-system",
                "cilium",
                {"k8s-app": "cilium"},
                f"quay.io/cilium/cilium:v{c.CILIUM_VERSION}",
            )
        )
    else:
        objects.append(
            _host_daemonset(
                "kube-system", "weave-net", {"name": "weave-net"}, "weaveworks/weave-kube:2.8.1"
            )
        )
    dns_labels = {"k8s-app": "kube-dns"}
    objects.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dns_labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": dns_labels},
                "template": {
                    "metadata": {"labels": dns_labels},
                    "spec": {
                        "priorityClassName": "system-cluster-critical",
                        "tolerations": [
                            {"key": "CriticalAddonsOnly", "operator": "Exists"},
                            CONTROL_PLANE_TOLERATION,
                        ],
                        "containers": [
                            _container(
                                "coredns",
                                "registry.k8s.io/coredns/coredns:v1.11.3",
                                [
                                    ("dns", 53, "UDP"),
                                    ("dns-tcp", 53, "TCP"),
                                    ("metrics", 9153, "TCP"),
                                ],
                            )
                        ],
                    },
                },
            },
        }
    )
    ingress_labels = {
        "app.kubernetes.io/component": "controller",
        "app.kubernetes.io/instance": "ingress-nginx",
        "app.kubernetes.io/name": "ingress-nginx",
    }
    objects.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "ingress-nginx-controller",
                "namespace": "ingress-nginx",
                "labels": ingress_labels,
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": ingress_labels},
                "template": {
                    "metadata": {"labels": ingress_labels},
                    "spec": {
                        "containers": [
                            _container(
                                "controller",
                                "registry.k8s.io/ingress-nginx/controller:v1.11.2",
                                [
                                    ("http", 80, "TCP"),
                                    ("https", 443, "TCP"),
                                    ("webhook", 8443, "TCP"),
                                ],
                            )
                        ]
                    },
                },
            },
        }
    )
    return objects


def system_services(ip_family: str = "ipv4") -> list[dict[str, Any]]:
    """The ``kubernetes`` and ``kube-dns`` Services (single-stack, of the cluster's primary
    family, as kubeadm makes them) and the ingress controller's."""
    v6 = families.of(ip_family)[0] == families.IPV6
    api_ip = families.node_ip6(c.CONTROL_PLANE_IP) if v6 else c.CONTROL_PLANE_IP
    ingress_selector = {
        "app.kubernetes.io/component": "controller",
        "app.kubernetes.io/instance": "ingress-nginx",
        "app.kubernetes.io/name": "ingress-nginx",
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "clusterIP": families.kubernetes_ip(ip_family),
                "ports": [
                    {
                        "name": "https",
                        "port": 443,
                        "protocol": "TCP",
                        "targetPort": c.API_SERVER_PORT,
                    }
                ],
            },
        },
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {c.SERVICE_NAME_LABEL: "kubernetes"},
            },
            "addressType": families.IPV6 if v6 else families.IPV4,
            "endpoints": [{"addresses": [api_ip], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": c.API_SERVER_PORT, "protocol": "TCP"}],
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kube-dns",
                "namespace": "kube-system",
                "labels": {
                    "k8s-app": "kube-dns",
                    "kubernetes.io/cluster-service": "true",
                    "kubernetes.io/name": "CoreDNS",
                },
                "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
            },
            "spec": {
                "clusterIP": families.kube_dns_ip(ip_family),
                "selector": {"k8s-app": "kube-dns"},
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "ingress-nginx-controller",
                "namespace": "ingress-nginx",
                "labels": dict(ingress_selector),
            },
            "spec": {
                "type": "LoadBalancer",
                "selector": dict(ingress_selector),
                "ports": [
                    {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
                    {"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"},
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "ingress-nginx-controller-admission",
                "namespace": "ingress-nginx",
                "labels": dict(ingress_selector),
            },
            "spec": {
                "selector": dict(ingress_selector),
                "ports": [
                    {
                        "name": "https-webhook",
                        "port": 443,
                        "protocol": "TCP",
                        "targetPort": "webhook",
                    }
                ],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {
                "name": "nginx",
                "labels": dict(ingress_selector),
                "annotations": {c.DEFAULT_INGRESS_CLASS_ANNOTATION: "true"},
            },
            "spec": {"controller": "k8s.io/ingress-nginx"},
        },
    ]
