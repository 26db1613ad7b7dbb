"""A sandbox, ready to replay on a real cluster made with kind (https://kind.sigs.k8s.io).

Three files come out of a :class:`~app.cluster.cluster.Cluster`:

- ``kind-config.yaml``, a kind ``Cluster`` (``kind.x-k8s.io/v1alpha4``) with the sandbox's
  nodes, pod and Service subnets and kube-proxy mode. kind installs its own CNI plugin,
  kindnet, unless ``networking.disableDefaultCNI`` is true: the sandbox's flannel, Calico or
  Weave Net is installed by hand after ``kind create cluster``.
- ``manifests.yaml``, the learner's objects (:func:`app.cluster.export.export_objects`),
  without Nodes (kind makes its own).
- ``replay.sh``, the commands to make the cluster, install the CNI, apply the manifests and
  send again the requests the learner traced (as ``kubectl exec … -- curl``), with what a real
  cluster will show differently written at the top.
"""

from __future__ import annotations

import shlex
from typing import Any

import yaml

from app.cluster import constants as c
from app.cluster import families, kind_gateway
from app.cluster.cilium_config import replaces_kube_proxy
from app.cluster.cluster import Cluster
from app.cluster.export import export_objects
from app.cluster.manifests import dump_manifests

KIND_API_VERSION = "kind.x-k8s.io/v1alpha4"
#: Where the Terminal keeps its log in a workspace's notes (:data:`app.terminal.replay.NOTE`).
TERMINAL_NOTE = "terminal"
#: The name given to ``kind create cluster --name``; kind names the node containers after it.
CLUSTER_NAME = "podpath"

#: The command that installs each CNI plugin kind does not ship, from each project's docs
#: (checked 2026-12; Cilium's takes the sandbox's settings, see :func:`cni_install`):
CNI_INSTALL = {
    # flannel's README, "Getting started on Kubernetes" (github.com/flannel-io/flannel): the
    # manifest of the latest release; its default network is the sandbox's 10.244.0.0/16.
    "flannel": "kubectl apply -f https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml",
    # Calico's "Install Calico networking and network policy for on-premises deployments",
    # Manifest tab (docs.tigera.io/calico/latest/getting-started/kubernetes/self-managed-onprem/
    # onpremises): the release's calico.yaml; its pool is the sandbox's 192.168.0.0/16. 3.33.0
    # is the latest release (docs.tigera.io/calico/latest says 3.33).
    "calico": "kubectl apply -f https://raw.githubusercontent.com/projectcalico/calico/v3.33.0/manifests/calico.yaml",
    # Weave Net is archived: its last release's manifest (github.com/weaveworks/weave, v2.8.1).
    "weave": "kubectl apply -f https://github.com/weaveworks/weave/releases/download/v2.8.1/weave-daemonset-k8s.yaml",
    # Cilium's "Installation using Helm" (docs.cilium.io, kind and Helm tabs): its chart from
    # helm.cilium.io, pinned to the release the sandbox models.
    "cilium": "helm repo add cilium https://helm.cilium.io/ && helm install cilium "
    f"cilium/cilium --version {c.CILIUM_VERSION} --namespace kube-system",
}
CNI_TITLE = {"flannel": "flannel", "calico": "Calico", "weave": "Weave Net", "cilium": "Cilium"}


