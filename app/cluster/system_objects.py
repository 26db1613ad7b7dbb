"""The objects every new cluster starts with: kubeadm's nodes, namespaces, control-plane
pods, system Services and workloads (kube-proxy, CoreDNS, the CNI agent), then Envoy Gateway.

Kept apart from :mod:`app.cluster.upsert` because Envoy Gateway's install stores its own
objects through :func:`~app.cluster.upsert.install_system_manifest`: this module imports both,
and neither imports it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.cluster import bootstrap
from app.cluster import constants as c
from app.cluster.cilium_config import replaces_kube_proxy
from app.cluster.controllers.gateway.install import install_envoy_gateway
from app.cluster.upsert import install_system_manifest, normalise, upsert

if TYPE_CHECKING:  # pragma: no cover
    from app.cluster.cluster import Cluster


def install_system_objects(cluster: Cluster) -> None:
    """Install the default cluster: nodes, namespaces, system Services and workloads.

    Parameters
    ----------
    cluster : Cluster
        A cluster with no objects yet (``Cluster.create`` calls this); it is reconciled.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig, ClusterState
    >>> cluster = Cluster(ClusterState(ClusterConfig(workers=1), seed=1))
    >>> install_system_objects(cluster)
    >>> [n["metadata"]["name"] for n in cluster.list("Node")]
    ['control-plane', 'worker-1']
    >>> cluster.get("Service", "kube-system", "kube-dns")["spec"]["clusterIP"]
    '10.96.0.10'
    """
    config = cluster.config
    for manifest in bootstrap.namespaces(config.cni):
        upsert(cluster, normalise(manifest))
    nodes = [bootstrap.node_manifest(c.CONTROL_PLANE_NAME, c.CONTROL_PLANE_IP, control_plane=True)]
    nodes += [
        bootstrap.node_manifest(bootstrap.worker_name(n), bootstrap.node_ip(n))
        for n in range(1, config.workers + 1)
    ]
    for node in nodes:
        upsert(cluster, normalise(node))
    manifests = [
        *bootstrap.control_plane_pods(),
        *bootstrap.system_services(config.ip_family),
        *bootstrap.system_workloads(config.cni, not replaces_kube_proxy(config)),
    ]
    for manifest in manifests:
        install_system_manifest(cluster, manifest)
    cluster.reconcile()
    install_envoy_gateway(cluster)
