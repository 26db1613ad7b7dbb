"""How the Kubernetes-compatible API answers: compact JSON, ``Status`` for every error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response

from app.errors import PodpathError
from app.kubeapi.status import ApiError
from app.store.workspaces import Workspaces

T = TypeVar("T")


def encode(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def json_response(
    data: Any, status_code: int = 200, media_type: str = "application/json"
) -> Response:
    return Response(encode(data), status_code=status_code, media_type=media_type)


def status_response(error: ApiError) -> Response:
    return json_response(error.status(), error.code)


def workspaces(request: Request) -> Workspaces:
    return request.app.state.workspaces


def answering(call: Callable[[], Response]) -> Response:
    """``call()``, with an API error or a model error (an unknown workspace) as a Status."""
    try:
        return call()
    except ApiError as error:
        return status_response(error)
    except PodpathError as error:
        return status_response(ApiError(error.status, error.reason, error.message))
    except RecursionError:  # a body nested deeper than a patch can walk
        return status_response(ApiError(400, "BadRequest", "the request body nests too deeply"))


def require_workspace(request: Request, workspace_id: str) -> None:
    """A NotFound Status when there is no such workspace (its id is its only key)."""
    if not workspaces(request).exists(workspace_id):
        raise ApiError(404, "NotFound", f'workspaces "{workspace_id[:80]}" not found')