def cni_install(config: Any) -> str:
    """The command that installs the sandbox's CNI plugin; Cilium's with the sandbox's Helm
    values: its routing mode, its cluster-pool (see ``constants.CILIUM_POOL``) and, with
    kube-proxy replacement, the API server's address (no kube-proxy serves the
    ``kubernetes`` Service to Cilium's agent while it starts).

    >>> from app.cluster.state import ClusterConfig
    >>> command = cni_install(ClusterConfig(cni="cilium"))
    >>> [s for s in command.split() if s.startswith(("routingMode", "kubeProxy", "k8sService"))]
    ['routingMode=tunnel', 'kubeProxyReplacement=true', 'k8sServiceHost=podpath-control-plane', 'k8sServicePort=6443']
    >>> command = cni_install(ClusterConfig(cni="cilium", ip_family="ipv6"))
    >>> [s for s in command.split() if s.startswith(("ipv", "ipam.operator"))]
    ['ipv6.enabled=true', 'ipv4.enabled=false', 'ipam.operator.clusterPoolIPv6PodCIDRList=fd00::/104', 'ipam.operator.clusterPoolIPv6MaskSize=120']
    """
    if config.cni != "cilium":
        return CNI_INSTALL[config.cni]
    v4, v6 = config.ip_family != "ipv6", config.ip_family != "ipv4"
    values = [f"routingMode={config.routing_mode}"]
    if config.routing_mode == "tunnel":
        values.append("tunnelProtocol=vxlan")
    else:  # native routing: the pod network is routed as it is, each node's range by address
        values += [f"ipv4NativeRoutingCIDR={c.CILIUM_POOL}"] if v4 else []
        values += [f"ipv6NativeRoutingCIDR={c.CILIUM_POOL6}"] if v6 else []
        values.append("autoDirectNodeRoutes=true")
    # IPv6 is off in the chart by default (ipv6.enabled: false) and IPv4 on; an IPv6 cluster
    # turns IPv4 off. The IPv6 pool is the chart's default, written out to be seen.
    values += ["ipv6.enabled=true"] if v6 else []
    values += [] if v4 else ["ipv4.enabled=false"]
    values.append("ipam.mode=cluster-pool")
    if v4:
        values += [
            f"ipam.operator.clusterPoolIPv4PodCIDRList={c.CILIUM_POOL}",
            f"ipam.operator.clusterPoolIPv4MaskSize={c.CILIUM_MASK_SIZE}",
        ]
    if v6:
        values += [
            f"ipam.operator.clusterPoolIPv6PodCIDRList={c.CILIUM_POOL6}",
            f"ipam.operator.clusterPoolIPv6MaskSize={c.CILIUM_MASK_SIZE6}",
        ]
    if config.load_balancer_mode == "dsr":
        values.append("loadBalancer.mode=dsr")
    if config.kube_proxy_replacement:
        values += [
            "kubeProxyReplacement=true",
            f"k8sServiceHost={CLUSTER_NAME}-control-plane",
            f"k8sServicePort={c.API_SERVER_PORT}",
        ]
    else:
        values.append("kubeProxyReplacement=false")
    sets = [f"--set {v}" for v in values]
    lines, line = [], CNI_INSTALL["cilium"]
    for item in sets:
        if len(line) + len(item) + 1 > 90:
            lines.append(line + " \\")
            line = "  " + item
        else:
            line += " " + item
    return "\n".join([*lines, line])


INGRESS_NGINX_FOR_KIND = (
    "kubectl apply -f https://raw.githubusercontent.com/kubernetes/ingress-nginx/main/"
    "deploy/static/provider/kind/deploy.yaml"
)


def kind_config(cluster: Cluster) -> dict[str, Any]:
    """The kind ``Cluster`` config that makes a cluster shaped like this sandbox.

    >>> from app.cluster.state import ClusterConfig
    >>> config = kind_config(Cluster.create(ClusterConfig(cni="calico", proxy_mode="ipvs")))
    >>> [n["role"] for n in config["nodes"]]
    ['control-plane', 'worker', 'worker']
    >>> config["networking"]
    {'disableDefaultCNI': True, 'podSubnet': '192.168.0.0/16', 'serviceSubnet': '10.96.0.0/12', 'kubeProxyMode': 'ipvs'}
    """
    nodes = cluster.list("Node")
    workers = sum(1 for node in nodes if not _is_control_plane(node))
    networking: dict[str, Any] = {
        # kind ships kindnet; none of the sandbox's plugins is it.
        "disableDefaultCNI": True,
        # kind takes both families' ranges comma-separated, primary first, on dual-stack.
        "podSubnet": families.pod_cidrs(cluster.config),
        "serviceSubnet": families.service_cidrs(cluster.config),
        # With Cilium's kube-proxy replacement kind installs no kube-proxy ("none").
        "kubeProxyMode": "none"
        if replaces_kube_proxy(cluster.config)
        else cluster.config.proxy_mode,
    }
    if cluster.config.ip_family != "ipv4":  # kind's default is ipv4
        networking["ipFamily"] = cluster.config.ip_family
    return {
        "kind": "Cluster",
        "apiVersion": KIND_API_VERSION,
        "nodes": [{"role": "control-plane"}] + [{"role": "worker"} for _ in range(workers)],
        "networking": networking,
    }


