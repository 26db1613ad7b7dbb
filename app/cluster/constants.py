"""The defaults of the cluster Podpath models: kubeadm with flannel, the one most courses use.

Each value is what a fresh kubeadm cluster shows (``kubeadm init
--pod-network-cidr=10.244.0.0/16``), so a learner who later runs one finds the same numbers.
"""

from __future__ import annotations

import ipaddress

CLUSTER_DOMAIN = "cluster.local"

# Nodes sit on one flat network; the control plane is .10, worker-N is .(10+N).
NODE_NETWORK = ipaddress.ip_network("10.0.0.0/16")
CONTROL_PLANE_NAME = "control-plane"
CONTROL_PLANE_IP = "10.0.0.10"
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
DEFAULT_WORKERS = 2
KUBELET_VERSION = "v1.31.0"

# kubeadm's --service-cidr default; the API server takes .1, kube-dns is pinned to .10.
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
KUBERNETES_SERVICE_IP = "10.96.0.1"
KUBE_DNS_IP = "10.96.0.10"
API_SERVER_PORT = 6443

# kube-apiserver --service-node-port-range default.
NODE_PORT_MIN = 30000
NODE_PORT_MAX = 32767

# The simulated cloud's pool for LoadBalancer Services (RFC 5737 documentation range).
LOAD_BALANCER_POOL = ipaddress.ip_network("203.0.113.0/24")
LOAD_BALANCER_FIRST_HOST = 10

# The outside world.
EXTERNAL_CLIENT_IP = "198.51.100.7"
PUBLIC_HOSTS = ipaddress.ip_network("192.0.2.0/24")

# CNI plugins and their address plans.
CNI_PLUGINS = ("flannel", "calico", "weave")
FLANNEL_CIDR = ipaddress.ip_network("10.244.0.0/16")  # a /24 per node
CALICO_POOL = ipaddress.ip_network("192.168.0.0/16")  # /26 blocks, affine to a node
CALICO_BLOCK_PREFIX = 26
WEAVE_RANGE = ipaddress.ip_network("10.32.0.0/12")  # split between peers
WEAVE_PEER_PREFIX = 20
#: The pod network each plugin hands addresses out of.
POD_NETWORK = {"flannel": FLANNEL_CIDR, "calico": CALICO_POOL, "weave": WEAVE_RANGE}

PROXY_MODES = ("iptables", "ipvs", "nftables")
#: A mode's status, shown wherever the modes are offered: ipvs is deprecated since v1.35
#: (KEP-5495, kubernetes/kubernetes PR 134539) and still works.
PROXY_MODE_NOTES = {"ipvs": "deprecated in v1.35, KEP-5495"}
CALICO_MODES = ("bgp", "ipip")

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

# Labels and annotations Kubernetes itself uses.
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
ENDPOINTSLICE_CONTROLLER = "endpointslice-controller.k8s.io"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
HOSTNAME_LABEL = "kubernetes.io/hostname"
DEFAULT_INGRESS_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"

# The characters Kubernetes uses for generated name suffixes (rand.String: no vowels,
# no digits that look like letters), and its 5-character suffix length.
NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAME_SUFFIX_LENGTH = 5
