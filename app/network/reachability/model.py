"""The reachability matrix's parts: rows and columns (:class:`Party`), cells and ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_GROUPS = 20
#: At most this many ports per destination.
MAX_PORTS = 4
#: The port tried on a pod that declares none and that no policy names (it listens on any).
FALLBACK_PORT = (80, "TCP", None)
OUTSIDE = "external"


@dataclass
class Party:
    """A row or a column: one pod, or pods that every policy treats alike."""

    key: str  # "pod/<ns>/<name>" of the first pod, or "external"
    label: str
    namespace: str | None
    pods: list[str] = field(default_factory=list)  # "<ns>/<name>" of every pod it stands for
    ip: str = ""
    ports: list[tuple[int, str, str | None]] = field(default_factory=list)  # as a destination
    ingress: list[str] = field(default_factory=list)  # policies isolating it for ingress
    egress: list[str] = field(default_factory=list)  # policies isolating it for egress


@dataclass
class PortResult:
    """One port of one cell: allowed or not, and what decided it."""

    port: int
    protocol: str
    name: str | None
    allowed: bool
    decided_by: str  # the policy that allowed or isolated, or "" when no policy applies
    reason: str

    @property
    def text(self) -> str:
        named = f" ({self.name})" if self.name else ""
        return f"{self.protocol} {self.port}{named}"


@dataclass
class Cell:
    source: str
    destination: str
    ports: list[PortResult] = field(default_factory=list)
    note: str = ""  # why there is no verdict (outside: no Service exposes the pod)

    @property
    def state(self) -> str:
        """``allowed`` (every port), ``denied`` (none), ``partial`` or ``none`` (no way in)."""
        if not self.ports:
            return "none"
        allowed = [p.allowed for p in self.ports]
        return "allowed" if all(allowed) else "denied" if not any(allowed) else "partial"


@dataclass
class Matrix:
    cni: str
    enforced: bool
    policies: int
    sources: list[Party]
    destinations: list[Party]
    cells: dict[tuple[str, str], Cell]
    hidden: int = 0  # groups left out past MAX_GROUPS
    grouped: int = 0  # pods folded into another pod's row

    def cell(self, source: str, destination: str) -> Cell:
        return self.cells[(source, destination)]

    def to_dict(self) -> dict[str, Any]:
        """The matrix as JSON: parties, and one entry per cell with its ports."""

        def party(p: Party) -> dict[str, Any]:
            return {
                "key": p.key,
                "label": p.label,
                "namespace": p.namespace,
                "pods": p.pods,
                "ip": p.ip,
                "isolated": {"ingress": p.ingress, "egress": p.egress},
            }

        return {
            "cni": self.cni,
            "enforced": self.enforced,
            "policies": self.policies,
            "sources": [party(p) for p in self.sources],
            "destinations": [
                {**party(p), "ports": [_port_dict(*x) for x in p.ports]} for p in self.destinations
            ],
            "cells": [
                {
                    "from": cell.source,
                    "to": cell.destination,
                    "state": cell.state,
                    "note": cell.note,
                    "ports": [
                        {
                            **_port_dict(r.port, r.protocol, r.name),
                            "allowed": r.allowed,
                            "decidedBy": r.decided_by or None,
                            "reason": r.reason,
                        }
                        for r in cell.ports
                    ],
                }
                for cell in self.cells.values()
            ],
            "hiddenGroups": self.hidden,
            "groupedPods": self.grouped,
        }


def _port_dict(port: int, protocol: str, name: str | None) -> dict[str, Any]:
    return {"port": port, "protocol": protocol, "name": name}


def pod_name(pod: dict[str, Any] | None) -> str:
    if pod is None:
        return "?"
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