def kind_config_yaml(cluster: Cluster) -> str:
    """:func:`kind_config` as YAML, with a comment saying what to run with it.

    >>> text = kind_config_yaml(Cluster.create())
    >>> "kind: Cluster" in text and "kubeProxyMode: iptables" in text
    True
    """
    head = (
        f"# kind create cluster --name {CLUSTER_NAME} --config kind-config.yaml\n"
        f"# then install {CNI_TITLE[cluster.config.cni]} (kindnet is turned off): see replay.sh\n"
    )
    return head + yaml.safe_dump(kind_config(cluster), sort_keys=False)


def kind_manifests(cluster: Cluster) -> str:
    """The learner's objects for a kind cluster: the export, without Nodes (kind makes its
    own).

    >>> kind_manifests(Cluster.create())
    ''
    """
    objects = [o for o in export_objects(cluster) if o.get("kind") != "Node"]
    return dump_manifests(objects) if objects else ""


def differences(cluster: Cluster) -> list[str]:
    """What a real kind cluster will show that the sandbox did not, in plain words.

    >>> any("suffix" in line for line in differences(Cluster.create()))
    True
    """
    cni = CNI_TITLE[cluster.config.cni]
    made = export_objects(cluster)
    kinds = {o.get("kind") for o in made}
    types = {(o.get("spec") or {}).get("type") for o in made if o.get("kind") == "Service"}
    lines = [
        "Pods made by a Deployment get new random name suffixes (web-7d4b9c-xk2lp): "
        "the commands below reach them through deploy/<name>, or look names up with "
        "kubectl get pods.",
        f"Pod addresses come from the same {c.POD_NETWORK[cluster.config.cni]} range, but "
        f"{cni} hands them out in its own order: expect other pod IPs.",
        "Nodes are Docker containers named "
        f"{CLUSTER_NAME}-control-plane, {CLUSTER_NAME}-worker, {CLUSTER_NAME}-worker2…, "
        "with addresses on Docker's kind network (docker network inspect kind), "
        "not 10.0.0.10-12.",
        "Services keep the clusterIP and nodePort written in manifests.yaml "
        "(the Service range is the sandbox's).",
        "Your images may lack curl or nslookup: try kubectl debug -it POD --image=busybox, "
        "or a busybox pod, and wget -qO- instead of curl.",
    ]
    if cluster.config.cni != "flannel":
        lines.append(f"{cni} takes a minute or two to start; nodes stay NotReady until it does.")
    if cluster.config.cni == "weave":
        lines.append("Weave Net is archived: its last release may not run on a new Kubernetes.")
    if "LoadBalancer" in types:
        lines.append(
            "LoadBalancer Services stay <pending> on kind: nothing hands out external IPs. "
            "Run cloud-provider-kind, or install MetalLB, and expect other addresses than "
            "the sandbox's 203.0.113.x."
        )
    if "Ingress" in kinds:
        lines.append(
            "Ingress needs an ingress controller: kind has none. replay.sh installs "
            "ingress-nginx; with kind, reaching it from your machine needs port mappings "
            "(extraPortMappings) or kubectl port-forward."
        )
    if kind_gateway.uses_gateway_api(made):
        lines.append(kind_gateway.difference())
    lines.append(
        "Requests from outside (the sandbox's 198.51.100.7) come from your own machine "
        "instead, through the node containers' addresses."
    )
    return lines


