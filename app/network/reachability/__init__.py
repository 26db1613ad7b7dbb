"""Who can reach whom: the reachability matrix under the cluster's NetworkPolicies and CNI.

Each cell asks the question a trace asks at its two policy checkpoints, with the same
function (:func:`app.network.policy.check`), so the matrix and a trace never disagree:

- pod → pod: the sender's egress (towards the receiver's address and port), then the
  receiver's ingress (from the sender's own address: pod to pod there is no NAT);
- outside → pod: the external client reaches a pod only through a NodePort or LoadBalancer
  Service (pod addresses are not routed from the internet). With
  ``externalTrafficPolicy: Local`` the pod sees the client's own address; with ``Cluster``
  the entry node masquerades, so the pod sees that node's address, and an ``ipBlock`` for the
  client's range never matches (a classic surprise).

Pods that look the same to every policy (same namespace, labels and declared ports, and the
same side of every ``ipBlock``) are grouped into one row and one column: their verdicts are
equal by construction. Past :data:`MAX_GROUPS` groups a side is cut, and the matrix says so.
Host-network pods are left out: NetworkPolicy does not apply to the host's network namespace.
"""

from __future__ import annotations

from typing import Any

from app.cluster import constants as c
from app.network import policy
from app.network.reachability import verdicts
from app.network.reachability.groups import (
    addressed,
    ip_blocks,
    isolation,
    pair,
    party,
    signature,
)
from app.network.reachability.model import (
    MAX_GROUPS,
    OUTSIDE,
    Cell,
    Matrix,
    Party,
    PortResult,
)
from app.network.reachability.verdicts import outside as through_service
from app.network.reachability.verdicts import pod_to_pod

__all__ = [
    "MAX_GROUPS",
    "OUTSIDE",
    "Cell",
    "Matrix",
    "Party",
    "PortResult",
    "isolation",
    "matrix",
    "pod_to_pod",
    "through_service",
]


def matrix(
    cluster: Any,
    pods: list[dict[str, Any]] | None = None,
    outside: bool = True,
    max_groups: int = MAX_GROUPS,
) -> Matrix:
    """Which pods (and the outside client) reach which pods, on which ports.

    Parameters
    ----------
    cluster : Cluster
    pods : list of dict, optional
        The pods to show (default: every running pod with an address that is not on the
        host network).
    outside : bool
        Add the external client (198.51.100.7) as the first source.
    max_groups : int
        The most rows (and columns) of pods; the rest are counted in ``hidden``.

    Returns
    -------
    Matrix
        Sources, destinations and one :class:`Cell` per pair; each port says whether it is
        allowed and which policy decided it.

    Raises
    ------
    None of its own: a cluster without pods gives an empty matrix (stored policies were
    validated by the API server, so their CIDRs parse).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(ClusterConfig(cni="calico"), seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: db, labels: {app: db}}
    ... spec: {containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]}
    ... ---
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: api, labels: {app: api}}
    ... spec: {containers: [{name: api, image: nginx}]}
    ... ---
    ... apiVersion: networking.k8s.io/v1
    ... kind: NetworkPolicy
    ... metadata: {name: db-deny}
    ... spec: {podSelector: {matchLabels: {app: db}}}
    ... ''')
    >>> m = matrix(cluster, [p for p in cluster.list("Pod", "default")], outside=False)
    >>> m.cell("pod/default/api", "pod/default/db").state
    'denied'
    >>> m.cell("pod/default/db", "pod/default/api").state
    'allowed'
    """
    if pods is None:
        pods = cluster.list("Pod")
    pods = [p for p in pods if addressed(p)]
    blocks = ip_blocks(cluster)
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for pod in sorted(pods, key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"])):
        groups.setdefault(signature(pod, blocks), []).append(pod)
    members = list(groups.values())
    hidden = max(0, len(members) - max_groups)
    members = members[:max_groups]
    parties = [party(cluster, group) for group in members]
    by_key = {p.key: g for p, g in zip(parties, members, strict=True)}
    sources: list[Party] = []
    if outside:
        sources.append(
            Party(OUTSIDE, f"outside ({c.EXTERNAL_CLIENT_IP})", None, ip=c.EXTERNAL_CLIENT_IP)
        )
    sources += parties
    cells: dict[tuple[str, str], Cell] = {}
    exposed = verdicts.exposure(cluster) if outside else {}
    for dst in parties:
        target = by_key[dst.key]
        for src in sources:
            cell = Cell(src.key, dst.key)
            if src.key == OUTSIDE:
                verdicts.outside_cell(cluster, cell, target[0], dst.ports, exposed)
            else:
                sender, receiver = pair(by_key[src.key], target)
                if receiver is None:
                    cell.note = "a pod to itself: NetworkPolicy never blocks that"
                    cell.ports = [
                        PortResult(n, p, name, True, "", "A pod cannot block access to itself.")
                        for n, p, name in dst.ports
                    ]
                else:
                    cell.ports = [pod_to_pod(cluster, sender, receiver, *x) for x in dst.ports]
            cells[(src.key, dst.key)] = cell
    return Matrix(
        cluster.config.cni,
        policy.enforced(cluster),
        len(cluster.list("NetworkPolicy")),
        sources,
        parties,
        cells,
        hidden=hidden,
        grouped=sum(len(g) - 1 for g in members),
    )
