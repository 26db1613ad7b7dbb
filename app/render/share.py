"""What a share link's page shows before anyone makes a copy: the cluster's settings and the
objects its owner made."""

from __future__ import annotations

from typing import Any

from app.cluster import scenarios
from app.cluster.cluster import Cluster


def share_preview(cluster: Cluster) -> dict[str, Any]:
    """The settings and the user-made objects (by kind, then namespace and name) a copy of
    this cluster would start with.

    Parameters
    ----------
    cluster : Cluster
        The shared workspace's cluster (only read).

    Returns
    -------
    dict
        ``cni``, ``proxy_mode``, ``workers``, ``scenario`` (its title, or None) and
        ``objects``: a list of ``{"kind", "names"}``, kinds in alphabetical order.

    Examples
    --------
    >>> from app.cluster.state import ClusterConfig
    >>> cluster = scenarios.build("web-service", ClusterConfig())
    >>> preview = share_preview(cluster)
    >>> preview["cni"], preview["scenario"], [o["kind"] for o in preview["objects"]]
    ('flannel', 'A web app behind a Service', ['Deployment', 'Pod', 'Service'])
    """
    by_kind: dict[str, list[str]] = {}
    for key in sorted(cluster.state.applied, key=lambda k: (k.kind, k.namespace, k.name)):
        by_kind.setdefault(key.kind, []).append(
            f"{key.namespace}/{key.name}" if key.namespace else key.name
        )
    scenario = scenarios.scenario_of(cluster)
    titles = {s.name: s.title for s in scenarios.SCENARIOS}
    summary = cluster.summary()["settings"]
    return {
        "cni": cluster.config.cni,
        "proxy_mode": cluster.config.proxy_mode,
        "workers": summary["workers"],
        "scenario": titles.get(scenario) if scenario else None,
        "objects": [{"kind": kind, "names": names} for kind, names in by_kind.items()],
    }
