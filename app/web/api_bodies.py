"""The shapes the JSON API answers with, for its OpenAPI description (documentation only:
the routes build their answers themselves, so a model never filters what is sent). The
errors, enums and limits are in :mod:`app.web.openapi`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.cluster import constants as c
from app.network.model import ACTIONS, VERDICTS
from app.web.openapi import enum


class _Open(BaseModel):
    """A documented shape that may grow keys without breaking clients."""

    model_config = ConfigDict(extra="allow")


class ObjectRef(_Open):
    kind: str
    namespace: str = Field(description="Empty for cluster-scoped kinds.")
    name: str


class CreatedRef(ObjectRef):
    podIP: str | None = Field(None, description="For a Pod: its address, once it has one.")
    nodeName: str | None = Field(None, description="For a Pod: the node it was scheduled to.")


class ClusterEvent(_Open):
    """One line of `kubectl get events`."""

    id: int = Field(description="Never changes; the seq it was first recorded with.")
    seq: int = Field(description="Grows with every event (and when one repeats).")
    type: str = Field(json_schema_extra={"enum": ["Normal", "Warning"]})
    reason: str
    kind: str
    namespace: str
    name: str
    object: str = Field(description="kind/name, lower case, as kubectl prints it.")
    message: str
    count: int


class Change(_Open):
    """What the controllers did after a change."""

    created: list[CreatedRef]
    removed: list[ObjectRef]
    events: list[ClusterEvent]


class Gateway(_Open):
    device: str
    ip: str


class NodeSummary(_Open):
    name: str
    internalIP: str
    internalIPs: list[str] = Field(description="One per IP family, primary first.")
    ready: bool
    roles: str = Field(description="`control-plane` or `<none>`.")
    podCIDRs: list[str]
    gateway: Gateway | None
    pods: int


class ClusterSettings(_Open):
    cni: str = Field(**enum(c.CNI_PLUGINS))
    proxyMode: str = Field(**enum(c.PROXY_MODES))
    calicoMode: str | None = Field(
        None, description="With Calico only.", json_schema_extra={"enum": list(c.CALICO_MODES)}
    )
    routingMode: str | None = Field(
        None,
        description="With Cilium only.",
        json_schema_extra={"enum": list(c.CILIUM_ROUTING_MODES)},
    )
    kubeProxyReplacement: bool | None = Field(
        None,
        description="With Cilium only: true when its eBPF replaces kube-proxy (proxyMode is "
        "then the mode kube-proxy would run in again, unused).",
    )
    loadBalancerMode: str | None = Field(
        None, description="With Cilium only.", json_schema_extra={"enum": list(c.CILIUM_LB_MODES)}
    )
    workers: int
    ipFamily: str = Field(**enum(c.IP_FAMILY_MODES))
    podCIDR: str = Field(description="The pod network; both, comma-separated, on dual-stack.")
    serviceCIDR: str = Field(description="The Service range; both, comma-separated, on dual-stack.")
    nodePortRange: str
    clusterDomain: str


class Workspace(_Open):
    """A workspace's id, the scenario it was opened from, its settings, nodes and counts."""

    id: str
    scenario: str
    settings: ClusterSettings
    nodes: list[NodeSummary]
    counts: dict[str, int] = Field(description="How many objects of each kind.")
    userObjects: int = Field(description="Objects the user made (applied).")


class SuggestedRequest(_Open):
    source: str = Field(alias="from")
    to: str
    label: str
    verdict: str = Field(**enum(VERDICTS))


class NewWorkspaceAnswer(Workspace):
    suggestedRequests: list[SuggestedRequest] = Field(
        description="Requests worth tracing in this scenario (empty for `default`)."
    )


class ScenarioInfo(_Open):
    name: str
    title: str
    description: str
    minWorkers: int
    requests: list[SuggestedRequest]


class AppliedObject(_Open):
    document: int
    kind: str
    namespace: str
    name: str
    action: str = Field(description="created, configured or unchanged, as kubectl says.")


class ApplyAnswer(Change):
    objects: list[AppliedObject]
    output: list[str] = Field(description="What kubectl apply would print.")


class KubeObject(_Open):
    """A Kubernetes object as the API server serves it."""

    apiVersion: str
    kind: str
    metadata: dict[str, Any]


class ObjectList(_Open):
    apiVersion: str
    kind: str = Field(json_schema_extra={"enum": ["List"]})
    items: list[KubeObject]


class DeleteAnswer(Change):
    deleted: ObjectRef
    output: list[str]


class OutputAnswer(Change):
    output: list[str]


class NodeAnswer(Change):
    node: NodeSummary


class EventList(_Open):
    items: list[ClusterEvent]


class OldNew(_Open):
    old: str
    new: str


class OldNewFlag(_Open):
    old: bool
    new: bool


class Readdressed(_Open):
    kind: str
    namespace: str
    name: str
    old: str
    new: str


