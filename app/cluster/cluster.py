"""A simulated Kubernetes cluster: its state plus the controllers that keep it consistent.

Every public method either reads, or validates everything first and then changes the state
and runs the controllers to a fixed point, returning what happened. If a changing method
raises anyway, the cluster may be part-changed: callers drop it and reload the last saved
state (the workspace service does).
"""

from __future__ import annotations

from typing import Any

from app.cluster import cilium_config, families, persistence
from app.cluster import constants as c
from app.cluster.change import Change
from app.cluster.controllers import endpoints, scheduling, workloads
from app.cluster.controllers.gateway import controller as envoy_gateway
from app.cluster.controllers.gateway import install
from app.cluster.deletion import delete_object
from app.cluster.objects import CLUSTER_SCOPED, key_of
from app.cluster.state import ClusterConfig, ClusterState, Event
from app.cluster.system_objects import install_system_objects
from app.errors import FieldError, InvalidObjects, NotFound

MAX_RECONCILE_ROUNDS = 50
_WATCHED = {"Node", "Deployment", "ReplicaSet", "DaemonSet", "Pod", "Service"}
_WATCHED |= envoy_gateway.WATCHED


class Cluster:
    """One simulated cluster.

    Examples
    --------
    >>> cluster = Cluster.create(ClusterConfig(cni="flannel", workers=2), seed=1)
    >>> [n["metadata"]["name"] for n in cluster.list("Node")]
    ['control-plane', 'worker-1', 'worker-2']
    >>> cluster.get("Service", "kube-system", "kube-dns")["spec"]["clusterIP"]
    '10.96.0.10'
    """

    def __init__(self, state: ClusterState) -> None:
        self.state = state

    # --- making and saving --------------------------------------------------------------
    @classmethod
    def create(
        cls, config: ClusterConfig | None = None, seed: int = 0, now: float | None = None
    ) -> Cluster:
        """A new cluster holding the default kubeadm set-up of DESIGN.md.

        Parameters
        ----------
        config : ClusterConfig
            CNI plugin, kube-proxy mode, number of workers and quotas.
        seed : int
            Seeds every random choice (names, ClusterIPs, scheduling ties).
        now : float, optional
            The time it is made at (seconds since 1970), its objects' creationTimestamp;
            without it, :data:`app.cluster.clock.DEFAULT_NOW`.

        Raises
        ------
        InvalidObjects
            When the CNI plugin, proxy mode or worker count is not one Podpath offers.
        """
        config = config or ClusterConfig()
        check_config(config)
        cluster = cls(ClusterState(config, seed))
        if now is not None:
            cluster.state.now = now
        install_system_objects(cluster)
        cluster.state.events.clear()  # a fresh cluster starts with an empty event list
        return cluster

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Cluster:
        """Rebuild a cluster from :meth:`to_state` output (parsed from JSON, not shared)."""
        cluster = cls(persistence.restore(persistence.Saved.from_dict(state)))
        if not install.installed(cluster):
            # Saved before every sandbox had Envoy Gateway: install it now, the same way each
            # time it loads; the next save keeps it.
            install.install_envoy_gateway(cluster)
        return cluster

    def replace_with(self, other: Cluster) -> None:
        """Become ``other`` (a reset, or the same objects on another CNI or proxy mode); the
        next save rewrites the workspace whole. The lessons' notes stay: they are about the
        learner, not the cluster. The change being made goes on at the same time."""
        other.state.notes = self.state.notes
        other.state.lineage = self.state.lineage + 1
        other.state.now = self.state.now
        self.state = other.state
        self.state.replaced = True

    def to_state(self) -> dict[str, Any]:
        """The whole state as JSON-ready data (sharing the live objects: serialise it now)."""
        return persistence.snapshot(self.state).to_dict()

    @property
    def config(self) -> ClusterConfig:
        return self.state.config

    # --- reading ------------------------------------------------------------------------
    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None. ``namespace`` is ignored for cluster-scoped kinds."""
        return self.state.get(kind, "" if kind in CLUSTER_SCOPED else namespace, name)

    def require(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        obj = self.get(kind, namespace, name)
        if obj is None:
            raise NotFound(f'{resource_name(kind)} "{name}" not found')
        return obj

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of one kind, sorted by namespace and name."""
        objs = self.state.of_kind(kind, namespace)
        return sorted(
            objs, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])
        )

    def is_user_made(self, obj: dict[str, Any]) -> bool:
        return key_of(obj) in self.state.applied

    def events(self) -> list[Event]:
        """The cluster's events, oldest first."""
        return list(self.state.events)

    def summary(self) -> dict[str, Any]:
        """Nodes, settings and object counts."""
        counts = {kind: len(objs) for kind, objs in sorted(self.state.by_kind.items()) if objs}
        return {
            "settings": {
                "cni": self.config.cni,
                "proxyMode": self.config.proxy_mode,
                **({"calicoMode": self.config.calico_mode} if self.config.cni == "calico" else {}),
                **cilium_config.summary(self.config),
                "workers": sum(1 for n in self.list("Node") if not _is_control_plane(n)),
                **families.summary(self.config),
                "nodePortRange": f"{c.NODE_PORT_MIN}-{c.NODE_PORT_MAX}",
                "clusterDomain": c.CLUSTER_DOMAIN,
            },
            "nodes": [self.node_summary(n) for n in self.list("Node")],
            "counts": counts,
            "userObjects": len(self.state.applied),
        }

    def node_summary(self, node: dict[str, Any]) -> dict[str, Any]:
        name = node["metadata"]["name"]
        addressing = self.state.ipam.nodes.get(name)
        return {
            "name": name,
            "internalIP": scheduling.node_internal_ip(node),
            "internalIPs": scheduling.node_internal_ips(node),
            "ready": scheduling.node_is_ready(node),
            "roles": "control-plane" if _is_control_plane(node) else "<none>",
            "podCIDRs": [
                r for ipam in self.state.ipams() for r in ipam.nodes.get(name, addressing).ranges
            ]
            if addressing
            else [],
            "gateway": {"device": addressing.device, "ip": addressing.gateway_ip}
            if addressing
            else None,
            "pods": len(self.state.pods_by_node.get(name, ())),
        }

    # --- controllers --------------------------------------------------------------------
    def reconcile(self) -> None:
        """Run the controllers until nothing is left to do."""
        state = self.state
        for _round in range(MAX_RECONCILE_ROUNDS):
            work = {kind: set(keys) for kind, keys in state.dirty.items() if keys}
            state.dirty.clear()
            if not work.keys() & _WATCHED and not state.touched_owners:
                return
            if "Node" in work:
                changed_nodes = {k.name for k in work["Node"]}
                work.setdefault("DaemonSet", set()).update(map(key_of, state.of_kind("DaemonSet")))
                for pod in state.of_kind("Pod"):
                    node = pod["spec"].get("nodeName")
                    if not node or node in changed_nodes:
                        work.setdefault("Pod", set()).add(key_of(pod))
            for key in sorted(work.get("Deployment", ())):
                workloads.sync_deployment(state, key)
            for key in sorted(work.get("ReplicaSet", set()) | state.dirty.pop("ReplicaSet", set())):
                workloads.sync_replicaset(state, key)
            for key in sorted(work.get("DaemonSet", ())):
                workloads.sync_daemonset(state, key)
            for key in sorted(work.get("Pod", set()) | state.dirty.pop("Pod", set())):
                scheduling.schedule(state, key)
                scheduling.start(state, key)
            owners, state.touched_owners = state.touched_owners, set()
            for kind, namespace, name in sorted(owners):
                workloads.refresh_owner_status(state, kind, namespace, name)
            for key in sorted(work.get("Service", set()) | state.dirty.pop("Service", set())):
                endpoints.sync_service(state, key)
            # Envoy Gateway last: it reads the load balancer IPs and Deployments just synced.
            if envoy_gateway.needed(state, set(work)):
                envoy_gateway.sync(state)
        raise RuntimeError("the controllers did not settle")  # a bug, not a user error

    # --- changes ------------------------------------------------------------------------
    def delete(self, kind: str, namespace: str, name: str) -> Change:
        """Delete an object the way ``kubectl delete`` does, then let the controllers react.

        Deleting a Deployment's pod makes its ReplicaSet create a replacement with a new name
        and IP; deleting a Namespace deletes everything in it; deleting a Node evicts its pods.

        Raises
        ------
        NotFound
            When there is no such object.
        Forbidden
            For the namespaces Kubernetes protects and the control-plane node.
        """
        return delete_object(self, kind, namespace, name)


