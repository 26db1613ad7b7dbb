"""``GET /api/v1/workspaces/{id}/reachability``: the Reachability tab's matrix as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from app.cluster.cluster import Cluster
from app.network.reachability import MAX_GROUPS, matrix
from app.render.reachability import matrix_pods
from app.web import openapi as oa
from app.web.api import WorkspaceId, read_json

router = APIRouter(prefix="/api/v1", tags=["network"])


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ReachabilityPort(_Open):
    port: int
    protocol: str
    name: str | None = Field(
        description="The port's name, or for the outside client the Service and node port it came through."
    )
    allowed: bool
    decidedBy: str | None = Field(
        description="namespace/name of the policy that allowed or isolated; null when none applies."
    )
    reason: str


class ReachabilityCell(_Open):
    source: str = Field(alias="from", description="pod/<namespace>/<name> or external.")
    to: str = Field(description="pod/<namespace>/<name>.")
    state: str = Field(**oa.enum(["allowed", "denied", "partial", "none"]))
    note: str
    ports: list[ReachabilityPort]


class Reachability(_Open):
    cni: str
    enforced: bool = Field(
        description="False where the CNI plugin (flannel) ignores NetworkPolicy: every cell is then allowed."
    )
    policies: int
    sources: list[dict[str, Any]]
    destinations: list[dict[str, Any]]
    cells: list[ReachabilityCell]
    hiddenGroups: int = Field(description=f"Groups of pods left out past {MAX_GROUPS} rows.")
    groupedPods: int = Field(
        description="Pods folded into another pod's row (same namespace, labels and ports)."
    )


@router.get(
    "/workspaces/{workspace_id}/reachability",
    summary="Which pods (and the outside client) reach which pods, on which ports",
    responses={200: oa.ok(Reachability, "The matrix, one entry per pair."), **oa.READ},
)
def reachability(
    request: Request,
    workspace_id: WorkspaceId,
    namespace: Annotated[
        str | None,
        Query(max_length=63, description="Only the pods of this namespace."),
    ] = None,
    system: Annotated[
        bool,
        Query(
            description="Every system pod too (by default only CoreDNS and the ingress controller)."
        ),
    ] = False,
) -> Response:
    """The same matrix as the sandbox's Reachability tab: the NetworkPolicies and the CNI
    plugin decide each cell, as they decide a trace (flannel enforces nothing)."""

    def run(cluster: Cluster) -> dict[str, Any]:
        return matrix(cluster, matrix_pods(cluster, system, namespace or None)).to_dict()

    return read_json(request, workspace_id, run)
