"""The network half of the JSON API: trace, traffic, DNS and kube-proxy rules, and switching
the CNI plugin or kube-proxy mode."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.cluster import constants as c
from app.cluster import rebuild
from app.cluster.cluster import Cluster
from app.errors import FieldError, InvalidObjects, NotFound
from app.network import dns, kubeproxy
from app.network.trace import trace
from app.network.traffic import send_traffic
from app.web.api import read_json, workspaces

router = APIRouter(prefix="/api/v1", tags=["network"])

MAX_TRAFFIC = 10_000


class TraceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(
        alias="from",
        description="pod/<namespace>/<name>, node/<name>, external or external/<ip>",
        examples=["pod/default/client", "external"],
    )
    to: str = Field(
        description="A URL (http://web/api, http://shop.example.com/cart, http://10.0.0.11:30080/) "
        "or host:port, optionally with /udp",
        examples=["http://web.default.svc.cluster.local/"],
    )
    seed: int = Field(
        0, description="Decides the random choices (which endpoint), for repeatable traces."
    )


class TrafficRequest(TraceRequest):
    count: int = Field(100, description=f"How many requests to send, 1 to {MAX_TRAFFIC}.")


class NetworkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cni: str | None = Field(
        None, description="flannel, calico or weave; omitted keeps the current plugin."
    )
    proxyMode: str | None = Field(
        None, description="iptables, ipvs or nftables; omitted keeps the current mode."
    )


@router.post(
    "/workspaces/{workspace_id}/settings",
    summary="Switch the CNI plugin or kube-proxy mode: every name kept, addresses change",
)
def switch_settings(request: Request, workspace_id: str, body: NetworkSettings) -> Response:
    """The same switch as the sandbox's form; the answer says what changed: the settings
    and pod network old → new, each node's pod range and each pod's IP old → new, and the
    report's ``lines`` as the page shows them."""
    report = workspaces(request).change(
        workspace_id,
        lambda cluster: rebuild.switch(cluster, cni=body.cni, proxy_mode=body.proxyMode),
    )
    return JSONResponse(report.to_dict())


@router.post("/workspaces/{workspace_id}/trace", summary="Trace one request hop by hop")
def trace_request(request: Request, workspace_id: str, body: TraceRequest) -> Response:
    return read_json(
        request,
        workspace_id,
        lambda cluster: trace(cluster, body.source, body.to, body.seed).to_dict(),
    )


@router.post(
    "/workspaces/{workspace_id}/traffic",
    summary="Send many requests and count where they land",
)
def traffic(request: Request, workspace_id: str, body: TrafficRequest) -> Response:
    if not 1 <= body.count <= MAX_TRAFFIC:
        raise InvalidObjects(
            f"count must be between 1 and {MAX_TRAFFIC}",
            [
                FieldError(
                    "count",
                    f"Invalid value: {body.count}: must be between 1 and {MAX_TRAFFIC}, inclusive",
                )
            ],
        )
    return read_json(
        request,
        workspace_id,
        lambda cluster: send_traffic(cluster, body.source, body.to, body.count, body.seed),
    )


@router.get("/workspaces/{workspace_id}/dns", summary="Look a name up as a pod's resolver would")
def dns_lookup(
    request: Request,
    workspace_id: str,
    name: Annotated[str, Query(max_length=255, description="The name to look up")],
    source: Annotated[
        str, Query(alias="from", description="pod/<namespace>/<name>, node/<name> or external")
    ] = "external",
    type: Annotated[str, Query(description="A, AAAA, SRV, PTR or CNAME")] = "A",
) -> Response:
    def run(cluster: Cluster) -> dict[str, Any]:
        from app.network.targets import parse_source

        client = parse_source(cluster, source)
        return dns.resolve(cluster, client.pod, name, type.upper()).to_dict()

    return read_json(request, workspace_id, run)


@router.get(
    "/workspaces/{workspace_id}/rules", summary="The NAT rules a node's kube-proxy programs"
)
def node_rules(
    request: Request,
    workspace_id: str,
    node: Annotated[str, Query(description="The node's name")] = "worker-1",
    mode: Annotated[
        str | None, Query(description="iptables, ipvs or nftables (default: the cluster's)")
    ] = None,
) -> Response:
    if mode is not None and mode not in c.PROXY_MODES:
        listed = ", ".join(f'"{m}"' for m in c.PROXY_MODES)
        raise InvalidObjects(
            f"unsupported mode {mode}",
            [FieldError("mode", f'Unsupported value: "{mode}": supported values: {listed}')],
        )

    def run(cluster: Cluster) -> dict[str, Any]:
        if cluster.get("Node", "", node) is None:
            raise NotFound(f'nodes "{node}" not found')
        ruleset = kubeproxy.rules(cluster, node, mode)
        return {
            "node": ruleset.node,
            "mode": ruleset.mode,
            "text": ruleset.text,
            "chains": ruleset.chains,
        }

    return read_json(request, workspace_id, run)