def replay_script(cluster: Cluster) -> str:
    """A shell script that builds the sandbox on kind and sends its traced requests again.

    >>> from app.lessons import notes
    >>> cluster = Cluster.create()
    >>> notes.record(cluster, {"kind": "trace", "from": "pod/default/client", "to": "http://web/"})
    >>> "kubectl exec -n default client -- curl -s http://web/" in replay_script(cluster)
    True
    """
    lines = ["#!/bin/sh", "# Podpath sandbox, replayed on a kind cluster.", "#"]
    lines.append("# What a real cluster will show differently:")
    for difference in differences(cluster):
        lines.append(f"#  - {difference}")
    lines += [
        "",
        "set -e",
        f"kind create cluster --name {CLUSTER_NAME} --config kind-config.yaml",
        f"# kind's own CNI (kindnet) is turned off: install {CNI_TITLE[cluster.config.cni]}.",
        cni_install(cluster.config),
        "kubectl wait --for=condition=Ready nodes --all --timeout=300s",
    ]
    if any(o.get("kind") == "Ingress" for o in export_objects(cluster)):
        lines += [
            "# An ingress controller (kind has none).",
            INGRESS_NGINX_FOR_KIND,
            "kubectl wait -n ingress-nginx --for=condition=Ready pod "
            "-l app.kubernetes.io/component=controller --timeout=300s",
        ]
    if kind_gateway.uses_gateway_api(export_objects(cluster)):
        lines += kind_gateway.install_lines()
    lines += [
        "",
        "kubectl apply -f manifests.yaml",
        "set +e",
        "kubectl wait --for=condition=Ready pods --all --timeout=300s",
        "",
    ]
    commands = replay_commands(cluster)
    log = terminal_log(cluster)
    if commands:
        lines.append("# What you ran in the sandbox, oldest first.")
        if log.get("dropped"):
            lines.append(
                f"# (The sandbox keeps your last {len(log['lines'])} terminal commands: "
                f"{log['dropped']} older ones are not here.)"
            )
        lines += commands
    else:
        lines.append("# Nothing was traced yet: try kubectl exec POD -- curl -s http://SERVICE/")
    return "\n".join(lines) + "\n"


def replay_commands(cluster: Cluster) -> list[str]:
    """The commands the learner ran in the Terminal tab (its log, :mod:`app.terminal.replay`,
    kept whether or not a lesson was open), and the traces and lookups they ran from the trace
    bar and the DNS tab during a lesson, as commands for a real cluster (oldest first).

    >>> from app.lessons import notes
    >>> cluster = Cluster.create()
    >>> notes.record(cluster, {"kind": "dns", "from": "pod/default/a", "name": "web"})
    >>> notes.record(cluster, {"kind": "trace", "from": "external", "to": "http://10.0.0.11:30080/"})
    >>> replay_commands(cluster)
    ['kubectl exec -n default a -- nslookup web', '# from outside: use a node address from docker network inspect kind', 'curl -s http://10.0.0.11:30080/']
    """
    out: list[str] = []
    log = terminal_log(cluster)
    typed = list(log.get("lines", []))
    # The log began at activity number ``since``: the commands the activity holds from
    # before it are written from there; after, from the log.
    since = log.get("since", 0) if log else None
    # A network command's own trace and lookups follow its record: the command says it all.
    covered = False
    for entry in cluster.state.notes.get("activity", []):
        while typed and typed[0][0] < entry.get("seq", 0):
            out += _typed_line(cluster, typed.pop(0))
        kind = entry.get("kind")
        if kind == "command":
            logged = since is not None and entry.get("seq", 0) > since
            line = _terminal_command(cluster, entry)
            sends = bool(NETWORK_TOOLS & set(entry.get("argv") or []))
            covered = sends and (line is not None or logged)
            if line and not logged:
                out.append(line)
            continue
        if covered and kind in ("trace", "dns"):
            covered = kind == "dns"  # one request per command; lookups come before it
            continue
        covered = False
        if kind == "trace" and entry.get("from") and entry.get("to"):
            out += _trace_command(cluster, entry)
        elif kind == "dns" and entry.get("from") and entry.get("name"):
            where = _exec_prefix(cluster, entry["from"])
            if where:
                out.append(f"{where} nslookup {shlex.quote(entry['name'])}")
    for entry in typed:
        out += _typed_line(cluster, entry)
    return out


