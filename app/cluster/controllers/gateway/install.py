"""Installing Envoy Gateway into a cluster: at creation, and into a workspace saved before
every sandbox had it.

The install draws its names, uids and ClusterIP from a generator of its own (seeded from the
cluster's seed), and comes after the rest of the system is up, so a cluster's other objects
keep the names and addresses they had before Envoy Gateway was part of it.
"""

from __future__ import annotations

import random
from typing import Any

from app.cluster.controllers.gateway import infra
from app.cluster.upsert import install_system_manifest


def install_envoy_gateway(cluster: Any) -> None:
    """Install Envoy Gateway's objects (:func:`.infra.install_manifests`) and reconcile.

    Parameters
    ----------
    cluster : Cluster
        Its system objects are already installed and reconciled.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> [p["metadata"]["name"][:13] for p in cluster.list("Pod", "envoy-gateway-system")]
    ['envoy-gateway']
    """
    state = cluster.state
    kept = (state._random, state.draws)
    state._random = random.Random(f"envoy-gateway/{state.seed}")
    try:
        for manifest in infra.install_manifests():
            install_system_manifest(cluster, manifest)
        cluster.reconcile()
    finally:
        state._random, state.draws = kept


def installed(cluster: Any) -> bool:
    return cluster.state.get("Namespace", "", infra.NAMESPACE) is not None
