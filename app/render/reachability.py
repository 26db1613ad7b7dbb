"""The Reachability tab's view model: the matrix as a table a learner reads (a symbol and a
word in each cell, never colour alone), the CNI plugin's note, and each NetworkPolicy with
the pods it isolates and the pods it lets in or out (what the map lights when the policy is
hovered or picked)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.network import policy
from app.network.reachability import OUTSIDE, Matrix, isolation, matrix
from app.render.map_layout import shorten_name
from app.render.map_model import is_system, is_traffic_pod

SYMBOLS = {"allowed": "✓", "denied": "✗", "partial": "◐", "none": "–"}
WORDS = {"allowed": "allowed", "denied": "denied", "partial": "some ports", "none": "no way in"}
PLUGIN = {"flannel": "flannel", "calico": "Calico", "weave": "Weave Net", "cilium": "Cilium"}


def matrix_pods(
    cluster: Any, system: bool = False, namespace: str | None = None
) -> list[dict[str, Any]]:
    """The pods the matrix shows: the learner's own, and the system pods requests pass
    through (CoreDNS, the ingress controller); every pod with ``system``; only one
    namespace's with ``namespace``.

    >>> from app.cluster.cluster import Cluster
    >>> names = [p["metadata"]["name"][:7] for p in matrix_pods(Cluster.create(seed=1))]
    >>> "coredns" in names, "kube-pr" in names  # CoreDNS yes, kube-proxy (host network) no
    (True, False)
    """
    pods = cluster.list("Pod", namespace) if namespace else cluster.list("Pod")
    return [p for p in pods if system or namespace or not is_system(p) or is_traffic_pod(p)]


@dataclass
class CellView:
    state: str
    symbol: str
    word: str
    summary: str  # the ports, each allowed or not: "TCP 5432 (pg) ✓, TCP 9187 ✗"
    lines: list[str] = field(default_factory=list)  # one reason per port
    decided_by: str = ""


@dataclass
class RowView:
    key: str
    label: str
    title: str
    cells: list[CellView]
    outside: bool = False


@dataclass
class ColumnView:
    key: str
    label: str
    title: str
    ports: str
    isolated: str  # "in", "out", "in+out" or ""


@dataclass
class PolicyView:
    name: str  # namespace/name
    types: str
    summary: str
    targets: list[str]  # map anchors of the pods it isolates
    peers: list[str]  # map anchors of the pods its rules name as peers


@dataclass
class ReachabilityView:
    cni: str
    plugin: str
    enforced: bool
    policies: list[PolicyView]
    columns: list[ColumnView]
    rows: list[RowView]
    hidden: int
    grouped: int
    note: str


def marks(cluster: Any) -> dict[str, str]:
    """``pod/<ns>/<name>`` → ``in``, ``out`` or ``in+out`` for every pod a policy isolates.

    >>> from app.cluster.cluster import Cluster
    >>> marks(Cluster.create(seed=1))
    {}
    """
    if not cluster.list("NetworkPolicy"):
        return {}
    out = {}
    for pod in cluster.list("Pod"):
        mark = _mark(isolation(cluster, pod))
        if mark:
            out[f"pod/{pod['metadata']['namespace']}/{pod['metadata']['name']}"] = mark
    return out


def _mark(iso: dict[str, list[str]]) -> str:
    return "+".join(w for w, d in (("in", "Ingress"), ("out", "Egress")) if iso[d])


def isolation_text(cluster: Any, pod: dict[str, Any]) -> str:
    """The details drawer's line: which policies isolate the pod, in which direction."""
    iso = isolation(cluster, pod)
    parts = []
    for direction in ("Ingress", "Egress"):
        names = iso[direction]
        word = direction.lower()
        parts.append(
            f"isolated for {word} by {', '.join(names)}"
            if names
            else f"{word} open (no policy selects it for {word})"
        )
    text = "; ".join(parts)
    if (iso["Ingress"] or iso["Egress"]) and not policy.enforced(cluster):
        text += f" — but {PLUGIN.get(cluster.config.cni, cluster.config.cni)} does not enforce NetworkPolicy"
    return text


def policy_facts(cluster: Any, obj: dict[str, Any]) -> list[tuple[str, str]]:
    """The details drawer's facts for a NetworkPolicy: what it selects, its types, what each
    direction's rules allow, the pods it isolates now, and whether the CNI enforces it."""
    meta = obj["metadata"]
    key = f"{meta['namespace']}/{meta['name']}"
    types = policy.policy_types(obj)
    isolated = [
        p["metadata"]["name"]
        for p in cluster.list("Pod", meta["namespace"])
        if any(key in names for names in isolation(cluster, p).values())
    ]
    facts = [
        ("Selects", _selector_text((obj.get("spec") or {}).get("podSelector") or {})),
        ("Policy types", ", ".join(types)),
    ]
    facts += [(f"{d} rules", policy.rules_text(obj, d)) for d in types]
    facts.append(("Isolates now", ", ".join(isolated) or "no pod yet"))
    plugin = PLUGIN.get(cluster.config.cni, cluster.config.cni)
    facts.append(
        (
            "Enforced",
            f"yes, by {plugin}"
            if policy.enforced(cluster)
            else f"no: {plugin} ignores NetworkPolicy",
        )
    )
    return facts


