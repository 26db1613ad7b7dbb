"""What the Terminal tab completes with Tab: the commands of each place, kubectl's verbs,
resources and flags, and the names of the cluster's objects (sent with the tab and with
every answer, so names made by a command complete at once)."""

from __future__ import annotations

from typing import Any

from app.terminal.interpreter import COMMANDS
from app.terminal.kubectl import VERBS
from app.terminal.node_commands import interface_names

RESOURCES = [
    "pods",
    "services",
    "deployments",
    "replicasets",
    "endpoints",
    "endpointslices",
    "nodes",
    "namespaces",
    "ingresses",
    "ingressclasses",
    "networkpolicies",
    "gatewayclasses",
    "gateways",
    "httproutes",
    "grpcroutes",
    "referencegrants",
    "events",
    "all",
]
KUBECTL_FLAGS = [
    "--namespace=",
    "--all-namespaces",
    "--selector=",
    "--output=",
    "-o=wide",
    "-o=yaml",
    "-o=json",
    "-o=name",
    "--show-labels",
    "--no-headers",
    "--image=",
    "--replicas=",
    "--port=",
    "--target-port=",
    "--type=",
    "--name=",
    "--tcp=",
    "--overwrite",
    "--filename=",
    "-it",
    "--",
]
TOOL_FLAGS = {
    "curl": ["-v", "-s", "-I", "-H", "--resolve", "-m", "-o", "/dev/null", "-w", "-f", "-X"],
    "wget": ["-qO-"],
    "dig": ["+short", "+search", "-x", "SRV", "PTR", "AAAA", "CNAME"],
    "nc": ["-zv", "-u", "-w"],
    "ping": ["-c"],
    "iptables-save": ["-c", "-t", "nat", "filter"],
    "ip6tables-save": ["-c", "-t", "nat", "filter"],
    "iptables": ["-t", "nat", "filter", "-S", "KUBE-SERVICES", "KUBE-NODEPORTS"],
    "ipvsadm": ["-Ln"],
    "nft": ["list", "ruleset"],
    "cilium-dbg": ["service", "bpf", "lb", "ipcache", "list"],
    "cilium": ["service", "bpf", "lb", "ipcache", "list"],
    "conntrack": ["-L"],
    "ip": ["addr", "route", "neigh"],
    "bridge": ["fdb", "show"],
    "tcpdump": ["-ni"],
    "cat": ["/etc/resolv.conf", "/etc/hosts", "/etc/hostname"],
    "hostname": ["-i"],
}


def completions(cluster: Any) -> dict[str, Any]:
    """Everything the tab's script completes from, as JSON.

    >>> from app.cluster.scenarios import build
    >>> data = completions(build("web-service"))
    >>> data["names"]["pods"][:2], "exec" in data["kubectl"]["verbs"]
    (['client', 'web-ff67c48df-2q97c'], True)
    """
    names = {
        "pods": _names(cluster, "Pod"),
        "services": _names(cluster, "Service"),
        "deployments": _names(cluster, "Deployment"),
        "replicasets": _names(cluster, "ReplicaSet"),
        "nodes": _names(cluster, "Node"),
        "namespaces": _names(cluster, "Namespace"),
        "ingresses": _names(cluster, "Ingress"),
        "networkpolicies": _names(cluster, "NetworkPolicy"),
        "gatewayclasses": _names(cluster, "GatewayClass"),
        "gateways": _names(cluster, "Gateway"),
        "httproutes": _names(cluster, "HTTPRoute"),
        "grpcroutes": _names(cluster, "GRPCRoute"),
        "referencegrants": _names(cluster, "ReferenceGrant"),
    }
    names["endpoints"] = names["services"]
    return {
        "commands": {place: [*commands, "help"] for place, commands in COMMANDS.items()},
        "kubectl": {"verbs": VERBS, "resources": RESOURCES, "flags": KUBECTL_FLAGS},
        "tools": TOOL_FLAGS,
        "names": names,
        "interfaces": {node: interface_names(cluster, node) for node in names["nodes"]},
    }


def _names(cluster: Any, kind: str) -> list[str]:
    """The names of one kind, the default namespace's first (what a learner types most)."""
    ordered = sorted(
        cluster.list(kind),
        key=lambda o: (
            o["metadata"].get("namespace", "default") != "default",
            o["metadata"]["name"],
        ),
    )
    return list(dict.fromkeys(o["metadata"]["name"] for o in ordered))
