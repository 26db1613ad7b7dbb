"""A cluster made again: reset to the defaults, or the learner's objects on another CNI plugin
or kube-proxy mode (the cluster re-addresses itself: new pod ranges, new pod IPs, new rules)."""

from __future__ import annotations

from dataclasses import replace

from app.cluster import nodes
from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.export import export_yaml


def reset(cluster: Cluster) -> None:
    """Back to a fresh default cluster with the same settings; the learner's objects go.

    >>> from app.cluster.state import ClusterConfig
    >>> c = Cluster.create(ClusterConfig(cni="weave"), seed=1)
    >>> _ = apply_text(c, "apiVersion: v1\\nkind: Namespace\\nmetadata: {name: shop}\\n")
    >>> reset(c)
    >>> c.get("Namespace", "", "shop") is None, c.config.cni
    (True, 'weave')
    """
    cluster.replace_with(Cluster.create(cluster.config, seed=cluster.state.seed))


def switch(cluster: Cluster, cni: str | None = None, proxy_mode: str | None = None) -> None:
    """The same objects, nodes and settings, on another CNI plugin or kube-proxy mode.

    Raises
    ------
    InvalidObjects
        For a CNI plugin or mode Podpath does not offer.

    Examples
    --------
    >>> c = Cluster.create(seed=1)
    >>> switch(c, cni="calico")
    >>> c.config.cni, c.node_summary(c.get("Node", "", "worker-1"))["gateway"]["device"]
    ('calico', 'tunl0')
    """
    workers = sorted(
        n["metadata"]["name"]
        for n in cluster.list("Node")
        if "node-role.kubernetes.io/control-plane" not in (n["metadata"].get("labels") or {})
    )
    config = replace(
        cluster.config,
        cni=cni or cluster.config.cni,
        proxy_mode=proxy_mode or cluster.config.proxy_mode,
        workers=1,
    )
    fresh = Cluster.create(config, seed=cluster.state.seed)
    # The same workers, by name, before the learner's objects (pods may be pinned to them).
    if "worker-1" not in workers:
        fresh.delete("Node", "", "worker-1")
    for name in workers:
        if fresh.get("Node", "", name) is None:
            nodes.add_node(fresh, name)
    for name in workers:
        ready = cluster.node_summary(cluster.get("Node", "", name))["ready"]
        if not ready:
            nodes.set_node_ready(fresh, name, False)
    text = export_yaml(cluster)
    if text:
        apply_text(fresh, text)
    fresh.state.config = replace(fresh.state.config, workers=len(workers))
    cluster.replace_with(fresh)
