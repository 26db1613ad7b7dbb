"""NetworkPolicy, evaluated as the Kubernetes documentation defines it.

- A pod is *isolated* for ingress (or egress) when at least one NetworkPolicy in its
  namespace selects it and lists ``Ingress`` (``Egress``) in its ``policyTypes``. A pod no
  policy isolates accepts (sends) everything.
- An isolated pod accepts a connection only when some policy selecting it has a rule that
  allows it: every peer in ``from`` (``to``) is a ``podSelector`` in the policy's namespace, a
  ``namespaceSelector``, both together (pods matching in namespaces matching), or an
  ``ipBlock`` (a CIDR minus its ``except`` ranges); an empty or missing list allows every
  peer. ``ports`` limits the rule to those ports (named ports are the destination pod's),
  with ``endPort`` for ranges; an empty or missing list allows every port. Rules add up:
  policies never deny, they only allow.
- Both sides must agree: the sender's egress and the receiver's ingress. Replies of an
  allowed connection are always allowed (the enforcement is stateful).
- The policy is enforced by the CNI plugin. Calico, Weave Net and Cilium enforce it; flannel
  does not, so with flannel every policy is stored and ignored.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from app.cluster.selectors import describe, matches
from app.network.explain import Reason, field_cause

ENFORCING = {
    "calico": "Calico (its Felix agent programs the pod's cali veth)",
    "weave": "Weave Net's weave-npc",
    "cilium": "Cilium (its eBPF program on the pod's lxc veth, bpf_lxc)",
}


@dataclass
class PolicyVerdict:
    """Whether one direction of a connection is allowed, and by or despite which policies."""

    allowed: bool
    isolating: list[str] = field(default_factory=list)  # "namespace/name" of selecting policies
    allowed_by: str | None = None
    ignored: bool = False  # policies select the pod, but the CNI does not enforce them
    rule: dict[str, Any] | None = None  # the ingress/egress rule that allowed it, if one did

    @property
    def applies(self) -> bool:
        return bool(self.isolating)


def enforced(cluster: Any) -> bool:
    return cluster.config.cni in ENFORCING


def _policies(cluster: Any, namespace: str) -> list[dict[str, Any]]:
    return cluster.list("NetworkPolicy", namespace)


def policy_types(policy: dict[str, Any]) -> list[str]:
    """The policy's types: ``policyTypes``, or where it is left out Ingress, plus Egress when
    it has egress rules (the API server's defaulting).

    >>> policy_types({"spec": {"egress": [{}]}}), policy_types({"spec": {}})
    (['Ingress', 'Egress'], ['Ingress'])
    """
    return _types(policy)


def _types(policy: dict[str, Any]) -> list[str]:
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    if types:
        return list(types)
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _namespace_labels(cluster: Any, name: str) -> dict[str, str]:
    ns = cluster.get("Namespace", "", name)
    labels = dict((ns or {}).get("metadata", {}).get("labels") or {})
    labels.setdefault("kubernetes.io/metadata.name", name)
    return labels


def _selecting(cluster: Any, direction: str, pod: dict[str, Any]) -> list[dict[str, Any]]:
    labels = pod["metadata"].get("labels") or {}
    return [
        p
        for p in _policies(cluster, pod["metadata"]["namespace"])
        if direction in _types(p)
        and matches((p.get("spec") or {}).get("podSelector") or {}, labels)
    ]


def selecting(cluster: Any, direction: str, pod: dict[str, Any]) -> list[str]:
    """The ``namespace/name`` of every policy that isolates ``pod`` for ``direction``
    (``Ingress`` or ``Egress``): it selects the pod and lists that type in ``policyTypes``
    (a policy without ``policyTypes`` is Ingress, plus Egress when it has egress rules).

    Parameters
    ----------
    cluster : Cluster
    direction : str
        ``Ingress`` or ``Egress``.
    pod : dict
        The pod (its namespace and labels are read).

    Returns
    -------
    list of str
        The policies, in the namespace's order; empty when the pod is not isolated.

    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(seed=1)
    >>> _ = apply_text(cluster, "apiVersion: networking.k8s.io/v1\\nkind: NetworkPolicy\\n"
    ...     "metadata: {name: db}\\nspec: {podSelector: {matchLabels: {app: db}}}\\n")
    >>> db = {"metadata": {"namespace": "default", "name": "db", "labels": {"app": "db"}}}
    >>> selecting(cluster, "Ingress", db), selecting(cluster, "Egress", db)
    (['default/db'], [])
    """
    namespace = pod["metadata"]["namespace"]
    return [f"{namespace}/{p['metadata']['name']}" for p in _selecting(cluster, direction, pod)]


def names_peer(cluster: Any, obj: dict[str, Any], direction: str, other: dict[str, Any]) -> bool:
    """Does one of ``obj``'s rules of ``direction`` allow the pod ``other`` as a peer (on
    some port)? A rule without peers allows every peer; no rules allow none.

    >>> rule = {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}]}
    >>> obj = {"metadata": {"namespace": "default"}, "spec": {"ingress": [rule]}}
    >>> api = {"metadata": {"namespace": "default", "labels": {"app": "api"}}, "status": {}}
    >>> names_peer(None, obj, "Ingress", api), names_peer(None, obj, "Egress", api)
    (True, False)
    """
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    namespace = obj["metadata"]["namespace"]
    ip = (other.get("status") or {}).get("podIP") or "0.0.0.0"
    for rule in (obj.get("spec") or {}).get(key) or []:
        peers = rule.get(peers_key)
        if not peers or any(_peer_matches(cluster, p, namespace, other, ip) for p in peers):
            return True
    return False


def _same_pod(pod: dict[str, Any], other: dict[str, Any]) -> bool:
    a, b = pod["metadata"], other["metadata"]
    return a.get("namespace") == b.get("namespace") and a.get("name") == b.get("name")


#: What :attr:`PolicyVerdict.allowed_by` names for traffic with the pod's own node.
OWN_NODE = "the pod's own node (always allowed)"


def _own_node(
    cluster: Any, pod: dict[str, Any], other_pod: dict[str, Any] | None, other_ip: str
) -> bool:
    """Whether the peer is the node ``pod`` runs on: its host network (an address of the
    node, or its end of the pod network: the bridge or tunnel address a packet from the node
    to its own pods leaves with)."""
    if other_pod is not None and not (other_pod.get("spec") or {}).get("hostNetwork"):
        return False
    name = (pod.get("spec") or {}).get("nodeName")
    node = cluster.get("Node", "", name) if name else None
    if node is None:
        return False
    if any(a.get("address") == other_ip for a in (node.get("status") or {}).get("addresses") or []):
        return True
    addressing = cluster.state.ipam.nodes.get(name)
    return addressing is not None and addressing.gateway_ip == other_ip


def _peer_matches(
    cluster: Any,
    peer: dict[str, Any],
    policy_namespace: str,
    other_pod: dict[str, Any] | None,
    other_ip: str,
) -> bool:
    block = peer.get("ipBlock")
    if block is not None:
        address = ipaddress.ip_address(other_ip)
        if address not in ipaddress.ip_network(block["cidr"], strict=False):
            return False
        return not any(
            address in ipaddress.ip_network(e, strict=False) for e in block.get("except") or []
        )
    if other_pod is None:
        return False  # pod and namespace selectors only ever match pods
    pod_selector = peer.get("podSelector")
    namespace_selector = peer.get("namespaceSelector")
    pod_namespace = other_pod["metadata"]["namespace"]
    if namespace_selector is None:
        if pod_namespace != policy_namespace:
            return False
    elif not matches(namespace_selector, _namespace_labels(cluster, pod_namespace)):
        return False
    if pod_selector is None:
        return True
    return matches(pod_selector, other_pod["metadata"].get("labels") or {})


def _port_matches(
    rule_ports: list[dict[str, Any]] | None,
    port: int,
    protocol: str,
    target_pod: dict[str, Any] | None,
) -> bool:
    if not rule_ports:
        return True
    for rule_port in rule_ports:
        if rule_port.get("protocol", "TCP") != protocol:
            continue
        wanted = rule_port.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            wanted = _named_port(target_pod, wanted, protocol)
            if wanted is None:
                continue
        end = rule_port.get("endPort", wanted)
        if wanted <= port <= end:
            return True
    return False


def _named_port(pod: dict[str, Any] | None, name: str, protocol: str) -> int | None:
    for container in ((pod or {}).get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name and port.get("protocol", "TCP") == protocol:
                return port.get("containerPort")
    return None


def check(
    cluster: Any,
    direction: str,
    pod: dict[str, Any],
    other_pod: dict[str, Any] | None,
    other_ip: str,
    port: int,
    protocol: str,
    port_pod: dict[str, Any] | None = None,
) -> PolicyVerdict:
    """Is ``pod``'s ``direction`` ("Ingress" or "Egress") open for this connection?

    ``other_pod``/``other_ip`` is the peer (the sender for Ingress, the receiver for Egress)
    as ``pod`` sees it; ``port`` the destination port; ``port_pod`` the pod whose named ports
    a rule's named port refers to (the receiver).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.cluster.state import ClusterConfig
    >>> from app.cluster.apply import apply_text
    >>> cluster = Cluster.create(ClusterConfig(cni="calico"), seed=1)
    >>> _ = apply_text(cluster, '''
    ... apiVersion: networking.k8s.io/v1
    ... kind: NetworkPolicy
    ... metadata: {name: deny-all}
    ... spec: {podSelector: {}}
    ... ---
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: db, labels: {app: db}}
    ... spec: {containers: [{name: db, image: postgres}]}
    ... ''')
    >>> db = cluster.get("Pod", "default", "db")
    >>> v = check(cluster, "Ingress", db, None, "10.0.0.11", 5432, "TCP")
    >>> v.allowed, v.isolating
    (False, ['default/deny-all'])
    """
    namespace = pod["metadata"]["namespace"]
    selecting = _selecting(cluster, direction, pod)
    names = [f"{namespace}/{p['metadata']['name']}" for p in selecting]
    if not selecting:
        return PolicyVerdict(True)
    if other_pod is not None and _same_pod(pod, other_pod):
        # The concept page's exception: "a Pod cannot block access to itself".
        return PolicyVerdict(True, names)
    if _own_node(cluster, pod, other_pod, other_ip):
        # Its other exception: "traffic to and from the node where a Pod is running is always
        # allowed, regardless of the IP address of the Pod or the node" (kubelet's probes).
        return PolicyVerdict(True, names, allowed_by=OWN_NODE)
    if not enforced(cluster):
        return PolicyVerdict(True, names, ignored=True)
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in selecting:
        for rule in (policy.get("spec") or {}).get(key) or []:
            peers = rule.get(peers_key)
            if peers and not any(
                _peer_matches(cluster, peer, namespace, other_pod, other_ip) for peer in peers
            ):
                continue
            if not _port_matches(rule.get("ports"), port, protocol, port_pod):
                continue
            return PolicyVerdict(
                True, names, allowed_by=f"{namespace}/{policy['metadata']['name']}", rule=rule
            )
    return PolicyVerdict(False, names)


def _peer_text(peer: dict[str, Any]) -> str:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        excepts = block.get("except") or []
        return f"ipBlock {block.get('cidr')}" + (f" except {', '.join(excepts)}" if excepts else "")
    parts = []
    if peer.get("namespaceSelector") is not None:
        parts.append(f"namespaces {describe(peer['namespaceSelector']) or '(all)'}")
    if peer.get("podSelector") is not None:
        parts.append(f"pods {describe(peer['podSelector']) or '(all)'}")
    return " in ".join(reversed(parts)) if len(parts) == 2 else (parts[0] if parts else "anyone")


def _port_text(port: dict[str, Any]) -> str:
    number = port.get("port", "any port")
    end = f"-{port['endPort']}" if port.get("endPort") else ""
    return f"{port.get('protocol', 'TCP')} {number}{end}"


def rules_text(policy: dict[str, Any], direction: str) -> str:
    """What ``policy``'s rules of one direction allow, in a few words.

    >>> rules_text({"spec": {"podSelector": {}, "policyTypes": ["Egress"]}}, "Egress")
    'it has no egress rules, so it allows no egress at all'
    >>> rules_text({"spec": {"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}],
    ...     "ports": [{"port": 5432}]}]}}, "Ingress")
    'its ingress rule allows from pods app=api on TCP 5432'
    """
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    rules = (policy.get("spec") or {}).get(key) or []
    word = key
    if not rules:
        return f"it has no {word} rules, so it allows no {word} at all"
    towards = "from" if direction == "Ingress" else "to"
    described = []
    for rule in rules[:3]:
        peers = rule.get(peers_key)
        who = ", ".join(_peer_text(p) for p in peers) if peers else "anyone"
        ports = rule.get("ports")
        on = f" on {', '.join(_port_text(p) for p in ports)}" if ports else " on any port"
        described.append(f"{towards} {who}{on}")
    more = f" (and {len(rules) - 3} more)" if len(rules) > 3 else ""
    label = f"its {word} rule allows" if len(rules) == 1 else f"its {len(rules)} {word} rules allow"
    return f"{label} {'; '.join(described)}{more}"


def describe_denial(
    verdict: PolicyVerdict,
    direction: str,
    pod: dict[str, Any],
    peer: str,
    port: int,
    protocol: str,
    cni: str,
    cluster: Any = None,
) -> str:
    """One sentence a learner can act on: which policies isolate the pod, in which direction
    (ingress on the receiver, egress on the sender), and that none of their rules allows this
    peer and port.

    Parameters
    ----------
    verdict : PolicyVerdict
        The denial, from :func:`check`.
    direction : str
        ``Ingress`` (``pod`` receives) or ``Egress`` (``pod`` sends).
    pod : dict
        The isolated pod.
    peer : str
        The other side, as a learner reads it (``Pod default/client``, ``198.51.100.7``).
    port, protocol
        The destination port and protocol.
    cni : str
        The CNI plugin, which enforces the policy.
    cluster : Cluster, optional
        When given, each policy's rules of that direction are summarised.

    Returns
    -------
    Reason
        The text; its cause is the first isolating policy's rules of that direction
        (``spec.ingress`` or ``spec.egress``), or where it has none its ``spec.policyTypes``
        (else ``spec.podSelector``): where an allowing rule would be written.
    """
    name = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
    listed = ", ".join(verdict.isolating)
    side = "receives" if direction == "Ingress" else "sends"
    towards = f"from {peer}" if direction == "Ingress" else f"to {peer}"
    plural = "NetworkPolicies" if len(verdict.isolating) > 1 else "NetworkPolicy"
    what = ""
    if cluster is not None:
        parts = []
        for key in verdict.isolating:
            namespace, policy_name = key.split("/", 1)
            obj = cluster.get("NetworkPolicy", namespace, policy_name)
            if obj is not None:
                parts.append(f"{key}: {rules_text(obj, direction)}")
        what = f" ({'; '.join(parts)})" if parts else ""
    return Reason(
        f"{plural} {listed} select{'s' if len(verdict.isolating) == 1 else ''} Pod {name} "
        f"(spec.podSelector) with {direction} in policyTypes, so the pod is isolated for "
        f"{direction.lower()}: it {side} only what an {direction.lower()} rule allows, and no "
        f"rule allows {protocol} {port} {towards}{what}. {ENFORCING.get(cni, cni)} drops the "
        f"packet and the client times out. Add an {direction.lower()} rule that allows it.",
        _rule_field(verdict, direction, cluster),
    )


def _rule_field(verdict: PolicyVerdict, direction: str, cluster: Any) -> dict[str, str] | None:
    """Where an allowing rule would go in the first isolating policy."""
    if not verdict.isolating:
        return None
    namespace, name = verdict.isolating[0].split("/", 1)
    obj = cluster.get("NetworkPolicy", namespace, name) if cluster is not None else None
    spec = (obj or {}).get("spec") or {}
    key = direction.lower()
    field = (
        f"spec.{key}"
        if spec.get(key)
        else "spec.policyTypes"
        if spec.get("policyTypes")
        else "spec.podSelector"
    )
    return field_cause("NetworkPolicy", namespace, name, field)