def terminal_log(cluster: Cluster) -> dict[str, Any]:
    """The Terminal's log (:mod:`app.terminal.replay`), or {} when nothing was kept."""
    return cluster.state.notes.get(TERMINAL_NOTE) or {}


def _typed_line(cluster: Cluster, entry: list[Any]) -> list[str]:
    """One line of the Terminal's log (``[seq, line]``, or ``[seq, line, node]`` for a node's
    shell) as lines of the script: a request through ``kubectl exec`` (to the pod's
    Deployment when one made it) or from a node's container; a change of the cluster as a
    comment (manifests.yaml holds its result already).

    >>> cluster = Cluster.create()
    >>> _typed_line(cluster, [3, "kubectl scale deploy web --replicas=3"])
    ['# kubectl scale deploy web --replicas=3   (done: manifests.yaml holds the result)']
    >>> _typed_line(cluster, [3, "curl -s web", "worker-1"])
    ['docker exec podpath-worker curl -s web']
    """
    try:
        argv = shlex.split(str(entry[1]))
    except (IndexError, ValueError):
        return []
    if not argv:
        return []
    if len(entry) > 2 and entry[2]:
        container = shlex.quote(_node_container(cluster, str(entry[2])))
        return [f"docker exec {container} {shlex.join(argv)}"]
    if argv[0] != "kubectl":
        return [
            "# from outside: use a node address from docker network inspect kind",
            shlex.join(argv),
        ]
    verb = next((word for word in argv[1:] if not word.startswith("-")), "")
    if verb == "exec":
        return [shlex.join(_exec_through_deployment(cluster, argv))]
    return [f"# {shlex.join(argv)}   (done: manifests.yaml holds the result)"]


#: The terminal's commands that send a request or look a name up.
NETWORK_TOOLS = {"curl", "wget", "nslookup", "dig", "host", "nc", "ping"}
#: kubectl verbs worth running again; what changes the cluster is in manifests.yaml already.
READ_VERBS = {"get", "describe", "logs", "exec", "top", "explain", "api-resources"}
SHELLS = {"sh", "bash", "ash"}


def _terminal_command(cluster: Cluster, entry: dict[str, Any]) -> str | None:
    """One Terminal command as a line of the script, or None for what is not worth replaying
    (a failed command, a shell opened with -it, ``help``, a change already in the manifests).

    >>> cluster = Cluster.create()
    >>> _terminal_command(cluster, {"argv": ["curl", "-s", "web"], "where": "pod/default/a", "ok": True})
    'kubectl exec -n default a -- curl -s web'
    >>> _terminal_command(cluster, {"argv": ["kubectl", "exec", "-it", "a", "--", "sh"], "where": "cluster", "ok": True}) is None
    True
    """
    argv = [str(word) for word in entry.get("argv") or []]
    if not entry.get("ok") or not argv:
        return None
    where = str(entry.get("where") or "cluster")
    if where != "cluster":
        prefix = _exec_prefix(cluster, where)
        return f"{prefix} {shlex.join(argv)}" if prefix else None
    if argv[0] != "kubectl":
        return shlex.join(argv) if argv[0] in NETWORK_TOOLS else None
    verb = next((word for word in argv[1:] if not word.startswith("-")), "")
    if verb not in READ_VERBS:
        return None
    if "--" in argv:
        after = argv[argv.index("--") + 1 :]
        if not after or after[0] in SHELLS:
            return None  # an interactive shell: its commands are replayed one by one
    return shlex.join(_exec_through_deployment(cluster, argv) if verb == "exec" else argv)


