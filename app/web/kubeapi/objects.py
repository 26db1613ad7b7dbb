"""The resource paths under ``/k/<workspace>``: get, list, watch, create, update, patch,
delete and scale, each handed to :mod:`app.kubeapi.operations`. Reads run under the
workspace's lock and encode there (the objects are live); changes go through
``Workspaces.change``, so the map and the history see them as they see a form's."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.cluster.cluster import Cluster
from app.cluster.manifests import parse_manifests
from app.errors import PodpathError
from app.kubeapi import convert, operations, paths, protobuf, selectors
from app.kubeapi.status import ApiError, bad_request, method_not_allowed
from app.web.guard.origin import SIMPLE_CONTENT_TYPES
from app.web.kubeapi.discovery import resource_list
from app.web.kubeapi.responses import (
    answering,
    encode,
    require_workspace,
    status_response,
    workspaces,
)
from app.web.kubeapi.watching import watch_response

router = APIRouter(prefix="/k/{workspace_id}", include_in_schema=False)
PROTOBUF = "application/vnd.kubernetes.protobuf"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/api/{rest:path}", methods=METHODS)
@router.api_route("/apis/{rest:path}", methods=METHODS)
async def resource(request: Request, workspace_id: str, rest: str) -> Response:
    root = request.url.path.split(f"/k/{workspace_id}", 1)[1].split("/")[1]
    try:
        group, version, target = paths.parse(f"/{root}/{rest}")
    except ApiError as error:
        return status_response(error)
    if target is None:
        if request.method != "GET":
            return status_response(method_not_allowed())
        return resource_list(request, workspace_id, group, version)
    body = await _body(request) if request.method in ("POST", "PUT", "PATCH") else None
    if isinstance(body, ApiError):
        return status_response(body)
    query = request.query_params
    if request.method == "GET" and query.get("watch") in ("true", "1"):
        return await watch_response(request, workspace_id, target)
    return await run_in_threadpool(answering, lambda: _handle(request, workspace_id, target, body))


async def _body(request: Request) -> Any:
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in SIMPLE_CONTENT_TYPES:  # what a page on another site may send unasked
        return ApiError(415, "UnsupportedMediaType", f"the server does not take {media} bodies")
    if media == PROTOBUF:  # kubectl 1.32+ creates built-in kinds this way
        try:
            return protobuf.decode_object(raw)
        except ApiError as error:
            return error
    try:
        if media.endswith("yaml"):  # read as apply reads manifests: hostile YAML refused
            documents = parse_manifests(raw.decode("utf-8"), track_lines=False)
            return documents[0].body if documents else None
        return json.loads(raw or b"null")
    except PodpathError as error:
        return bad_request(f"the body of the request could not be read: {error.message}"[:500])
    except (ValueError, RecursionError) as error:
        return bad_request(f"the body of the request could not be read: {error}"[:500])


def _handle(request: Request, workspace_id: str, target: paths.Target, body: Any) -> Response:
    method = request.method
    if method == "GET":  # reading an unknown workspace raises NotFound, answered as a Status
        return _read(request, workspace_id, target)
    require_workspace(request, workspace_id)
    resource, namespace, name = target.resource, target.namespace, target.name
    content_type = request.headers.get("content-type", "")
    manager = request.query_params.get("fieldManager") or "kubectl"
    status_code = 200
    exists: list[bool] = []  # whether a PATCH found its object (else apply created it)
    if method == "POST" and name is None:
        status_code = 201

        def change(cluster: Cluster) -> Any:
            return operations.create(cluster, resource, namespace, body)

    elif name is None:
        raise method_not_allowed()
    elif target.subresource == "scale":
        if method not in ("PUT", "PATCH"):
            raise method_not_allowed()

        def change(cluster: Cluster) -> Any:
            return operations.set_scale(
                cluster, resource, namespace or "", name, content_type, body
            )

    elif method == "PUT":

        def change(cluster: Cluster) -> Any:
            return operations.replace(cluster, resource, namespace, name, body)

    elif method == "PATCH":

        def change(cluster: Cluster) -> Any:
            exists.append(cluster.get(resource.kind, namespace or "", name) is not None)
            return operations.patch(cluster, resource, namespace, name, content_type, body, manager)

    elif method == "DELETE":

        def change(cluster: Cluster) -> Any:
            return operations.delete(cluster, resource, namespace, name)

    else:
        raise method_not_allowed()
    if request.query_params.get("dryRun"):
        now = workspaces(request).clock()
        text = workspaces(request).read(
            workspace_id, lambda c: encode(convert.served_as(resource, change(_copy(c, now))))
        )
    else:
        text = workspaces(request).change(
            workspace_id, lambda c: encode(convert.served_as(resource, change(c)))
        )
    if method == "PATCH" and exists == [False]:
        status_code = 201  # a server-side apply that created the object
    return Response(text, status_code=status_code, media_type="application/json")


def _copy(cluster: Cluster, now: float) -> Cluster:
    """A throwaway copy, for a dry run: the answer as if (made at ``now``), with nothing saved."""
    copy = Cluster.from_state(json.loads(json.dumps(cluster.to_state())))
    copy.state.now = now
    return copy


def _read(request: Request, workspace_id: str, target: paths.Target) -> Response:
    resource, query = target.resource, request.query_params
    table = convert.wants_table(request.headers.get("accept", ""))
    include = query.get("includeObject", "Metadata")
    now = workspaces(request).clock()  # the Age cells, as the API server's printers count them
    if target.name is not None:

        def one(cluster: Cluster) -> str:
            obj = operations.find(cluster, resource, target.namespace or "", target.name or "")
            if target.subresource == "scale":
                return encode(
                    operations.get_scale(
                        cluster, resource, target.namespace or "", target.name or ""
                    )
                )
            if table:
                version = operations.resource_version(cluster)
                return encode(convert.table_of(resource, [obj], version, include, now))
            return encode(convert.served_as(resource, obj))

        text = workspaces(request).read(workspace_id, one)
        return Response(text, media_type="application/json")
    labels = selectors.label_matcher(query.get("labelSelector"))
    fields = selectors.field_matcher(query.get("fieldSelector"))

    def many(cluster: Cluster) -> str:
        version = operations.resource_version(cluster)
        found = [
            o
            for o in operations.objects(cluster, resource, target.namespace)
            if labels(o) and fields(o)
        ]
        if table:
            return encode(convert.table_of(resource, found, version, include, now))
        return encode(convert.list_of(resource, found, version))

    return Response(workspaces(request).read(workspace_id, many), media_type="application/json")


__all__ = ["router"]
