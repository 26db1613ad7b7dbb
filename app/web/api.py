"""The JSON API, v1: workspaces, apply, objects, delete, manifests, nodes and events.

Each route parses the request, calls the domain through the workspace service, and returns
what the domain returned. Errors are raised as :mod:`app.errors` exceptions and rendered by
the single handler in :mod:`app.web.errors`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.cluster import constants as c
from app.cluster import nodes, scenarios
from app.cluster.apply import apply_text
from app.cluster.cluster import Change, Cluster
from app.cluster.export import export_objects, export_yaml
from app.cluster.objects import API_VERSIONS, CLUSTER_SCOPED, KIND_ALIASES, kind_from_alias
from app.errors import ManifestSyntaxError, NotFound
from app.store.workspaces import Workspaces
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


def kind_names(kinds: list[str]) -> list[str]:
    """The kinds and the ``kubectl get`` resource names for them that a ``{kind}`` takes.

    >>> kind_names(["Deployment"])
    ['deploy', 'Deployment', 'deployment', 'deployments']
    """
    names = {*kinds, *(alias for alias, kind in KIND_ALIASES.items() if kind in kinds)}
    return sorted(names, key=lambda name: (name.lower(), name))


KIND_TEXT = (
    "a kind (`Pod`) or its `kubectl` resource name (`pods`, `po`), in any letter case; "
    'another is a 404, as `kubectl` says "the server doesn\'t have a resource type".'
)
Kind = Annotated[
    str,
    Path(
        description="The kind: " + KIND_TEXT,
        json_schema_extra={"enum": kind_names(list(API_VERSIONS))},
    ),
]
DeploymentKind = Annotated[
    str,
    Path(
        description="Only Deployments scale: " + KIND_TEXT,
        json_schema_extra={"enum": kind_names(["Deployment"])},
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
    proxyMode: str = Field("iptables", description="kube-proxy mode.", **oa.enum(c.PROXY_MODES))
    calicoMode: str = Field(
        "bgp", description="With Calico: bgp (routed) or ipip (tunl0).", **oa.enum(c.CALICO_MODES)
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


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    replicas: oa.WholeNumber = Field(
        description="The number of pods the Deployment should run (more than the workspace's "
        "pod quota is a 403).",
        **oa.limits(minimum=0),
    )


class NodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = Field(
        None,
        description="Defaults to the next free worker-N; a lowercase RFC 1123 subdomain.",
        **oa.limits(pattern=oa.DNS1123_SUBDOMAIN, maxLength=oa.DNS1123_SUBDOMAIN_MAX),
    )


class NodeCondition(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ready: bool = Field(description="false: the node stops posting status (NotReady).")


def workspaces(request: Request) -> Workspaces:
    return request.app.state.workspaces


def read_json(request: Request, workspace_id: str, reader: Any, status_code: int = 200) -> Response:
    """Run ``reader`` on the workspace and encode its answer while still holding the lock:
    the answer may share the live objects, which the next change edits in place."""
    text = workspaces(request).read(
        workspace_id, lambda cluster: json.dumps(reader(cluster), separators=(",", ":"))
    )
    return Response(text, status_code=status_code, media_type="application/json")


def _change_json(cluster: Cluster, change: Change) -> dict[str, Any]:
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


def _kubectl_line(kind: str, name: str, action: str) -> str:
    group = API_VERSIONS.get(kind, "v1").split("/")
    resource = kind.lower() + (f".{group[0]}" if len(group) == 2 else "")
    return f"{resource}/{name} {action}"


@router.post(
    "/workspaces",
    status_code=201,
    summary="Create a workspace",
    responses={
        201: oa.ok(oa.NewWorkspaceAnswer, "The new workspace.", headers=oa.LOCATION),
        **oa.CREATE,
    },
)
def create_workspace(request: Request, options: Annotated[NewWorkspace | None, Body()] = None):
    options = options or NewWorkspace()
    if options.scenario != scenarios.DEFAULT:
        scenarios.get(options.scenario)  # an unknown name is a 422 before anything is built
    config = request.app.state.settings.cluster_config(
        cni=options.cni,
        proxy_mode=options.proxyMode,
        calico_mode=options.calicoMode,
        workers=options.workers,
    )
    if options.scenario == scenarios.DEFAULT:
        workspace_id, cluster = workspaces(request).create(config, options.seed)
    else:
        cluster = scenarios.build(options.scenario, config, options.seed)
        workspace_id, cluster = workspaces(request).create_from(cluster)
    body = _summary(workspace_id, cluster)
    body["suggestedRequests"] = [r.to_dict() for r in scenarios.scenario_requests(body["scenario"])]
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
    responses={200: oa.ok(list[oa.ScenarioInfo], "Every ready scenario."), **oa.CATALOG},
)
def list_scenarios() -> list[dict[str, Any]]:
    return [s.to_dict() for s in scenarios.SCENARIOS]


@router.get(
    "/workspaces/{workspace_id}",
    summary="A workspace's nodes, settings and counts",
    responses={200: oa.ok(oa.Workspace, "The workspace."), **oa.READ},
)
def get_workspace(request: Request, workspace_id: WorkspaceId):
    return read_json(request, workspace_id, lambda cluster: _summary(workspace_id, cluster))


@router.post(
    "/workspaces/{workspace_id}/fork",
    status_code=201,
    summary="Copy a workspace under a new id (what a share link does)",
    responses={201: oa.ok(oa.Workspace, "The copy.", headers=oa.LOCATION), **oa.COPY},
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
    responses={200: oa.ok(oa.ApplyAnswer, "What was applied and what followed."), **oa.CHANGE},
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
            "output": [_kubectl_line(o.kind, o.name, o.action) for o in result.objects],
            **_change_json(cluster, result.change),
        }

    return JSONResponse(await run_in_threadpool(workspaces(request).change, workspace_id, run))


def _resolve_kind(kind: str) -> str:
    resolved = kind_from_alias(kind)
    if resolved is None:
        raise NotFound(f'the server doesn\'t have a resource type "{kind}"')
    return resolved


@router.get(
    "/workspaces/{workspace_id}/objects",
    summary="List objects with their status",
    responses={
        200: oa.ok(oa.ObjectList, "The objects, as `kubectl get -o json` lists them."),
        **oa.READ,
    },
)
def list_objects(
    request: Request,
    workspace_id: WorkspaceId,
    kind: Annotated[
        str | None,
        Query(
            description="Only this kind: " + KIND_TEXT,
            json_schema_extra={"enum": kind_names(list(API_VERSIONS))},
        ),
    ] = None,
    namespace: Annotated[str | None, Query(description="only this namespace")] = None,
):
    if kind:
        kinds = [_resolve_kind(kind)]
    else:  # like `kubectl get` across kinds: a namespace leaves cluster-scoped kinds out
        kinds = [k for k in API_VERSIONS if namespace is None or k not in CLUSTER_SCOPED]

    def run(cluster: Cluster) -> dict[str, Any]:
        items = []
        for each in kinds:
            items.extend(cluster.list(each, None if each in CLUSTER_SCOPED else namespace))
        return {"apiVersion": "v1", "kind": "List", "items": items}

    return read_json(request, workspace_id, run)


@router.get(
    "/workspaces/{workspace_id}/objects/{kind}/{namespace}/{name}",
    summary="One object",
    description="For cluster-scoped kinds (Namespace, Node, IngressClass) the namespace is "
    "ignored: put `-`.",
    responses={200: oa.ok(oa.KubeObject, "The object, as the API server serves it."), **oa.READ},
)
def get_object(request: Request, workspace_id: WorkspaceId, kind: Kind, namespace: str, name: str):
    resolved = _resolve_kind(kind)
    return read_json(
        request, workspace_id, lambda cluster: cluster.require(resolved, namespace, name)
    )


@router.delete(
    "/workspaces/{workspace_id}/objects/{kind}/{namespace}/{name}",
    summary="Delete an object, and see what the controllers did next",
    description="For cluster-scoped kinds (Namespace, Node, IngressClass) put `-` as namespace.",
    responses={200: oa.ok(oa.DeleteAnswer, "What was deleted and what followed."), **oa.CHANGE},
)
def delete_object(
    request: Request, workspace_id: WorkspaceId, kind: Kind, namespace: str, name: str
):
    resolved = _resolve_kind(kind)

    def run(cluster: Cluster) -> dict[str, Any]:
        change = cluster.delete(resolved, namespace, name)
        scope = "" if resolved in CLUSTER_SCOPED else namespace
        return {
            "deleted": {"kind": resolved, "namespace": scope, "name": name},
            "output": [_kubectl_line(resolved, name, "deleted")],
            **_change_json(cluster, change),
        }

    return JSONResponse(workspaces(request).change(workspace_id, run))


@router.post(
    "/workspaces/{workspace_id}/objects/{kind}/{namespace}/{name}/scale",
    summary="Scale a Deployment, like kubectl scale",
    responses={200: oa.ok(oa.OutputAnswer, "What the controllers did."), **oa.CHANGE},
)
def scale(
    request: Request,
    workspace_id: WorkspaceId,
    kind: DeploymentKind,
    namespace: str,
    name: str,
    body: Scale,
):
    if _resolve_kind(kind) != "Deployment":
        raise NotFound(f"only Deployments can be scaled here, not {kind}")

    def run(cluster: Cluster) -> dict[str, Any]:
        change = nodes.scale(cluster, namespace, name, body.replicas)
        return {"output": [f"deployment.apps/{name} scaled"], **_change_json(cluster, change)}

    return JSONResponse(workspaces(request).change(workspace_id, run))


@router.get(
    "/workspaces/{workspace_id}/manifests",
    summary="Everything the user made, as YAML kubectl apply -f accepts",
    response_class=Response,
    responses={
        200: {
            "description": "YAML documents separated by `---`, as an attachment "
            "(`format=yaml`), or a List (`format=json`).",
            "content": {
                # YAML documents separated by `---`: no one schema describes a stream of them.
                "application/yaml": {"example": APPLY_EXAMPLE},
                "application/json": {"schema": {"$ref": "#/components/schemas/ObjectList"}},
            },
        },
        **oa.READ,
    },
)
def manifests(
    request: Request,
    workspace_id: WorkspaceId,
    format: Annotated[Literal["yaml", "json"], Query(description="The answer's format.")] = "yaml",
):
    if format == "json":
        return read_json(
            request,
            workspace_id,
            lambda cluster: {"apiVersion": "v1", "kind": "List", "items": export_objects(cluster)},
        )
    text = workspaces(request).read(workspace_id, export_yaml)
    return Response(
        text,
        media_type="application/yaml",
        # An attachment: the learner's text (a `<script>` in an annotation, say) is never
        # shown by the browser as a page.
        headers={"Content-Disposition": 'attachment; filename="podpath-workspace.yaml"'},
    )


@router.post(
    "/workspaces/{workspace_id}/nodes",
    status_code=201,
    summary="Add a worker node",
    responses={201: oa.ok(oa.NodeAnswer, "The new node and what followed."), **oa.CHANGE},
)
def add_node(
    request: Request,
    workspace_id: WorkspaceId,
    body: Annotated[NodeRequest | None, Body()] = None,
):
    def run(cluster: Cluster) -> dict[str, Any]:
        change = nodes.add_node(cluster, (body or NodeRequest()).name)
        node = next(k for k in change.created if k.kind == "Node")
        return {
            "node": cluster.node_summary(cluster.require("Node", "", node.name)),
            **_change_json(cluster, change),
        }

    return JSONResponse(workspaces(request).change(workspace_id, run), status_code=201)


@router.patch(
    "/workspaces/{workspace_id}/nodes/{name}",
    summary="Mark a node Ready or NotReady",
    responses={200: oa.ok(oa.NodeAnswer, "The node and what followed."), **oa.CHANGE},
)
def set_node_condition(request: Request, workspace_id: WorkspaceId, name: str, body: NodeCondition):
    def run(cluster: Cluster) -> dict[str, Any]:
        change = nodes.set_node_ready(cluster, name, body.ready)
        node = cluster.require("Node", "", name)
        return {"node": cluster.node_summary(node), **_change_json(cluster, change)}

    return JSONResponse(workspaces(request).change(workspace_id, run))


@router.delete(
    "/workspaces/{workspace_id}/nodes/{name}",
    summary="Remove a node",
    responses={200: oa.ok(oa.OutputAnswer, "What the controllers did."), **oa.CHANGE},
)
def remove_node(request: Request, workspace_id: WorkspaceId, name: str):
    def run(cluster: Cluster) -> dict[str, Any]:
        change = nodes.remove_node(cluster, name)
        return {"output": [f"node/{name} deleted"], **_change_json(cluster, change)}

    return JSONResponse(workspaces(request).change(workspace_id, run))


@router.get(
    "/workspaces/{workspace_id}/events",
    summary="The cluster's events, newest first",
    responses={200: oa.ok(oa.EventList, "The events."), **oa.READ},
)
def events(
    request: Request,
    workspace_id: WorkspaceId,
    namespace: Annotated[str | None, Query(description="Only this namespace's.")] = None,
):
    def run(cluster: Cluster) -> dict[str, Any]:
        items = [e.to_dict() for e in reversed(cluster.events())]
        if namespace is not None:
            items = [e for e in items if e["namespace"] == namespace]
        return {"items": items}

    return read_json(request, workspace_id, run)
