"""The JSON API, v1: workspaces, apply, objects, delete, manifests, nodes and events.

Each route parses the request, calls the domain through the workspace service, and returns
what the domain returned. Errors are raised as :mod:`app.errors` exceptions and rendered by
the single handler in :mod:`app.web.errors`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.cluster import constants as c
from app.cluster import scenarios
from app.cluster.apply import apply_text
from app.cluster.cilium_config import check_choices
from app.cluster.cluster import Change, Cluster
from app.cluster.objects import API_VERSIONS
from app.errors import ManifestSyntaxError
from app.store.workspaces import Workspaces
from app.web import api_bodies as bodies
from app.web import openapi as oa

router = APIRouter(prefix="/api/v1", tags=["workspaces"])

#: The ``{workspace_id}`` every workspace route takes (an unknown one is a 404).
WorkspaceId = Annotated[
    str,
    Path(
        description="The id `POST /api/v1/workspaces` answered with: 16 to 64 letters, "
        "digits, `-` or `_`. Any other text is a 404, like an id that does not exist.",
    ),
]


class NewWorkspace(BaseModel):
    """Options for a new workspace; all optional."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        # A scenario's requests and nodeSelectors name its workers: it needs that many.
        json_schema_extra={
            "allOf": [
                {
                    "if": {"required": ["scenario"], "properties": {"scenario": {"const": s.name}}},
                    "then": {"properties": {"workers": {"minimum": s.min_workers}}},
                }
                for s in scenarios.SCENARIOS
                if s.min_workers > 1
            ]
        },
    )

    scenario: str = Field(
        scenarios.DEFAULT,
        description="Starting scenario: `default` (the kubeadm cluster, a random seed unless "
        "`seed` is given) or a ready one with objects and requests to trace: "
        + ", ".join(
            f"`{s.name}` ({s.title}, at least {s.min_workers} workers)" for s in scenarios.SCENARIOS
        )
        + ". A ready scenario uses its own fixed seed unless `seed` is given.",
        **oa.enum([scenarios.DEFAULT, *(s.name for s in scenarios.SCENARIOS)]),
    )
    cni: str = Field("flannel", description="CNI plugin.", **oa.enum(c.CNI_PLUGINS))
    proxyMode: str = Field(
        "iptables",
        description="kube-proxy mode; ipvs is deprecated (Kubernetes v1.35, KEP-5495) and still works.",
        **oa.enum(c.PROXY_MODES),
    )
    calicoMode: str = Field(
        "bgp", description="With Calico: bgp (routed) or ipip (tunl0).", **oa.enum(c.CALICO_MODES)
    )
    routingMode: str = Field(
        "tunnel",
        description="With Cilium (its Helm value): tunnel (VXLAN on UDP 8472 through "
        "cilium_vxlan) or native (routed on the node network). Refused with another plugin.",
        **oa.enum(c.CILIUM_ROUTING_MODES),
    )
    loadBalancerMode: str = Field(
        "snat",
        description="With Cilium (its Helm value loadBalancer.mode): snat (a NodePort's backend "
        "on another node sees the node's address) or dsr (it sees the client and answers it "
        "directly; needs routingMode native).",
        **oa.enum(c.CILIUM_LB_MODES),
    )
    kubeProxyReplacement: bool = Field(
        True,
        description="With Cilium (its Helm value): its eBPF replaces kube-proxy (no kube-proxy "
        "runs, so proxyMode may not be given). Refused as true with another plugin.",
    )
    ipFamily: str = Field(
        "ipv4",
        description="IP families, as kind's networking.ipFamily: ipv4, ipv6, or dual (dual-stack, "
        "IPv4 primary). IPv6 needs flannel or calico: Weave Net has no IPv6, and Podpath's "
        "Cilium is IPv4 only (a 422 names the field). Fixed once made.",
        **oa.enum(c.IP_FAMILY_MODES),
    )
    workers: oa.WholeNumber = Field(
        c.DEFAULT_WORKERS,
        description="Worker nodes (the control plane comes on top): from 1 to the server's "
        f"PODPATH_MAX_WORKERS ({oa.DEFAULT_MAX_WORKERS} by default), and at least the "
        "scenario's minimum.",
        **oa.limits(minimum=1, maximum=oa.DEFAULT_MAX_WORKERS),
    )
    seed: oa.WholeNumber | None = Field(
        None, description="Seed for every random choice, for repeatable runs."
    )


def workspaces(request: Request) -> Workspaces:
    return request.app.state.workspaces


def read_json(request: Request, workspace_id: str, reader: Any, status_code: int = 200) -> Response:
    """Run ``reader`` on the workspace and encode its answer while still holding the lock:
    the answer may share the live objects, which the next change edits in place."""
    text = workspaces(request).read(
        workspace_id, lambda cluster: json.dumps(reader(cluster), separators=(",", ":"))
    )
    return Response(text, status_code=status_code, media_type="application/json")


def change_json(cluster: Cluster, change: Change) -> dict[str, Any]:
    created = []
    for key in change.created:
        obj = cluster.state.objects.get(key)
        if obj is None:
            continue
        entry: dict[str, Any] = {"kind": key.kind, "namespace": key.namespace, "name": key.name}
        if key.kind == "Pod":
            entry["podIP"] = (obj.get("status") or {}).get("podIP")
            entry["nodeName"] = obj["spec"].get("nodeName")
        created.append(entry)
    return {
        "created": created,
        "removed": [
            {"kind": k.kind, "namespace": k.namespace, "name": k.name} for k in change.deleted
        ],
        "events": [e.to_dict() for e in change.events],
    }