def reachability_view(
    cluster: Any, system: bool = False, namespace: str | None = None
) -> ReachabilityView:
    """The tab: the matrix of :func:`matrix_pods`, and the policies.

    >>> from app.cluster.cluster import Cluster
    >>> v = reachability_view(Cluster.create(seed=1))
    >>> v.plugin, v.enforced, v.rows[0].label
    ('flannel', False, 'outside (198.51.100.7)')
    """
    pods = matrix_pods(cluster, system, namespace)
    m = matrix(cluster, pods)
    plugin = PLUGIN.get(m.cni, m.cni)
    return ReachabilityView(
        m.cni,
        plugin,
        m.enforced,
        _policies(cluster, pods),
        [_column(p) for p in m.destinations],
        [_row(m, s) for s in m.sources],
        m.hidden,
        m.grouped,
        _note(m, plugin),
    )


def _note(m: Matrix, plugin: str) -> str:
    """What the headline (enforced or not) means here."""
    if not m.policies:
        return "No NetworkPolicy yet: every pod reaches every pod." + (
            "" if m.enforced else " Switch to Calico, Weave Net or Cilium before you write one."
        )
    if m.enforced:
        return "What no policy rule allows is dropped; pods no policy selects accept everything."
    count = f"{m.policies} polic{'y' if m.policies == 1 else 'ies'}"
    return (
        f"The API server stored your {count}, but every packet still gets through: "
        "switch to Calico, Weave Net or Cilium to see them enforced."
    )


def short_label(party: Any) -> str:
    """A row's or column's name as the table prints it: the namespace only when it is not
    ``default``, a generated name cut in the middle, and ``×N`` for a group of pods.

    >>> from app.network.reachability import Party
    >>> short_label(Party("pod/kube-system/coredns-6d79444649-tq58q", "", "kube-system",
    ...                   ["kube-system/coredns-6d79444649-tq58q", "kube-system/coredns-x"]))
    'kube-system/coredns-6…-tq58q ×2'
    """
    if not party.pods:
        return party.label
    name = party.pods[0].split("/", 1)[1]
    text = shorten_name(name, 16)
    if party.namespace and party.namespace != "default":
        text = f"{party.namespace}/{text}"
    return text + (f" ×{len(party.pods)}" if len(party.pods) > 1 else "")


def _column(p: Any) -> ColumnView:
    ports = ", ".join(f"{n}/{proto}" + (f" ({name})" if name else "") for n, proto, name in p.ports)
    mark = _mark({"Ingress": p.ingress, "Egress": p.egress})
    return ColumnView(p.key, short_label(p), _title(p), ports, mark)


def _title(p: Any) -> str:
    pods = ", ".join(p.pods) if p.pods else p.label
    iso = []
    if p.ingress:
        iso.append(f"isolated for ingress by {', '.join(p.ingress)}")
    if p.egress:
        iso.append(f"isolated for egress by {', '.join(p.egress)}")
    return f"{pods}" + (f"; {'; '.join(iso)}" if iso else "")


def _row(m: Matrix, source: Any) -> RowView:
    cells = []
    for dst in m.destinations:
        cell = m.cell(source.key, dst.key)
        state = cell.state
        summary = ", ".join(f"{r.text} {'✓' if r.allowed else '✗'}" for r in cell.ports)
        lines = [f"{r.text}: {r.reason}" for r in cell.ports] or [cell.note]
        decided = next((r.decided_by for r in cell.ports if not r.allowed and r.decided_by), "")
        decided = decided or next((r.decided_by for r in cell.ports if r.decided_by), "")
        cells.append(
            CellView(state, SYMBOLS[state], WORDS[state], summary or cell.note, lines, decided)
        )
    title = (
        _title(source)
        if source.key != OUTSIDE
        else "the external client, through NodePort and LoadBalancer Services"
    )
    return RowView(source.key, short_label(source), title, cells, source.key == OUTSIDE)


def _policies(cluster: Any, pods: list[dict[str, Any]]) -> list[PolicyView]:
    views = []
    for obj in cluster.list("NetworkPolicy"):
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        types = policy.policy_types(obj)
        targets, peers = [], []
        for pod in pods:
            anchor = f"pod/{pod['metadata']['namespace']}/{pod['metadata']['name']}"
            key = f"{meta['namespace']}/{meta['name']}"
            iso = isolation(cluster, pod)
            if key in iso["Ingress"] or key in iso["Egress"]:
                targets.append(anchor)
            if (
                any(policy.names_peer(cluster, obj, d, pod) for d in types)
                and anchor not in targets
            ):
                peers.append(anchor)
        summary = "; ".join(policy.rules_text(obj, d) for d in types)
        selector = spec.get("podSelector") or {}
        views.append(
            PolicyView(
                f"{meta['namespace']}/{meta['name']}",
                " + ".join(types),
                f"Selects {_selector_text(selector)} in {meta['namespace']}; {summary}.",
                targets,
                peers,
            )
        )
    return views


def _selector_text(selector: dict[str, Any]) -> str:
    from app.cluster.selectors import describe

    text = describe(selector)
    return f"pods {text}" if text else "every pod"
