"""The same pod-to-pod request under each CNI plugin, side by side.

The cluster is copied and each copy switched to another plugin (:func:`rebuild.switch`: every
object keeps its name, Deployment pods included, and only the pods' addresses change), the
request is traced in each copy, and what differs is drawn out: the devices the packet
crosses, the outer header a tunnel adds and what it costs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from app.cluster import constants as c
from app.cluster import families, rebuild
from app.errors import PodpathError
from app.network.targets import parse_source
from app.network.trace import trace

#: Bytes a tunnel adds to every packet: VXLAN's outer Ethernet (14), IPv4 (20), UDP (8) and
#: VXLAN (8) headers; IP-in-IP's outer IPv4 header.
OVERHEAD = {"VXLAN": 50, "IP-in-IP": 20}
#: The MTU each plugin gives pods on a 1500-byte node network: flannel's VXLAN subtracts its
#: 50 bytes; Weave Net defaults to 1376; Calico uses 1480 with IP-in-IP and 1500 unwrapped.
#: Cilium leaves the pod's eth0 (and its lxc veth) at the device's 1500 and puts its route MTU
#: on the pod's routes: 1450 with VXLAN (routingMode: tunnel), 1500 with native routing
#: (pkg/mtu: GetDeviceMTU for the veth, GetRouteMTU for routes); the table holds that route
#: MTU, the room a pod packet gets.
CILIUM_DEVICE_MTU = 1500
POD_MTU = {
    "flannel": 1450,
    "weave": 1376,
    "calico-ipip": 1480,
    "calico": 1500,
    "cilium": 1450,
    "cilium-native": 1500,
}


@dataclass
class PluginRun:
    """One plugin's answer: the trace and what its datapath did."""

    cni: str
    current: bool  # the plugin the workspace runs now
    source_ip: str
    target_ip: str
    trace: dict[str, Any]
    tunnel: dict[str, Any] | None  # device, kind, outer src/dst, protocol, port, overhead
    mtu: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "cni": self.cni,
            "current": self.current,
            "source_ip": self.source_ip,
            "target_ip": self.target_ip,
            "trace": self.trace,
            "tunnel": self.tunnel,
            "mtu": self.mtu,
        }


def _tunnel(hops: list[dict[str, Any]]) -> dict[str, Any] | None:
    for hop in hops:
        if hop["action"] == "encapsulate":
            outer = hop["packet"].get("outer") or {}
            kind = "IP-in-IP" if outer.get("protocol") in ("IPIP", "IP-in-IP", "4") else "VXLAN"
            return {
                "device": hop["where"],
                "kind": kind,
                "outer_src": outer.get("src"),
                "outer_dst": outer.get("dst"),
                "protocol": outer.get("protocol"),
                "port": outer.get("port"),
                "overhead": OVERHEAD[kind],
            }
    return None


def compare_plugins(
    cluster: Any, source: str, target: str, port: int = 80, seed: int = 0
) -> list[PluginRun]:
    """Trace a request from one pod to another under every CNI plugin.

    Parameters
    ----------
    cluster : Cluster
        Not changed: each other plugin runs on a copy.
    source, target : str
        The pods, as ``<namespace>/<name>``: any pod with an IP, a Deployment's too (a copy
        keeps every pod's name).
    port : int
        The target pod's port.
    seed : int

    Returns
    -------
    list of PluginRun
        One per plugin, in :data:`app.cluster.constants.CNI_PLUGINS` order; on a cluster
        with IPv6, only the plugins that support it.

    Raises
    ------
    NotFound, InvalidObjects
        For a pod that does not exist or has no IP.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: a}
    ... spec: {nodeName: worker-1, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
    ... ---
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: b}
    ... spec: {nodeName: worker-2, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
    ... ''')
    >>> [(r.cni, (r.tunnel or {}).get("port")) for r in compare_plugins(cluster, "default/a", "default/b")]
    [('flannel', 8472), ('calico', None), ('weave', 6784), ('cilium', 8472)]
    """
    src_ns, _, src_name = source.partition("/")
    dst_ns, _, dst_name = target.partition("/")
    saved = json.dumps(cluster.to_state())
    runs = []
    for plugin in c.CNI_PLUGINS:
        if families.config_problems(replace(cluster.config, cni=plugin)):
            continue  # it cannot give pods this cluster's IPv6 addresses (Weave Net)
        current = plugin == cluster.config.cni
        copy = cluster
        if not current:
            copy = type(cluster).from_state(json.loads(saved))
            rebuild.switch(copy, cni=plugin)
        # parse_source: the pod must exist (NotFound) and have an IP (InvalidObjects).
        source_ip = parse_source(copy, f"pod/{src_ns}/{src_name}").ip
        target_ip = parse_source(copy, f"pod/{dst_ns}/{dst_name}").ip
        result = trace(copy, f"pod/{src_ns}/{src_name}", f"{target_ip}:{port}", seed).to_dict()
        tunnel = _tunnel(result["hops"])
        ipip = plugin == "calico" and tunnel is not None
        if plugin == "cilium" and copy.config.routing_mode == "native":
            plugin_mtu = "cilium-native"
        else:
            plugin_mtu = "calico-ipip" if ipip else plugin
        runs.append(
            PluginRun(
                plugin,
                current,
                source_ip,
                target_ip,
                result,
                tunnel,
                POD_MTU[plugin_mtu],
            )
        )
    return runs


def pods_of_request(cluster: Any, source: str, target: str, seed: int = 0) -> tuple[str, str, int]:
    """The two pods and the port to compare plugins on, for a request as the trace bar sends it.

    Parameters
    ----------
    cluster : Cluster
    source : str
        Where the request starts: must be a pod (``pod/<namespace>/<name>``).
    target : str
        Where it goes: a URL, a Service name, an IP and port, as for a trace.
    seed : int
        Which endpoint kube-proxy picks, as for a trace.

    Returns
    -------
    tuple of (str, str, int)
        The source and the pod the request reaches, as ``<namespace>/<name>``, and the port it
        reaches that pod on (the Service's targetPort, say).

    Raises
    ------
    PodpathError
        When the request does not start at a pod or reaches no pod (its verdict says why).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: a}
    ... spec: {nodeName: worker-1, containers: [{name: c, image: busybox}]}
    ... ---
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: b, labels: {app: b}}
    ... spec: {nodeName: worker-2, containers: [{name: c, image: nginx, ports: [{containerPort: 8080}]}]}
    ... ---
    ... apiVersion: v1
    ... kind: Service
    ... metadata: {name: b}
    ... spec: {selector: {app: b}, ports: [{port: 80, targetPort: 8080}]}
    ... ''')
    >>> pods_of_request(cluster, "pod/default/a", "http://b/")
    ('default/a', 'default/b', 8080)
    """
    if not source.startswith("pod/"):
        raise PodpathError(
            f'from: "{source}" is not a pod: CNI plugins are compared on a pod-to-pod request,'
            " so pick a pod in From"
        )
    traced = trace(cluster, source, target, seed)
    endpoint = traced.endpoint or {}
    if endpoint.get("kind") != "pod":
        raise PodpathError(
            f"to: the request to {target} reaches no pod ({traced.verdict}: {traced.reason})"
            " so there is nothing to compare; pick a Service or a pod address that answers"
        )
    return (
        source.removeprefix("pod/"),
        f"{endpoint['namespace']}/{endpoint['name']}",
        int(endpoint["port"]),
    )