def check_config(config: ClusterConfig) -> None:
    """Refuse settings Podpath does not offer, naming each field as the API server would.

    Raises
    ------
    InvalidObjects
        For an unknown CNI plugin, kube-proxy mode or Calico mode, or too many workers.

    Examples
    --------
    >>> check_config(ClusterConfig(cni="calico", proxy_mode="nftables"))
    >>> try:
    ...     check_config(ClusterConfig(cni="canal"))
    ... except InvalidObjects as error:
    ...     print(error.errors[0].message)
    Unsupported value: "canal": supported values: "flannel", "calico", "weave", "cilium"
    """
    problems = []
    if config.cni not in c.CNI_PLUGINS:
        problems.append(FieldError("cni", _unsupported(config.cni, c.CNI_PLUGINS)))
    if config.proxy_mode not in c.PROXY_MODES:
        problems.append(FieldError("proxyMode", _unsupported(config.proxy_mode, c.PROXY_MODES)))
    if config.calico_mode not in c.CALICO_MODES:
        problems.append(FieldError("calicoMode", _unsupported(config.calico_mode, c.CALICO_MODES)))
    if config.routing_mode not in c.CILIUM_ROUTING_MODES:
        problems.append(
            FieldError("routingMode", _unsupported(config.routing_mode, c.CILIUM_ROUTING_MODES))
        )
    problems += cilium_config.load_balancer_problems(config)
    problems += families.config_problems(config)
    if not 1 <= config.workers <= config.max_workers:
        problems.append(
            FieldError(
                "workers",
                f"Invalid value: {config.workers}: must be between 1 and "
                f"{config.max_workers}, inclusive",
            )
        )
    if problems:
        raise InvalidObjects("the cluster settings are invalid", problems)


def _is_control_plane(node: dict[str, Any]) -> bool:
    return "node-role.kubernetes.io/control-plane" in (node["metadata"].get("labels") or {})


def _unsupported(value: str, choices: tuple[str, ...]) -> str:
    listed = ", ".join(f'"{x}"' for x in choices)
    return f'Unsupported value: "{value}": supported values: {listed}'


def resource_name(kind: str) -> str:
    """The plural, lower-case resource name the API server uses in messages.

    >>> resource_name("Ingress"), resource_name("NetworkPolicy"), resource_name("Pod")
    ('ingresses', 'networkpolicies', 'pods')
    """
    lower = kind.lower()
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"
