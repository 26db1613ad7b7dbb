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
CNI_PLUGINS = ("flannel", "calico", "weave", "cilium")
FLANNEL_CIDR = ipaddress.ip_network("10.244.0.0/16")  # a /24 per node
CALICO_POOL = ipaddress.ip_network("192.168.0.0/16")  # /26 blocks, affine to a node
CALICO_BLOCK_PREFIX = 26
WEAVE_RANGE = ipaddress.ip_network("10.32.0.0/12")  # split between peers
WEAVE_PEER_PREFIX = 20
# Cilium's cluster-pool IPAM: the operator hands each node a /24 (clusterPoolIPv4MaskSize).
# Its default pool, 10.0.0.0/8, holds the node network 10.0.0.0/16, and the first node's /24
# would be 10.0.0.0/24, the nodes' own addresses: an operator installing it here sets
# ipam.operator.clusterPoolIPv4PodCIDRList to the next /16 of that default instead.
CILIUM_POOL = ipaddress.ip_network("10.1.0.0/16")
CILIUM_MASK_SIZE = 24
#: The pod network each plugin hands addresses out of.
POD_NETWORK = {
    "flannel": FLANNEL_CIDR,
    "calico": CALICO_POOL,
    "weave": WEAVE_RANGE,
    "cilium": CILIUM_POOL,
}

PROXY_MODES = ("iptables", "ipvs", "nftables")
#: A mode's status, shown wherever the modes are offered: ipvs is deprecated since v1.35
#: (KEP-5495, kubernetes/kubernetes PR 134539) and still works.
PROXY_MODE_NOTES = {"ipvs": "deprecated in v1.35, KEP-5495"}
CALICO_MODES = ("bgp", "ipip")
# Cilium's Helm values: routingMode tunnel (VXLAN, its default) or native, and
# kubeProxyReplacement (its eBPF Service load balancing instead of kube-proxy).
CILIUM_ROUTING_MODES = ("tunnel", "native")
# loadBalancer.mode: snat (its default: a NodePort's backend on another node sees the node's
# address) or dsr (the backend sees the client and answers it directly; needs native routing).
CILIUM_LB_MODES = ("snat", "dsr")
CILIUM_VERSION = "1.18.5"

# IP families (kind's networking.ipFamily): ipv4, ipv6, or dual (IPv4 primary, as kind and
# kubeadm order a dual-stack cluster's ranges).
IP_FAMILY_MODES = ("ipv4", "ipv6", "dual")
#: The families of each mode, primary first (the order of --service-cluster-ip-range).
IP_FAMILIES_OF = {"ipv4": ("IPv4",), "ipv6": ("IPv6",), "dual": ("IPv4", "IPv6")}
#: The plugins that can give pods IPv6 addresses: flannel with EnableIPv6 (VXLAN backend,
#: flannel-v6.1), Calico with an IPv6 pool and Cilium with ipv6.enabled (its cluster-pool's
#: IPv6 ranges, below); Weave Net never supported IPv6.
IPV6_PLUGINS = ("flannel", "calico", "cilium")
# kind's IPv6 defaults (its Cluster config docs): pods fd00:10:244::/56, Services
# fd00:10:96::/112; kube-controller-manager's --node-cidr-mask-size-ipv6 default is 64.
SERVICE_CIDR6 = ipaddress.ip_network("fd00:10:96::/112")
KUBERNETES_SERVICE_IP6 = "fd00:10:96::1"
KUBE_DNS_IP6 = "fd00:10:96::a"  # the IPv6 ".10", as kind's IPv6 clusters pin kube-dns
FLANNEL_CIDR6 = ipaddress.ip_network("fd00:10:244::/56")
FLANNEL_NODE_PREFIX6 = 64
# Calico: an IPv6 pool with /122 blocks (Calico's IPPool blockSize default for IPv6), taken
# from the same pod subnet (Calico's dual-stack docs set CALICO_IPV6POOL_CIDR to it).
CALICO_POOL6 = FLANNEL_CIDR6
CALICO_BLOCK_PREFIX6 = 122
# Cilium's cluster-pool IPAM for IPv6, at its Helm defaults (ipam.operator
# clusterPoolIPv6PodCIDRList ["fd00::/104"], clusterPoolIPv6MaskSize 120): a /120 per node.
# Podpath keeps Cilium on cluster-pool for both families, as for IPv4 (an install that left
# the pod ranges to Kubernetes, ipam.mode kubernetes, would use kind's fd00:10:244::/56
# instead); unlike the IPv4 default, fd00::/104 overlaps neither the nodes' network nor
# the Services' fd00:10:96::/112, so it is used as it is.
CILIUM_POOL6 = ipaddress.ip_network("fd00::/104")
CILIUM_MASK_SIZE6 = 120
POD_NETWORK6 = {"flannel": FLANNEL_CIDR6, "calico": CALICO_POOL6, "cilium": CILIUM_POOL6}
# The nodes' IPv6 network: the unique local (RFC 4193) /64 kind's docker network "kind" uses,
# so no address here can be mistaken for a public one; a node's IPv6 address carries the same
# offset as its IPv4 one (10.0.0.10 is fc00:f853:ccd:e793::a).
NODE_NETWORK6 = ipaddress.ip_network("fc00:f853:ccd:e793::/64")
# The outside client's IPv6 address, in the documentation prefix (RFC 3849).
EXTERNAL_CLIENT_IP6 = "2001:db8:100::7"

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
