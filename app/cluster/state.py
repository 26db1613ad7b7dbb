"""The state of one cluster: its objects, the indexes over them, and its event log.

:class:`ClusterState` only stores. The controllers (``app/cluster/controllers``) derive what
Kubernetes derives, and :class:`app.cluster.cluster.Cluster` puts the two together.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from app.cluster import clock, families
from app.cluster.allocators import ServiceAllocator
from app.cluster.ipam import Ipam
from app.cluster.objects import ObjectKey, key_of, labels_of

MAX_EVENTS = 1000


@dataclass(frozen=True)
class ClusterConfig:
    """What is chosen when a cluster is made.

    ``cni`` is one of flannel, calico, weave; ``proxy_mode`` one of iptables, ipvs, nftables;
    ``calico_mode`` bgp or ipip; ``ip_family`` ipv4, ipv6 or dual.
    The ``max_*`` fields are quotas that keep one workspace from swamping the server.
    """

    cni: str = "flannel"
    proxy_mode: str = "iptables"
    workers: int = 2
    # Calico's IPPool encapsulation: "bgp" routes pod traffic between nodes as it is,
    # "ipip" wraps it in IP-in-IP through tunl0 (the pool's ipipMode: Always).
    calico_mode: str = "bgp"
    # Cilium's Helm values (read only when ``cni`` is cilium): ``routingMode`` tunnel (VXLAN
    # through cilium_vxlan, the chart's default) or native, and ``kubeProxyReplacement``: on,
    # as in Cilium's quick start, there is no kube-proxy and Cilium's eBPF does Services.
    routing_mode: str = "tunnel"
    kube_proxy_replacement: bool = True
    load_balancer_mode: str = "snat"  # Cilium's loadBalancer.mode: snat or dsr
    # kind's networking.ipFamily: ipv4, ipv6, or dual (IPv4 primary); see app/cluster/families.py.
    ip_family: str = "ipv4"
    max_pods: int = 2000
    max_services: int = 500
    max_objects: int = 6000
    max_workers: int = 250

    def to_state(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Event:
    """One line of ``kubectl get events``: what happened to which object, and why."""

    seq: int  # bumped when the event repeats, so "newest first" stays true
    type: str  # Normal or Warning
    reason: str
    kind: str
    namespace: str
    name: str
    message: str
    count: int = 1
    id: int = 0  # the seq it was first recorded with; never changes
    # When it first and last happened (RFC 3339); empty in saves from before times were kept.
    first: str = ""
    last: str = ""

    @property
    def object(self) -> str:
        return f"{self.kind.lower()}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "object": self.object}


class ClusterState:
    """Objects by key with the indexes the controllers need, plus events and counters."""

    def __init__(self, config: ClusterConfig, seed: int) -> None:
        self.config = config
        self.seed = seed
        self.draws = 0
        self._random = random.Random(seed)
        # The time of the change being made (seconds since 1970; see app/cluster/clock.py):
        # set by whoever runs the change, stamped on what it creates, never saved.
        self.now: float = clock.DEFAULT_NOW
        self.resource_version = 0
        self.objects: dict[ObjectKey, dict[str, Any]] = {}
        self.by_kind: dict[str, dict[ObjectKey, dict[str, Any]]] = defaultdict(dict)
        # The manifest each user-made object was last applied with (defaults filled in).
        self.applied: dict[ObjectKey, dict[str, Any]] = {}
        self.events: list[Event] = []
        self.event_seq = 0
        self.ipam = Ipam(config.cni, families.of(config)[0])
        # A dual-stack cluster's second family (IPv6): its own ranges per node, its own pool.
        self.ipam6: Ipam | None = Ipam(config.cni, "IPv6") if config.ip_family == "dual" else None
        self.allocator = ServiceAllocator()
        # Indexes.
        self.pods_by_label: dict[tuple[str, str, str], set[ObjectKey]] = defaultdict(set)
        self.pods_by_node: dict[str, set[ObjectKey]] = defaultdict(set)
        # Nodes by how many pods they run, so the scheduler finds the least loaded at once.
        self.nodes_by_load: dict[int, set[str]] = defaultdict(set)
        self.load_of: dict[str, int] = {}
        self.pods_by_owner: dict[tuple[str, str, str], set[ObjectKey]] = defaultdict(set)
        self.services_by_selector: dict[tuple[str, str, str], set[ObjectKey]] = defaultdict(set)
        self.slices_by_service: dict[tuple[str, str], set[ObjectKey]] = defaultdict(set)
        # Non-pod objects by their controlling owner: a Deployment's ReplicaSets.
        self.children: dict[tuple[str, str, str], set[ObjectKey]] = defaultdict(set)
        # The scheduler's per-profile list of feasible nodes; cleared when a Node changes.
        self.feasible_nodes: dict[str, Any] = {}
        # What the controllers still have to look at.
        self.dirty: dict[str, set[ObjectKey]] = defaultdict(set)
        self.touched_owners: set[tuple[str, str, str]] = set()
        # Counts every write, so a caller can tell whether a failed operation changed anything.
        self.writes = 0
        # What changed since the last save (see app/cluster/persistence.py).
        self.changed: set[ObjectKey] = set()
        self.saved_event_seq = 0
        self.replaced = False  # the whole state is new: the next save rewrites everything
        # How many times the workspace's state was replaced whole (a reset, a class's new
        # starting point): with the resourceVersion, it names one set of objects in the
        # workspace's history, so a server loading a newer save of unchanged objects (only the
        # lessons' notes moved on) can keep the views it built (see ``memo``).
        self.lineage = 0
        # Views other packages derive from this state (the network engine's indexes), each
        # kept with the resourceVersion it was built at: any change makes it stale.
        self.memo: dict[str, tuple[tuple[int, int, int, ClusterConfig], Any]] = {}
        # What the lessons keep about this workspace (progress, the learner's recent traces).
        # Not part of the cluster: saved with it, carried across resets and switches.
        self.notes: dict[str, Any] = {}

    def ipams(self) -> list[Ipam]:
        """The pod address managers, primary family first (two on a dual-stack cluster)."""
        return [self.ipam] if self.ipam6 is None else [self.ipam, self.ipam6]

    # --- randomness and identities --------------------------------------------------------
    def rng(self) -> random.Random:
        """The cluster's generator: seeded once, its position saved with the state, so the
        same seed and the same operations always give the same names and addresses."""
        self.draws += 1
        return self._random

    def new_uid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def timestamp(self) -> str:
        """:attr:`now` as the API server writes a time: ``2026-01-01T00:00:00Z``."""
        return clock.rfc3339(self.now)

    def next_resource_version(self) -> str:
        self.resource_version += 1
        return str(self.resource_version)

    # --- reading -------------------------------------------------------------------------
    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get(ObjectKey(kind, namespace, name))

    def of_kind(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        objs = self.by_kind.get(kind, {})
        if namespace is None:
            return list(objs.values())
        return [o for k, o in objs.items() if k.namespace == namespace]

    @property
    def objects_mark(self) -> tuple[int, int, int, ClusterConfig]:
        """What names this state's objects, events and settings in its workspace's history:
        two states with the same mark hold the same (their ``memo`` views are the same)."""
        return (self.lineage, self.resource_version, self.event_seq, self.config)

    def memoised(self, name: str, build: Any) -> Any:
        """``build()``, computed once per :attr:`objects_mark` of this state.

        What ``build`` returns is shared by every later caller until the state changes: it
        must be treated as read-only.
        """
        mark = self.objects_mark
        cached = self.memo.get(name)
        if cached is not None and cached[0] == mark:
            return cached[1]
        value = build()
        self.memo[name] = (mark, value)
        return value

    def children_of(
        self, kind: str, namespace: str, name: str, child_kind: str
    ) -> list[dict[str, Any]]:
        """The objects of ``child_kind`` that this object controls, sorted by name."""
        keys = self.children.get((kind, namespace, name), ())
        return [self.objects[k] for k in sorted(keys) if k.kind == child_kind]

    def count(self, kind: str) -> int:
        return len(self.by_kind.get(kind, {}))

    # --- writing -------------------------------------------------------------------------
    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store ``obj`` (new or changed), stamping uid, creationTimestamp (see
        :func:`app.cluster.clock.stamp`) and resourceVersion, and index it."""
        key = key_of(obj)
        self.writes += 1
        self.changed.add(key)
        meta = obj.setdefault("metadata", {})
        if key.namespace:
            meta["namespace"] = key.namespace
        old = self.objects.get(key)
        clock.stamp(meta, old and old["metadata"], self.now)
        if old is not None:
            meta["uid"] = old["metadata"]["uid"]
            self._unindex(key, old)
        elif "uid" not in meta:
            meta["uid"] = self.new_uid()
        meta["resourceVersion"] = self.next_resource_version()
        self.objects[key] = obj
        self.by_kind[key.kind][key] = obj
        self._index(key, obj)
        self.dirty[key.kind].add(key)
        return obj

    def bind(self, key: ObjectKey, node: str) -> dict[str, Any]:
        """Set a pending pod's ``spec.nodeName`` (the scheduler's binding), touching only the
        indexes a node changes: the node's pods and its load."""
        pod = self.objects[key]
        self.writes += 1
        self.changed.add(key)
        pod["spec"]["nodeName"] = node
        pod["metadata"]["resourceVersion"] = self.next_resource_version()
        self.pods_by_node[node].add(key)
        if node in self.load_of:
            self._set_load(node, len(self.pods_by_node[node]))
        self.dirty["Pod"].add(key)
        return pod

    def modify(self, key: ObjectKey, change: Any, status_only: bool = False) -> dict[str, Any]:
        """Change a stored object in place with ``change(obj)``, keeping the indexes right.

        ``status_only`` promises that ``change`` touches nothing the indexes read (labels,
        owners, ``spec.nodeName``, selectors), which saves re-indexing.
        """
        obj = self.objects[key]
        self.writes += 1
        self.changed.add(key)
        if not status_only:
            self._unindex(key, obj)
        change(obj)
        obj["metadata"]["resourceVersion"] = self.next_resource_version()
        if status_only:
            if key.kind == "Pod":  # readiness decides endpoints and owners' status
                self._mark_services_for(key.namespace, labels_of(obj))
                owner = controller_of(obj)
                if owner:
                    self.touched_owners.add((owner[0], key.namespace, owner[1]))
        else:
            self._index(key, obj)
        self.dirty[key.kind].add(key)
        return obj

    def remove(self, key: ObjectKey) -> dict[str, Any] | None:
        obj = self.objects.pop(key, None)
        if obj is None:
            return None
        self.writes += 1
        self.changed.add(key)
        self.next_resource_version()  # a deletion is a change too, as in etcd
        del self.by_kind[key.kind][key]
        self.applied.pop(key, None)
        self._unindex(key, obj)
        self.dirty[key.kind].add(key)
        return obj

    def restore_object(self, obj: dict[str, Any], applied: dict[str, Any] | None) -> None:
        """Put back a saved object as it was (no new uid or resourceVersion)."""
        key = key_of(obj)
        self.objects[key] = obj
        self.by_kind[key.kind][key] = obj
        if applied is not None:
            self.applied[key] = applied
        self._index(key, obj)

    def _set_load(self, node: str, load: int) -> None:
        old = self.load_of.get(node)
        if old is not None:
            bucket = self.nodes_by_load[old]
            bucket.discard(node)
            if not bucket:
                del self.nodes_by_load[old]
        self.load_of[node] = load
        self.nodes_by_load[load].add(node)

    def _index(self, key: ObjectKey, obj: dict[str, Any]) -> None:
        if key.kind == "Node":
            self.feasible_nodes.clear()
            self._set_load(key.name, len(self.pods_by_node.get(key.name, ())))
        elif key.kind != "Pod":
            owner = controller_of(obj)
            if owner:
                self.children[(owner[0], key.namespace, owner[1])].add(key)
        if key.kind == "Pod":
            for label, value in labels_of(obj).items():
                self.pods_by_label[(key.namespace, label, value)].add(key)
            node = (obj.get("spec") or {}).get("nodeName")
            if node:
                self.pods_by_node[node].add(key)
                if node in self.load_of:
                    self._set_load(node, len(self.pods_by_node[node]))
            owner = controller_of(obj)
            if owner:
                self.pods_by_owner[(owner[0], key.namespace, owner[1])].add(key)
                self.touched_owners.add((owner[0], key.namespace, owner[1]))
            self._mark_services_for(key.namespace, labels_of(obj))
        elif key.kind == "Service":
            selector = (obj.get("spec") or {}).get("selector") or {}
            if selector:
                first = min(selector.items())
                self.services_by_selector[(key.namespace, *first)].add(key)
        elif key.kind == "EndpointSlice":
            service = labels_of(obj).get("kubernetes.io/service-name")
            if service:
                self.slices_by_service[(key.namespace, service)].add(key)

    def _unindex(self, key: ObjectKey, obj: dict[str, Any]) -> None:
        if key.kind == "Node":
            self.feasible_nodes.clear()
            old = self.load_of.pop(key.name, None)
            if old is not None:
                self.nodes_by_load[old].discard(key.name)
                if not self.nodes_by_load[old]:
                    del self.nodes_by_load[old]
        elif key.kind != "Pod":
            owner = controller_of(obj)
            if owner:
                self.children[(owner[0], key.namespace, owner[1])].discard(key)
        if key.kind == "Pod":
            for label, value in labels_of(obj).items():
                self.pods_by_label[(key.namespace, label, value)].discard(key)
            node = (obj.get("spec") or {}).get("nodeName")
            if node:
                self.pods_by_node[node].discard(key)
                if node in self.load_of:
                    self._set_load(node, len(self.pods_by_node[node]))
            owner = controller_of(obj)
            if owner:
                self.pods_by_owner[(owner[0], key.namespace, owner[1])].discard(key)
                self.touched_owners.add((owner[0], key.namespace, owner[1]))
                # The owner must look again: it may have to replace this pod.
                self.dirty[owner[0]].add(ObjectKey(owner[0], key.namespace, owner[1]))
            self._mark_services_for(key.namespace, labels_of(obj))
        elif key.kind == "Service":
            selector = (obj.get("spec") or {}).get("selector") or {}
            if selector:
                first = min(selector.items())
                self.services_by_selector[(key.namespace, *first)].discard(key)
        elif key.kind == "EndpointSlice":
            service = labels_of(obj).get("kubernetes.io/service-name")
            if service:
                self.slices_by_service[(key.namespace, service)].discard(key)

    def _mark_services_for(self, namespace: str, labels: dict[str, str]) -> None:
        for pair in labels.items():
            for service in self.services_by_selector.get((namespace, *pair), ()):
                self.dirty["Service"].add(service)

    def pods_matching(self, namespace: str, selector: dict[str, str]) -> list[dict[str, Any]]:
        """Pods in ``namespace`` whose labels hold every pair of a Service-style selector."""
        if not selector:
            return []
        sets = [self.pods_by_label.get((namespace, k, v), set()) for k, v in selector.items()]
        keys = set.intersection(*sets) if sets else set()
        return [self.objects[k] for k in sorted(keys)]

    # --- events --------------------------------------------------------------------------
    def record(self, type_: str, reason: str, key: ObjectKey, message: str) -> Event:
        """Add an event; a repeat of the latest one for the same object bumps its count."""
        self.event_seq += 1
        last = self.events[-1] if self.events else None
        if (
            last is not None
            and (last.kind, last.namespace, last.name) == tuple(key)
            and (last.reason, last.message) == (reason, message)
        ):
            last.count += 1
            last.seq = self.event_seq
            last.last = self.timestamp()
            return last
        event = Event(
            self.event_seq,
            type_,
            reason,
            key.kind,
            key.namespace,
            key.name,
            message,
            1,
            self.event_seq,
            self.timestamp(),
            self.timestamp(),
        )
        self.events.append(event)
        if len(self.events) > MAX_EVENTS:
            del self.events[: len(self.events) - MAX_EVENTS]
        return event


def _encode_random(state: tuple[Any, ...]) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _decode_random(data: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)


def controller_of(obj: dict[str, Any]) -> tuple[str, str] | None:
    """The (kind, name) of the object's controlling owner, if it has one."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref["kind"], ref["name"]
    return None