def kubectl_line(kind: str, name: str, action: str) -> str:
    group = API_VERSIONS.get(kind, "v1").split("/")
    resource = kind.lower() + (f".{group[0]}" if len(group) == 2 else "")
    return f"{resource}/{name} {action}"


@router.post(
    "/workspaces",
    status_code=201,
    summary="Create a workspace",
    responses={
        201: oa.ok(bodies.NewWorkspaceAnswer, "The new workspace.", headers=oa.LOCATION),
        **oa.CREATE,
    },
)
def create_workspace(request: Request, options: Annotated[NewWorkspace | None, Body()] = None):
    options = options or NewWorkspace()
    given = options.model_fields_set
    check_choices(
        options.cni,
        options.kubeProxyReplacement,
        proxy_mode_given="proxyMode" in given,
        replacement_given="kubeProxyReplacement" in given,
        routing_mode_given="routingMode" in given,
        load_balancer_mode_given="loadBalancerMode" in given,
    )
    if options.scenario != scenarios.DEFAULT:
        scenarios.get(options.scenario)  # an unknown name is a 422 before anything is built
    config = request.app.state.settings.cluster_config(
        cni=options.cni,
        proxy_mode=options.proxyMode,
        calico_mode=options.calicoMode,
        routing_mode=options.routingMode,
        load_balancer_mode=options.loadBalancerMode,
        kube_proxy_replacement=options.kubeProxyReplacement,
        ip_family=options.ipFamily,
        workers=options.workers,
    )
    if options.scenario == scenarios.DEFAULT:
        workspace_id, cluster = workspaces(request).create(config, options.seed)
    else:
        store = workspaces(request)
        cluster = scenarios.build(options.scenario, config, options.seed, now=store.clock())
        workspace_id, cluster = store.create_from(cluster)
    body = _summary(workspace_id, cluster)
    body["suggestedRequests"] = [
        r.to_dict()
        for r in scenarios.scenario_requests(
            body["scenario"], cluster.config.cni, cluster.config.ip_family
        )
    ]
    return JSONResponse(
        body, status_code=201, headers={"Location": f"/api/v1/workspaces/{workspace_id}"}
    )


def _summary(workspace_id: str, cluster: Cluster) -> dict[str, Any]:
    """A workspace's id, the scenario it was opened from, its settings, nodes and counts."""
    return {
        "id": workspace_id,
        "scenario": scenarios.scenario_of(cluster) or scenarios.DEFAULT,
        **cluster.summary(),
    }


@router.get(
    "/scenarios",
    summary="The ready scenarios a workspace can start from",
    response_model=None,
    responses={200: oa.ok(list[bodies.ScenarioInfo], "Every ready scenario."), **oa.CATALOG},
)
def list_scenarios() -> list[dict[str, Any]]:
    return [s.to_dict() for s in scenarios.SCENARIOS]


@router.get(
    "/workspaces/{workspace_id}",
    summary="A workspace's nodes, settings and counts",
    responses={200: oa.ok(bodies.Workspace, "The workspace."), **oa.READ},
)
def get_workspace(request: Request, workspace_id: WorkspaceId):
    return read_json(request, workspace_id, lambda cluster: _summary(workspace_id, cluster))


@router.post(
    "/workspaces/{workspace_id}/fork",
    status_code=201,
    summary="Copy a workspace under a new id (what a share link does)",
    responses={201: oa.ok(bodies.Workspace, "The copy.", headers=oa.LOCATION), **oa.COPY},
)
def fork_workspace(request: Request, workspace_id: WorkspaceId):
    new_id, cluster = workspaces(request).fork(workspace_id)
    return JSONResponse(
        _summary(new_id, cluster),
        status_code=201,
        headers={"Location": f"/api/v1/workspaces/{new_id}"},
    )


APPLY_EXAMPLE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{name: http, containerPort: 80}]
"""


@router.post(
    "/workspaces/{workspace_id}/apply",
    summary="Apply YAML or JSON manifests, like kubectl apply",
    description="The body is one or more manifests (YAML documents separated by `---`, or "
    "JSON: one object or a List), UTF-8, at most the server's PODPATH_MAX_BODY_BYTES "
    f"({oa.DEFAULT_MAX_BODY_BYTES} bytes by default). All are checked before any is applied: "
    "one broken rule and nothing changes (422, every problem listed).",
    responses={200: oa.ok(bodies.ApplyAnswer, "What was applied and what followed."), **oa.CHANGE},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}, "example": APPLY_EXAMPLE},
                "application/json": {"schema": oa.MANIFEST_SCHEMA},
            },
        }
    },
)
async def apply(request: Request, workspace_id: WorkspaceId):
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestSyntaxError("the manifest is not UTF-8 text") from None

    def run(cluster: Cluster) -> dict[str, Any]:
        result = apply_text(cluster, text)
        return {
            "objects": [o.to_dict() for o in result.objects],
            "output": [kubectl_line(o.kind, o.name, o.action) for o in result.objects],
            **change_json(cluster, result.change),
        }

    return JSONResponse(await run_in_threadpool(workspaces(request).change, workspace_id, run))
