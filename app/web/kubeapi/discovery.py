"""Discovery and OpenAPI under ``/k/<workspace>``, and the kubeconfig that points kubectl
there. The documents are the same for every workspace; the workspace must exist."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.kubeapi import discovery, openapi, openapi_v2
from app.kubeapi.kubeconfig import kubeconfig_yaml
from app.kubeapi.status import no_such_path
from app.web.kubeapi.responses import answering, json_response, require_workspace

router = APIRouter(prefix="/k/{workspace_id}", include_in_schema=False)


def _discovery(request: Request, workspace_id: str, core: bool) -> Response:
    def answer() -> Response:
        require_workspace(request, workspace_id)
        asked = discovery.aggregated_version(request.headers.get("accept", ""))
        if asked is not None:
            return json_response(
                discovery.aggregated(core, asked), media_type=discovery.aggregated_type(asked)
            )
        return json_response(discovery.api_versions() if core else discovery.api_group_list())

    return answering(answer)


@router.get("/version")
def version(request: Request, workspace_id: str) -> Response:
    def answer() -> Response:
        require_workspace(request, workspace_id)
        return json_response(discovery.version())

    return answering(answer)


# With a trailing slash too, as the API server answers (the Python client asks for /api/).
@router.get("/api")
@router.get("/api/")
def core_versions(request: Request, workspace_id: str) -> Response:
    return _discovery(request, workspace_id, core=True)


@router.get("/apis")
@router.get("/apis/")
def group_list(request: Request, workspace_id: str) -> Response:
    return _discovery(request, workspace_id, core=False)


def resource_list(request: Request, workspace_id: str, group: str, version: str) -> Response:
    """``/api/v1`` or ``/apis/<group>/<version>`` (routed here by the resources router)."""

    def answer() -> Response:
        require_workspace(request, workspace_id)
        document = discovery.resource_list(group, version)
        if document is None:
            raise no_such_path()
        return json_response(document)

    return answering(answer)


@router.get("/openapi/v2")
def openapi_v2_document(request: Request, workspace_id: str) -> Response:
    """OpenAPI v2, as protobuf when asked (kubectl before 1.26 reads it for validation and
    explain), else JSON."""

    def answer() -> Response:
        require_workspace(request, workspace_id)
        if openapi_v2.PROTOBUF in request.headers.get("accept", ""):
            # Sent as octet-stream, as the API server does: Go's mime parser refuses the "@".
            return Response(openapi_v2.protobuf(), media_type="application/octet-stream")
        return Response(openapi_v2.json_text(), media_type="application/json")

    return answering(answer)


@router.get("/openapi/v3")
def openapi_root(request: Request, workspace_id: str) -> Response:
    def answer() -> Response:
        require_workspace(request, workspace_id)
        return json_response(openapi.root_document())

    return answering(answer)


@router.get("/openapi/v3/{where:path}")
def openapi_group(request: Request, workspace_id: str, where: str) -> Response:
    def answer() -> Response:
        require_workspace(request, workspace_id)
        parts = where.strip("/").split("/")
        if parts[:1] == ["api"] and len(parts) == 2:
            text = openapi.group_document_text("", parts[1])
        elif parts[:1] == ["apis"] and len(parts) == 3:
            text = openapi.group_document_text(parts[1], parts[2])
        else:
            text = None
        if text is None:
            raise no_such_path()
        return Response(text, media_type="application/json")

    return answering(answer)


@router.get("/kubeconfig")
def kubeconfig(request: Request, workspace_id: str) -> Response:
    """A kubeconfig whose one context points kubectl at this workspace."""

    def answer() -> Response:
        require_workspace(request, workspace_id)
        server = str(request.base_url).rstrip("/") + f"/k/{workspace_id}"
        return Response(
            kubeconfig_yaml(server, workspace_id),
            media_type="application/yaml",
            headers={"Content-Disposition": 'attachment; filename="podpath.yaml"'},
        )

    return answering(answer)