def _exec_through_deployment(cluster: Cluster, argv: list[str]) -> list[str]:
    """``kubectl exec POD …`` with POD as ``deploy/<name>`` when a Deployment made it."""
    namespace = "default"
    for flag in ("-n", "--namespace"):
        if flag in argv and argv.index(flag) + 1 < len(argv):
            namespace = argv[argv.index(flag) + 1]
    end = argv.index("--") if "--" in argv else len(argv)
    skip = False
    for index, word in enumerate(argv[2:end], start=2):
        if skip or word.startswith("-"):
            skip = word in ("-n", "--namespace", "-c", "--container")
            continue
        return [*argv[:index], _pod_ref(cluster, namespace, word), *argv[index + 1 :]]
    return argv


def _trace_command(cluster: Cluster, entry: dict[str, Any]) -> list[str]:
    to = str(entry["to"])
    request = _request(to, entry.get("host"))
    source = str(entry["from"])
    if source.startswith("external"):
        return ["# from outside: use a node address from docker network inspect kind", request]
    where = _exec_prefix(cluster, source)
    return [f"{where} {request}"] if where else []


def _request(to: str, host: str | None) -> str:
    """curl for a URL, nslookup for DNS over UDP, nc for another port."""
    if "://" in to:
        header = ""
        url_host = to.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
        if host and host != url_host:
            header = f"-H {shlex.quote('Host: ' + host)} "
        return f"curl -s {header}{shlex.quote(to)}"
    target = to[:-4] if to.lower().endswith(("/udp", "/tcp")) else to
    address, _, port = target.rpartition(":")
    if to.lower().endswith("/udp") and port == "53":
        return f"nslookup kubernetes.default {shlex.quote(address)}"
    udp = "-u " if to.lower().endswith("/udp") else ""
    return f"nc -zv {udp}-w 3 {shlex.quote(address or target)} {shlex.quote(port or '80')}"


def _exec_prefix(cluster: Cluster, source: str) -> str | None:
    """Where a command runs: ``kubectl exec`` into the pod (through its Deployment when one
    made it, since the pod's name changes), ``docker exec`` into a node's container."""
    parts = source.split("/")
    if parts[0] == "pod" and len(parts) == 3:
        namespace, name = parts[1], parts[2]
        target = shlex.quote(_pod_ref(cluster, namespace, name))
        return f"kubectl exec -n {shlex.quote(namespace)} {target} --"
    if parts[0] == "node" and len(parts) == 2:
        return f"docker exec {shlex.quote(_node_container(cluster, parts[1]))}"
    return None


def _pod_ref(cluster: Cluster, namespace: str, name: str) -> str:
    pod = cluster.get("Pod", namespace, name)
    owners = (pod or {}).get("metadata", {}).get("ownerReferences") or []
    for owner in owners:
        if owner.get("kind") == "ReplicaSet" and "-" in owner.get("name", ""):
            return "deploy/" + owner["name"].rsplit("-", 1)[0]
    return name


def _node_container(cluster: Cluster, node_name: str) -> str:
    """kind's container for a sandbox node: the control plane, or the Nth worker."""
    workers = sorted(
        (n["metadata"]["name"] for n in cluster.list("Node") if not _is_control_plane(n)),
        key=lambda name: (len(name), name),
    )
    if node_name not in workers:
        return f"{CLUSTER_NAME}-control-plane"
    index = workers.index(node_name) + 1
    return f"{CLUSTER_NAME}-worker" + ("" if index == 1 else str(index))


def _is_control_plane(node: dict[str, Any]) -> bool:
    return "node-role.kubernetes.io/control-plane" in (node["metadata"].get("labels") or {})
