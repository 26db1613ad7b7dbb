"""The JSON API's objects, nodes and events in a workspace: list, get, delete, scale,
export, add and remove nodes (the workspaces themselves, apply and scenarios:
:mod:`app.web.api`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.cluster import nodes
from app.cluster.cluster import Cluster
from app.cluster.export import export_objects, export_yaml
from app.cluster.objects import API_VERSIONS, CLUSTER_SCOPED, KIND_ALIASES, kind_from_alias
from app.errors import NotFound
from app.web import api_bodies as bodies
from app.web import openapi as oa
from app.web.api import (
    APPLY_EXAMPLE,
    WorkspaceId,
    change_json,
    kubectl_line,
    read_json,
    workspaces,
)

router = APIRouter(prefix="/api/v1", tags=["workspaces"])


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


def _resolve_kind(kind: str) -> str:
    resolved = kind_from_alias(kind)
    if resolved is None:
        raise NotFound(f'the server doesn\'t have a resource type "{kind}"')
    return resolved


@router.get(
    "/workspaces/{workspace_id}/objects",
    summary="List objects with their status",
    responses={
        200: oa.ok(bodies.ObjectList, "The objects, as `kubectl get -o json` lists them."),
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
    description="For cluster-scoped kinds (Namespace, Node, IngressClass, GatewayClass) the "
    "namespace is ignored: put `-`.",
    responses={
        200: oa.ok(bodies.KubeObject, "The object, as the API server serves it."),
        **oa.READ,
    },
)
def get_object(request: Request, workspace_id: WorkspaceId, kind: Kind, namespace: str, name: str):
    resolved = _resolve_kind(kind)
    return read_json(
        request, workspace_id, lambda cluster: cluster.require(resolved, namespace, name)
    )


@router.delete(
    "/workspaces/{workspace_id}/objects/{kind}/{namespace}/{name}",
    summary="Delete an object, and see what the controllers did next",
    description="For cluster-scoped kinds (Namespace, Node, IngressClass, GatewayClass) put `-` "
    "as namespace.",
    responses={200: oa.ok(bodies.DeleteAnswer, "What was deleted and what followed."), **oa.CHANGE},
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
            "output": [kubectl_line(resolved, name, "deleted")],
            **change_json(cluster, change),
        }

    return JSONResponse(workspaces(request).change(workspace_id, run))


@router.post(
    "/workspaces/{workspace_id}/objects/{kind}/{namespace}/{name}/scale",
    summary="Scale a Deployment, like kubectl scale",
    responses={200: oa.ok(bodies.OutputAnswer, "What the controllers did."), **oa.CHANGE},
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
        return {"output": [f"deployment.apps/{name} scaled"], **change_json(cluster, change)}

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
    responses={201: oa.ok(bodies.NodeAnswer, "The new node and what followed."), **oa.CHANGE},
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
            **change_json(cluster, change),
        }

    return JSONResponse(workspaces(request).change(workspace_id, run), status_code=201)


@router.patch(
    "/workspaces/{workspace_id}/nodes/{name}",
    summary="Mark a node Ready or NotReady",
    responses={200: oa.ok(bodies.NodeAnswer, "The node and what followed."), **oa.CHANGE},
)
def set_node_condition(request: Request, workspace_id: WorkspaceId, name: str, body: NodeCondition):
    def run(cluster: Cluster) -> dict[str, Any]:
        change = nodes.set_node_ready(cluster, name, body.ready)
        node = cluster.require("Node", "", name)
        return {"node": cluster.node_summary(node), **change_json(cluster, change)}

    return JSONResponse(workspaces(request).change(workspace_id, run))


@router.delete(
    "/workspaces/{workspace_id}/nodes/{name}",
    summary="Remove a node",
    responses={200: oa.ok(bodies.OutputAnswer, "What the controllers did."), **oa.CHANGE},
)
def remove_node(request: Request, workspace_id: WorkspaceId, name: str):
    def run(cluster: Cluster) -> dict[str, Any]:
        change = nodes.remove_node(cluster, name)
        return {"output": [f"node/{name} deleted"], **change_json(cluster, change)}

    return JSONResponse(workspaces(request).change(workspace_id, run))


@router.get(
    "/workspaces/{workspace_id}/events",
    summary="The cluster's events, newest first",
    responses={200: oa.ok(bodies.EventList, "The events."), **oa.READ},
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
