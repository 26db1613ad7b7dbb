"""Cilium: its eBPF datapath, its Service load balancing and its policy verdicts.

- ``datapath``: pods on ``lxc*`` veths with no bridge, the node's ``cilium_host``; between
  nodes VXLAN (UDP 8472, ``cilium_vxlan``) or native routing.
- ``lb``: the Service table Cilium's eBPF load balancer reads (kube-proxy replacement), and
  what it does to one connection: at the socket for clients in the cluster, on the node's
  device for traffic from outside.
- ``trace_hooks``: the hops a trace shows for those decisions.
- ``hubble``: NetworkPolicy decisions as Hubble's flow log prints them.
- ``rules``: what ``cilium-dbg service list``, ``cilium-dbg bpf lb list`` and
  ``iptables-save`` print on a Cilium node.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

VXLAN_PORT = 8472  # Cilium's tunnelPort for vxlan (the Linux kernel's historical VXLAN port)
TUNNEL_DEVICE = "cilium_vxlan"
HOST_DEVICE = "cilium_host"

# Cilium's reserved security identities (pkg/identity/numericidentity.go).
HOST_ID, WORLD_ID, HEALTH_ID, REMOTE_NODE_ID, KUBE_APISERVER_ID = 1, 2, 4, 6, 7
# Identities for labels of the cluster's own endpoints are allocated from 256 up to 65535.
FIRST_CLUSTER_ID, LAST_CLUSTER_ID = 256, 65535


# The labels Cilium leaves out of an identity by default (pkg/labelsfilter/filter.go,
# defaultLabelPrefixCfg): each pattern matches from the start of the key. Without this a
# Deployment's rollout (a new pod-template-hash) would give its pods a new identity.
IGNORED_LABELS = re.compile(
    r"pod-template-generation|pod-template-hash|controller-revision-hash|io\.kubernetes"
    r"|kubernetes\.io|statefulset\.kubernetes\.io/pod-name|apps\.kubernetes\.io/pod-index"
    r"|batch\.kubernetes\.io/job-completion-index|.*beta\.kubernetes\.io|k8s\.io|annotation"
    r"|etcd_node"
)


def identity_labels(labels: dict[str, str] | None) -> dict[str, str]:
    """The labels of ``labels`` that make a security identity (Cilium's default label filter).

    >>> identity_labels({"app": "web", "pod-template-hash": "5d4f8", "app.kubernetes.io/name": "x"})
    {'app': 'web', 'app.kubernetes.io/name': 'x'}
    """
    return {k: v for k, v in (labels or {}).items() if not IGNORED_LABELS.match(k)}


def enabled(cluster: Any) -> bool:
    return cluster.config.cni == "cilium"


def identity(pod: dict[str, Any]) -> int:
    """The security identity of a pod: one number per set of labels in a namespace, so pods
    of one Deployment share it (Cilium allocates them cluster-wide; Podpath derives it from
    the labels, so the same labels always get the same number). Labels Cilium's filter leaves
    out (:func:`identity_labels`) do not count, so a rollout keeps the identity.

    >>> a = {"metadata": {"namespace": "default", "labels": {"app": "web", "pod-template-hash": "x"}}}
    >>> b = {"metadata": {"namespace": "default", "labels": {"app": "web", "pod-template-hash": "y"}}}
    >>> identity(a) == identity(b), FIRST_CLUSTER_ID <= identity(a) <= LAST_CLUSTER_ID
    (True, True)
    """
    meta = pod["metadata"]
    labels = ",".join(f"{k}={v}" for k, v in sorted(identity_labels(meta.get("labels")).items()))
    key = f"k8s:io.kubernetes.pod.namespace={meta.get('namespace', 'default')};{labels}"
    span = LAST_CLUSTER_ID - FIRST_CLUSTER_ID + 1
    return FIRST_CLUSTER_ID + zlib.crc32(key.encode()) % span