class SwitchReport(_Open):
    """What a switch changed: settings, the pod network and every address, old → new."""

    cni: OldNew
    proxyMode: OldNew
    podNetwork: OldNew
    nodes: list[Readdressed]
    pods: list[Readdressed]
    services: list[Readdressed]
    removed: list[str]
    added: list[str]
    kubeProxyReplacement: OldNewFlag = Field(
        description="Whether Cilium's eBPF replaced kube-proxy, before and after."
    )
    loadBalancerMode: OldNew = Field(
        description="Cilium's loadBalancer.mode before and after (empty where Cilium's load "
        "balancer does not run)."
    )
    lines: list[str] = Field(description="The report as the sandbox shows it.")


class Packet(_Open):
    src: str
    dst: str
    protocol: str


class Hop(_Open):
    index: int
    phase: str = Field(**enum(("dns", "request", "reply")))
    node: str | None
    where: str
    at: str
    action: str = Field(**enum(ACTIONS))
    summary: str
    packet: Packet
    changed: list[str]


class Trace(_Open):
    """One request, hop by hop, and what became of it."""

    source: dict[str, Any]
    target: dict[str, Any]
    seed: int
    verdict: str = Field(**enum(VERDICTS))
    reason: str
    cause: dict[str, Any] | None = Field(
        description="The object field the reason blames: kind, namespace, name, field."
    )
    endpoint: dict[str, Any] | None
    http_status: int | None = Field(description="When a proxy answered by itself.")
    dns: dict[str, Any] | None
    hops: list[Hop]
    reply: list[Hop]
    location: str | None = Field(
        None,
        description="A redirect's Location, when Envoy answered an HTTPRoute's RequestRedirect.",
    )


class Landed(_Open):
    ip: str
    port: int
    pod: str | None
    node: str | None
    requests: int


class Traffic(_Open):
    """Where many requests landed."""

    count: int
    endpoints: list[Landed]
    refused: int
    dropped: int
    unreachable: int
    nxdomain: int
    note: str
    backends: dict[str, int] | None = Field(
        None,
        description="Through a Gateway: requests per backendRef Service (namespace/name), the "
        "weighted split.",
    )
    statuses: dict[str, int] | None = Field(
        None,
        description="Through a Gateway: Envoy's own answers (404, 500, 503, a redirect) by status.",
    )


class DnsRecord(_Open):
    name: str
    type: str
    data: str
    ttl: int


class DnsAttempt(_Open):
    name: str
    rcode: str
    answers: list[DnsRecord]
    server: str
    authority: list[DnsRecord] = Field(
        default_factory=list,
        description="The answer's authority section: CoreDNS's SOA when it has no records.",
    )


class DnsResolution(_Open):
    query: str
    type: str
    nameserver: str
    search: list[str]
    ndots: int
    tried: list[DnsAttempt]
    rcode: str
    answers: list[DnsRecord]


class RuleSet(_Open):
    node: str
    mode: str = Field(**enum((*c.PROXY_MODES, "service-list", "bpf-lb-list")))
    text: str = Field(
        description="iptables-save, ipvsadm or nft list ruleset output; where Cilium replaces "
        "kube-proxy, cilium-dbg service list, cilium-dbg bpf lb list or iptables-save."
    )
    chains: list[dict[str, Any]]


class LessonStepOutline(_Open):
    id: str
    title: str
    ask: str | None = Field(description="The question the step asks, if it asks one.")


class LessonOutline(_Open):
    slug: str
    title: str
    summary: str
    cni: str = Field(**enum(c.CNI_PLUGINS))
    proxyMode: str = Field(**enum(c.PROXY_MODES))
    steps: list[LessonStepOutline]
    quiz: int = Field(description="How many quiz questions.")


class LessonCatalog(_Open):
    lessons: list[LessonOutline]


class LessonStatus(_Open):
    state: str = Field(**enum(("not started", "in progress", "complete")))
    done: int
    total: int
    step: int
    quiz: Any = Field(description="The quiz result, null until answered.")


class LessonProgress(_Open):
    active: str | None = Field(description="The lesson open in this workspace, if any.")
    lessons: dict[str, LessonStatus]


class CheckOutcome(_Open):
    passed: bool
    message: str


class LessonStep(_Open):
    lesson: str
    step: int = Field(description="From 0; the number of steps is the recap and quiz.")
    stepId: str | None = Field(None, description="Absent at the recap.")
    progress: LessonStatus
    passed: bool | None = Field(None, description="With a Check: whether every check passed.")
    checks: list[CheckOutcome] | None = Field(None, description="With a Check.")
    done: list[str] | None = Field(None, description="What was done on the way (solutions).")


class HistoryEntry(_Open):
    id: int
    label: str
    undone: bool


class History(_Open):
    entries: list[HistoryEntry] = Field(description="Newest first.")
    undo: HistoryEntry | None
    redo: HistoryEntry | None
    limit: int


class UndoAnswer(_Open):
    undone: HistoryEntry
    output: list[str]
    history: History


class RedoAnswer(_Open):
    redone: HistoryEntry
    output: list[str]
    history: History
