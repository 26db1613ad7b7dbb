"""A cluster made again: reset to the defaults, or the same cluster on another CNI plugin or
kube-proxy mode.

A switch changes the cluster in place so that the two can be compared name for name: every
object keeps its name (pods, ReplicaSets with their pod-template-hash, Services,
EndpointSlices) and only addresses change. A real cluster cannot do that: a pod keeps its IP
for its whole life and a node's podCIDR is immutable, so a CNI migration drains the nodes and
restarts every pod (Deployment pods come back under new names, bare pods are recreated by
hand); the report says so. A new CNI plugin brings its own pod network, so
each node gets a range of it and each pod a new IP there (the EndpointSlices follow); the
plugin's agent DaemonSet is replaced by the new one's. Services keep their ClusterIPs,
NodePorts and load-balancer IPs: the service network is not the pod network. A new
kube-proxy mode only changes the rules each node programs: no address changes at all.
:func:`switch` returns a :class:`SwitchReport` saying what changed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from app.cluster import bootstrap
from app.cluster import constants as c
from app.cluster.apply import install_system_manifest
from app.cluster.cilium_config import check_choices, replaces_kube_proxy
from app.cluster.cluster import Cluster, check_config
from app.cluster.ipam import Ipam
from app.cluster.objects import ObjectKey, key_of


def reset(cluster: Cluster) -> None:
    """Back to a fresh default cluster with the same settings; the learner's objects go.

    >>> from app.cluster.apply import apply_text
    >>> from app.cluster.state import ClusterConfig
    >>> c = Cluster.create(ClusterConfig(cni="weave"), seed=1)
    >>> _ = apply_text(c, "apiVersion: v1\\nkind: Namespace\\nmetadata: {name: shop}\\n")
    >>> reset(c)
    >>> c.get("Namespace", "", "shop") is None, c.config.cni
    (True, 'weave')
    """
    state = cluster.state
    cluster.replace_with(Cluster.create(cluster.config, seed=state.seed, now=state.now))


@dataclass
class Readdressed:
    """One object a switch gave a new address: a pod's IP, a node's pod range, a ClusterIP."""

    kind: str
    namespace: str
    name: str
    old: str
    new: str

    @property
    def ref(self) -> str:
        """``pod/web-7d4b9c-x2x9q``; the namespace is named when it is not ``default``."""
        where = f"{self.namespace}/" if self.namespace not in ("", "default") else ""
        return f"{self.kind.lower()}/{where}{self.name}"

    def line(self) -> str:
        what = " pod range" if self.kind == "Node" else ""
        return f"{self.ref}{what}: {self.old} → {self.new}"

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "old": self.old,
            "new": self.new,
        }


@dataclass
class SwitchReport:
    """What a switch changed: settings, the pod network, and every address, old → new."""

    cni: tuple[str, str]
    proxy_mode: tuple[str, str]
    pod_network: tuple[str, str]
    nodes: list[Readdressed] = field(default_factory=list)  # each node's pod range
    pods: list[Readdressed] = field(default_factory=list)
    services: list[Readdressed] = field(default_factory=list)  # ClusterIPs (none, normally)
    removed: list[str] = field(default_factory=list)  # the old plugin's own objects
    added: list[str] = field(default_factory=list)  # the new plugin's
    # Whether Cilium's eBPF replaced kube-proxy before and after, and Cilium's routing mode
    # before and after ("" on another plugin).
    replaced: tuple[bool, bool] = (False, False)
    routing: tuple[str, str] = ("", "")
    balancing: tuple[str, str] = ("", "")  # Cilium's loadBalancer.mode before and after

    @property
    def changed(self) -> bool:
        return (
            self.cni[0] != self.cni[1]
            or self.proxy_mode[0] != self.proxy_mode[1]
            or self.replaced[0] != self.replaced[1]
            or self.routing[0] != self.routing[1]
            or self.balancing[0] != self.balancing[1]
        )

    def _proxy(self, side: int) -> str:
        if self.replaced[side]:
            return "replaced by Cilium's eBPF (kubeProxyReplacement: true)"
        return f"kube-proxy in {self.proxy_mode[side]} mode"

    def lines(self) -> list[str]:
        """The report as the sandbox shows it, one line per change.

        >>> report = SwitchReport(("flannel", "flannel"), ("iptables", "ipvs"),
        ...                       ("10.244.0.0/16", "10.244.0.0/16"))
        >>> report.lines()[0]
        'kube-proxy mode: iptables → ipvs'
        """
        if not self.changed:
            return [
                f"Nothing to switch: the cluster already runs {self.cni[1]} with kube-proxy "
                f"in {self.proxy_mode[1]} mode."
            ]
        lines = []
        if self.cni[0] != self.cni[1]:
            lines.append(f"CNI plugin: {self.cni[0]} → {self.cni[1]}")
        if self.replaced[0] != self.replaced[1]:
            lines.append(f"Services: {self._proxy(0)} → {self._proxy(1)}")
        elif self.proxy_mode[0] != self.proxy_mode[1] and not self.replaced[1]:
            lines.append(f"kube-proxy mode: {self.proxy_mode[0]} → {self.proxy_mode[1]}")
        if self.routing[0] and self.routing[1] and self.routing[0] != self.routing[1]:
            lines.append(f"Cilium routingMode: {self.routing[0]} → {self.routing[1]}")
        if self.balancing[0] and self.balancing[1] and self.balancing[0] != self.balancing[1]:
            lines.append(f"Cilium loadBalancer.mode: {self.balancing[0]} → {self.balancing[1]}")
        if self.pod_network[0] != self.pod_network[1]:
            lines.append(f"Pod network: {self.pod_network[0]} → {self.pod_network[1]}")
        lines += [entry.line() for entry in self.nodes]
        lines += [entry.line() for entry in self.pods]
        lines += [entry.line() for entry in self.services]
        if self.removed or self.added:
            lines.append(
                "CNI agent: "
                + ", ".join(
                    [f"{r} removed" for r in self.removed] + [f"{a} added" for a in self.added]
                )
            )
        if self.cni[0] != self.cni[1]:
            if not self.services:
                lines.append(
                    f"Services keep their ClusterIPs ({c.SERVICE_CIDR} is not the pod network); "
                    "their EndpointSlices now list the new pod IPs."
                )
        else:
            lines.append("No address changed: only the rules kube-proxy writes on each node.")
        lines.append("Every object kept its name.")
        if self.cni[0] != self.cni[1]:
            lines.append(
                "In a real cluster a pod keeps its IP for life: moving to another CNI plugin "
                "restarts every pod (a Deployment's pods come back under new names). Podpath "
                "keeps the names so you can compare the addresses."
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "cni": {"old": self.cni[0], "new": self.cni[1]},
            "proxyMode": {"old": self.proxy_mode[0], "new": self.proxy_mode[1]},
            "podNetwork": {"old": self.pod_network[0], "new": self.pod_network[1]},
            "nodes": [e.to_dict() for e in self.nodes],
            "pods": [e.to_dict() for e in self.pods],
            "services": [e.to_dict() for e in self.services],
            "removed": list(self.removed),
            "added": list(self.added),
            "kubeProxyReplacement": {"old": self.replaced[0], "new": self.replaced[1]},
            "loadBalancerMode": {"old": self.balancing[0], "new": self.balancing[1]},
            "lines": self.lines(),
        }


def switch(
    cluster: Cluster,
    cni: str | None = None,
    proxy_mode: str | None = None,
    kube_proxy_replacement: bool | None = None,
    routing_mode: str | None = None,
    load_balancer_mode: str | None = None,
) -> SwitchReport:
    """The same cluster on another CNI plugin or kube-proxy mode: names kept, re-addressed.

    Parameters
    ----------
    cluster : Cluster
        Changed in place.
    cni, proxy_mode : str, optional
        The new CNI plugin and kube-proxy mode; None (or the current one) keeps it.
    kube_proxy_replacement : bool, optional
        With Cilium: whether its eBPF replaces kube-proxy; None keeps the setting.
    routing_mode : str, optional
        With Cilium: ``tunnel`` or ``native``; None keeps the setting.
    load_balancer_mode : str, optional
        With Cilium: ``snat`` or ``dsr`` (Helm ``loadBalancer.mode``); None keeps it.

    Returns
    -------
    SwitchReport
        The settings and pod network old → new, each node's pod range and each pod's IP
        old → new, and the CNI agent objects removed and added.

    Raises
    ------
    InvalidObjects
        For a CNI plugin or mode Podpath does not offer (nothing is changed).

    Examples
    --------
    >>> from app.cluster.apply import apply_text
    >>> c = Cluster.create(seed=1)
    >>> _ = apply_text(c, "apiVersion: v1\\nkind: Pod\\nmetadata: {name: a}\\n"
    ...                   "spec: {nodeName: worker-1, containers: [{name: c, image: nginx}]}\\n")
    >>> report = switch(c, cni="calico")
    >>> c.config.cni, c.node_summary(c.get("Node", "", "worker-1"))["gateway"]["device"]
    ('calico', 'tunl0')
    >>> report.pod_network, report.pods[0].line()
    (('10.244.0.0/16', '192.168.0.0/16'), 'pod/a: 10.244.1.4 → 192.168.0.67')
    >>> switch(c, proxy_mode="ipvs").pods
    []
    """
    state = cluster.state
    old = state.config
    new = replace(
        old,
        cni=cni or old.cni,
        proxy_mode=proxy_mode or old.proxy_mode,
        kube_proxy_replacement=old.kube_proxy_replacement
        if kube_proxy_replacement is None
        else bool(kube_proxy_replacement),
        routing_mode=routing_mode or old.routing_mode,
        load_balancer_mode=load_balancer_mode or old.load_balancer_mode,
    )
    check_config(new)
    check_choices(
        new.cni,
        new.kube_proxy_replacement,
        proxy_mode_given=proxy_mode is not None and proxy_mode != old.proxy_mode,
        replacement_given=kube_proxy_replacement is not None,
        routing_mode_given=routing_mode is not None,
        load_balancer_mode_given=load_balancer_mode is not None,
    )
    report = SwitchReport(
        (old.cni, new.cni),
        (old.proxy_mode, new.proxy_mode),
        (str(c.POD_NETWORK[old.cni]), str(c.POD_NETWORK[new.cni])),
        replaced=(replaces_kube_proxy(old), replaces_kube_proxy(new)),
        routing=tuple(  # type: ignore[arg-type]
            config.routing_mode if config.cni == "cilium" else "" for config in (old, new)
        ),
        balancing=tuple(  # type: ignore[arg-type]
            config.load_balancer_mode if replaces_kube_proxy(config) else ""
            for config in (old, new)
        ),
    )
    if not report.changed:
        state.config = new  # a setting read by no plugin now (Cilium's, on flannel) is kept
        return report
    cluster_ips = _cluster_ips(cluster)
    state.config = new
    if new.cni != old.cni or report.replaced[0] != report.replaced[1]:
        report.removed, report.added = _swap_agent(cluster, old, new)
    if new.cni != old.cni:
        report.nodes, report.pods = _readdress(cluster)
        cluster.reconcile()
    for key, ip in _cluster_ips(cluster).items():
        if cluster_ips.get(key, ip) != ip:
            report.services.append(Readdressed(*key, cluster_ips[key], ip))
    state.memo.clear()  # the network engine's views were built for the old settings
    return report


def _cluster_ips(cluster: Cluster) -> dict[tuple[str, str, str], str]:
    return {
        ("Service", s["metadata"]["namespace"], s["metadata"]["name"]): s["spec"]["clusterIP"]
        for s in cluster.list("Service")
        if s["spec"].get("clusterIP") not in (None, "None")
    }


def _swap_agent(cluster: Cluster, before: Any, after: Any) -> tuple[list[str], list[str]]:
    """Remove the old plugin's own objects (its agent DaemonSet and, when nothing else is in
    it, its namespace; kube-proxy's when Cilium now replaces it) and install the new plugin's.
    Returns what went and what came."""
    old, new = (
        {
            key_of(m): m
            for m in [
                *bootstrap.namespaces(config.cni),
                *bootstrap.system_workloads(config.cni, not replaces_kube_proxy(config)),
            ]
        }
        for config in (before, after)
    )
    state = cluster.state
    removed, added = [], []
    # Workloads first, then namespaces (left alone if the learner put something in them).
    for key in sorted(old.keys() - new.keys(), key=lambda k: k.kind == "Namespace"):
        if state.objects.get(key) is None:
            continue
        if key.kind == "Namespace" and any(k.namespace == key.name for k in state.objects):
            continue
        cluster.delete(key.kind, key.namespace, key.name)
        removed.append(_ref(key))
    for key, manifest in new.items():
        if key not in old and state.objects.get(key) is None:
            install_system_manifest(cluster, manifest)
            added.append(_ref(key))
    cluster.reconcile()
    return removed, added


def _ref(key: ObjectKey) -> str:
    where = f" ({key.namespace})" if key.namespace else ""
    return f"{key.kind.lower()}/{key.name}{where}"


def _readdress(cluster: Cluster) -> tuple[list[Readdressed], list[Readdressed]]:
    """Give every node a range of the new plugin's pod network, in the order the nodes
    joined, and every pod (host-network pods aside) a new IP on its node, in the order of
    its old address. Returns the nodes' and the pods' changes."""
    state = cluster.state
    old_ipam = state.ipam
    ipam = Ipam(state.config.cni, old_ipam.family)
    ipam6 = Ipam(state.config.cni, "IPv6") if state.ipam6 is not None else None  # dual-stack
    names = list(old_ipam.nodes)
    names += sorted(
        n["metadata"]["name"]
        for n in state.of_kind("Node")
        if n["metadata"]["name"] not in old_ipam.nodes
    )
    node_changes = []
    for name in names:
        if state.get("Node", "", name) is None:
            continue
        before = old_ipam.nodes.get(name)
        addressing = ipam.add_node(name)
        ranges = [addressing.ranges[0]] + ([ipam6.add_node(name).ranges[0]] if ipam6 else [])
        state.modify(
            ObjectKey("Node", "", name),
            lambda node, r=ranges: _set_pod_cidr(node, r, state.config.cni),
        )
        node_changes.append(
            Readdressed(
                "Node",
                "",
                name,
                ", ".join(before.ranges) if before else "none",
                ", ".join(addressing.ranges),
            )
        )
    state.ipam, state.ipam6 = ipam, ipam6
    order = {name: index for index, name in enumerate(names)}
    pods = [
        p
        for p in state.of_kind("Pod")
        if (p.get("status") or {}).get("podIP")
        and not p["spec"].get("hostNetwork")
        and p["spec"].get("nodeName") in ipam.nodes
    ]
    pods.sort(
        key=lambda p: (
            order[p["spec"]["nodeName"]],
            int(ipaddress.ip_address(p["status"]["podIP"])),
        )
    )
    pod_changes = []
    for pod in pods:
        meta = pod["metadata"]
        old_ip = pod["status"]["podIP"]
        ip = ipam.allocate(pod["spec"]["nodeName"])
        ips = [ip] + ([ipam6.allocate(pod["spec"]["nodeName"])] if ipam6 else [])
        state.modify(key_of(pod), lambda p, ips=ips: _set_pod_ip(p, ips), status_only=True)
        pod_changes.append(Readdressed("Pod", meta["namespace"], meta["name"], old_ip, ip))
    system = {n["metadata"]["name"] for n in bootstrap.namespaces(state.config.cni)} - {"default"}
    pod_changes.sort(key=lambda e: (e.namespace in system, e.namespace, e.name))
    return node_changes, pod_changes


def _set_pod_cidr(node: dict[str, Any], cidrs: list[str], cni: str) -> None:
    spec = node.setdefault("spec", {})
    if cni == "weave":  # Weave Net splits its own range; kube-controller-manager assigns none
        spec.pop("podCIDR", None)
        spec.pop("podCIDRs", None)
    else:
        spec["podCIDR"] = cidrs[0]
        spec["podCIDRs"] = cidrs


def _set_pod_ip(pod: dict[str, Any], ips: list[str]) -> None:
    pod["status"]["podIP"] = ips[0]
    pod["status"]["podIPs"] = [{"ip": ip} for ip in ips]
